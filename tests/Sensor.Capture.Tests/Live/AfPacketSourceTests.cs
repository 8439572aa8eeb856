using System.Buffers.Binary;
using System.Diagnostics;
using Sensor.Capture.Live;
using Sensor.Core;
using Sensor.TestSupport;
using Xunit.Abstractions;

namespace Sensor.Capture.Tests.Live;

/// <summary>
/// The afpacket backend on a veth pair made for each test: frames written to one end with tcpreplay
/// must come out of the capture on the other end unchanged, filtered and fanned out by flow.
/// </summary>
public sealed class AfPacketSourceTests(ITestOutputHelper output)
{
    private static int s_pairs;

    /// <summary>A veth pair in the root namespace: capture on A, send on B. IPv6 is off so no stray frames appear.</summary>
    private sealed class Veth : IDisposable
    {
        public string A { get; }
        public string B { get; }

        public Veth()
        {
            int n = Interlocked.Increment(ref s_pairs);
            A = $"sa{Environment.ProcessId}x{n}";
            B = $"sb{Environment.ProcessId}x{n}";
            Run("ip", $"link add {A} type veth peer name {B}");
            try
            {
                foreach (var i in new[] { A, B })
                {
                    var v6 = $"/proc/sys/net/ipv6/conf/{i}/disable_ipv6";
                    if (File.Exists(v6)) File.WriteAllText(v6, "1");
                    Run("ip", $"link set {i} mtu 16000 up");   // room for loopback-sized frames
                }
            }
            catch
            {
                Dispose();
                throw;
            }
        }

        public void Dispose() => Run("ip", $"link del {A}", check: false);
    }

    private static void Run(string exe, string args, bool check = true)
    {
        var psi = new ProcessStartInfo(exe, args) { RedirectStandardError = true, RedirectStandardOutput = true };
        using var p = Process.Start(psi)!;
        string err = p.StandardError.ReadToEnd();
        p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        if (check && p.ExitCode != 0) throw new InvalidOperationException($"{exe} {args}: exit {p.ExitCode}: {err}");
    }

    /// <summary>Collects submitted batches with the name of the capture thread that submitted them.</summary>
    private sealed class Sink
    {
        private readonly Lock _lock = new();
        private readonly List<(string Thread, byte[] Frame, long Ts, int OrigLen, int Link)> _frames = [];

        // Small batches, so batch boundaries (full records, full buffer) are crossed often.
        public PacketBatch Rent() => new(1 << 15, 16);

        public void Submit(PacketBatch b)
        {
            string name = Thread.CurrentThread.Name ?? "?";
            lock (_lock)
                for (int i = 0; i < b.Count; i++)
                {
                    var r = b.Records[i];
                    _frames.Add((name, b.Data(r).ToArray(), r.Timestamp, r.OriginalLength, r.LinkType));
                }
        }

        public int Count { get { lock (_lock) return _frames.Count; } }
        public List<(string Thread, byte[] Frame, long Ts, int OrigLen, int Link)> Frames { get { lock (_lock) return [.. _frames]; } }
    }

    private static List<byte[]> ReadFrames(string path)
    {
        using var r = CaptureFileReader.Open(path);
        var list = new List<byte[]>();
        var b = new PacketBatch();
        while (r.ReadBatch(b))
        {
            for (int i = 0; i < b.Count; i++) list.Add(b.Data(b.Records[i]).ToArray());
            b.Reset();
        }
        return list;
    }

    private static string WritePcap(IEnumerable<byte[]> frames)
    {
        var path = Path.Combine(Path.GetTempPath(), $"afp-test-{Guid.NewGuid():N}.pcap");
        using var fs = File.Create(path);
        using var w = new PcapWriter(fs);
        double ts = 1700000000;
        foreach (var f in frames) w.Write(ts += 0.001, f);
        return path;
    }

    private static void Replay(string iface, string pcap) => Run("tcpreplay", $"-q -t -i {iface} {pcap}");

