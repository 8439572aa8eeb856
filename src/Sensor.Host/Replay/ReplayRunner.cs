using Sensor.Analysis.Rules;
using Sensor.Capture;
using Sensor.Core;
using Sensor.Host.Pipeline;
using Sensor.Http;
using Sensor.Http.Har;
using Sensor.Storage;

namespace Sensor.Host.Replay;

public sealed record ReplayFileResult(string Path, string? Format, long Bytes, long Packets, IReadOnlyCollection<int> LinkTypes, CaptureFault? Fault, string? FormatError);

/// <param name="SpecsStored">The database holds specs imported before, which the new inventory must be judged against.</param>
public sealed record ReplayResult(IReadOnlyList<ReplayFileResult> Files, IReadOnlyList<CounterValue> Counters, long Transactions, int RunId, TimeSpan Elapsed,
    bool SpecsStored = false);

public readonly record struct ReplayProgress(long BytesDone, long BytesTotal, long Packets, long Transactions, TimeSpan Elapsed);

/// <summary>
/// Offline replay: capture files through the pipeline into a DuckDB file. Files are read one after the
/// other into the same pipeline (a flow spanning two files of a rotated capture continues). HAR files
/// (recognised by content) skip packet decoding: their transactions go straight to analyzers and storage
/// of the same kinds the flow workers use.
/// </summary>
public sealed class ReplayRunner
{
    private readonly PipelineOptions _opt;
    private readonly IReadOnlyList<IHttpAnalyzerFactory> _analyzers;
    private readonly TimeProvider _time;
    /// <summary>Learn the inventory (default). Off only to measure what it costs.</summary>
    public bool Inventory { get; init; } = true;
    /// <summary>Look for sensitive data and apply the security rules (default). Off only to measure what it costs.</summary>
    public bool Findings { get; init; } = true;
    /// <summary>The installation key file for value hashes (default: <see cref="InstallationKey.DefaultPath"/>).</summary>
    public string? KeyFile { get; init; }
    public RuleOptions Rules { get; init; } = new();
    /// <summary>
    /// Reads what the run stored, on the writer's connection just before the database closes (a reader opened
    /// afterwards would cost another DuckDB start-up): the run's id is passed along.
    /// </summary>
    public Action<DuckDB.NET.Data.DuckDBConnection, int>? BeforeClose { get; init; }
    public static string Version => typeof(ReplayRunner).Assembly.GetName().Version?.ToString() ?? "0";

    public ReplayRunner(PipelineOptions opt, IReadOnlyList<IHttpAnalyzerFactory>? analyzers = null, TimeProvider? time = null)
    {
        _opt = opt with { Live = false };
        _analyzers = analyzers ?? [];
        _time = time ?? TimeProvider.System;
    }

    public async Task<ReplayResult> RunAsync(IReadOnlyList<string> files, string? dbPath, Action<ReplayProgress>? progress = null, CancellationToken ct = default)
    {
        var counters = new CounterRegistry();
        var started = _time.GetTimestamp();
        SensorDatabase? db = dbPath == null ? null : SensorDatabase.Open(dbPath);
        int runId = db?.BeginRun("replay", string.Join(";", files), _time.GetUtcNow().UtcDateTime, Version) ?? 0;
        Func<int, ITransactionSink> sinks;
        if (db != null) sinks = _ => new DuckDbTransactionSink(db.NewConnection(), runId, counters);
        else
        {
            var rows = counters.Create("storage", "rows", "transaction rows produced (not stored)");
            sinks = _ => new CountingSink(rows);
        }
        // The inventory runs unless switched off for measurement: it is what the endpoints table, `sensor
        // inventory`, the OpenAPI export and the spec comparison are made from.
        var inventory = new Sensor.Analysis.Inventory.InventoryAnalyzerFactory(counters);
        var sensitive = Findings ? new SensitiveDataAnalyzerFactory(InstallationKey.LoadOrCreate(KeyFile), counters) : null;
        var security = Findings ? new SecurityAnalyzerFactory(counters) : null;
        // Sensitive data runs first: it redacts what is stored and tells the inventory which values never to keep.
        IHttpAnalyzerFactory[] all = [.. sensitive != null ? [sensitive] : Array.Empty<IHttpAnalyzerFactory>(),
            .. Inventory ? [inventory] : Array.Empty<IHttpAnalyzerFactory>(), .. security != null ? [security] : Array.Empty<IHttpAnalyzerFactory>(), .. _analyzers];
        var pipeline = new SensorPipeline(_opt, counters, all, sinks);
        pipeline.Start();
        var results = new List<ReplayFileResult>();
        long totalBytes = files.Sum(f => File.Exists(f) ? new FileInfo(f).Length : 0);
        long doneBytes = 0;
        long packets = 0;
        HarWorker? har = null;
        try
        {
            // Reading runs on a thread of its own that blocks while the pipeline is full, rather than on the
            // pool, whose threads would otherwise spin and hop for every wake-up.
            await Task.Factory.StartNew(ReadAll, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default).ConfigureAwait(false);
        }
        finally
        {
            try { await pipeline.CompleteAsync().ConfigureAwait(false); }
            finally { har?.Complete(); }
        }
        var snapshot = counters.Snapshot();
        long txns = counters.Get("http", "transactions");
        bool specsStored = false;
        if (db != null)
        {
            var now = _time.GetUtcNow().UtcDateTime;
            // The last commits' row groups are checkpointed while the inventory templates its paths (no table
            // involved), instead of at close after everything else.
            if (Inventory) InventoryStore.Save(db, inventory.Observations(), inventory.Shapes(), db.Checkpoint);
            if (Inventory && security != null) TrafficFindingsStore.Evaluate(db, runId, security.Evidence(), Rules, now);
            db.WriteStats(runId, now, snapshot);
            db.WriteFiles(runId, results.Select(r => new CaptureFileInfo(r.Path, r.Format ?? "not a capture", r.Bytes, r.Packets,
                string.Join(",", r.LinkTypes), r.Fault?.Offset, r.Fault?.Reason ?? r.FormatError)));
            db.EndRun(runId, now, txns);
            // Asked here, while the database is open, rather than by reopening it afterwards.
            specsStored = SpecStore.Any(db);
            BeforeClose?.Invoke(db.Connection, runId);
            db.Dispose();
        }
        return new ReplayResult(results, snapshot, txns, runId, _time.GetElapsedTime(started), specsStored);

        void ReadAll()
        {
            foreach (var path in files)
            {
                if (HarReader.LooksLikeJson(path))
                {
                    // Its own analyzer instances and sink, as an extra worker beside the flow workers.
                    har ??= new HarWorker(_opt, counters, all, sinks);
                    var result = har.Replay(path, done => progress?.Invoke(new ReplayProgress(doneBytes + done, totalBytes, packets, counters.Get("http", "transactions"), _time.GetElapsedTime(started))), ct);
                    doneBytes += result.Bytes;
                    results.Add(result);
                    continue;
                }
                CaptureFileReader reader;
                try { reader = CaptureFileReader.Open(path); }
                catch (CaptureFormatException e)
                {
                    results.Add(new ReplayFileResult(path, null, File.Exists(path) ? new FileInfo(path).Length : 0, 0, [], null, e.Reason));
                    continue;
                }
                using (reader)
                {
                    while (true)
                    {
                        ct.ThrowIfCancellationRequested();
                        var batch = pipeline.RentBatch();
                        bool got = reader.ReadBatch(batch);
                        if (batch.Count > 0) { packets += batch.Count; pipeline.SubmitWait(batch, ct); }
                        progress?.Invoke(new ReplayProgress(doneBytes + reader.FilePosition, totalBytes, packets, counters.Get("http", "transactions"), _time.GetElapsedTime(started)));
                        if (!got) break;
                    }
                    doneBytes += reader.Length;
                    results.Add(new ReplayFileResult(path, reader.Format, reader.Length, reader.Packets, reader.LinkTypes.ToArray(), reader.Fault, null));
                }
            }
        }
    }
}

