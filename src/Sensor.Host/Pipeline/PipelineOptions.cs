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
    public int PacketQueueBatches { get; init; } = 16;
    public int SegmentQueueBatches { get; init; } = 16;
    public ReassemblyOptions Reassembly { get; init; } = new();
    public HttpOptions Http { get; init; } = new();
}