    private static bool WaitFor(Func<bool> done, int ms = 5000)
    {
        var sw = Stopwatch.StartNew();
        while (!done())
        {
            if (sw.ElapsedMilliseconds > ms) return false;
            Thread.Sleep(20);
        }
        return true;
    }

    private static LiveCaptureOptions Options(int threads = 1, string? filter = null) =>
        new() { Backend = "afpacket", FanoutThreads = threads, Filter = filter, BufferSizeMb = 8, BlockSizeKb = 256, FlushMilliseconds = 50 };

    /// <summary>Captures on a fresh pair while the frames of <paramref name="pcap"/> are sent; returns when <paramref name="expect"/> arrived (or 5 s passed).</summary>
    private static (Sink Sink, CounterRegistry Counters) Capture(string pcap, LiveCaptureOptions opt, int expect)
    {
        using var veth = new Veth();
        var counters = new CounterRegistry();
        var sink = new Sink();
        using var src = new AfPacketSource(veth.A, opt, counters);
        src.Start(sink.Rent, sink.Submit);
        Replay(veth.B, pcap);
        WaitFor(() => sink.Count >= expect);
        Thread.Sleep(100);   // anything beyond the expected frames would show up here
        src.Stop();
        Assert.Null(src.Failure);
        return (sink, counters);
    }

    private static byte[] Vlan(byte[] frame, params (ushort Tpid, ushort Tci)[] tags)
    {
        var f = new byte[frame.Length + 4 * tags.Length];
        frame.AsSpan(0, 12).CopyTo(f);
        for (int i = 0; i < tags.Length; i++)
        {
            BinaryPrimitives.WriteUInt16BigEndian(f.AsSpan(12 + 4 * i), tags[i].Tpid);
            BinaryPrimitives.WriteUInt16BigEndian(f.AsSpan(14 + 4 * i), tags[i].Tci);
        }
        frame.AsSpan(12).CopyTo(f.AsSpan(12 + 4 * tags.Length));
        return f;
    }

    [RootFact]
    public void Every_frame_of_a_capture_arrives_unchanged_and_in_order()
    {
        var sent = ReadFrames(Path.Combine(SharedData.Captures, "rest-api.pcap"));
        long before = Timestamp.FromUnix(DateTimeOffset.UtcNow.ToUnixTimeSeconds() - 1, 0, 1);
        var (sink, counters) = Capture(Path.Combine(SharedData.Captures, "rest-api.pcap"), Options(), sent.Count);
        var got = sink.Frames;
        output.WriteLine($"sent {sent.Count}, received {got.Count}");
        Assert.Equal(sent.Count, got.Count);
        for (int i = 0; i < sent.Count; i++)
        {
            Assert.True(sent[i].AsSpan().SequenceEqual(got[i].Frame), $"frame {i} differs");
            Assert.Equal(sent[i].Length, got[i].OrigLen);
            Assert.Equal(1, got[i].Link);
            Assert.InRange(got[i].Ts, before, Timestamp.FromUnix(DateTimeOffset.UtcNow.ToUnixTimeSeconds() + 1, 0, 1));
            if (i > 0) Assert.True(got[i].Ts >= got[i - 1].Ts);
        }
        Assert.Equal(sent.Count, counters.Get("capture", "packets_received"));
        Assert.Equal(sent.Sum(f => (long)f.Length), counters.Get("capture", "bytes_received"));
        Assert.Equal(0, counters.Get("capture", "ring_drops"));
    }

    [RootFact]
    public void Vlan_tags_the_kernel_strips_are_put_back_and_short_frames_stay_short()
    {
        var tcp = Frames.Tcp("10.0.0.1", 40000, "10.0.0.2", 80, 1, 1, Frames.Ack, "GET / HTTP/1.1\r\n\r\n"u8);
        byte[] arp = [.. Frames.Ethernet(0x0806, new byte[28])];      // 42 bytes: below the Ethernet minimum, not padded
        var sent = new List<byte[]>
        {
            tcp,
            Vlan(tcp, (0x8100, 0x2064)),                               // 802.1Q, priority 1, VLAN 100
            Vlan(tcp, (0x88a8, 0x00c8), (0x8100, 0x0064)),             // QinQ: the kernel strips only the outer tag
            Vlan(tcp, (0x8100, 0x0000)),                               // priority tag, VLAN 0
            arp,
        };
        var pcap = WritePcap(sent);
        try
        {
            var (sink, _) = Capture(pcap, Options(), sent.Count);
            var got = sink.Frames;
            Assert.Equal(sent.Count, got.Count);
            for (int i = 0; i < sent.Count; i++)
            {
                Assert.Equal(Convert.ToHexString(sent[i]), Convert.ToHexString(got[i].Frame));
                Assert.Equal(sent[i].Length, got[i].OrigLen);
            }
        }
        finally { File.Delete(pcap); }
    }

