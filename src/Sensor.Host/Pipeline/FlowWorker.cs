using System.Threading.Channels;
using Sensor.Core;
using Sensor.Http;
using Sensor.Reassembly;
using Sensor.Storage;

namespace Sensor.Host.Pipeline;

/// <summary>
/// One flow worker: owns the connections of its shard (reassembly, HTTP sessions), runs the analyzers
/// on each finished transaction and stores it through its own sink (its own DuckDB appender).
/// Nothing here is shared with other workers, so the per-packet path takes no locks.
/// </summary>
internal sealed class FlowWorker
{
    private readonly TcpReassembler _reasm;
    private readonly IHttpAnalyzer[] _analyzers;
    private readonly ITransactionSink _sink;
    private readonly Counter _analyzerErrors;
    private long _now;

    public FlowWorker(int id, PipelineOptions opt, CounterRegistry counters, IReadOnlyList<IHttpAnalyzerFactory> analyzers, ITransactionSink sink)
    {
        _sink = sink;
        var httpCounters = new HttpCounters(counters);
        var httpMemory = new HttpMemory(opt.Http.MaxBufferedPerWorker, counters);
        _reasm = new TcpReassembler(counters, opt.Reassembly, c => new HttpSession(c, opt.Http, httpCounters, OnTransaction, httpMemory));
        _analyzers = analyzers.Select(f => f.Create(id)).ToArray();
        _analyzerErrors = counters.Create("analysis", "analyzer_errors", "transactions an analyzer failed on (skipped by that analyzer)");
    }

    public void Run(ChannelReader<SegmentBatch> input, Action<SegmentBatch> recycle)
    {
        while (ChannelSync.Read(input, out var batch))
        {
            for (int i = 0; i < batch.Count; i++)
            {
                ref var e = ref batch.Items[i];
                _now = e.Ts;
                _reasm.Process(e.Key, e.FromA, e.Info, batch.Data.AsSpan(e.Offset, e.Length), e.Ts);
            }
            if (batch.Now > _now) { _now = batch.Now; _reasm.Tick(_now); }
            if (batch.Checkpoint is { } cp) Checkpoint(cp);
            recycle(batch);
        }
    }

    private void Checkpoint(PipelineCheckpoint cp)
    {
        if (cp.HandOver)
            foreach (var a in _analyzers)
            {
                try { a.Checkpoint(); }
                catch (Exception) { _analyzerErrors.Inc(); }
            }
        _sink.Commit();
        cp.WorkerPassed();
    }

    public void Finish(long endTs)
    {
        _reasm.FlushAll(Math.Max(endTs, _now));
        foreach (var a in _analyzers)
        {
            try { a.Complete(); }
            catch (Exception) { _analyzerErrors.Inc(); }
        }
        _sink.Commit();
    }

    private void OnTransaction(HttpTransaction t)
    {
        foreach (var a in _analyzers)
        {
            // An analyzer bug must not lose the transaction or stop the sensor; it is counted.
            try { a.OnTransaction(t); }
            catch (Exception) { _analyzerErrors.Inc(); }
        }
        _sink.Append(t);
        t.ReleaseBodies();
    }
}
