using Sensor.Core;
using Sensor.TestSupport;

namespace Sensor.Capture.Tests;

public class CaptureFileReaderTests
{
    private static byte[] Frame(int i, int len) => Enumerable.Range(0, len).Select(b => (byte)(b + i)).ToArray();

    private static byte[] Pcap(bool be, bool ns, int count, int len = 60)
    {
        var ms = new MemoryStream();
        using (var w = new PcapWriter(ms, 1, be, ns))
            for (int i = 0; i < count; i++) w.Write(1700000000 + i + 0.123456, Frame(i, len + i));
        return ms.ToArray();
    }

    private static List<(long Ts, byte[] Data, int Link)> ReadAll(CaptureFileReader r, int batchBytes = 1 << 20)
    {
        var list = new List<(long, byte[], int)>();
        var b = new PacketBatch(batchBytes, 4);
        while (r.ReadBatch(b))
        {
            for (int i = 0; i < b.Count; i++) list.Add((b.Records[i].Timestamp, b.Data(b.Records[i]).ToArray(), b.Records[i].LinkType));
            b.Reset();
        }
        return list;
    }

    [Theory]
    [InlineData(false, false)]
    [InlineData(true, false)]
    [InlineData(false, true)]
    [InlineData(true, true)]
    public void Classic_pcap_in_both_byte_orders_and_resolutions(bool be, bool ns)
    {
        var bytes = Pcap(be, ns, 10);
        using var r = CaptureFileReader.FromStream("x.pcap", new MemoryStream(bytes));
        var pk = ReadAll(r);
        Assert.Equal(10, pk.Count);
        Assert.Null(r.Fault);
        for (int i = 0; i < 10; i++)
        {
            Assert.Equal(Frame(i, 60 + i), pk[i].Data);
            var dt = Timestamp.ToDateTime(pk[i].Ts);
            Assert.Equal(1700000000 + i, new DateTimeOffset(dt).ToUnixTimeSeconds());
            Assert.Equal(1234560, dt.Ticks % TimeSpan.TicksPerSecond);
        }
    }

    [Fact]
    public void Pcapng_interfaces_keep_their_link_type_and_resolution()
    {
        var ms = new MemoryStream();
        var w = new PcapngWriter(ms);
        int eth = w.AddInterface(1, 6);
        int raw = w.AddInterface(101, 9);
        w.Write(eth, 1700000000.5, Frame(1, 61));
        w.Write(raw, 1700000001.000000123, Frame(2, 62));
        using var r = CaptureFileReader.FromStream("x.pcapng", new MemoryStream(ms.ToArray()));
        var pk = ReadAll(r);
        Assert.Equal(2, pk.Count);
        Assert.Equal(1, pk[0].Link);
        Assert.Equal(101, pk[1].Link);
        Assert.Equal(Frame(2, 62), pk[1].Data);
        Assert.Equal(5_000_000, Timestamp.ToDateTime(pk[0].Ts).Ticks % TimeSpan.TicksPerSecond);
        Assert.Equal("pcapng", r.Format);
    }

    [Fact]
    public void Empty_and_text_files_are_not_captures()
    {
        var e1 = Assert.Throws<CaptureFormatException>(() => CaptureFileReader.FromStream("empty.pcap", new MemoryStream()));
        Assert.Contains("empty", e1.Reason);
        var e2 = Assert.Throws<CaptureFormatException>(() => CaptureFileReader.FromStream("t.pcap", new MemoryStream("This is not a capture\n"u8.ToArray())));
        Assert.Contains("not a pcap", e2.Reason);
    }

    [Fact]
    public void A_capture_cut_at_any_byte_keeps_every_whole_record_before_the_cut()
    {
        var full = Pcap(false, false, 6, 40);
        // record k starts at 24 + sum of previous (16 + len)
        var starts = new List<int> { 24 };
        for (int i = 0; i < 6; i++) starts.Add(starts[^1] + 16 + 40 + i);
        for (int cut = 24; cut <= full.Length; cut++)
        {
            using var r = CaptureFileReader.FromStream("cut.pcap", new MemoryStream(full[..cut]));
            var pk = ReadAll(r);
            int whole = starts.Count(s => s <= cut) - 1;     // records fully inside the cut
            Assert.Equal(whole, pk.Count);
            if (starts.Contains(cut)) Assert.Null(r.Fault);
            else
            {
                Assert.NotNull(r.Fault);
                Assert.Equal(starts[whole], r.Fault!.Offset);
                Assert.Equal(whole, r.Fault.PacketsBefore);
            }
        }
    }

