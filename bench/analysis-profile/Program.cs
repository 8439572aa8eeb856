// Times each analyzer alone, on one thread, over the transactions of a capture held in memory.
//   usage: dotnet run -c Release --project bench/analysis-profile -- CAPTURE [ROUNDS] [only-analyzer]
// Quote the per-transaction figures as ratios to each other: the machine is noisy.
using System.Diagnostics;
using Sensor.Analysis.Inventory;
using Sensor.Analysis.Rules;
using Sensor.Core;
using Sensor.Host.Pipeline;
using Sensor.Host.Replay;
using Sensor.Http;

var file = args[0];
int rounds = args.Length > 1 ? int.Parse(args[1]) : 3;
string? only = args.Length > 2 ? args[2] : null;
var collector = new Collector();
await new ReplayRunner(new PipelineOptions { Workers = 1 }, [collector]) { Inventory = false, Findings = false }.RunAsync([file], null);
var txs = collector.All.Select(e => { e.T.RequestBody = e.Req; e.T.ResponseBody = e.Resp; return e.T; }).ToList();
Console.WriteLine($"{txs.Count} transactions in memory");
var key = new byte[32];
// Exceptions are expensive; the hot path should not throw on ordinary traffic: count where they come from.
var thrown = new System.Collections.Concurrent.ConcurrentDictionary<string, int>();
AppDomain.CurrentDomain.FirstChanceException += (_, e) => thrown.AddOrUpdate(e.Exception.GetType().Name + " at " + (e.Exception.TargetSite?.DeclaringType?.Name + "." + e.Exception.TargetSite?.Name), 1, (_, n) => n + 1);
var configs = new (string Name, Func<IHttpAnalyzerFactory[]> Make)[]
{
    ("inventory", () => [new InventoryAnalyzerFactory(new CounterRegistry())]),
    ("sensitive", () => [new SensitiveDataAnalyzerFactory(key)]),
    ("security", () => [new SecurityAnalyzerFactory()]),
    ("all", () => [new SensitiveDataAnalyzerFactory(key), new InventoryAnalyzerFactory(new CounterRegistry()), new SecurityAnalyzerFactory()]),
};
if (only == "save")
{
    // The inventory's end-of-run save, twice in one process: the first pays for start-up (JIT), the second is the work.
    var inv = new InventoryAnalyzerFactory(new CounterRegistry());
    var a = inv.Create(0);
    foreach (var t in txs) a.OnTransaction(t);
    for (int r = 0; r < 3; r++)
    {
        var path = Path.Combine(Path.GetTempPath(), $"save-{Environment.ProcessId}-{r}.duckdb");
        using (var db = Sensor.Storage.SensorDatabase.Open(path))
        {
            var sw = Stopwatch.StartNew();
            Sensor.Storage.InventoryStore.Save(db, inv.Observations(), inv.Shapes());
            Console.WriteLine($"save {r}: {sw.Elapsed.TotalSeconds:F3} s");
        }
        File.Delete(path);
    }
    return;
}
if (only == "parts")
{
    // The sensitive-data analyzer's steps one by one: time and allocation per transaction.
    var hits = new List<Sensor.Analysis.Sensitive.SensitiveHit>();
    var noBodies = Sensor.Analysis.Sensitive.SensitiveScanOptions.Default with { Bodies = false };
    var steps = new (string, Action<HttpTransaction>)[]
    {
        ("path+query+headers", t => { hits.Clear(); Sensor.Analysis.Sensitive.TransactionScanner.Scan(t, hits, noBodies); }),
        ("+bodies", t => { hits.Clear(); Sensor.Analysis.Sensitive.TransactionScanner.Scan(t, hits); }),
        ("redact target", t => Redactor.Target(t, hits)),
        ("redact req headers", t => Redactor.Headers(t.Request, hits, true)),
        ("redact resp headers", t => { if (t.Response != null) Redactor.Headers(t.Response, hits, false); }),
    };
    for (int r = 0; r < rounds; r++)
        foreach (var (step, run) in steps)
        {
            long a0 = GC.GetAllocatedBytesForCurrentThread();
            var sw = Stopwatch.StartNew();
            foreach (var t in txs) run(t);
            Console.WriteLine($"{step,-22} {sw.Elapsed.TotalSeconds / txs.Count * 1e6:F2} us/transaction  {(GC.GetAllocatedBytesForCurrentThread() - a0) / txs.Count} B/transaction");
        }
    return;
}
foreach (var (name, make) in configs)
{
    if (only != null && name != only) continue;
    var times = new List<double>();
    long allocated = 0; int gcs = 0;
    for (int r = 0; r < rounds; r++)
    {
        var analyzers = make().Select(f => f.Create(0)).ToArray();
        // Each round starts from the transactions as parsed: nothing an analyzer left on them is reused.
        foreach (var t in txs) { t.Sensitive = null; t.RedactedTarget = null; t.RedactedRequestHeaders = t.RedactedResponseHeaders = null; t.Service = null; t.Shape = null; }
        GC.Collect();
        long a0 = GC.GetTotalAllocatedBytes(precise: true); int g0 = GC.CollectionCount(0);
        var sw = Stopwatch.StartNew();
        foreach (var t in txs) foreach (var a in analyzers) a.OnTransaction(t);
        foreach (var a in analyzers) a.Complete();
        times.Add(sw.Elapsed.TotalSeconds);
        allocated += GC.GetTotalAllocatedBytes(precise: true) - a0; gcs += GC.CollectionCount(0) - g0;
    }
    times.Sort();
    double med = times[times.Count / 2];
    foreach (var (where, n) in thrown.OrderByDescending(x => x.Value).Take(5)) Console.WriteLine($"    {n / rounds,8} exceptions per round: {where}");
    thrown.Clear();
    Console.WriteLine($"{name,-10} median {med:F3} s  {med / txs.Count * 1e6:F2} us/transaction  {allocated / rounds / txs.Count} B allocated/transaction  {gcs / rounds} gen0 GCs  (rounds: {string.Join(" ", times.Select(x => x.ToString("F3")))})");
}

sealed class Collector : IHttpAnalyzerFactory, IHttpAnalyzer
{
    public readonly List<(HttpTransaction T, HttpBody Req, HttpBody Resp)> All = [];
    public string Name => "collect";
    public IHttpAnalyzer Create(int workerId) => this;
    public void Complete() { }
    public void OnTransaction(HttpTransaction t)
    {
        // Bodies go back to their pool after analysis: keep copies, put in place after the replay.
        All.Add((t, Copy(t.RequestBody), Copy(t.ResponseBody)));
    }
    private static HttpBody Copy(HttpBody b) => b == HttpBody.Empty ? b : new HttpBody
    {
        Length = b.Length, WireLength = b.WireLength, Sha256 = b.Sha256, Encoding = b.Encoding,
        Captured = b.Content.ToArray(), CapturedLength = b.CapturedLength, CaptureTruncated = b.CaptureTruncated,
    };
}
