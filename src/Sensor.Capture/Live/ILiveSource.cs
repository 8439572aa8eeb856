using Sensor.Core;

namespace Sensor.Capture.Live;

/// <summary>How to capture from one interface; bound from configuration (section <c>Capture</c>).</summary>
public sealed record LiveCaptureOptions
{
    /// <summary><c>pcap</c> (SharpPcap/libpcap, the default) or <c>afpacket</c> (native TPACKET_V3 ring with fanout, Linux).</summary>
    public string Backend { get; init; } = "pcap";
    public int SnapLength { get; init; } = 65535;
    public bool Promiscuous { get; init; } = true;
    /// <summary>Kernel buffer (pcap) or ring size (afpacket) per interface, in MiB.</summary>
    public int BufferSizeMb { get; init; } = 64;
    /// <summary>BPF filter in tcpdump syntax; empty captures everything.</summary>
    public string? Filter { get; init; }
    /// <summary>How long a partly filled batch may wait before it is handed on (latency bound at low rates).</summary>
    public int FlushMilliseconds { get; init; } = 100;
    /// <summary>afpacket: capture threads (fanout group members) per interface; 0 = one per core.</summary>
    public int FanoutThreads { get; init; }
    /// <summary>afpacket: ring block size in KiB (a power of two multiple of the page size).</summary>
    public int BlockSizeKb { get; init; } = 1024;
}

/// <summary>
/// A live packet source on one interface. Capture runs on the source's own thread(s); every filled batch
/// (or partly filled one after <see cref="LiveCaptureOptions.FlushMilliseconds"/>) is handed to
/// <c>submit</c>, which never blocks (the pipeline drops and counts when full). Counters of the source
/// (packets received, kernel/ring drops, interface drops) are registered with the registry given to its
/// constructor under stage <c>capture</c>.
/// </summary>
public interface ILiveSource : IDisposable
{
    string Interface { get; }
    /// <summary>Why capture ended early (interface gone, read error), or null while it runs.</summary>
    string? Failure { get; }
    /// <summary>Starts capturing. <paramref name="rent"/> gives empty batches; batches given to <paramref name="submit"/> belong to the pipeline.</summary>
    void Start(Func<PacketBatch> rent, Action<PacketBatch> submit);
    /// <summary>Stops capturing; returns after the last (partial) batch has been submitted and the capture threads have ended.</summary>
    void Stop();
    /// <summary>Reads the kernel's statistics into the source's counters (called periodically and at stop).</summary>
    void PollStats();
}
