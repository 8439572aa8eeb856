using System.IO.Compression;
using System.Security.Cryptography;
using System.Text;
using DuckDB.NET.Data;
using Sensor.Capture;
using Sensor.Core;
using Sensor.Host.Pipeline;
using Sensor.Host.Replay;
using Sensor.Http;
using Sensor.Storage;
using Sensor.TestSupport;

namespace Sensor.Host.Tests;

public class PipelineTests
{
    private sealed class RecordingAnalyzer : IHttpAnalyzer
    {
        public readonly List<(string Uri, byte[] Body)> Seen = [];
        public bool Completed;
        public Action? OnEach;
        public void OnTransaction(HttpTransaction t) { OnEach?.Invoke(); lock (Seen) Seen.Add((t.Uri, t.ResponseBody.Content.ToArray())); }
        public void Complete() => Completed = true;
    }

    private sealed class Factory(Func<int, IHttpAnalyzer> create) : IHttpAnalyzerFactory
    {
        public string Name => "test";
        public IHttpAnalyzer Create(int workerId) => create(workerId);
    }

    private static byte[] Gzip(byte[] data)
    {
        var ms = new MemoryStream();
        using (var gz = new GZipStream(ms, CompressionLevel.Fastest)) gz.Write(data);
        return ms.ToArray();
    }

    /// <summary>n connections, each with one JSON request/response; the response gzip-encoded.</summary>
    private static (string Path, List<byte[]> Bodies) WriteCapture(string dir, int n)
    {
        var path = Path.Combine(dir, "t.pcap");
        var bodies = new List<byte[]>();
        using var fs = File.Create(path);
        using var w = new PcapWriter(fs);
        double ts = 1700000000;
        for (int i = 0; i < n; i++)
        {
            var body = Encoding.UTF8.GetBytes($"{{\"id\":{i},\"email\":\"user{i}@example.com\",\"pad\":\"{new string('x', i % 300)}\"}}");
            bodies.Add(body);
            var gz = Gzip(body);
            var c = new Conversation("10.0.0.1", (ushort)(20000 + i), "10.0.0.2", 8080).Handshake()
                .Request($"GET /items/{i} HTTP/1.1\r\nHost: api.test\r\n\r\n")
                .Send(false, Encoding.ASCII.GetBytes($"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Encoding: gzip\r\nContent-Length: {gz.Length}\r\n\r\n").Concat(gz).ToArray())
                .Close();
            foreach (var f in c.Frames) w.Write(ts += 0.0001, f);
        }
        return (path, bodies);
    }

    [Fact]
    public async Task Analyzers_see_every_decoded_body_once_and_complete_per_worker()
    {
        var dir = Directory.CreateTempSubdirectory("sensor-pipe-");
        try
        {
            var (pcap, bodies) = WriteCapture(dir.FullName, 200);
            var analyzers = new List<RecordingAnalyzer>();
            var factory = new Factory(_ => { var a = new RecordingAnalyzer(); lock (analyzers) analyzers.Add(a); return a; });
            var runner = new ReplayRunner(new PipelineOptions { Workers = 3 }, [factory]);
            var result = await runner.RunAsync([pcap], Path.Combine(dir.FullName, "t.duckdb"));
            Assert.Equal(200, result.Transactions);
            Assert.Equal(3, analyzers.Count);
            Assert.All(analyzers, a => Assert.True(a.Completed));
            var seen = analyzers.SelectMany(a => a.Seen).ToDictionary(s => s.Uri, s => s.Body);
            Assert.Equal(200, seen.Count);
            for (int i = 0; i < 200; i++) Assert.Equal(bodies[i], seen[$"/items/{i}"]);
            // Every head buffer and captured body was given back to the workers' memory budgets.
            Assert.Equal(0, result.Counters.Single(c => c.Stage == "http" && c.Name == "buffered_bytes").Value);
        }
        finally { dir.Delete(true); }
    }

    [Fact]
    public async Task Replay_with_tiny_queues_and_a_slow_stage_waits_instead_of_dropping()
    {
        var dir = Directory.CreateTempSubdirectory("sensor-bp-");
        try
        {
            var (pcap, _) = WriteCapture(dir.FullName, 300);
            int calls = 0;
            var factory = new Factory(_ => new RecordingAnalyzer { OnEach = () => { if (Interlocked.Increment(ref calls) % 50 == 0) Thread.Yield(); } });
            var opt = new PipelineOptions { Workers = 2, PacketQueueBatches = 1, SegmentQueueBatches = 1 };
            var result = await new ReplayRunner(opt, [factory]).RunAsync([pcap], null);
            Assert.Equal(300, result.Transactions);
            Assert.All(result.Counters.Where(c => c.Name.Contains("drop")), c => Assert.Equal(0, c.Value));
        }
        finally { dir.Delete(true); }
    }

