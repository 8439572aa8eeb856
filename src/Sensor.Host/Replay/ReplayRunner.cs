using Sensor.Capture;
using Sensor.Core;
using Sensor.Host.Pipeline;
using Sensor.Http;
using Sensor.Storage;

namespace Sensor.Host.Replay;

public sealed record ReplayFileResult(string Path, string? Format, long Bytes, long Packets, IReadOnlyCollection<int> LinkTypes, CaptureFault? Fault, string? FormatError);

public sealed record ReplayResult(IReadOnlyList<ReplayFileResult> Files, IReadOnlyList<CounterValue> Counters, long Transactions, int RunId, TimeSpan Elapsed);

public readonly record struct ReplayProgress(long BytesDone, long BytesTotal, long Packets, long Transactions, TimeSpan Elapsed);

/// <summary>
/// Offline replay: capture files through the pipeline into a DuckDB file. Files are read one after the
/// other into the same pipeline (a flow spanning two files of a rotated capture continues).
/// </summary>
public sealed class ReplayRunner
{
    private readonly PipelineOptions _opt;
    private readonly IReadOnlyList<IHttpAnalyzerFactory> _analyzers;
    private readonly TimeProvider _time;
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
        // The inventory always runs: it is what the endpoints table and `sensor inventory` are made from.
        var inventory = new Sensor.Analysis.Inventory.InventoryAnalyzerFactory();
        var pipeline = new SensorPipeline(_opt, counters, [inventory, .. _analyzers], sinks);
        pipeline.Start();
        var results = new List<ReplayFileResult>();
        long totalBytes = files.Sum(f => File.Exists(f) ? new FileInfo(f).Length : 0);
        long doneBytes = 0;
        long packets = 0;
        try
        {
            foreach (var path in files)
            {
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
                        if (batch.Count > 0) { packets += batch.Count; await pipeline.SubmitAsync(batch, ct).ConfigureAwait(false); }
                        progress?.Invoke(new ReplayProgress(doneBytes + reader.FilePosition, totalBytes, packets, counters.Get("http", "transactions"), _time.GetElapsedTime(started)));
                        if (!got) break;
                    }
                    doneBytes += reader.Length;
                    results.Add(new ReplayFileResult(path, reader.Format, reader.Length, reader.Packets, reader.LinkTypes.ToArray(), reader.Fault, null));
                }
            }
        }
        finally
        {
            await pipeline.CompleteAsync().ConfigureAwait(false);
        }
        var snapshot = counters.Snapshot();
        long txns = counters.Get("http", "transactions");
        if (db != null)
        {
            var now = _time.GetUtcNow().UtcDateTime;
            InventoryStore.Save(db, inventory.Observations());
            db.WriteStats(runId, now, snapshot);
            db.WriteFiles(runId, results.Select(r => new CaptureFileInfo(r.Path, r.Format ?? "not a capture", r.Bytes, r.Packets,
                string.Join(",", r.LinkTypes), r.Fault?.Offset, r.Fault?.Reason ?? r.FormatError)));
            db.EndRun(runId, now, txns);
            db.Dispose();
        }
        return new ReplayResult(results, snapshot, txns, runId, _time.GetElapsedTime(started));
    }
}