    [RootFact]
    public void With_two_fanout_threads_each_flow_arrives_whole_and_in_order_from_one_thread()
    {
        var sent = ReadFrames(Path.Combine(SharedData.Captures, "rest-api.pcap"));
        var (sink, _) = Capture(Path.Combine(SharedData.Captures, "rest-api.pcap"), Options(threads: 2), sent.Count);
        var got = sink.Frames;
        Assert.Equal(sent.Count, got.Count);
        Assert.Equal(
            sent.Select(Convert.ToHexString).Order(StringComparer.Ordinal),
            got.Select(g => Convert.ToHexString(g.Frame)).Order(StringComparer.Ordinal));

        var flows = sent.Select(FlowKey).Distinct().ToList();
        foreach (var flow in flows)
        {
            var expected = sent.Where(f => FlowKey(f) == flow).Select(Convert.ToHexString).ToList();
            var arrived = got.Where(g => FlowKey(g.Frame) == flow).ToList();
            var threads = arrived.Select(a => a.Thread).Distinct().ToList();
            output.WriteLine($"{flow}: {arrived.Count} frames on {string.Join(", ", threads)}");
            Assert.Single(threads);
            Assert.StartsWith("sensor-afp-", threads[0]);
            Assert.Equal(expected, arrived.Select(a => Convert.ToHexString(a.Frame)).ToList());
        }
    }

    [RootFact]
    public void Fanout_spreads_connections_over_the_threads_and_keeps_each_and_its_fragments_on_one()
    {
        // 32 connections from 32 client addresses: both threads get some, every connection stays on its thread.
        var sent = new List<byte[]>();
        for (int i = 0; i < 32; i++)
            sent.AddRange(new Conversation($"10.7.{i / 8}.{10 + i}", (ushort)(40000 + i), "10.9.0.1", 80).Handshake()
                .Request($"GET /{i} HTTP/1.1\r\nHost: x\r\n\r\n").Response("HTTP/1.1 204 No Content\r\n\r\n").Close().Frames);
        var pcap = WritePcap(sent);
        try
        {
            var (sink, _) = Capture(pcap, Options(threads: 2), sent.Count);
            Assert.Equal(sent.Count, sink.Frames.Count);
            var byPair = sink.Frames.GroupBy(g => FlowKey(g.Frame)).ToList();
            Assert.Equal(32, byPair.Count);
            Assert.All(byPair, g => Assert.Single(g.Select(x => x.Thread).Distinct()));
            Assert.Equal(2, sink.Frames.Select(g => g.Thread).Distinct().Count());
        }
        finally { File.Delete(pcap); }

        // IPv6 fragments carry no ports: IPv6 hashes the address pair only, which keeps them with their connection.
        var frag = SharedData.CorpusFile("ipv6_fragments.pcap");
        var frames = ReadFrames(frag);
        var (fsink, _) = Capture(frag, Options(threads: 2), frames.Count);
        Assert.Equal(frames.Count, fsink.Frames.Count);
        Assert.Single(fsink.Frames.Select(g => g.Thread).Distinct());
    }

