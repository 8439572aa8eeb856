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
