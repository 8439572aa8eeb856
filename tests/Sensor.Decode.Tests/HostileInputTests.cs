using Sensor.Core;
using Sensor.TestSupport;

namespace Sensor.Decode.Tests;

/// <summary>Garbage and mutated frames must be counted, never thrown, and cost bounded work.</summary>
public class HostileInputTests
{
    private static readonly int[] LinkTypeList = [0, 1, 12, 14, 101, 108, 113, 228, 229, 276, 9999];

    [Fact]
    public void Random_bytes_of_every_link_type_never_throw()
    {
        var counters = new CounterRegistry();
        var dec = new PacketDecoder(counters);
        var rnd = new Random(1234);
        var pkt = new TcpPacket();
        var buf = new byte[2000];
        for (int i = 0; i < 50_000; i++)
        {
            int len = rnd.Next(0, buf.Length);
            rnd.NextBytes(buf.AsSpan(0, len));
            dec.Decode(buf.AsSpan(0, len), LinkTypeList[i % LinkTypeList.Length], i * 1000L, ref pkt);
        }
        Assert.Equal(50_000, counters.Get("decode", "frames"));
    }

    [Fact]
    public void Every_single_byte_mutation_of_real_tunnelled_frames_is_handled()
    {
        // Mutating each byte of valid frames reaches the deep branches (lengths, flags, nested headers).
        var frames = new List<byte[]>
        {
            Frames.Tcp("10.0.0.1", 1234, "10.0.0.2", 80, 1, 1, Frames.Ack, "GET / HTTP/1.1\r\n\r\n"u8),
            Frames.Tcp("2001:db8::1", 1234, "2001:db8::2", 80, 1, 1, Frames.Ack, "GET / HTTP/1.1\r\n\r\n"u8),
        };
        // GRE (with key and sequence) and VXLAN around the first frame.
        var inner = frames[0];
        var gre = new byte[12 + inner.Length - 14];
        gre[0] = 0x30; gre[2] = 0x08; gre[3] = 0x00;
        inner.AsSpan(14).CopyTo(gre.AsSpan(12));
        frames.Add(Frames.Ip("192.0.2.1", "192.0.2.2", 47, gre));
        var vx = new byte[8 + 8 + inner.Length];
        vx[2] = 0x12; vx[3] = 0xB5;  // dst port 4789
        vx[4] = (byte)(vx.Length >> 8); vx[5] = (byte)vx.Length;
        vx[8] = 0x08;
        inner.CopyTo(vx, 16);
        frames.Add(Frames.Ip("192.0.2.1", "192.0.2.2", 17, vx));

        var counters = new CounterRegistry();
        var dec = new PacketDecoder(counters);
        var pkt = new TcpPacket();
        foreach (var f in frames)
        {
            Assert.Equal(DecodeResult.Tcp, dec.Decode(f, 1, 0, ref pkt));
            for (int i = 0; i < f.Length; i++)
                foreach (byte v in new byte[] { 0x00, 0xFF, 0x45, 0x60, 0x88, (byte)(f[i] ^ 0x80) })
                {
                    var m = (byte[])f.Clone();
                    m[i] = v;
                    dec.Decode(m, 1, i, ref pkt);
                    dec.Decode(m.AsSpan(0, Math.Max(0, m.Length - i)), 1, i, ref pkt);   // and cut short
                }
        }
        Assert.True(counters.Get("decode", "malformed") > 0);
    }

    [Fact]
    public void A_fragment_flood_stays_within_the_table_limits()
    {
        var counters = new CounterRegistry();
        var dec = new PacketDecoder(counters, new FragmentTable.Limits(MaxDatagrams: 100, MaxBytes: 1 << 20));
        var pkt = new TcpPacket();
        for (int i = 0; i < 10_000; i++)
        {
            // First fragments (MF set) of distinct datagrams that never complete.
            var payload = new byte[1000];
            var f = Frames.Ip("10.0.0.1", "10.0.0.2", 6, payload);
            f[14 + 4] = (byte)(i >> 8); f[14 + 5] = (byte)i;   // id
            f[14 + 6] = 0x20;                                   // MF
            dec.Decode(f, 1, i * 1000L, ref pkt);
            Assert.True(dec.Fragments.Count <= 100);
        }
        Assert.True(counters.Get("decode", "ip_fragment_table_full_drops") > 0);
    }
}