    /// <summary>IPv4/TCP or UDP flow of an Ethernet frame, the same for both directions.</summary>
    private static string FlowKey(byte[] f)
    {
        if (f.Length < 34 || BinaryPrimitives.ReadUInt16BigEndian(f.AsSpan(12)) != 0x0800) return "other";
        int ihl = (f[14] & 15) * 4;
        var a = $"{f[26]}.{f[27]}.{f[28]}.{f[29]}:{BinaryPrimitives.ReadUInt16BigEndian(f.AsSpan(14 + ihl))}";
        var b = $"{f[30]}.{f[31]}.{f[32]}.{f[33]}:{BinaryPrimitives.ReadUInt16BigEndian(f.AsSpan(16 + ihl))}";
        return f[23] + " " + (string.CompareOrdinal(a, b) < 0 ? a + " " + b : b + " " + a);
    }

    [RootFact]
    public void A_filter_keeps_only_matching_frames()
    {
        var conv = new Conversation("10.1.0.1", 41000, "10.1.0.2", 80).Handshake().Request("GET / HTTP/1.1\r\nHost: x\r\n\r\n").Response("HTTP/1.1 204 No Content\r\n\r\n").Close();
        var other = new Conversation("10.1.0.1", 41001, "10.1.0.2", 8080).Handshake().Close();
        var udp = Enumerable.Range(0, 10).Select(i => Frames.Ip("10.1.0.3", "10.1.0.4", 17, UdpTo80(i))).ToList();
        // Interleaved, so kept frames sit between dropped ones.
        var sent = conv.Frames.Zip(udp, (t, u) => new[] { u, t }).SelectMany(x => x).Concat(other.Frames).Concat(conv.Frames.Skip(udp.Count)).ToList();
        var pcap = WritePcap(sent);
        try
        {
            var (sink, _) = Capture(pcap, Options(filter: "tcp port 80"), conv.Frames.Count);
            Assert.Equal(conv.Frames.Select(Convert.ToHexString), sink.Frames.Select(g => Convert.ToHexString(g.Frame)));
        }
        finally { File.Delete(pcap); }
    }

    private static byte[] UdpTo80(int i)
    {
        var u = new byte[8 + 16];
        BinaryPrimitives.WriteUInt16BigEndian(u, (ushort)(5000 + i));
        BinaryPrimitives.WriteUInt16BigEndian(u.AsSpan(2), 80);
        BinaryPrimitives.WriteUInt16BigEndian(u.AsSpan(4), (ushort)u.Length);
        return u;
    }

    [RootFact]
    public void Frames_that_find_the_ring_full_are_counted_as_ring_drops()
    {
        // 16 blocks of 64 KiB and nobody reading: about 1 MiB fits, the rest of 3 MB is dropped by the kernel.
        var frames = Enumerable.Range(0, 2000).Select(i => Frames.Tcp("10.2.0.1", (ushort)(42000 + i % 50), "10.2.0.2", 80, (uint)i, 0, Frames.Ack, new byte[1400])).ToList();
        var pcap = WritePcap(frames);
        try
        {
            using var veth = new Veth();
            var counters = new CounterRegistry();
            var sink = new Sink();
            using var src = new AfPacketSource(veth.A, Options() with { BufferSizeMb = 1, BlockSizeKb = 64 }, counters);
            Replay(veth.B, pcap);

            // Statistics may be read from another thread while capture runs.
            var poller = new Thread(() => { for (int i = 0; i < 50; i++) { src.PollStats(); Thread.Sleep(2); } });
            poller.Start();
            src.Start(sink.Rent, sink.Submit);
            poller.Join();
            Thread.Sleep(300);
            src.Stop();

            long drops = counters.Get("capture", "ring_drops"), received = counters.Get("capture", "packets_received");
            output.WriteLine($"received {received}, ring_drops {drops}, ring_freezes {counters.Get("capture", "ring_freezes")}");
            Assert.Contains(counters.Snapshot(), c => c.Stage == "capture" && c.Name == "ring_drops");
            Assert.InRange(drops, 1, frames.Count - 1);
            Assert.Equal(frames.Count, received + drops);
            Assert.Equal(received, sink.Count);
            Assert.True(counters.Get("capture", "ring_freezes") >= 1);
            src.PollStats();   // nothing new, and still safe after stop
            Assert.Equal(drops, counters.Get("capture", "ring_drops"));
        }
        finally { File.Delete(pcap); }
    }

