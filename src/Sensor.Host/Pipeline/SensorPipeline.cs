using System.Collections.Concurrent;
using System.Threading.Channels;
using Sensor.Capture;
using Sensor.Core;
using Sensor.Decode;
using Sensor.Http;
using Sensor.Reassembly;
using Sensor.Storage;

namespace Sensor.Host.Pipeline;

/// <summary>
/// source → decoder → N flow workers (sharded by flow hash), each storing through its own sink; stages
/// are joined by bounded channels and run on dedicated threads. Replay sources wait when the input is full; live sources drop and count.
/// Batches carry thousands of packets or segments and are recycled, so queue traffic and allocation per
/// packet stay near zero.
/// </summary>
public sealed class SensorPipeline
{
    private readonly PipelineOptions _opt;
    private readonly CounterRegistry _counters;
    private readonly Channel<PacketBatch> _input;
    private readonly Channel<SegmentBatch>[] _toWorkers;
    private readonly ConcurrentBag<PacketBatch> _freePackets = [];
    private readonly ConcurrentBag<SegmentBatch> _freeSegments = [];
    private readonly FlowWorker[] _workers;
    private readonly PacketDecoder _decoder;
    private readonly List<Thread> _threads = [];
    private readonly ITransactionSink[] _sinks;
    private long _lastTs;
    private readonly Counter _inputPackets, _inputDrops, _inputDroppedBatches, _packetQueueDepth, _inputWaits;
    private Exception? _failure;

    public CounterRegistry Counters => _counters;
    /// <summary>The failure that stopped a stage, if one did (the run is over then).</summary>
    public Exception? Failure => Volatile.Read(ref _failure);

    public SensorPipeline(PipelineOptions opt, CounterRegistry counters, IReadOnlyList<IHttpAnalyzerFactory> analyzers, Func<int, ITransactionSink> sinkFactory)
    {
        _opt = opt;
        _counters = counters;
        _inputPackets = counters.Create("pipeline", "packets_in", "packets handed to the pipeline");
        _inputDrops = counters.Create("pipeline", "input_queue_drops", "packets dropped because the input queue was full (live capture only)");
        _inputDroppedBatches = counters.Create("pipeline", "input_queue_dropped_batches", "packet batches dropped at the full input queue (live capture only)");
        _packetQueueDepth = counters.Create("pipeline", "input_queue_depth", "packet batches waiting for the decoder (gauge)");
        var mode = opt.Live && opt.LiveDropWhenFull ? BoundedChannelFullMode.DropWrite : BoundedChannelFullMode.Wait;
        _inputWaits = counters.Create("pipeline", "input_queue_full_waits", "times a live source waited for room in the input queue (its kernel buffer absorbed the burst meanwhile)");
        // DropWrite still reports success from TryWrite: drops are only visible through this callback.
        _input = Channel.CreateBounded<PacketBatch>(new BoundedChannelOptions(opt.PacketQueueBatches)
        { FullMode = mode, SingleReader = true, SingleWriter = false, AllowSynchronousContinuations = true },
            dropped =>
            {
                // An empty batch is only a wake-up for the decoder (see Checkpoint), not traffic.
                if (dropped.Count > 0) { _inputDrops.Add(dropped.Count); _inputDroppedBatches.Inc(); }
                Recycle(dropped);
            });
        _toWorkers = new Channel<SegmentBatch>[opt.Workers];
        _workers = new FlowWorker[opt.Workers];
        _sinks = new ITransactionSink[opt.Workers];
        for (int i = 0; i < opt.Workers; i++)
        {
            _toWorkers[i] = Channel.CreateBounded<SegmentBatch>(new BoundedChannelOptions(opt.SegmentQueueCapacity)
            { FullMode = BoundedChannelFullMode.Wait, SingleReader = true, SingleWriter = true, AllowSynchronousContinuations = true });
            _sinks[i] = sinkFactory(i);
            _workers[i] = new FlowWorker(i, opt, counters, analyzers, _sinks[i]);
        }
        _decoder = new PacketDecoder(counters);
    }

    public void Start()
    {
        for (int i = 0; i < _workers.Length; i++)
        {
            int id = i;
            StartThread($"sensor-worker-{id}", () => _workers[id].Run(_toWorkers[id].Reader, b => { b.Reset(); _freeSegments.Add(b); }));
        }
        StartThread("sensor-decoder", DecodeLoop);
    }

    private void StartThread(string name, Action body)
    {
        var t = new Thread(() =>
        {
            if (_opt.Live && _opt.LiveAnalysisNice != 0) Sensor.Capture.Live.ThreadNice.Set(_opt.LiveAnalysisNice);
            try { body(); }
            catch (Exception e)
            {
                // A bug in a stage must end the run visibly, not hang the other stages.
                Interlocked.CompareExchange(ref _failure, e, null);
                _input.Writer.TryComplete(e);
                foreach (var c in _toWorkers) c.Writer.TryComplete(e);
            }
        })
        { IsBackground = true, Name = name };
        _threads.Add(t);
        t.Start();
    }

    /// <summary>An empty batch for a source to fill.</summary>
    public PacketBatch RentBatch() => _freePackets.TryTake(out var b) ? b : new PacketBatch();

    private void Recycle(PacketBatch b) { b.Reset(); _freePackets.Add(b); }

    /// <summary>
    /// Replay: blocks the calling thread (the reader's own, not a pool thread) while the input queue is full;
    /// never drops.
    /// </summary>
    public void SubmitWait(PacketBatch batch, CancellationToken ct = default)
    {
        _inputPackets.Add(batch.Count);
        ChannelSync.Write(_input.Writer, batch, ct);
        _packetQueueDepth.Set(_input.Reader.Count);
    }