    [Fact]
    public void An_impossible_record_length_stops_with_a_fault_not_an_allocation()
    {
        var ms = new MemoryStream();
        using (var w = new PcapWriter(ms))
        {
            w.Write(1, Frame(0, 50));
            w.Write(2, Frame(1, 10), origLen: int.MaxValue, inclLenOverride: int.MaxValue);
        }
        using var r = CaptureFileReader.FromStream("bad.pcap", new MemoryStream(ms.ToArray()));
        var pk = ReadAll(r);
        Assert.Single(pk);
        Assert.Contains("impossible record length", r.Fault!.Reason);
        Assert.Equal(24 + 16 + 50, r.Fault.Offset);
    }

    [Fact]
    public void Batches_fill_up_and_continue_without_losing_records()
    {
        var bytes = Pcap(false, false, 50, 100);
        using var r = CaptureFileReader.FromStream("x.pcap", new MemoryStream(bytes));
        var pk = ReadAll(r, batchBytes: 400);   // about 3 frames per batch, at most 4 records
        Assert.Equal(50, pk.Count);
        for (int i = 0; i < 50; i++) Assert.Equal(Frame(i, 100 + i), pk[i].Data);
    }

    [Theory]
    [InlineData(false, 64)]       // smaller than most frames: every batch grows or ends at once
    [InlineData(false, 333)]
    [InlineData(false, 4096)]
    [InlineData(true, 150)]
    [InlineData(true, 4096)]
    [InlineData(true, 1 << 20)]
    public void Frames_read_in_place_stay_intact_while_later_batches_are_read(bool pcapng, int batchBytes)
    {
        // Batches are handed on before the next is read, as the pipeline does; the file is read straight into their
        // buffers, so reading a batch must never write into one handed on before it.
        byte[] bytes;
        if (pcapng)
        {
            var ms = new MemoryStream();
            var w = new PcapngWriter(ms);
            int eth = w.AddInterface(1, 6);
            for (int i = 0; i < 300; i++) w.Write(eth, 1700000000 + i, Frame(i, 40 + i * 7 % 500));
            bytes = ms.ToArray();
        }
        else
        {
            var ms = new MemoryStream();
            using (var w = new PcapWriter(ms, 1, false, false))
                for (int i = 0; i < 300; i++) w.Write(1700000000 + i, Frame(i, 40 + i * 7 % 500));
            bytes = ms.ToArray();
        }
        using var r = CaptureFileReader.FromStream("x", new MemoryStream(bytes));
        var handedOn = new List<PacketBatch>();
        while (true)
        {
            var b = new PacketBatch(batchBytes, 16);
            bool more = r.ReadBatch(b);
            if (b.Count > 0) handedOn.Add(b);
            if (!more) break;
        }
        Assert.Null(r.Fault);
        var frames = handedOn.SelectMany(b => Enumerable.Range(0, b.Count).Select(i => b.Data(b.Records[i]).ToArray())).ToList();
        Assert.Equal(300, frames.Count);
        for (int i = 0; i < 300; i++) Assert.Equal(Frame(i, 40 + i * 7 % 500), frames[i]);
    }

    [Fact]
    public void A_batch_that_already_holds_frames_gets_the_next_ones_copied_after_them()
    {
        var bytes = Pcap(false, false, 30, 100);
        using var r = CaptureFileReader.FromStream("x.pcap", new MemoryStream(bytes));
        var first = new PacketBatch(1 << 20, 10);
        Assert.True(r.ReadBatch(first));                  // read in place: its records are full after 10
        var other = new PacketBatch(1 << 20, 64);
        other.Add(0, 3, 3, 1, 0).Fill(7);                 // a frame of its own
        Assert.True(r.ReadBatch(other));
        Assert.False(r.ReadBatch(other));                 // end of file
        Assert.Equal(10, first.Count);
        Assert.Equal(21, other.Count);
        for (int i = 0; i < 10; i++) Assert.Equal(Frame(i, 100 + i), first.Data(first.Records[i]).ToArray());
        Assert.Equal(new byte[] { 7, 7, 7 }, other.Data(other.Records[0]).ToArray());
        for (int i = 0; i < 20; i++) Assert.Equal(Frame(10 + i, 110 + i), other.Data(other.Records[1 + i]).ToArray());
    }