    [RootFact]
    public void On_loopback_each_frame_arrives_once_not_also_as_outgoing()
    {
        using var receiver = new System.Net.Sockets.UdpClient(new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, 0));
        int port = ((System.Net.IPEndPoint)receiver.Client.LocalEndPoint!).Port;
        var counters = new CounterRegistry();
        var sink = new Sink();
        using var src = new AfPacketSource("lo", Options(threads: 2, filter: $"udp dst port {port}"), counters);
        src.Start(sink.Rent, sink.Submit);
        using (var sender = new System.Net.Sockets.UdpClient())
            for (int i = 0; i < 5; i++) sender.Send(new byte[10 + i], "127.0.0.1", port);
        WaitFor(() => sink.Count >= 5);
        Thread.Sleep(200);
        src.Stop();
        var got = sink.Frames;
        Assert.Equal(5, got.Count);
        Assert.Equal([52, 53, 54, 55, 56], got.Select(g => g.Frame.Length).Order());   // 14 + 20 + 8 + payload
    }

    [RootFact]
    public void Capture_on_a_down_interface_starts_when_it_comes_up_and_ends_with_a_failure_when_it_is_removed()
    {
        var pcap = WritePcap(new Conversation("10.3.0.1", 43000, "10.3.0.2", 80).Handshake().Close().Frames);
        try
        {
            var veth = new Veth();
            try
            {
                Run("ip", $"link set {veth.A} down");
                var sink = new Sink();
                using var src = new AfPacketSource(veth.A, Options(threads: 2), new CounterRegistry());
                src.Start(sink.Rent, sink.Submit);
                Thread.Sleep(100);
                Run("ip", $"link set {veth.A} up");
                // Sent again until seen: the link may need a moment after up before it carries frames.
                Assert.True(WaitFor(() => { Replay(veth.B, pcap); return sink.Count >= 6; }), $"{sink.Count} frames after the interface came up");
                Assert.Null(src.Failure);

                Run("ip", $"link del {veth.A}");
                Assert.True(WaitFor(() => src.Failure != null), "no failure after the interface was removed");
                output.WriteLine(src.Failure);
                Assert.Contains(veth.A, src.Failure);
                src.Stop();
            }
            finally { veth.Dispose(); }
        }
        finally { File.Delete(pcap); }
    }

    [NativeFact]
    public void A_bad_filter_is_an_argument_error_with_libpcaps_reason()
    {
        var e = Assert.Throws<ArgumentException>(() => new AfPacketSource("lo", Options(filter: "tcp port"), new CounterRegistry()));
        output.WriteLine(e.Message);
        Assert.Contains("tcp port", e.Message);
        Assert.Contains("syntax error", e.Message);
    }

    [NativeFact]
    public void A_missing_interface_is_named_in_the_error()
    {
        var e = Assert.Throws<InvalidOperationException>(() => new AfPacketSource("sensornoif0", Options(), new CounterRegistry()));
        output.WriteLine(e.Message);
        Assert.Contains("sensornoif0", e.Message);
        Assert.Contains("errno 19", e.Message);
    }

    [Fact]
    public void A_block_size_that_is_no_page_multiple_is_refused()
    {
        var e = Assert.Throws<ArgumentException>(() => new AfPacketSource("lo", Options() with { BlockSizeKb = 3 }, new CounterRegistry()));
        Assert.Contains("BlockSizeKb", e.Message);
    }

    [Theory]
    [InlineData(1, 1)]          // ARPHRD_ETHER
    [InlineData(772, 1)]        // ARPHRD_LOOPBACK: Ethernet headers on Linux
    [InlineData(0xFFFE, 101)]   // ARPHRD_NONE (tun): raw IP
    [InlineData(519, 101)]      // ARPHRD_RAWIP
    [InlineData(768, null)]     // ARPHRD_TUNNEL (ipip)
    [InlineData(24, null)]      // ARPHRD_IEEE1394
    public void Hardware_types_map_to_link_types(int arphrd, int? link) => Assert.Equal(link, AfPacketSource.LinkTypeFor(arphrd));
}
