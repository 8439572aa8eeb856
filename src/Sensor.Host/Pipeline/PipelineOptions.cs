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
    public int SegmentQueueBatches { get; init; } = 16;
    public ReassemblyOptions Reassembly { get; init; } = new();
    public HttpOptions Http { get; init; } = new();
}
