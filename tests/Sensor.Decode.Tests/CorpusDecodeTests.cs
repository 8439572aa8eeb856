using Sensor.Capture;
using Sensor.Core;
using Sensor.Decode;
using Sensor.TestSupport;

namespace Sensor.Decode.Tests;

public class CorpusDecodeTests
{
    private static (CounterRegistry, List<(string Key, int Len)>) DecodeFile(string name)
    {
        var counters = new CounterRegistry();
        var dec = new PacketDecoder(counters);
        using var r = CaptureFileReader.Open(SharedData.CorpusFile(name));
        var batch = new PacketBatch();
        var segs = new List<(string, int)>();
        var pkt = new TcpPacket();
        while (r.ReadBatch(batch))
        {
            for (int i = 0; i < batch.Count; i++)
            {
                var rec = batch.Records[i];
                if (dec.Decode(batch.Data(rec), rec.LinkType, rec.Timestamp, ref pkt) == DecodeResult.Tcp)
                    segs.Add(($"{pkt.Src.WithPort(pkt.SrcPort)}>{pkt.Dst.WithPort(pkt.DstPort)}", pkt.Payload.Length));
            }
            batch.Reset();
        }
        return (counters, segs);
    }

    [Theory]
    [InlineData("ipv4_fragments_ooo.pcap")]
    [InlineData("ipv6_fragments.pcap")]
    public void Fragmented_segments_are_reassembled(string file)
    {
        var (counters, segs) = DecodeFile(file);
        Assert.True(counters.Get("decode", "ip_datagrams_reassembled") > 0, string.Join(", ", counters.Snapshot().Where(c => c.Value > 0).Select(c => $"{c.Name}={c.Value}")));
        Assert.Equal(0, counters.Get("decode", "ip_fragment_timeouts"));
        Assert.Equal(0, counters.Get("decode", "ip_fragment_invalid"));
        Assert.Contains(segs, s => s.Len > 1400); // only whole datagrams carry full-MSS segments
    }
}

public class EncapsulationTests
{
    private static byte[] Inner => Sensor.TestSupport.Frames.Tcp("10.0.0.1", 1234, "10.0.0.2", 80, 1, 1, Sensor.TestSupport.Frames.Ack, "GET / HTTP/1.1\r\n\r\n"u8);

    private static byte[] Udp(int dport, byte[] payload)
    {
        var u = new byte[8 + payload.Length];
        u[2] = (byte)(dport >> 8); u[3] = (byte)dport;
        u[4] = (byte)(u.Length >> 8); u[5] = (byte)u.Length;
        payload.CopyTo(u, 8);
        return u;
    }

    private static void AssertInnerTcp(byte[] frame, int depth)
    {
        var dec = new PacketDecoder(new CounterRegistry());
        var pkt = new TcpPacket();
        Assert.Equal(DecodeResult.Tcp, dec.Decode(frame, LinkTypes.Ethernet, 0, ref pkt));
        Assert.Equal("10.0.0.1:1234", pkt.Src.WithPort(pkt.SrcPort));
        Assert.Equal(depth, pkt.TunnelDepth);
        Assert.Equal("GET / HTTP/1.1\r\n\r\n", System.Text.Encoding.ASCII.GetString(pkt.Payload));
    }

    [Theory]
    [InlineData(4789)]
    [InlineData(8472)]
    public void Vxlan_on_the_iana_and_the_linux_port(int port)
    {
        var vx = new byte[8 + Inner.Length];
        vx[0] = 0x08;
        Inner.CopyTo(vx, 8);
        AssertInnerTcp(Sensor.TestSupport.Frames.Ip("192.0.2.1", "192.0.2.2", 17, Udp(port, vx)), 1);
    }

    [Fact]
    public void Vxlan_gpe_carrying_ipv4_directly()
    {
        var ip = Inner[14..];
        var gpe = new byte[8 + ip.Length];
        gpe[0] = 0x0C; gpe[3] = 1;   // I and P flags, next protocol IPv4
        ip.CopyTo(gpe, 8);
        AssertInnerTcp(Sensor.TestSupport.Frames.Ip("2001:db8::1", "2001:db8::2", 17, Udp(4790, gpe)), 1);
    }

    [Fact]
    public void Vlan_inside_vxlan_inside_gre_over_ipv6()
    {
        // Ethernet/802.1Q carrying the inner IPv4 packet, in VXLAN, in UDP/IPv4, in GRE, over IPv6.
        var vlanEth = new byte[14 + 4 + Inner.Length - 14];
        vlanEth[12] = 0x81; vlanEth[13] = 0x00; vlanEth[14] = 0x00; vlanEth[15] = 0x64; vlanEth[16] = 0x08; vlanEth[17] = 0x00;
        Inner.AsSpan(14).CopyTo(vlanEth.AsSpan(18));
        var vx = new byte[8 + vlanEth.Length]; vx[0] = 0x08; vlanEth.CopyTo(vx, 8);
        var outerIp = Sensor.TestSupport.Frames.Ip("192.0.2.1", "192.0.2.2", 17, Udp(4789, vx))[14..];
        var gre = new byte[4 + outerIp.Length]; gre[2] = 0x08; outerIp.CopyTo(gre, 4);
        AssertInnerTcp(Sensor.TestSupport.Frames.Ip("2001:db8::1", "2001:db8::2", 47, gre), 3);
    }
}
