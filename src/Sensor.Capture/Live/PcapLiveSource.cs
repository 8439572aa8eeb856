using SharpPcap;
using SharpPcap.LibPcap;
using Sensor.Core;

namespace Sensor.Capture.Live;

/// <summary>
/// Live capture through libpcap (SharpPcap): the default backend, portable and enough for most mirror
/// ports. One capture thread per interface copies frames into pipeline batches; it never waits on the
/// pipeline (the pipeline drops and counts when it is full), so the kernel buffer is the only place
/// where packets queue before us, and what it loses is read back as <c>kernel_drops</c>.
/// </summary>
public sealed class PcapLiveSource : ILiveSource
{
    private readonly LiveCaptureOptions _opt;
    private readonly LibPcapLiveDevice _dev;
    private readonly int _linkType;
    private readonly Counter _received, _bytes, _kernelDrops, _ifDrops, _libpcapReceived, _errors;
    private readonly object _statsLock = new();
    private Thread? _thread;
    private volatile bool _stop;
    private string? _failure;

    public string Interface { get; }
    /// <summary>Why the capture thread ended early (interface gone, read error), or null.</summary>
    public string? Failure => _failure;

    public PcapLiveSource(string iface, LiveCaptureOptions opt, CounterRegistry counters)
    {
        Interface = iface;
        _opt = opt;
        LibPcapLiveDeviceList list;
        try { list = LibPcapLiveDeviceList.New(); }
        catch (Exception e) when (e is DllNotFoundException or TypeInitializationException or PcapException)
        {
            throw new InvalidOperationException($"pcap backend: libpcap is not usable ({e.GetBaseException().Message}); install libpcap0.8", e);
        }
        _dev = list.FirstOrDefault(d => d.Name == iface)
            ?? throw new InvalidOperationException($"pcap: no interface named {iface} (have: {string.Join(", ", list.Select(d => d.Name))})");
        var config = new DeviceConfiguration
        {
            Mode = opt.Promiscuous ? DeviceModes.Promiscuous : DeviceModes.None,
            Snaplen = opt.SnapLength,
            ReadTimeout = Math.Max(1, opt.FlushMilliseconds),
            BufferSize = checked(opt.BufferSizeMb * 1024 * 1024),
        };
        try { _dev.Open(config); }
        catch (PcapException e)
        {
            throw new InvalidOperationException($"pcap: cannot open {iface}: {e.Message}" +
                (e.Message.Contains("ermission", StringComparison.Ordinal) ? " (capturing needs CAP_NET_RAW, promiscuous mode CAP_NET_ADMIN)" : ""), e);
        }
        if (!string.IsNullOrWhiteSpace(opt.Filter))
        {
            try { _dev.Filter = opt.Filter; }
            catch (PcapException e)
            {
                _dev.Close();
                throw new ArgumentException($"pcap: bad capture filter \"{opt.Filter}\": {e.Message}", e);
            }
        }
        _linkType = (int)_dev.LinkType;
        _received = counters.Create("capture", "packets_received", "frames captured and handed to the pipeline");
        _bytes = counters.Create("capture", "bytes_received", "bytes of the frames handed to the pipeline");
        _libpcapReceived = counters.Create("capture", "kernel_received", "frames the kernel passed the filter (libpcap ps_recv)");
        _kernelDrops = counters.Create("capture", "kernel_drops", "frames the kernel dropped because the capture buffer was full (libpcap ps_drop)");
        _ifDrops = counters.Create("capture", "interface_drops", "frames the interface or driver dropped (libpcap ps_ifdrop)");
        _errors = counters.Create("capture", "read_errors", "capture read errors (the capture thread stops on one)");
    }

    public void Start(Func<PacketBatch> rent, Action<PacketBatch> submit)
    {
        _thread = new Thread(() => Loop(rent, submit)) { IsBackground = true, Name = $"sensor-pcap-{Interface}" };
        _thread.Start();
    }

    private void Loop(Func<PacketBatch> rent, Action<PacketBatch> submit)
    {
        PacketBatch? batch = null;
        long firstAt = 0;
        long flushTicks = TimeSpan.FromMilliseconds(Math.Max(1, _opt.FlushMilliseconds)).Ticks;
        try
        {
            while (!_stop)
            {
                var status = _dev.GetNextPacket(out PacketCapture p);
                if (status == GetPacketStatus.PacketRead)
                {
                    var data = p.Data;
                    if (batch != null && (batch.IsFull || batch.Free < data.Length)) { submit(batch); batch = null; }
                    if (batch == null) { batch = rent(); firstAt = Environment.TickCount64; }
                    var tv = p.Header.Timeval;
                    long ts = Timestamp.FromUnix((long)tv.Seconds, (long)tv.MicroSeconds, 1_000_000);
                    data.CopyTo(batch.Add(ts, data.Length, data.Length, _linkType, 0));
                    _received.Inc();
                    _bytes.Add(data.Length);
                }
                else if (status == GetPacketStatus.Error)
                {
                    _errors.Inc();
                    _failure = $"pcap: read error on {Interface}: {_dev.LastError}";
                    break;
                }
                // Wall time bounds how long a partial batch waits: this is latency control, not packet logic.
                if (batch != null && batch.Count > 0 && (Environment.TickCount64 - firstAt) * TimeSpan.TicksPerMillisecond >= flushTicks)
                {
                    submit(batch); batch = null;
                }
            }
        }
        finally
        {
            if (batch is { Count: > 0 }) submit(batch);
        }
    }

    public void Stop()
    {
        _stop = true;
        _thread?.Join();
        _thread = null;
        PollStats();
    }

    public void PollStats()
    {
        lock (_statsLock)
        {
            if (!_dev.Opened) return;
            try
            {
                // libpcap reports totals since open (32-bit, wrapping on long runs: take the difference).
                var s = _dev.Statistics;
                SetTotal(_libpcapReceived, s.ReceivedPackets, ref _lastRecv);
                SetTotal(_kernelDrops, s.DroppedPackets, ref _lastDrop);
                SetTotal(_ifDrops, s.InterfaceDroppedPackets, ref _lastIfDrop);
            }
            catch (PcapException) { }
        }
    }

    private uint _lastRecv, _lastDrop, _lastIfDrop;

    private static void SetTotal(Counter c, uint now, ref uint last)
    {
        c.Add(unchecked(now - last));
        last = now;
    }

    public void Dispose()
    {
        if (_thread != null) Stop();
        lock (_statsLock) _dev.Close();
    }
}
