using Sensor.Host.Live;
using Sensor.TestSupport;

namespace Sensor.Cli.Tests;

/// <summary>
/// While the service holds the database file, the CLI's reading commands reach it through the service's
/// socket and print what they print from a file; writes are refused with one clear line.
/// </summary>
public class QueryWhileRunningTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("sensor-qwr-").FullName;
    public void Dispose() => Directory.Delete(_dir, true);

    [Fact]
    public async Task Query_inventory_findings_and_status_work_against_the_running_service()
    {
        var db = Path.Combine(_dir, "live.duckdb");
        var (runner, src) = StartService(db, SharedData.CorpusFile("rest_api_conversation.pcap"));
        string liveQuery, liveInventory, liveFindings;
        try
        {
            Assert.True(src.Done.Wait(TimeSpan.FromSeconds(30)));
            var until = DateTime.UtcNow.AddSeconds(30);
            SensorProcess.Result q;
            do
            {
                Thread.Sleep(300);
                q = SensorProcess.Run("query", "select count(*) as n from endpoints where count > 0", "--db", db, "--format", "csv");
            } while ((q.ExitCode != 0 || q.Stdout.Trim() == "n\n0".Replace("\n", Environment.NewLine)) && DateTime.UtcNow < until);
            Assert.Equal(0, q.ExitCode);

            // Let the last checkpoint hand over everything, then compare the CLI's views with those after the stop.
            Thread.Sleep(1500);
            liveQuery = Run("query", "select method, uri, status from http_transactions order by all", "--db", db, "--format", "csv");
            liveInventory = Run("inventory", "--db", db, "--format", "csv");
            liveFindings = Run("findings", "--db", db, "--format", "csv");
            var status = SensorProcess.Run("status", "--db", db);
            Assert.Equal(0, status.ExitCode);
            Assert.Contains("service: healthy", status.Stdout);
            Assert.Contains("http.transactions", status.Stdout);
            Assert.Equal(0, SensorProcess.Run("status", "--db", db, "--health").ExitCode);

            var specs = Path.Combine(_dir, "specs");
            var export = SensorProcess.Run("openapi", "export", "--db", db, "--out", specs);
            Assert.True(export.ExitCode == 0, export.Stderr);
            Assert.NotEmpty(Directory.GetFiles(specs, "*.yaml"));
            Assert.True(File.Exists(db + ".snapshot.duckdb"));

            var write = SensorProcess.Run("query", "delete from http_transactions", "--db", db);
            Assert.Equal(2, write.ExitCode);
            Assert.Contains("only reading statements", write.Stderr);
        }
        finally { await runner.StopAsync(); }

        Assert.Equal(Run("query", "select method, uri, status from http_transactions order by all", "--db", db, "--format", "csv"), liveQuery);
        Assert.Equal(Run("inventory", "--db", db, "--format", "csv"), liveInventory);
        Assert.Equal(Run("findings", "--db", db, "--format", "csv"), liveFindings);
        var after = SensorProcess.Run("status", "--db", db);
        Assert.Contains("not running; last run 1 (live)", after.Stdout);
        Assert.Equal(1, SensorProcess.Run("status", "--db", db, "--health", "--metrics", "127.0.0.1:1").ExitCode);
    }

    [Fact]
    public async Task Specs_import_goes_through_the_running_service()
    {
        var db = Path.Combine(_dir, "live.duckdb");
        var (runner, src) = StartService(db, Path.Combine(SharedData.Shared, "spec-recon-dev", "traffic.pcap"));
        try
        {
            Assert.True(src.Done.Wait(TimeSpan.FromSeconds(30)));
            var specs = Path.Combine(_dir, "specs");
            Directory.CreateDirectory(specs);
            File.Copy(Path.Combine(SharedData.Shared, "spec-recon-dev", "petstore-plus.yaml"), Path.Combine(specs, "petstore.yaml"));
            File.WriteAllText(Path.Combine(specs, "notes.yaml"), "just: [a, list]\n");
            var until = DateTime.UtcNow.AddSeconds(30);
            while (Run("query", "select count(*) as n from endpoints", "--db", db, "--format", "csv").Contains("\n0") && DateTime.UtcNow < until) Thread.Sleep(300);

            var r = SensorProcess.Run("specs", "import", specs, "--db", db);
            Assert.Equal(2, r.ExitCode);   // one file is not OpenAPI: said, and the other is imported
            Assert.Contains("notes.yaml", r.Stderr);
            Assert.Contains("petstore.yaml: ", r.Stdout);
            Assert.Contains("into the running service", r.Stdout);
            Assert.Matches(@"specs: 1 compared with the inventory: \d+ shadow, \d+ zombie, \d+ orphan, \d+ conformance", r.Stdout);
            Assert.Contains("petstore.yaml", Run("specs", "list", "--db", db));
            Assert.NotEqual("0", Run("query", "select count(*) from findings where source <> 'traffic'", "--db", db, "--format", "csv").Split('\n', StringSplitOptions.RemoveEmptyEntries)[^1].Trim());
        }
        finally { await runner.StopAsync(); }
    }

    /// <summary>A service capturing from a file as if from an interface, into <paramref name="db"/>.</summary>
    private (LiveRunner Runner, FileLiveSource Source) StartService(string db, string capture)
    {
        FileLiveSource? src = null;
        var runner = new LiveRunner(new SensorSettings
        {
            Database = db, Interfaces = ["fake0"], KeyFile = Path.Combine(_dir, "hmac.key"), Metrics = new() { Listen = "" },
            CommitIntervalSeconds = 0.2, InventoryIntervalSeconds = 0.4, AnalysisNice = 0,
        }, sources: (i, o, c) => src = new FileLiveSource(capture, i));
        runner.Start();
        return (runner, src!);
    }

    private static string Run(params string[] args)
    {
        var r = SensorProcess.Run(args);
        Assert.True(r.ExitCode == 0, string.Join(' ', args) + ": " + r.Stderr);
        return r.Stdout;
    }
}