    /// <summary>
    /// Live: with <see cref="PipelineOptions.LiveDropWhenFull"/> a full queue drops the batch and counts its
    /// packets; otherwise the capture thread waits and the kernel buffers (and counts what it drops).
    /// </summary>
    public void Submit(PacketBatch batch)
    {
        _inputPackets.Add(batch.Count);
        if (!_input.Writer.TryWrite(batch))
        {
            bool written = false;
            if (!_opt.LiveDropWhenFull)
            {
                _inputWaits.Inc();
                try { ChannelSync.Write(_input.Writer, batch); written = true; }
                catch (ChannelClosedException) { }
            }
            if (!written) { _inputDrops.Add(batch.Count); _inputDroppedBatches.Inc(); Recycle(batch); }
        }
        _packetQueueDepth.Set(_input.Reader.Count);
    }

    private readonly ConcurrentQueue<PipelineCheckpoint> _control = new();

    /// <summary>
    /// Live capture: every worker passes <paramref name="cp"/> after the packets submitted before it. Never
    /// waits and never lost: checkpoints queue beside the packets, and an empty batch wakes an idle decoder
    /// (when the queue is full the decoder is busy and sees the checkpoint after its current batch).
    /// </summary>
    public Task Checkpoint(PipelineCheckpoint cp)
    {
        cp.Begin(_workers.Length);
        _control.Enqueue(cp);
        var wake = RentBatch();
        if (!_input.Writer.TryWrite(wake)) Recycle(wake);
        return cp.Completed;
    }

    private void RunCheckpoints(SegmentBatch?[] current)
    {
        while (_control.TryDequeue(out var cp))
        {
            if (cp.Now > _lastTs) _lastTs = cp.Now;
            _decoder.Sweep(_lastTs);
            for (int s = 0; s < current.Length; s++)
            {
                var sb = _freeSegments.TryTake(out var fb) ? fb : new SegmentBatch();
                sb.Checkpoint = cp;
                sb.Now = _lastTs;
                ChannelSync.Write(_toWorkers[s].Writer, sb);
            }
        }
    }

    private void DecodeLoop()
    {
        int n = _workers.Length;
        var current = new SegmentBatch?[n];
        var pkt = new TcpPacket();
        while (ChannelSync.Read(_input.Reader, out var batch))
        {
            for (int i = 0; i < batch.Count; i++)
            {
                ref var r = ref batch.Records[i];
                if (r.Timestamp > _lastTs) _lastTs = r.Timestamp;
                if (_decoder.Decode(batch.Data(r), r.LinkType, r.Timestamp, ref pkt) != DecodeResult.Tcp) continue;
                var key = FlowKey.Create(pkt.Src, pkt.SrcPort, pkt.Dst, pkt.DstPort, out bool fromA);
                int shard = n == 1 ? 0 : (int)(key.ShardHash() % (uint)n);
                var sb = current[shard];
                if (sb != null && !sb.Fits(pkt.Payload.Length)) { Send(shard, sb); sb = null; }
                sb ??= current[shard] = _freeSegments.TryTake(out var fb) ? fb : new SegmentBatch();
                var f = pkt.Flags;
                var info = new SegmentInfo(pkt.Seq, pkt.Ack, (f & TcpFlags.Syn) != 0, (f & TcpFlags.Ack) != 0,
                    (f & TcpFlags.Fin) != 0, (f & TcpFlags.Rst) != 0, pkt.MissingBytes);
                sb.Add(key, fromA, info, pkt.Payload, r.Timestamp);
            }
            Recycle(batch);
            _packetQueueDepth.Set(_input.Reader.Count);
            _decoder.Sweep(_lastTs);
            // Hand over what this input batch produced, so latency stays bounded by one batch.
            for (int s = 0; s < n; s++)
            {
                var sb = current[s];
                if (sb == null) continue;
                Send(s, sb);
                current[s] = null;
            }
            if (!_control.IsEmpty) RunCheckpoints(current);
        }
        _decoder.Finish();
        while (_control.TryDequeue(out var left)) left.Abandon();
        foreach (var c in _toWorkers) c.Writer.TryComplete();

        void Send(int shard, SegmentBatch sb)
        {
            sb.Now = _lastTs;
            ChannelSync.Write(_toWorkers[shard].Writer, sb);
        }
    }

    /// <summary>No more input: drains every queue, flushes all connections and waits for storage.</summary>
    public async Task CompleteAsync()
    {
        _input.Writer.TryComplete();
        // Workers finish after the decoder has completed their channels; each then flushes its flows.
        var decoder = _threads[^1];
        await Task.Run(() => decoder.Join()).ConfigureAwait(false);
        while (_control.TryDequeue(out var late)) late.Abandon();
        for (int i = 0; i < _workers.Length; i++)
        {
            await Task.Run(() => _threads[i].Join()).ConfigureAwait(false);
        }
        try
        {
            // Each worker flushes its connections, completes its analyzers and commits its rows on its own
            // thread: they share nothing, and one after the other would leave a core idle at the end of a run.
            if (_failure == null)
                await Task.WhenAll(_workers.Select(w => Task.Factory.StartNew(() => w.Finish(_lastTs), CancellationToken.None,
                    TaskCreationOptions.LongRunning, TaskScheduler.Default))).ConfigureAwait(false);
        }
        finally
        {
            foreach (var s in _sinks) s.Dispose();
        }
        if (_failure != null) throw new InvalidOperationException("pipeline stage failed", _failure);
    }

}
