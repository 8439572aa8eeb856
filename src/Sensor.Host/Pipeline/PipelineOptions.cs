using Sensor.Http;
using Sensor.Reassembly;

namespace Sensor.Host.Pipeline;

public sealed record PipelineOptions
{
    /// <summary>Flow workers (reassembly + HTTP + analyzers); flows are sharded over them by hash.</summary>
    public int Workers { get; init; } = Math.Max(1, Environment.ProcessorCount);
    /// <summary>
    /// Live capture cannot wait: a full input queue drops (and counts) packets. Replay never drops:
    /// every queue applies back-pressure instead.
    /// </summary>
    public bool Live { get; init; }
    /// <summary>
    /// Live only. False (default): a source waits while the input queue is full, so the kernel's capture
    /// buffer (libpcap buffer, AF_PACKET ring) absorbs bursts, and what overflows it is dropped and counted by
    /// the kernel (capture.kernel_drops, ring_drops). True: the full input queue drops batches and counts them
    /// (pipeline.input_queue_drops), for sources that must never be held up.
    /// </summary>
    public bool LiveDropWhenFull { get; init; }
    /// <summary>Live: niceness of the decoder and flow-worker threads (capture threads keep the process's), 0 = unchanged.</summary>
    public int LiveAnalysisNice { get; init; }
    public int PacketQueueBatches { get; init; } = 16;
    /// <summary>
    /// Segment batches queued for each flow worker; default: 128 shared out over the workers, at least 16 each.
    /// A worker busy with a storage commit (a row group compressed and written) keeps receiving meanwhile, so the
    /// decoder does not block on its full queue while the other workers run dry (~10% of a replay on 2 cores).
    /// </summary>
    public int? SegmentQueueBatches { get; init; }
    internal int SegmentQueueCapacity => SegmentQueueBatches ?? Math.Max(16, 128 / Math.Max(1, Workers));
    public ReassemblyOptions Reassembly { get; init; } = new();
    public HttpOptions Http { get; init; } = new();
}
