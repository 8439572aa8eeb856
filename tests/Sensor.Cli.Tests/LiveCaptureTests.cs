using System.Diagnostics;
using System.Text;
using DuckDB.NET.Data;
using Sensor.Capture;
using Sensor.Host.Live;
using Sensor.TestSupport;
using Xunit.Abstractions;

namespace Sensor.Cli.Tests;

/// <summary>Live tests need root (network namespace, veth pair) and tcpreplay; otherwise they are skipped and say why.</summary>
public sealed class LiveFactAttribute : FactAttribute
{
    public LiveFactAttribute() => Skip = SkipReason;

    public static string? SkipReason =>
        !OperatingSystem.IsLinux() ? "live capture tests need Linux"
        : Environment.UserName != "root" ? "live capture tests need root: they create a network namespace with a veth pair"
        : !File.Exists("/usr/bin/tcpreplay") ? "live capture tests need tcpreplay (.ci/setup installs it)"
        : !File.Exists("/usr/sbin/ip") && !File.Exists("/usr/bin/ip") && !File.Exists("/sbin/ip") ? "live capture tests need iproute2 (ip)"
        : !File.Exists(Path.Combine(AppContext.BaseDirectory, "libsensor_afpacket.so")) ? "live capture tests need libsensor_afpacket.so (built with the solution when gcc and make are installed)"
        : null;
}

public sealed class LiveTheoryAttribute : TheoryAttribute
{
    public LiveTheoryAttribute() => Skip = LiveFactAttribute.SkipReason;
}

/// <summary>A network namespace of the test's own with a veth pair: frames sent on <c>va</c> arrive on <c>vb</c>.</summary>
public sealed class VethNamespace : IDisposable
{
    private static int _seq;
    public string Name { get; } = $"sensor-t{Environment.ProcessId}-{Interlocked.Increment(ref _seq)}";

    public VethNamespace()
    {
        Sh("ip", "netns", "add", Name);
        Sh("ip", "-n", Name, "link", "add", "va", "type", "veth", "peer", "name", "vb");
        // No IPv6 on the pair: router solicitations and DAD would be extra frames; jumbo MTU so large corpus frames pass.
        Sh("ip", "netns", "exec", Name, "sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1", "net.ipv6.conf.default.disable_ipv6=1");
        foreach (var i in (string[])["va", "vb"]) Sh("ip", "-n", Name, "link", "set", i, "mtu", "65535", "up");
        Sh("ip", "-n", Name, "link", "set", "lo", "up");
    }

    /// <summary>Sends a capture's frames out of <c>va</c> at the given rate.</summary>
    public string Replay(string capture, string mbps = "100") => Sh("ip", "netns", "exec", Name, "tcpreplay", "-q", "-i", "va", "-M", mbps, capture);

    public Process Start(params string[] args)
    {
        var psi = new ProcessStartInfo("ip") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in (string[])["netns", "exec", Name, .. args]) psi.ArgumentList.Add(a);
        return Process.Start(psi)!;
    }

    public static string Sh(string file, params string[] args)
    {
        var psi = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var err = p.StandardError.ReadToEndAsync();
        var output = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        if (p.ExitCode != 0) throw new InvalidOperationException($"{file} {string.Join(' ', args)}: exit {p.ExitCode}: {err.Result}{output}");
        return output + err.Result;
    }

    public void Dispose()
    {
        try { Sh("ip", "netns", "del", Name); } catch (InvalidOperationException) { }
    }
}

/// <summary>`sensor run` in a namespace, capturing on vb; stopped with SIGTERM like systemd does.</summary>
public sealed class LiveSensor : IDisposable
{
    private readonly Process _p;
    private readonly StringBuilder _log = new();
    public string Db { get; }
    public string Log { get { lock (_log) return _log.ToString(); } }

