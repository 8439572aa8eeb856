using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Sensor.Analysis.Inventory;
using Sensor.Analysis.Rules;
using Sensor.Analysis.Specs;
using Sensor.Capture.Live;
using Sensor.Core;
using Sensor.Host.Pipeline;
using Sensor.Host.Replay;
using Sensor.Http;
using Sensor.Storage;

namespace Sensor.Host.Live;

/// <summary>
/// Live capture: interfaces → the same pipeline, analyzers and DuckDB storage as a replay. Checkpoints on the
/// service clock make stored rows visible, expire idle flows and hand the analyzers' learning to the
/// database (inventory, traffic findings); a stop drains every queue and stores everything parsed before
/// the database is closed. A restart continues the same database: a new run, the same inventory.
/// </summary>
public sealed class LiveRunner : IAsyncDisposable
{
    public delegate ILiveSource SourceFactory(string iface, LiveCaptureOptions options, CounterRegistry counters);

    private readonly SensorSettings _s;
    private readonly ILogger _log;
    private readonly TimeProvider _time;
    private readonly SourceFactory _sources;
    private readonly CounterRegistry _counters = new();
    private readonly Dictionary<(string, string, string), EndpointEvidence> _evidence = [];
    private SensorDatabase? _db;
    private SensorPipeline? _pipeline;
    private InventoryAnalyzerFactory? _inventory;
    private SecurityAnalyzerFactory? _security;
    private readonly List<ILiveSource> _live = [];
    private QueryServer? _query;
    private MetricsServer? _metrics;
    private Retention? _retention;
    private CancellationTokenSource? _loopStop;
    private Task? _loop;
    private int _runId;
    private long _lastCheckpointDone;
    private Counter? _checkpoints, _checkpointsLate, _storeErrors;
    private RateTracker? _rates;
    private volatile bool _running;

    public CounterRegistry Counters => _counters;
    public int RunId => _runId;
    public RuleOptions Rules { get; init; } = new();

    public LiveRunner(SensorSettings settings, ILogger? log = null, TimeProvider? time = null, SourceFactory? sources = null)
    {
        _s = settings;
        _log = log ?? NullLogger.Instance;
        _time = time ?? TimeProvider.System;
        _sources = sources ?? DefaultSource;
    }

    public static ILiveSource DefaultSource(string iface, LiveCaptureOptions o, CounterRegistry c) => o.Backend.ToLowerInvariant() switch
    {
        "pcap" or "libpcap" or "" => new PcapLiveSource(iface, o, c),
        "afpacket" or "af_packet" => new AfPacketSource(iface, o, c),
        _ => throw new ArgumentException($"capture backend \"{o.Backend}\" is not one of pcap, afpacket"),
    };

    private long Now => Timestamp.FromDateTime(_time.GetUtcNow().UtcDateTime);

    public void Start()
    {
        if (_s.Interfaces.Count == 0) throw new ArgumentException("no interface to capture from (--interface NAME or Interfaces in the configuration)");
        var opt = new PipelineOptions { Live = true, LiveDropWhenFull = _s.DropWhenPipelineFull, LiveAnalysisNice = _s.AnalysisNice, PacketQueueBatches = Math.Max(2, _s.InputQueueBatches) };
        if (_s.Workers > 0) opt = opt with { Workers = _s.Workers };
        if (_s.BodyLimit > 0) opt = opt with { Http = opt.Http with { BodyCaptureLimit = _s.BodyLimit } };
        // Sources first: a wrong interface name or filter fails before anything is written.
        foreach (var iface in _s.Interfaces.Distinct()) _live.Add(_sources(iface, _s.Capture, _counters));
        try
        {
            _db = SensorDatabase.Open(_s.Database);
            _runId = _db.BeginRun("live", string.Join(";", _s.Interfaces), _time.GetUtcNow().UtcDateTime, ReplayRunner.Version);
            if (!string.IsNullOrEmpty(_s.Specs))
            {
                var imported = SpecStore.Import(_db, _s.Specs, _time.GetUtcNow().UtcDateTime);
                foreach (var f in imported.Failures) _log.LogWarning("spec {Path} not imported: {Reason}", f.Path, f.Reason);
            }
            _checkpoints = _counters.Create("service", "checkpoints", "checkpoints every worker passed");
            _checkpointsLate = _counters.Create("service", "checkpoints_late", "checkpoints that had not completed within their interval");
            _storeErrors = _counters.Create("service", "store_errors", "inventory, findings or statistics updates that failed (retried at the next checkpoint)");
            var db = _db;
            int run = _runId;
            _inventory = new InventoryAnalyzerFactory(_counters);
            _security = new SecurityAnalyzerFactory(_counters);
            var sensitive = new SensitiveDataAnalyzerFactory(InstallationKey.LoadOrCreate(_s.KeyFile), _counters);
            _pipeline = new SensorPipeline(opt, _counters, [sensitive, _inventory, _security], _ => new DuckDbTransactionSink(db.NewConnection(), run, _counters));
            _pipeline.Start();
            _rates = new RateTracker(_time);
            _retention = new Retention(_s.Retention, db, _counters, _log);
            _query = new QueryServer(_s.SocketPath, db, this, _log);
            _query.Start();
            if (!string.IsNullOrWhiteSpace(_s.Metrics.Listen))
            {
                _metrics = new MetricsServer(_s.Metrics.Listen, this, _log);
                _metrics.Start();
            }
            _lastCheckpointDone = _time.GetTimestamp();
            var pipeline = _pipeline;
            foreach (var src in _live) src.Start(pipeline.RentBatch, pipeline.Submit);
            _running = true;
            _loopStop = new CancellationTokenSource();
            _loop = Task.Run(() => LoopAsync(_loopStop.Token));
            _log.LogInformation("capturing on {Interfaces} ({Backend}) into {Database}, run {Run}; queries through {Socket}",
                string.Join(", ", _s.Interfaces), _s.Capture.Backend, _s.Database, _runId, _s.SocketPath);
        }
        catch
        {
            foreach (var src in _live) src.Dispose();
            _query?.Dispose();
            _metrics?.Dispose();
            _db?.Dispose();
            throw;
        }
    }