    /// <summary>Live submissions: each batch holds one complete transaction on its own connection; returns the frames submitted.</summary>
    private static int SubmitTransactions(SensorPipeline p, int n)
    {
        int submitted = 0;
        for (int i = 0; i < n; i++)
        {
            var c = new Conversation("10.1.0.1", (ushort)(30000 + i), "10.1.0.2", 80).Handshake()
                .Request($"GET /x/{i} HTTP/1.1\r\nHost: h\r\n\r\n").Response("HTTP/1.1 204 No Content\r\n\r\n").Close();
            var b = p.RentBatch();
            foreach (var f in c.Frames) f.CopyTo(b.Add(Timestamp.FromUnix(1700000000 + i, 0, 1), f.Length, f.Length, 1, 0));
            submitted += b.Count;
            p.Submit(b);
        }
        return submitted;
    }

    [Fact]
    public async Task Live_mode_drops_at_the_full_input_queue_and_counts_every_dropped_packet()
    {
        var counters = new CounterRegistry();
        using var gate = new ManualResetEventSlim(false);
        var factory = new Factory(_ => new RecordingAnalyzer { OnEach = () => gate.Wait() });
        var opt = new PipelineOptions { Workers = 1, Live = true, LiveDropWhenFull = true, PacketQueueBatches = 1, SegmentQueueBatches = 1 };
        var rows = counters.Create("storage", "rows", "test");
        var p = new SensorPipeline(opt, counters, [factory], _ => new CountingSink(rows));
        p.Start();
        int submitted = SubmitTransactions(p, 40);
        gate.Set();
        await p.CompleteAsync();
        long dropped = counters.Get("pipeline", "input_queue_drops");
        long decoded = counters.Get("decode", "frames");
        Assert.True(dropped > 0, "a blocked worker with one-batch queues must make live capture drop");
        Assert.Equal(submitted, decoded + dropped);
        Assert.Equal(counters.Get("pipeline", "packets_in"), submitted);
    }

    [Fact]
    public async Task Live_mode_by_default_holds_the_source_at_the_full_input_queue_and_loses_nothing()
    {
        var counters = new CounterRegistry();
        using var gate = new ManualResetEventSlim(false);
        var factory = new Factory(_ => new RecordingAnalyzer { OnEach = () => gate.Wait() });
        var opt = new PipelineOptions { Workers = 1, Live = true, PacketQueueBatches = 1, SegmentQueueBatches = 1 };
        var rows = counters.Create("storage", "rows", "test");
        var p = new SensorPipeline(opt, counters, [factory], _ => new CountingSink(rows));
        p.Start();
        var source = Task.Run(() => SubmitTransactions(p, 40));
        // The blocked worker holds the source up: it waits (the kernel would buffer meanwhile), it does not drop.
        Assert.NotSame(source, await Task.WhenAny(source, Task.Delay(500)));
        Assert.True(counters.Get("pipeline", "input_queue_full_waits") > 0);
        gate.Set();
        int submitted = await source;
        await p.CompleteAsync();
        Assert.Equal(0, counters.Get("pipeline", "input_queue_drops"));
        Assert.Equal(submitted, counters.Get("decode", "frames"));
        Assert.Equal(40, rows.Value);
    }

    [Fact]
    public async Task Replays_into_one_database_append_runs_and_store_stats()
    {
        var dir = Directory.CreateTempSubdirectory("sensor-db-");
        try
        {
            var (pcap, bodies) = WriteCapture(dir.FullName, 20);
            var db = Path.Combine(dir.FullName, "s.duckdb");
            var r1 = await new ReplayRunner(new PipelineOptions()).RunAsync([pcap], db);
            var r2 = await new ReplayRunner(new PipelineOptions()).RunAsync([pcap], db);
            Assert.Equal(1, r1.RunId);
            Assert.Equal(2, r2.RunId);
            using var c = new DuckDBConnection($"Data Source={db};ACCESS_MODE=READ_ONLY");
            c.Open();
            using var cmd = c.CreateCommand();
            cmd.CommandText = "select count(*), count(distinct run_id), min(conn), max(resp_body_len), bool_and(complete) from http_transactions";
            using (var rd = cmd.ExecuteReader())
            {
                rd.Read();
                Assert.Equal(40L, rd.GetInt64(0));
                Assert.Equal(2L, rd.GetInt64(1));
                Assert.Equal("10.0.0.1:20000-10.0.0.2:8080", rd.GetString(2));
                Assert.Equal(bodies.Max(b => b.Length), rd.GetInt64(3));
                Assert.True(rd.GetBoolean(4));
            }
            cmd.CommandText = "select resp_body_sha256 from http_transactions where uri = '/items/7' limit 1";
            Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(bodies[7])), cmd.ExecuteScalar());
            cmd.CommandText = "select value from capture_stats where run_id = 2 and stage = 'http' and counter = 'transactions'";
            Assert.Equal(20L, Convert.ToInt64(cmd.ExecuteScalar()));
            cmd.CommandText = "select packets from capture_files where run_id = 1";
            Assert.Equal(20L * 8, Convert.ToInt64(cmd.ExecuteScalar()));   // handshake 3, request, response, close 3
        }
        finally { dir.Delete(true); }
    }
}
