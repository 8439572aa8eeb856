using System.Buffers.Binary;
using System.Net;

namespace Sensor.TestSupport;

/// <summary>Builds Ethernet/IPv4/IPv6/TCP frames for synthetic captures.</summary>
public static class Frames
{
    public const byte Fin = 1, Syn = 2, Rst = 4, Psh = 8, Ack = 16;

    public static byte[] Tcp(string src, ushort sport, string dst, ushort dport, uint seq, uint ack, byte flags, ReadOnlySpan<byte> payload)
    {
        var tcp = new byte[20 + payload.Length];
        BinaryPrimitives.WriteUInt16BigEndian(tcp, sport);
        BinaryPrimitives.WriteUInt16BigEndian(tcp.AsSpan(2), dport);
        BinaryPrimitives.WriteUInt32BigEndian(tcp.AsSpan(4), seq);
        BinaryPrimitives.WriteUInt32BigEndian(tcp.AsSpan(8), ack);
        tcp[12] = 5 << 4;
        tcp[13] = flags;
        BinaryPrimitives.WriteUInt16BigEndian(tcp.AsSpan(14), 65535);
        payload.CopyTo(tcp.AsSpan(20));
        return Ip(src, dst, 6, tcp);
    }

    public static byte[] Ip(string src, string dst, byte proto, ReadOnlySpan<byte> payload)
    {
        var s = IPAddress.Parse(src).GetAddressBytes();
        var d = IPAddress.Parse(dst).GetAddressBytes();
        if (s.Length == 4)
        {
            var ip = new byte[20 + payload.Length];
            ip[0] = 0x45;
            BinaryPrimitives.WriteUInt16BigEndian(ip.AsSpan(2), (ushort)ip.Length);
            ip[8] = 64; ip[9] = proto;
            s.CopyTo(ip, 12); d.CopyTo(ip, 16);
            payload.CopyTo(ip.AsSpan(20));
            return Ethernet(0x0800, ip);
        }
        var v6 = new byte[40 + payload.Length];
        v6[0] = 0x60;
        BinaryPrimitives.WriteUInt16BigEndian(v6.AsSpan(4), (ushort)payload.Length);
        v6[6] = proto; v6[7] = 64;
        s.CopyTo(v6, 8); d.CopyTo(v6, 24);
        payload.CopyTo(v6.AsSpan(40));
        return Ethernet(0x86DD, v6);
    }

    public static byte[] Ethernet(ushort etherType, ReadOnlySpan<byte> payload)
    {
        var f = new byte[14 + payload.Length];
        f[0] = 2; f[6] = 2; f[11] = 1;
        BinaryPrimitives.WriteUInt16BigEndian(f.AsSpan(12), etherType);
        payload.CopyTo(f.AsSpan(14));
        return f;
    }
}

/// <summary>A TCP conversation as a list of frames: handshake, data both ways (segmented), FIN.</summary>
public sealed class Conversation(string client, ushort cport, string server, ushort sport)
{
    private uint _cseq = 1000, _sseq = 5000;
    public List<byte[]> Frames { get; } = [];

    public Conversation Handshake()
    {
        Frames.Add(TestSupport.Frames.Tcp(client, cport, server, sport, _cseq++, 0, TestSupport.Frames.Syn, default));
        Frames.Add(TestSupport.Frames.Tcp(server, sport, client, cport, _sseq++, _cseq, TestSupport.Frames.Syn | TestSupport.Frames.Ack, default));
        Frames.Add(TestSupport.Frames.Tcp(client, cport, server, sport, _cseq, _sseq, TestSupport.Frames.Ack, default));
        return this;
    }

    public Conversation Send(bool fromClient, ReadOnlySpan<byte> data, int mss = 1460)
    {
        for (int off = 0; off < data.Length; off += mss)
        {
            var chunk = data.Slice(off, Math.Min(mss, data.Length - off));
            if (fromClient) { Frames.Add(TestSupport.Frames.Tcp(client, cport, server, sport, _cseq, _sseq, TestSupport.Frames.Ack | TestSupport.Frames.Psh, chunk)); _cseq += (uint)chunk.Length; }
            else { Frames.Add(TestSupport.Frames.Tcp(server, sport, client, cport, _sseq, _cseq, TestSupport.Frames.Ack | TestSupport.Frames.Psh, chunk)); _sseq += (uint)chunk.Length; }
        }
        return this;
    }

    public Conversation Request(string text) => Send(true, System.Text.Encoding.UTF8.GetBytes(text));
    public Conversation Response(string text) => Send(false, System.Text.Encoding.UTF8.GetBytes(text));

    public Conversation Close()
    {
        Frames.Add(TestSupport.Frames.Tcp(client, cport, server, sport, _cseq++, _sseq, TestSupport.Frames.Fin | TestSupport.Frames.Ack, default));
        Frames.Add(TestSupport.Frames.Tcp(server, sport, client, cport, _sseq++, _cseq, TestSupport.Frames.Fin | TestSupport.Frames.Ack, default));
        Frames.Add(TestSupport.Frames.Tcp(client, cport, server, sport, _cseq, _sseq, TestSupport.Frames.Ack, default));
        return this;
    }
}
