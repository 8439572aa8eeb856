using System.Net.Sockets;
using System.Text;
using DuckDB.NET.Data;
using Sensor.Capture;
using Sensor.Capture.Live;
using Sensor.Core;
using Sensor.Host.Live;
using Sensor.Host.Pipeline;
using Sensor.Host.Replay;
using Sensor.Storage;
using Sensor.TestSupport;

namespace Sensor.Host.Tests;

public class LiveRunnerTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("sensor-liverun-").FullName;
    private string Db => Path.Combine(_dir, "live.duckdb");
    public void Dispose() => Directory.Delete(_dir, true);

    private SensorSettings Settings(params string[] ifaces) => new()
    {
        Database = Db, Interfaces = [.. ifaces], KeyFile = Path.Combine(_dir, "hmac.key"), Workers = 2,
        CommitIntervalSeconds = 0.2, InventoryIntervalSeconds = 0.5, StatsIntervalSeconds = 0.5, Metrics = new() { Listen = "127.0.0.1:0" },
        AnalysisNice = 0,   // the other test processes on the machine must not starve the pipeline
    };

    private static string Capture => SharedData.CorpusFile("rest_api_conversation.pcap");

    private static object? QueryValue(string db, string sql)
    {
        using var c = new DuckDBConnection($"Data Source={db};ACCESS_MODE=READ_ONLY");
        c.Open();
        using var cmd = c.CreateCommand();
        cmd.CommandText = sql;
        return cmd.ExecuteScalar();
    }

    private static long Count(string db, string sql) => Convert.ToInt64(QueryValue(db, sql));

    private static bool Eventually(Func<bool> cond, double seconds = 30)
    {
        var until = DateTime.UtcNow.AddSeconds(seconds);
        while (DateTime.UtcNow < until) { if (cond()) return true; Thread.Sleep(50); }
        return cond();
    }

    private static long Remote(string db, string sql) => Convert.ToInt64(QueryClient.Query(QueryClient.SocketFor(db), sql).Rows[0][0]);

    [Fact]
    public async Task Transactions_inventory_and_findings_become_queryable_while_running_and_equal_a_replay_after_stop()
    {
        var replayDb = Path.Combine(_dir, "replay.duckdb");
        await new ReplayRunner(new PipelineOptions { Workers = 2 }) { KeyFile = Path.Combine(_dir, "hmac.key") }.RunAsync([Capture], replayDb);
        long want = Count(replayDb, "select count(*) from http_transactions");

        FileLiveSource? src = null;
        var runner = new LiveRunner(Settings("fake0"), sources: (i, o, c) => src = new FileLiveSource(Capture, i));
        runner.Start();
        try
        {
            Assert.True(src!.Done.Wait(TimeSpan.FromSeconds(30)));
            // Visible through the socket while the service holds the database.
            Assert.True(Eventually(() => Remote(Db, "select count(*) from http_transactions") >= want - 5), "transactions did not become visible");
            Assert.True(Eventually(() => Remote(Db, "select count(*) from endpoints") > 0), "inventory did not become visible");
            Assert.True(Eventually(() => Remote(Db, "select count(*) from capture_stats") > 0), "statistics were not written");
            Assert.Equal(runner.Health(), (true, "ok"));
        }
        finally { await runner.StopAsync(); }

        Assert.Equal(want, Count(Db, "select count(*) from http_transactions"));
        const string cols = "select method, host, uri, status, req_body_len, resp_body_len, resp_body_sha256 from http_transactions";
        Assert.Equal(0, SymmetricDifference(replayDb, Db, cols));
        // The same endpoints and the same traffic findings as the replay.
        Assert.Equal(Count(replayDb, "select count(*) from endpoints"), Count(Db, "select count(*) from endpoints"));
        Assert.Equal(Count(replayDb, "select cast(sum(count) as bigint) from endpoints"), Count(Db, "select cast(sum(count) as bigint) from endpoints"));
        Assert.Equal(Count(replayDb, "select count(distinct rule_id || service || coalesce(path_template, '')) from findings"),
            Count(Db, "select count(distinct rule_id || service || coalesce(path_template, '')) from findings"));
        Assert.Equal(1, Count(Db, "select count(*) from runs where mode = 'live' and finished_at is not null"));
    }

    private static long SymmetricDifference(string a, string b, string select)
    {
        using var c = new DuckDBConnection("Data Source=:memory:");
        c.Open();
        using var cmd = c.CreateCommand();
        cmd.CommandText = $"""
            attach '{a}' as a (read_only); attach '{b}' as b (read_only);
            select (select count(*) from ((select * from ({select.Replace("from http_transactions", "from a.http_transactions")})) except all (select * from ({select.Replace("from http_transactions", "from b.http_transactions")}))))
                 + (select count(*) from ((select * from ({select.Replace("from http_transactions", "from b.http_transactions")})) except all (select * from ({select.Replace("from http_transactions", "from a.http_transactions")}))))
            """;
        return Convert.ToInt64(cmd.ExecuteScalar());
    }

    private static string Spec => Path.Combine(SharedData.Shared, "spec-recon-dev", "petstore-plus.yaml");
    private static string SpecTraffic => Path.Combine(SharedData.Shared, "spec-recon-dev", "traffic.pcap");

    /// <summary>A replay of the spec's traffic into a file, with the spec imported and judged: what the service must match.</summary>
    private async Task<string> ReplayJudgedBySpec()
    {
        var replayDb = Path.Combine(_dir, "replay.duckdb");
        await new ReplayRunner(new PipelineOptions { Workers = 2 }) { KeyFile = Path.Combine(_dir, "hmac.key") }.RunAsync([SpecTraffic], replayDb);
        using var db = SensorDatabase.Open(replayDb);
        SpecStore.Import(db, Spec, DateTime.UtcNow);
        SpecStore.Evaluate(db, DateTime.UtcNow);
        return replayDb;
    }

    [Fact]
    public async Task Specs_given_to_the_service_judge_the_live_inventory_as_they_judge_a_replay()
    {
        var replayDb = await ReplayJudgedBySpec();

        FileLiveSource? src = null;
        var settings = Settings("fake0");
        settings.Specs = Spec;
        var runner = new LiveRunner(settings, sources: (i, o, c) => src = new FileLiveSource(SpecTraffic, i));
        runner.Start();
        try
        {
            Assert.True(src!.Done.Wait(TimeSpan.FromSeconds(60)));
            // Judged while running, not only at the stop.
            Assert.True(Eventually(() => Remote(Db, "select count(*) from findings where source <> 'traffic'") > 0), "no spec findings while running");
        }
        finally { await runner.StopAsync(); }
        const string q = "select count(*) from findings where source <> 'traffic' and status <> 'fixed'";
        Assert.True(Count(replayDb, q) > 0);
        Assert.Equal(Count(replayDb, q), Count(Db, q));
        foreach (var cat in (string[])["shadow", "zombie", "orphan", "conformance"])
            Assert.Equal(Count(replayDb, $"select count(*) from findings where category = '{cat}' and status <> 'fixed'"),
                Count(Db, $"select count(*) from findings where category = '{cat}' and status <> 'fixed'"));
    }

    [Fact]
    public async Task Specs_imported_through_the_socket_are_stored_and_judge_the_running_inventory()
    {
        var replayDb = await ReplayJudgedBySpec();
        var specs = Path.Combine(_dir, "specs");
        Directory.CreateDirectory(specs);
        File.Copy(Spec, Path.Combine(specs, "petstore.yaml"));
        File.WriteAllText(Path.Combine(specs, "broken.json"), "{ \"openapi\": ");

        FileLiveSource? src = null;
        var runner = new LiveRunner(Settings("fake0"), sources: (i, o, c) => src = new FileLiveSource(SpecTraffic, i));
        runner.Start();
        var sock = QueryClient.SocketFor(Db);
        try
        {
            Assert.True(src!.Done.Wait(TimeSpan.FromSeconds(60)));
            Assert.True(Eventually(() => Remote(Db, "select count(*) from endpoints") > 0), "no inventory while running");
            var (files, unread) = Sensor.Analysis.Specs.SpecLoader.ReadFiles(specs);
            Assert.Empty(unread);
            var imp = QueryClient.ImportSpecs(sock, files);
            var one = Assert.Single(imp.Imported);
            Assert.Equal(Path.GetFullPath(Path.Combine(specs, "petstore.yaml")), one.Path);
            Assert.True(one.Operations > 0);
            var bad = Assert.Single(imp.Failures);   // one unreadable file does not stop the others
            Assert.EndsWith("broken.json", bad.Path);
            Assert.Equal(1, imp.Evaluation.Specs);
            Assert.True(imp.Evaluation.Findings > 0);
            Assert.Equal(1, Remote(Db, "select count(*) from specs"));
            Assert.True(Remote(Db, "select count(*) from findings where source <> 'traffic'") > 0);
        }
        finally { await runner.StopAsync(); }
        // The same judgement as an import into a file after a replay of the same traffic.
        const string q = "select count(*) from findings where source <> 'traffic' and status <> 'fixed'";
        Assert.Equal(Count(replayDb, q), Count(Db, q));
        Assert.Equal(new FileInfo(Spec).Length, Count(Db, "select octet_length(content) from specs"));
    }

    [Fact]
    public async Task A_restart_continues_the_same_database_and_inventory()
    {
        for (int run = 0; run < 2; run++)
        {
            FileLiveSource? src = null;
            var runner = new LiveRunner(Settings("fake0"), sources: (i, o, c) => src = new FileLiveSource(Capture, i));
            runner.Start();
            Assert.True(src!.Done.Wait(TimeSpan.FromSeconds(30)));
            await runner.StopAsync();
        }
        Assert.Equal(2, Count(Db, "select count(*) from runs where finished_at is not null"));
        long perRun = Count(Db, "select count(*) from http_transactions where run_id = 1");
        Assert.True(perRun > 100);
        Assert.Equal(perRun, Count(Db, "select count(*) from http_transactions where run_id = 2"));
        // Endpoint counts add up over both runs.
        Assert.Equal(2 * perRun, Count(Db, "select cast(sum(count) as bigint) from endpoint_observations"));
    }

    [Fact]
    public async Task Several_interfaces_feed_one_pipeline_and_a_dead_capture_makes_the_service_unhealthy()
    {
        var sources = new Dictionary<string, FileLiveSource>();
        var files = new Dictionary<string, string> { ["fake0"] = "http_204_304.pcap", ["fake1"] = "http_keepalive.pcap" };
        var runner = new LiveRunner(Settings("fake0", "fake1"), sources: (i, o, c) => sources[i] = new FileLiveSource(SharedData.CorpusFile(files[i]), i));
        runner.Start();
        try
        {
            Assert.All(sources.Values, s => Assert.True(s.Done.Wait(TimeSpan.FromSeconds(30))));
            long want = 0;
            foreach (var f in files.Values)
            {
                var db = Path.Combine(_dir, f + ".duckdb");
                await new ReplayRunner(new PipelineOptions()) { KeyFile = Path.Combine(_dir, "hmac.key") }.RunAsync([SharedData.CorpusFile(f)], db);
                want += Count(db, "select count(*) from http_transactions");
            }
            Assert.True(Eventually(() => Remote(Db, "select count(*) from http_transactions") == want));
            Assert.True(runner.Health().Healthy);
            sources["fake1"].Failure = "pcap: read error on fake1: device gone";
            Assert.Equal((false, "pcap: read error on fake1: device gone"), runner.Health());
        }
        finally { await runner.StopAsync(); }
        Assert.Equal("fake0;fake1", Convert.ToString(QueryValue(Db, "select sources from runs")));
    }

    [Fact]
    public void The_query_socket_takes_only_single_reading_statements()
    {
        Assert.Null(QueryServer.Refusal("select 1"));
        Assert.Null(QueryServer.Refusal("  -- comment\n WITH x as (select 1) select * from x;"));
        Assert.Null(QueryServer.Refusal("select ';drop table runs' as s"));
        Assert.Null(QueryServer.Refusal("describe http_transactions"));
        Assert.NotNull(QueryServer.Refusal("delete from http_transactions"));
        Assert.NotNull(QueryServer.Refusal("select 1; drop table runs"));
        Assert.NotNull(QueryServer.Refusal("/* select */ drop table runs"));
        Assert.NotNull(QueryServer.Refusal("copy http_transactions to '/tmp/x.csv'"));
        Assert.NotNull(QueryServer.Refusal("attach 'other.duckdb'"));
        Assert.NotNull(QueryServer.Refusal(""));
    }

    [Fact]
    public async Task Socket_answers_queries_with_types_and_errors_and_refuses_writes()
    {
        var runner = new LiveRunner(Settings("fake0"), sources: (i, o, c) => new FileLiveSource(SharedData.CorpusFile("http_204_304.pcap"), i));
        runner.Start();
        try
        {
            var sock = QueryClient.SocketFor(Db);
            Assert.True(Eventually(() => Remote(Db, "select count(*) from http_transactions") == 4));
            var (names, rows) = QueryClient.Query(sock, "select method, status, ts_request, complete, ? as p from http_transactions order by ts_request limit 1", ["x"]);
            Assert.Equal(["method", "status", "ts_request", "complete", "p"], names);
            Assert.IsType<string>(rows[0][0]);
            Assert.IsType<long>(rows[0][1]);
            Assert.IsType<DateTime>(rows[0][2]);
            Assert.IsType<bool>(rows[0][3]);
            Assert.Equal("x", rows[0][4]);
            var e = Assert.Throws<RemoteQueryException>(() => QueryClient.Query(sock, "select * from no_such_table"));
            Assert.Contains("no_such_table", e.Message);
            Assert.Throws<RemoteQueryException>(() => QueryClient.Query(sock, "delete from http_transactions"));
            Assert.Equal(4, Remote(Db, "select count(*) from http_transactions"));
            var status = QueryClient.Status(sock);
            Assert.True(status.Healthy);
            Assert.Contains(status.Counters, c => c.Stage == "http" && c.Name == "transactions" && c.Value == 4);
        }
        finally { await runner.StopAsync(); }
        Assert.False(File.Exists(QueryClient.SocketFor(Db)), "the socket is removed at stop");
    }

    [Fact]
    public async Task Metrics_and_healthz_answer_on_localhost()
    {
        var settings = Settings("fake0");
        var runner = new LiveRunner(settings, sources: (i, o, c) => new FileLiveSource(SharedData.CorpusFile("http_204_304.pcap"), i));
        runner.Start();
        try
        {
            using var server = new MetricsServer("127.0.0.1:0", runner, Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance);
            server.Start();
            using var http = new HttpClient();
            var url = $"http://127.0.0.1:{server.Endpoint.Port}";
            Assert.True(Eventually(() => http.GetStringAsync(url + "/metrics").Result.Contains("sensor_http_transactions_total 4")));
            var metrics = await http.GetStringAsync(url + "/metrics");
            Assert.Contains("# TYPE sensor_http_transactions_total counter", metrics);
            Assert.Contains("# TYPE sensor_tcp_active_connections gauge", metrics);
            Assert.Contains("sensor_healthy 1", metrics);
            Assert.Contains("sensor_rates_transactions_per_s", metrics);
            // Every sample line is "name value" with a valid metric name.
            foreach (var line in metrics.Split('\n', StringSplitOptions.RemoveEmptyEntries).Where(l => !l.StartsWith('#')))
                Assert.Matches("^[a-z_][a-z0-9_]* -?[0-9]+$", line);
            Assert.Equal("ok\n", await http.GetStringAsync(url + "/healthz"));
            Assert.Equal(System.Net.HttpStatusCode.NotFound, (await http.GetAsync(url + "/nope")).StatusCode);
        }
        finally { await runner.StopAsync(); }
        Assert.False(runner.Health().Healthy);
    }

    [Fact]
    public void Retention_archives_old_rows_to_parquet_and_deletes_them()
    {
        var archive = Path.Combine(_dir, "archive");
        using (var db = SensorDatabase.Open(Db))
        {
            var now = new DateTime(2026, 6, 1, 12, 0, 0, DateTimeKind.Utc);
            for (int i = 0; i < 10; i++)
            {
                db.Execute("insert into http_transactions(conn, ts_request, method, uri, run_id) values (?, ?, 'GET', ?, 1)", $"c{i}", now.AddHours(-i * 10), $"/r/{i}");
                db.Execute("insert into sensitive_items(run_id, conn, ts, type) values (1, ?, ?, 'email')", $"c{i}", now.AddHours(-i * 10));
            }
            db.WriteStats(1, now.AddHours(-50), [new CounterValue("http", "transactions", 7, "old")]);
            db.WriteStats(1, now, [new CounterValue("http", "transactions", 9, "current")]);
            var counters = new CounterRegistry();
            var r = new Retention(new RetentionSettings { Hours = 35, ArchiveDirectory = archive }, db, counters, Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance);
            Assert.Equal(6, r.Sweep(now));                     // 40..90 h old
            Assert.Equal(4L, Convert.ToInt64(db.Scalar("select count(*) from http_transactions")));
            Assert.Equal(4L, Convert.ToInt64(db.Scalar("select count(*) from sensitive_items")));
            var files = Directory.GetFiles(archive, "*.parquet").Order().ToArray();
            Assert.Equal(3, files.Length);
            Assert.Equal(9L, Convert.ToInt64(db.Scalar("select value from capture_stats")));
            Assert.Equal(6L, Convert.ToInt64(db.Scalar($"select count(*) from read_parquet('{files.Single(f => Path.GetFileName(f).StartsWith("http_transactions"))}')")));
            var txFile = files.Single(f => Path.GetFileName(f).StartsWith("http_transactions"));
            Assert.Equal(0L, Convert.ToInt64(db.Scalar($"select count(*) from read_parquet('{txFile}') where ts_request >= timestamp '2026-06-01 12:00:00' - interval 35 hours")));
            Assert.Equal(0, r.Sweep(now));
            // A row limit keeps the newest rows.
            var byRows = new Retention(new RetentionSettings { Hours = 0, MaxRows = 2 }, db, counters, Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance);
            Assert.Equal(2, byRows.Sweep(now));
            Assert.Equal("/r/0,/r/1", Convert.ToString(db.Scalar("select string_agg(uri, ',' order by uri) from http_transactions")));
            Assert.Equal(17, counters.Get("retention", "rows_deleted"));   // 6+6+1 (transactions, their items, old statistics), then 2+2
            Assert.Equal(13, counters.Get("retention", "rows_archived"));
        }
    }

    [Fact]
    public void A_missing_interface_fails_before_anything_is_written()
    {
        var e = Assert.ThrowsAny<Exception>(() => new LiveRunner(Settings("no-such-if0")).Start());
        Assert.Contains("no-such-if0", e.Message);
        Assert.False(File.Exists(Db));
    }
}
