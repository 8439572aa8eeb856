using Sensor.Core;

namespace Sensor.Reassembly.Tests;

/// <summary>One callback seen by a <see cref="RecordingReceiver"/>.</summary>
internal readonly record struct StreamEvent(string Kind, bool FromA, byte[]? Data, long Bytes, EndReason Reason, long Ts)
{
    public override string ToString() => Kind switch
    {
        "data" => $"data({(FromA ? "A" : "B")},{Data!.Length})",
        "gap" => $"gap({(FromA ? "A" : "B")},{Bytes})",
        "end" => $"end({(FromA ? "A" : "B")},{Reason})",
        _ => Kind,
    };
}

/// <summary>Records every callback and rebuilds each direction's byte stream with its gaps.</summary>
internal sealed class RecordingReceiver(TcpConnection conn) : IStreamReceiver
{
    public TcpConnection Connection { get; } = conn;
    public List<StreamEvent> Events { get; } = [];

    public void OnData(bool fromA, ReadOnlySpan<byte> data, long ts) => Events.Add(new("data", fromA, data.ToArray(), data.Length, default, ts));
    public void OnGap(bool fromA, long missingBytes, long ts) => Events.Add(new("gap", fromA, null, missingBytes, default, ts));
    public void OnEnd(bool fromA, EndReason reason, long ts) => Events.Add(new("end", fromA, null, 0, reason, ts));
    public void OnClose(long ts) => Events.Add(new("close", false, null, 0, default, ts));

    /// <summary>Concatenated bytes delivered in one direction.</summary>
    public byte[] Delivered(bool fromA) => Events.Where(e => e.Kind == "data" && e.FromA == fromA).SelectMany(e => e.Data!).ToArray();

    /// <summary>Gaps of one direction as (stream offset where the gap starts, length).</summary>
    public List<(long Offset, long Length)> Gaps(bool fromA)
    {
        var gaps = new List<(long, long)>();
        long off = 0;
        foreach (var e in Events)
        {
            if (e.FromA != fromA) continue;
            if (e.Kind == "data") off += e.Data!.Length;
            else if (e.Kind == "gap") { gaps.Add((off, e.Bytes)); off += e.Bytes; }
        }
        return gaps;
    }

    public List<EndReason> Ends(bool fromA) => Events.Where(e => e.Kind == "end" && e.FromA == fromA).Select(e => e.Reason).ToList();
    public int Closes => Events.Count(e => e.Kind == "close");
    public string Trace => string.Join(" ", Events);
}

/// <summary>
/// Drives a <see cref="TcpReassembler"/> for one 4-tuple: a client (10.0.0.1:40000, endpoint A) and a
/// server (10.0.0.2:80, endpoint B). Each created connection gets a <see cref="RecordingReceiver"/>.
/// </summary>
internal sealed class TcpDriver
{
    public static readonly long T0 = 1_700_000_000L * Timestamp.TicksPerSecond;

    public CounterRegistry Counters { get; } = new();
    public TcpReassembler Reassembler { get; }
    public List<RecordingReceiver> Receivers { get; } = [];
    public FlowKey Key { get; }
    public bool ClientIsA { get; }
    public long Ts = T0;

    public TcpDriver(ReassemblyOptions? options = null, string clientIp = "10.0.0.1", ushort clientPort = 40000, string serverIp = "10.0.0.2", ushort serverPort = 80)
    {
        Reassembler = new TcpReassembler(Counters, options ?? new ReassemblyOptions(), c =>
        {
            var r = new RecordingReceiver(c);
            Receivers.Add(r);
            return r;
        });
        Key = FlowKey.Create(IpAddr.Parse(clientIp), clientPort, IpAddr.Parse(serverIp), serverPort, out bool fromA);
        ClientIsA = fromA;
    }

    public RecordingReceiver Receiver => Receivers[^1];

    public long Counter(string name) => Counters.Get("tcp", name);

    /// <summary>Sends one segment; time advances by 1 ms per segment unless <paramref name="ts"/> is given.</summary>
    public void Send(bool fromClient, uint seq, ReadOnlySpan<byte> payload, uint ack = 0, bool ackFlag = true, bool syn = false,
        bool fin = false, bool rst = false, int missing = 0, long? ts = null)
    {
        Ts = ts ?? Ts + Timestamp.TicksPerSecond / 1000;
        Reassembler.Process(Key, fromClient == ClientIsA, new SegmentInfo(seq, ack, syn, ackFlag, fin, rst, missing), payload, Ts);
    }

    /// <summary>SYN, SYN-ACK, ACK.</summary>
    public void Handshake(uint clientIsn, uint serverIsn)
    {
        Send(true, clientIsn, default, ackFlag: false, syn: true);
        Send(false, serverIsn, default, ack: clientIsn + 1, syn: true);
        Send(true, clientIsn + 1, default, ack: serverIsn + 1);
    }

    public static byte[] Pattern(int length, int seed = 0)
    {
        var b = new byte[length];
        for (int i = 0; i < length; i++) b[i] = (byte)(i * 7 + 3 + seed * 31 + (i >> 8));
        return b;
    }
}