    public LiveSensor(VethNamespace ns, string db, string[]? env = null, string[]? extra = null)
    {
        Db = db;
        // Analysis at the capture threads' priority: the other test processes on the machine must not starve it.
        _p = ns.Start(["env", "SENSOR_AnalysisNice=0", .. env ?? [], "dotnet", "exec", Path.Combine(AppContext.BaseDirectory, "sensor.dll"), "run", "-i", "vb", "--db", db, .. extra ?? []]);
        _p.OutputDataReceived += (_, e) => { if (e.Data != null) lock (_log) _log.AppendLine(e.Data); };
        _p.ErrorDataReceived += (_, e) => { if (e.Data != null) lock (_log) _log.AppendLine(e.Data); };
        _p.BeginOutputReadLine();
        _p.BeginErrorReadLine();
        var until = DateTime.UtcNow.AddSeconds(60);
        while (!QueryClient.Answers(QueryClient.SocketFor(db)))
        {
            if (_p.HasExited) throw new InvalidOperationException($"sensor run exited with {_p.ExitCode}:\n{Log}");
            if (DateTime.UtcNow > until) throw new TimeoutException("sensor run did not come up:\n" + Log);
            Thread.Sleep(100);
        }
    }

    public long Counter(string stage, string name) =>
        QueryClient.Status(QueryClient.SocketFor(Db)).Counters.Where(c => c.Stage == stage && c.Name == name).Sum(c => c.Value);

    /// <summary>
    /// Waits until the service has captured <paramref name="packets"/> frames; or, when <paramref name="fewerAllowed"/>,
    /// until the count has not moved for two seconds (the afpacket fanout hands over IP fragments reassembled, as one frame).
    /// </summary>
    public bool WaitForPackets(long packets, TimeSpan timeout, bool fewerAllowed = false)
    {
        var until = DateTime.UtcNow + timeout;
        long last = -1;
        var since = DateTime.UtcNow;
        while (DateTime.UtcNow < until)
        {
            long n = Counter("capture", "packets_received");
            if (n >= packets) return true;
            if (n != last) { last = n; since = DateTime.UtcNow; }
            else if (fewerAllowed && n > 0 && DateTime.UtcNow - since > TimeSpan.FromSeconds(2)) return true;
            Thread.Sleep(50);
        }
        return false;
    }

    public void Terminate() => VethNamespace.Sh("kill", "-TERM", _p.Id.ToString());

    public int WaitForExit(TimeSpan timeout)
    {
        if (!_p.WaitForExit(timeout)) { _p.Kill(true); throw new TimeoutException("sensor run did not stop after SIGTERM:\n" + Log); }
        _p.WaitForExit();
        return _p.ExitCode;
    }

    public void Dispose()
    {
        if (!_p.HasExited) _p.Kill(true);
        _p.Dispose();
    }
}

/// <summary>
/// Live equals offline: corpus captures are sent with tcpreplay over a veth pair while `sensor run` captures
/// the other end; the transactions stored must be those `sensor replay` stores from the same file.
/// </summary>
public class LiveCaptureTests(ITestOutputHelper output)
{
    private static readonly string[] Backends = ["pcap", "afpacket"];
    private const string Columns = "conn, method, host, uri, status, req_body_len, resp_body_len, req_body_sha256, resp_body_sha256, complete";

    private static List<string> Rows(string db)
    {
        using var c = new DuckDBConnection($"Data Source={db};ACCESS_MODE=READ_ONLY");
        c.Open();
        using var cmd = c.CreateCommand();
        cmd.CommandText = $"select {Columns} from http_transactions order by all";
        using var r = cmd.ExecuteReader();
        var rows = new List<string>();
        while (r.Read()) rows.Add(string.Join(" | ", Enumerable.Range(0, r.FieldCount).Select(i => r.IsDBNull(i) ? "∅" : Convert.ToString(r.GetValue(i), System.Globalization.CultureInfo.InvariantCulture))));
        return rows;
    }