/// <summary>
/// HAR files in a replay: entries become transactions without packets, and pass through analyzers made by
/// the same factories with a worker id no flow worker has, into a sink from the same factory; counted
/// like the flow workers' transactions. Runs on the replay's thread, one call at a time.
/// </summary>
internal sealed class HarWorker
{
    private readonly PipelineOptions _opt;
    private readonly HarCounters _har;
    private readonly IHttpAnalyzer[] _analyzers;
    private readonly ITransactionSink _sink;
    private readonly Counter _transactions, _requests, _responses, _analyzerErrors;

    public HarWorker(PipelineOptions opt, CounterRegistry counters, IReadOnlyList<IHttpAnalyzerFactory> analyzers, Func<int, ITransactionSink> sinks)
    {
        _opt = opt;
        _har = new HarCounters(counters);
        _transactions = counters.Create("http", "transactions", "transactions emitted");
        _requests = counters.Create("http", "requests", "request heads parsed");
        _responses = counters.Create("http", "responses", "final response heads parsed");
        _analyzerErrors = counters.Create("analysis", "analyzer_errors", "transactions an analyzer failed on (skipped by that analyzer)");
        _analyzers = analyzers.Select(f => f.Create(opt.Workers)).ToArray();
        _sink = sinks(opt.Workers);
    }

    public ReplayFileResult Replay(string path, Action<long> progress, CancellationToken ct)
    {
        long size = new FileInfo(path).Length;
        HarReader reader;
        try { reader = HarReader.Open(path, _opt.Http, _har); }
        catch (HarFormatException e) { return new ReplayFileResult(path, null, size, 0, [], null, e.Reason); }
        using (reader)
        {
            long n = 0;
            while (true)
            {
                ct.ThrowIfCancellationRequested();
                if (reader.Read() is not { } t) break;
                Process(t);
                if ((++n & 255) == 0) progress(reader.Position);
            }
            progress(size);
            CaptureFault? fault = reader.Fault is { } f ? new CaptureFault(path, f.Offset, f.Reason, f.EntriesBefore) : null;
            return new ReplayFileResult(path, "har", size, 0, [], fault, null);
        }
    }

    private void Process(HttpTransaction t)
    {
        _requests.Inc();
        if (t.Response != null) _responses.Inc();
        _transactions.Inc();
        foreach (var a in _analyzers)
        {
            // As in the flow workers: an analyzer bug must not lose the transaction; it is counted.
            try { a.OnTransaction(t); }
            catch (Exception) { _analyzerErrors.Inc(); }
        }
        _sink.Append(t);
        t.ReleaseBodies();
    }

    /// <summary>After the last file: analyzers complete, storage is committed and closed.</summary>
    public void Complete()
    {
        try
        {
            foreach (var a in _analyzers)
            {
                try { a.Complete(); }
                catch (Exception) { _analyzerErrors.Inc(); }
            }
            _sink.Commit();
        }
        finally { _sink.Dispose(); }
    }
}