    [Fact]
    public void Corpus_pcapng_with_two_interfaces_reads_both_link_types()
    {
        using var r = CaptureFileReader.Open(SharedData.CorpusFile("link_pcapng_two_ifaces.pcapng"));
        var pk = ReadAll(r);
        Assert.Null(r.Fault);
        Assert.Equal(new[] { 1, 101 }, pk.Select(p => p.Link).Distinct().Order().ToArray());
    }
}

public class ModifiedPcapTests
{
    [Fact]
    public void Kuznetzov_modified_pcap_records_are_read()
    {
        var ms = new MemoryStream();
        var w = new BinaryWriter(ms);
        w.Write(0xa1b2cd34u); w.Write((ushort)2); w.Write((ushort)4); w.Write(0); w.Write(0); w.Write(65535); w.Write(1);
        for (int i = 0; i < 3; i++)
        {
            w.Write(1700000000 + i); w.Write(500); w.Write(60); w.Write(60);
            w.Write(7); w.Write((ushort)0x0800); w.Write((byte)0); w.Write((byte)0);   // ifindex, protocol, pkt_type, pad
            w.Write(Enumerable.Repeat((byte)i, 60).ToArray());
        }
        using var r = CaptureFileReader.FromStream("m.pcap", new MemoryStream(ms.ToArray()));
        var b = new PacketBatch();
        Assert.True(r.ReadBatch(b));
        Assert.Equal(3, b.Count);
        Assert.Null(r.Fault);
        Assert.All(Enumerable.Range(0, 3), i => Assert.Equal(Enumerable.Repeat((byte)i, 60), b.Data(b.Records[i]).ToArray()));
    }
}

public class CompressedCaptureTests
{
    private static List<byte[]> ReadAll(CaptureFileReader r)
    {
        var list = new List<byte[]>();
        var b = new PacketBatch();
        while (r.ReadBatch(b)) { for (int i = 0; i < b.Count; i++) list.Add(b.Data(b.Records[i]).ToArray()); b.Reset(); }
        return list;
    }

    private static string Gzip(string source, string dir, int? cutAt = null)
    {
        var ms = new MemoryStream();
        using (var gz = new System.IO.Compression.GZipStream(ms, System.IO.Compression.CompressionLevel.Fastest, leaveOpen: true))
            gz.Write(File.ReadAllBytes(source));
        var bytes = ms.ToArray();
        var path = Path.Combine(dir, Path.GetFileName(source) + ".gz");
        File.WriteAllBytes(path, cutAt is int c ? bytes[..c] : bytes);
        return path;
    }

    [Fact]
    public void A_gzip_compressed_capture_reads_the_same_packets()
    {
        var dir = Directory.CreateTempSubdirectory("sensor-gz-");
        try
        {
            var src = SharedData.CorpusFile("link_pcapng_two_ifaces.pcapng");
            using var plain = CaptureFileReader.Open(src);
            using var gz = CaptureFileReader.Open(Gzip(src, dir.FullName));
            Assert.Equal(ReadAll(plain), ReadAll(gz));
            Assert.Equal("pcapng+gzip", gz.Format);
            Assert.Null(gz.Fault);
        }
        finally { dir.Delete(true); }
    }

    [Fact]
    public void A_cut_gzip_capture_keeps_what_came_before_the_cut()
    {
        var dir = Directory.CreateTempSubdirectory("sensor-gz-");
        try
        {
            var src = SharedData.CorpusFile("rest_api_conversation.pcap");
            using var plain = CaptureFileReader.Open(src);
            int all = ReadAll(plain).Count;
            var path = Gzip(src, dir.FullName);
            var cut = Gzip(src, dir.FullName, cutAt: (int)new FileInfo(path).Length / 2);
            using var r = CaptureFileReader.Open(cut);
            int got = ReadAll(r).Count;
            Assert.InRange(got, 1, all - 1);
            Assert.NotNull(r.Fault);
            Assert.Equal(got, r.Fault!.PacketsBefore);
        }
        finally { dir.Delete(true); }
    }
}