    /// <summary>Corpus captures tcpreplay can put on an Ethernet veth: every frame Ethernet, read without damage.</summary>
    private static IEnumerable<(string Path, long Packets)> EthernetCaptures()
    {
        foreach (var f in Directory.GetFiles(SharedData.Corpus).Where(p => p.EndsWith(".pcap") || p.EndsWith(".pcapng")).Order(StringComparer.Ordinal))
        {
            CaptureFileReader r;
            try { r = CaptureFileReader.Open(f); } catch (CaptureFormatException) { continue; }
            using (r)
            {
                var b = new PacketBatch();
                while (true) { b.Reset(); if (!r.ReadBatch(b)) break; }
                if (r.Fault == null && r.Packets > 0 && r.LinkTypes.All(l => l == 1)) yield return (f, r.Packets);
            }
        }
    }

    [LiveFact]
    public void Live_capture_of_every_ethernet_corpus_file_stores_what_replay_stores()
    {
        var dir = Directory.CreateTempSubdirectory("sensor-live-");
        var report = new StringBuilder();
        int files = 0;
        var same = Backends.ToDictionary(b => b, _ => 0);
        var mismatches = new List<string>();
        try
        {
            foreach (var (capture, packets) in EthernetCaptures())
            {
                files++;
                var name = Path.GetFileName(capture);
                var offline = Path.Combine(dir.FullName, name + ".replay.duckdb");
                Assert.Equal(0, SensorProcess.Run("replay", capture, "--db", offline, "--quiet").ExitCode);
                var want = Rows(offline);
                report.Append($"{name,-48} {want.Count,4} replay");
                foreach (var backend in Backends)
                {
                    var live = Path.Combine(dir.FullName, $"{name}.{backend}.duckdb");
                    using (var ns = new VethNamespace())
                    using (var sensor = new LiveSensor(ns, live, extra: ["--backend", backend]))
                    {
                        ns.Replay(capture);
                        bool all = sensor.WaitForPackets(packets, TimeSpan.FromSeconds(20), fewerAllowed: backend == "afpacket");
                        long drops = sensor.Counter("capture", "kernel_drops") + sensor.Counter("capture", "ring_drops") + sensor.Counter("pipeline", "input_queue_drops");
                        sensor.Terminate();
                        Assert.Equal(0, sensor.WaitForExit(TimeSpan.FromSeconds(60)));
                        Assert.True(all, $"{name} ({backend}): not every frame arrived ({packets} sent)\n{sensor.Log}");
                        Assert.Equal(0, drops);
                    }
                    var got = Rows(live);
                    bool equal = want.SequenceEqual(got);
                    if (equal) same[backend]++;
                    else mismatches.Add($"{name} ({backend}): replay {want.Count}, live {got.Count}\n  only replay: {string.Join("\n    ", want.Except(got))}\n  only live: {string.Join("\n    ", got.Except(want))}");
                    report.Append($"  {got.Count,4} {backend} {(equal ? "same" : "DIFFERENT")}");
                }
                report.AppendLine();
            }
        }
        finally { dir.Delete(true); }
        foreach (var b in Backends)
            report.AppendLine($"live vs replay: {same[b]}/{files} Ethernet corpus captures stored the same transactions (tcpreplay at 100 Mbit/s, {b} backend)");
        output.WriteLine(report.ToString());
        Console.WriteLine(report.ToString());
        Assert.True(files >= 10, "expected the corpus to hold Ethernet captures");
        Assert.True(mismatches.Count == 0, string.Join("\n", mismatches));
    }