    private async Task LoopAsync(CancellationToken ct)
    {
        var commit = TimeSpan.FromSeconds(Math.Max(0.2, _s.CommitIntervalSeconds));
        long lastStats = _time.GetTimestamp(), lastInventory = lastStats;
        using var timer = new PeriodicTimer(commit, _time);
        try
        {
            while (await timer.WaitForNextTickAsync(ct).ConfigureAwait(false))
            {
                bool inventoryDue = _time.GetElapsedTime(lastInventory).TotalSeconds >= _s.InventoryIntervalSeconds;
                var cp = new PipelineCheckpoint(Now, handOver: inventoryDue);
                var done = _pipeline!.Checkpoint(cp);
                // Workers pass a checkpoint after the packets before it; a busy pipeline may take longer than one interval.
                if (await Task.WhenAny(done, Task.Delay(commit * 5, _time, ct)).ConfigureAwait(false) != done)
                {
                    _checkpointsLate!.Inc();
                    await done.WaitAsync(ct).ConfigureAwait(false);
                }
                _checkpoints!.Inc();
                Interlocked.Exchange(ref _lastCheckpointDone, _time.GetTimestamp());
                if (inventoryDue) { lastInventory = _time.GetTimestamp(); lock (_dbGate) StoreLearning(final: false); }
                if (_time.GetElapsedTime(lastStats).TotalSeconds >= _s.StatsIntervalSeconds)
                {
                    lastStats = _time.GetTimestamp();
                    lock (_dbGate) WriteStats();
                }
                lock (_dbGate) _retention!.MaybeSweep(_time.GetUtcNow().UtcDateTime);
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested) { }
    }

    /// <summary>Adds what the analyzers handed over to the stored inventory and re-evaluates the traffic findings.</summary>
    private void StoreLearning(bool final)
    {
        try
        {
            var (obs, shapes) = _inventory!.TakeCheckpoint();
            var evidence = _security!.TakeCheckpoint().ToList();
            if (final)
            {
                // After the pipeline completed: also what workers learned since their last hand-over
                // (one Save: it merges entries of the same key).
                obs = [.. obs, .. _inventory.Observations()];
                shapes = [.. shapes, .. _inventory.Shapes()];
                evidence.AddRange(_security.Evidence());
            }
            InventoryStore.Save(_db!, obs, shapes);
            // Findings are judged on the evidence of the whole run, as a replay of the same traffic would be.
            foreach (var e in evidence)
            {
                var k = (e.Service, e.Method, e.Key);
                if (_evidence.TryGetValue(k, out var have)) have.Merge(e); else _evidence[k] = e;
            }
            var now = _time.GetUtcNow().UtcDateTime;
            TrafficFindingsStore.Evaluate(_db!, _runId, _evidence.Values, Rules, now);
            // The user's specs judge the inventory as it stands, as after a replay.
            if (SpecStore.Any(_db!)) SpecStore.Evaluate(_db!, now);
        }
        catch (Exception e) when (!final)
        {
            _storeErrors!.Inc();
            _log.LogError(e, "updating the inventory and findings failed");
        }
    }

    private void WriteStats()
    {
        try
        {
            foreach (var src in _live) src.PollStats();
            _db!.WriteStats(_runId, _time.GetUtcNow().UtcDateTime, Snapshot());
        }
        catch (Exception e)
        {
            _storeErrors!.Inc();
            _log.LogError(e, "writing statistics failed");
        }
    }

    // The service's database work (inventory, findings, statistics, retention, imports through the socket) goes
    // through its one main connection, one piece of work at a time.
    private readonly object _dbGate = new();

    /// <summary>
    /// Specs sent through the query socket (<c>sensor specs import</c> while the service holds the database):
    /// stored, then the inventory as it stands is judged against every stored spec, as after an import into a file.
    /// </summary>
    public (SpecImport Import, SpecEvaluation Evaluation) ImportSpecs(IReadOnlyList<SpecFile> files)
    {
        lock (_dbGate)
        {
            if (_db == null) throw new InvalidOperationException("the service is stopping");
            var now = _time.GetUtcNow().UtcDateTime;
            var imported = SpecStore.Import(_db, files, now);
            return (imported, SpecStore.Evaluate(_db, now));
        }
    }

    /// <summary>Every counter, summed over instances, plus the current rates (stage <c>rates</c>).</summary>
    public IReadOnlyList<CounterValue> Snapshot()
    {
        var snap = _counters.Snapshot();
        return _rates == null ? snap : [.. snap, .. _rates.Rates(snap)];
    }

    /// <summary>Healthy while capturing: every source reads, no pipeline stage failed, checkpoints complete.</summary>
    public (bool Healthy, string Reason) Health()
    {
        if (!_running) return (false, "not capturing");
        if (_pipeline?.Failure is { } f) return (false, "pipeline failed: " + f.Message);
        foreach (var src in _live)
            if (src.Failure is { } why) return (false, why);
        var since = _time.GetElapsedTime(Interlocked.Read(ref _lastCheckpointDone));
        var limit = TimeSpan.FromSeconds(Math.Max(30, _s.CommitIntervalSeconds * 15));
        if (since > limit) return (false, $"workers have not passed a checkpoint for {since.TotalSeconds:0} s");
        return (true, "ok");
    }

    /// <summary>
    /// Graceful stop: capture stops, every queue drains, every connection is flushed and its transactions
    /// stored, the inventory and findings are brought up to date, then the database is closed.
    /// </summary>
    public async Task StopAsync()
    {
        if (_db == null) return;
        _running = false;
        foreach (var src in _live) src.Stop();
        if (_loopStop != null)
        {
            _loopStop.Cancel();
            try { await _loop!.ConfigureAwait(false); } catch (OperationCanceledException) { }
        }
        Exception? failure = null;
        try { await _pipeline!.CompleteAsync().ConfigureAwait(false); }
        catch (Exception e) { failure = e; _log.LogError(e, "pipeline failed"); }
        try
        {
            lock (_dbGate)
            {
                StoreLearning(final: true);
                foreach (var src in _live) src.PollStats();
                var now = _time.GetUtcNow().UtcDateTime;
                _db.WriteStats(_runId, now, Snapshot());
                _db.EndRun(_runId, now, _counters.Get("http", "transactions"));
            }
        }
        finally
        {
            _query?.Dispose();
            _metrics?.Dispose();
            foreach (var src in _live) src.Dispose();
            lock (_dbGate)
            {
                _db.Dispose();
                _db = null;
            }
            _log.LogInformation("stopped: {Transactions} transactions stored in run {Run}", _counters.Get("storage", "rows"), _runId);
        }
        if (failure != null) throw new InvalidOperationException("live capture failed", failure);
    }

    public async ValueTask DisposeAsync() => await StopAsync().ConfigureAwait(false);
}

/// <summary>Per-second rates between two snapshots of the counters (transactions, bytes, packets, drops).</summary>
internal sealed class RateTracker(TimeProvider time)
{
    private static readonly (string Stage, string Name, string Rate)[] Tracked =
    [
        ("capture", "packets_received", "packets_per_s"), ("capture", "bytes_received", "bytes_per_s"),
        ("http", "transactions", "transactions_per_s"), ("pipeline", "input_queue_drops", "input_drops_per_s"),
    ];
    private readonly long[] _last = new long[Tracked.Length];
    private long _lastAt = time.GetTimestamp();
    private readonly double[] _rates = new double[Tracked.Length];
    private readonly object _lock = new();

    public IEnumerable<CounterValue> Rates(IReadOnlyList<CounterValue> snap)
    {
        lock (_lock)
        {
            var dt = time.GetElapsedTime(_lastAt).TotalSeconds;
            // Rates are refreshed at most once a second so frequent scrapes do not make them jitter.
            if (dt >= 1)
            {
                for (int i = 0; i < Tracked.Length; i++)
                {
                    long v = snap.FirstOrDefault(c => c.Stage == Tracked[i].Stage && c.Name == Tracked[i].Name).Value;
                    _rates[i] = (v - _last[i]) / dt;
                    _last[i] = v;
                }
                _lastAt = time.GetTimestamp();
            }
            return Tracked.Select((t, i) => new CounterValue("rates", t.Rate, (long)Math.Round(_rates[i]), $"{t.Stage} {t.Name} per second (gauge)")).ToList();
        }
    }
}
