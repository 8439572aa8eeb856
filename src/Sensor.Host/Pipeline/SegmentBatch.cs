using Sensor.Core;
using Sensor.Reassembly;

namespace Sensor.Host.Pipeline;

internal struct SegmentEntry
{
    public FlowKey Key;
    public bool FromA;
    public SegmentInfo Info;
    public int Offset, Length;
    public long Ts;
}

/// <summary>TCP segments for one worker, payloads copied into one buffer: the decoder→worker hand-off unit.</summary>
internal sealed class SegmentBatch
{
    public byte[] Data = new byte[256 * 1024];
    public SegmentEntry[] Items = new SegmentEntry[2048];
    public int Count, Used;
    /// <summary>Latest packet time the decoder has seen, so idle workers still advance their clock.</summary>
    public long Now;
    /// <summary>Set on an empty batch the decoder sends every worker at a checkpoint.</summary>
    public PipelineCheckpoint? Checkpoint;

    public bool Fits(int len) => Count < Items.Length && Used + len <= Data.Length;

    public void Add(in FlowKey key, bool fromA, in SegmentInfo info, ReadOnlySpan<byte> payload, long ts)
    {
        if (Used + payload.Length > Data.Length)
        {
            // Only an empty batch gets here with a big payload (jumbo/TSO): grow instead of splitting.
            Array.Resize(ref Data, Math.Max(Data.Length * 2, Used + payload.Length));
        }
        ref var e = ref Items[Count++];
        e.Key = key; e.FromA = fromA; e.Info = info; e.Offset = Used; e.Length = payload.Length; e.Ts = ts;
        payload.CopyTo(Data.AsSpan(Used));
        Used += payload.Length;
    }

    public void Reset() { Count = 0; Used = 0; Now = 0; Checkpoint = null; }
}

/// <summary>
/// A point every flow worker passes in order with its packets (live capture): idle flows expire on the
/// service's clock, stored rows become visible, and analyzers may hand over what they learned.
/// </summary>
public sealed class PipelineCheckpoint
{
    private int _pending;
    private readonly TaskCompletionSource _done = new(TaskCreationOptions.RunContinuationsAsynchronously);
    /// <summary>Clock time (ticks since the epoch) the workers advance to: flows idle longer than their timeout are closed.</summary>
    public long Now { get; }
    /// <summary>Analyzers hand over their state (<see cref="Sensor.Http.IHttpAnalyzer.Checkpoint"/>).</summary>
    public bool HandOver { get; }
    public Task Completed => _done.Task;

    public PipelineCheckpoint(long now, bool handOver) { Now = now; HandOver = handOver; }

    internal void Begin(int workers) { _pending = workers; if (workers == 0) _done.TrySetResult(); }
    internal void WorkerPassed() { if (Interlocked.Decrement(ref _pending) == 0) _done.TrySetResult(); }
    internal void Abandon() => _done.TrySetCanceled();
}