    [LiveTheory]
    [InlineData("pcap")]
    [InlineData("afpacket")]
    public void Sigterm_mid_traffic_stores_every_parsed_transaction_and_closes_the_database(string backend)
    {
        var dir = Directory.CreateTempSubdirectory("sensor-sigterm-");
        try
        {
            var db = Path.Combine(dir.FullName, "live.duckdb");
            var capture = Path.Combine(SharedData.Captures, "rest-api.pcap");
            using var ns = new VethNamespace();
            long capturedBefore;
            using (var sensor = new LiveSensor(ns, db, extra: ["--backend", backend]))
            {
                // ~4 s of traffic at 0.5 Mbit/s; stop the service once a good part has been captured, while it is flowing.
                using var replay = ns.Start("tcpreplay", "-q", "-i", "va", "-M", "0.5", capture);
                var until = DateTime.UtcNow.AddSeconds(20);
                while (sensor.Counter("capture", "packets_received") < 150 && DateTime.UtcNow < until) Thread.Sleep(20);
                bool flowing = !replay.HasExited;
                capturedBefore = sensor.Counter("capture", "packets_received");
                sensor.Terminate();
                Assert.Equal(0, sensor.WaitForExit(TimeSpan.FromSeconds(60)));
                Assert.True(flowing, "the traffic should still have been flowing at SIGTERM");
                if (!replay.HasExited) replay.Kill();
                output.WriteLine(sensor.Log);
            }
            Assert.True(capturedBefore >= 150, "traffic did not arrive");
            using var c = new DuckDBConnection($"Data Source={db}");
            c.Open();   // opens read-write: the service closed it cleanly
            long Scalar(string sql)
            {
                using var cmd = c.CreateCommand();
                cmd.CommandText = sql;
                return Convert.ToInt64(cmd.ExecuteScalar());
            }
            Assert.Equal(1, Scalar("select count(*) from runs where mode = 'live' and finished_at is not null"));
            long stored = Scalar("select count(*) from http_transactions");
            long requests = Scalar("select value from capture_stats where stage = 'http' and counter = 'requests' order by recorded_at desc limit 1");
            long transactions = Scalar("select value from capture_stats where stage = 'http' and counter = 'transactions' order by recorded_at desc limit 1");
            output.WriteLine($"SIGTERM after {capturedBefore} frames: {requests} requests parsed in all, {transactions} transactions, {stored} stored");
            Assert.True(requests >= 20, "what was captured before the stop must have been parsed");
            Assert.Equal(requests, transactions);
            Assert.Equal(transactions, stored);
            Assert.Equal(transactions, Scalar("select transactions from runs"));
            // The inventory was brought up to date at the stop.
            Assert.Equal(stored, Scalar("select cast(coalesce(sum(count), 0) as bigint) from endpoint_observations"));
        }
        finally { dir.Delete(true); }
    }

    [LiveFact]
    public void Under_systemd_notify_the_service_reports_ready_and_stopping()
    {
        // What systemd does for Type=notify: a datagram socket in NOTIFY_SOCKET. PID 1 is not systemd here
        // (as under ProtectProc=invisible, where the service cannot see it), so NOTIFY_SOCKET alone must do.
        var dir = Directory.CreateTempSubdirectory("sensor-notify-");
        try
        {
            var path = Path.Combine(dir.FullName, "notify");
            using var sock = new System.Net.Sockets.Socket(System.Net.Sockets.AddressFamily.Unix, System.Net.Sockets.SocketType.Dgram, System.Net.Sockets.ProtocolType.Unspecified);
            sock.Bind(new System.Net.Sockets.UnixDomainSocketEndPoint(path));
            sock.ReceiveTimeout = 60_000;
            using var ns = new VethNamespace();
            using var sensor = new LiveSensor(ns, Path.Combine(dir.FullName, "n.duckdb"), env: ["NOTIFY_SOCKET=" + path]);
            var buf = new byte[4096];
            var messages = new List<string> { Encoding.UTF8.GetString(buf, 0, sock.Receive(buf)) };
            sensor.Terminate();
            messages.Add(Encoding.UTF8.GetString(buf, 0, sock.Receive(buf)));
            Assert.Equal(0, sensor.WaitForExit(TimeSpan.FromSeconds(60)));
            output.WriteLine(string.Join(" | ", messages));
            Assert.Contains("READY=1", messages[0]);
            Assert.Contains("STOPPING=1", messages[1]);
        }
        finally { dir.Delete(true); }
    }
}
