using System.Buffers.Binary;
using System.Runtime.InteropServices;
using Sensor.Core;
using static Sensor.Capture.Live.AfPacketNative;

namespace Sensor.Capture.Live;

/// <summary>
/// Linux AF_PACKET capture: <see cref="LiveCaptureOptions.FanoutThreads"/> sockets with TPACKET_V3 rings in
/// one fanout group, each read by its own thread straight from the mapped ring. The group's BPF
/// demultiplexer (native/) hashes IPv4 addresses and ports and the IPv6 address pair, symmetrically, so both
/// directions of a connection and its fragments go to one socket and reach the pipeline in order from one thread. Sockets are opened by the constructor, so a missing interface or privilege fails early.
/// </summary>
public sealed unsafe class AfPacketSource : ILiveSource
{
    private const int EthernetLink = 1, RawIpLink = 101;    // LINKTYPE_ETHERNET, LINKTYPE_RAW
    private const int MinBlocks = 4;                         // the kernel keeps filling while a thread reads one block
    private const uint FrameSize = 2048;                     // only sizes tp_frame_nr in V3; frames are packed

    private sealed class Ring(nint handle)
    {
        public nint Handle = handle;                         // 0 once closed; guarded by Gate
        public readonly Lock Gate = new();                   // PollStats (any thread) against Dispose
        public Thread? Thread;
    }

    private readonly LiveCaptureOptions _opt;
    private readonly Ring[] _rings;
    private readonly int _linkType;
    private readonly bool _skipOutgoing;
    private readonly int _pollMs;
    private readonly uint _blocks;
    private readonly Counter _packets, _drops, _freezes, _bytes, _errors;
    private volatile bool _stopping;
    private string? _failure;
    private bool _started, _stopped, _disposed;
    private readonly Lock _gate = new();

    public string Interface { get; }
    /// <summary>Why a capture thread ended early (interface removed, socket error), or null.</summary>
    public string? Failure => Volatile.Read(ref _failure);
    public int Threads => _rings.Length;
    public int LinkType => _linkType;
    /// <summary>The fanout group shared by this source's sockets (chosen by the kernel, unique in the namespace).</summary>
    public int FanoutGroup { get; }

    public AfPacketSource(string iface, LiveCaptureOptions opt, CounterRegistry counters)
    {
        ArgumentException.ThrowIfNullOrEmpty(iface);
        Interface = iface;
        _opt = opt;
        if (!OperatingSystem.IsLinux()) throw new PlatformNotSupportedException("afpacket backend: Linux only; use the pcap backend");

        int threads = opt.FanoutThreads > 0 ? opt.FanoutThreads : Environment.ProcessorCount;
        long blockBytes = (long)opt.BlockSizeKb * 1024;
        if (blockBytes <= 0 || blockBytes > int.MaxValue || blockBytes % Environment.SystemPageSize != 0 || (blockBytes & (blockBytes - 1)) != 0)
            throw new ArgumentException($"afpacket: BlockSizeKb {opt.BlockSizeKb} must be a power of two multiple of the page size ({Environment.SystemPageSize / 1024} KiB)");
        if (opt.BufferSizeMb <= 0) throw new ArgumentException($"afpacket: BufferSizeMb {opt.BufferSizeMb} must be positive");
        long ringBytes = (long)opt.BufferSizeMb * 1024 * 1024 / threads;
        uint blocks = _blocks = (uint)Math.Max(MinBlocks, ringBytes / blockBytes);
        // Partly filled blocks are retired within half the flush interval, so a quiet link still flushes on time.
        _pollMs = Math.Clamp(opt.FlushMilliseconds / 2, 1, 100);
        uint retireMs = (uint)Math.Clamp(opt.FlushMilliseconds / 2, 1, 1000);

        int hw = IfaceTypeChecked(iface);
        _linkType = LinkTypeFor(hw) ?? throw new InvalidOperationException(
            $"afpacket: {iface} has hardware type ARPHRD {hw}; only Ethernet, loopback and raw IP interfaces are supported (use the pcap backend)");
        // Loopback shows every frame twice, leaving and arriving; like libpcap keep the arriving one.
        _skipOutgoing = hw == ArphrdLoopback;

        var filter = string.IsNullOrWhiteSpace(opt.Filter) ? [] : CompileFilter(opt.Filter, _linkType, opt.SnapLength);
        _rings = new Ring[threads];
        int opened = 0;
        try
        {
            int group = -1;
            for (int i = 0; i < threads; i++)
            {
                int rc;
                nint h;
                fixed (SockFilter* f = filter)
                    rc = Open(iface, (uint)blockBytes, blocks, FrameSize, retireMs, opt.Promiscuous ? 1 : 0, f, (uint)filter.Length, out h);
                if (rc < 0) throw OpenError(iface, rc);
                _rings[i] = new Ring(h);
                opened = i + 1;
                rc = JoinFanout(h, group);
                if (rc < 0) throw new InvalidOperationException($"afpacket: cannot join a fanout group on {iface}: {Describe(rc)}");
                group = rc;
            }
            FanoutGroup = group;
        }
        catch
        {
            for (int i = 0; i < opened; i++) Close(_rings[i].Handle);
            throw;
        }

        _packets = counters.Create("capture", "packets_received", "frames read from the AF_PACKET rings and handed on");
        _bytes = counters.Create("capture", "bytes_received", "wire bytes of the frames handed on");
        _drops = counters.Create("capture", "ring_drops", "frames the kernel dropped because the ring was full (tp_drops)");
        _freezes = counters.Create("capture", "ring_freezes", "times the kernel found every ring block in use (tp_freeze_q_cnt)");
        _errors = counters.Create("capture", "read_errors", "socket errors while waiting for ring blocks (interface down or removed)");
    }

    /// <summary>Frame link type for an ARPHRD hardware type; null when the backend cannot capture it.</summary>
    internal static int? LinkTypeFor(int arphrd) => arphrd switch
    {
        ArphrdEther or ArphrdLoopback => EthernetLink,     // Linux loopback frames carry (zeroed) Ethernet headers
        ArphrdNone or ArphrdRawIp => RawIpLink,            // tun and similar: frames start with the IP header
        _ => null,
    };

    private static int IfaceTypeChecked(string iface)
    {
        int hw;
        try
        {
            if (AbiVersion() != ExpectedAbi)
                throw new InvalidOperationException($"afpacket backend: libsensor_afpacket.so is from another build (ABI {AbiVersion()}, expected {ExpectedAbi}); rebuild it with `make -C native`");
            hw = IfaceType(iface);
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            throw new InvalidOperationException("afpacket backend: libsensor_afpacket.so not found next to the sensor (or unusable); build it with `make -C native`", e);
        }
        if (hw < 0) throw OpenError(iface, hw);
        return hw;
    }

    private static InvalidOperationException OpenError(string iface, int rc) =>
        new(-rc is EPERM or EACCES
            ? $"afpacket: cannot open {iface}: {Describe(rc)}; capturing needs root or CAP_NET_RAW (e.g. setcap cap_net_raw,cap_net_admin=eip on the dotnet host)"
            : $"afpacket: cannot open {iface}: {Describe(rc)}");

    /// <summary>Compiles a tcpdump expression to classic BPF with libpcap (no live handle needed).</summary>
    internal static SockFilter[] CompileFilter(string filter, int linkType, int snapLen)
    {
        nint p;
        try { p = Pcap.OpenDead(linkType == RawIpLink ? Pcap.DltRaw : Pcap.DltEn10Mb, snapLen); }
        catch (DllNotFoundException e)
        {
            throw new InvalidOperationException($"afpacket: a capture filter needs libpcap ({Pcap.Lib}); install libpcap0.8", e);
        }
        if (p == 0) throw new InvalidOperationException("afpacket: pcap_open_dead failed");
        try
        {
            Pcap.BpfProgram prog;
            if (Pcap.Compile(p, &prog, filter, 1, Pcap.NetmaskUnknown) != 0)
                throw new ArgumentException($"invalid capture filter \"{filter}\": {Marshal.PtrToStringUTF8(Pcap.GetErr(p))}");
            try { return new ReadOnlySpan<SockFilter>(prog.Insns, (int)prog.Len).ToArray(); }
            finally { Pcap.FreeCode(&prog); }
        }
        finally { Pcap.Close(p); }
    }

    public void Start(Func<PacketBatch> rent, Action<PacketBatch> submit)
    {
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_started) throw new InvalidOperationException("afpacket: source already started");
            _started = true;
            for (int i = 0; i < _rings.Length; i++)
            {
                var ring = _rings[i];
                ring.Thread = new Thread(() => Run(ring, rent, submit)) { IsBackground = true, Name = $"sensor-afp-{Interface}-{i}" };
                ring.Thread.Start();
            }
        }
    }

    private void Run(Ring ring, Func<PacketBatch> rent, Action<PacketBatch> submit)
    {
        nint h = ring.Handle;   // stays open until this thread has been joined
        PacketBatch? batch = null;
        long firstAt = 0;
        while (!_stopping)
        {
            int rc = NextBlock(h, _pollMs, out var block);
            if (rc > 0) Consume(h, block, rent, submit, ref batch, ref firstAt);
            else if (rc < 0)
            {
                _errors.Inc();
                // A downed interface resumes on its own once up; a removed one (or any other error) will not.
                if (-rc != ENETDOWN || IfaceType(Interface) < 0)
                {
                    Interlocked.CompareExchange(ref _failure, $"afpacket: capture on {Interface} ended: {Describe(rc)}", null);
                    break;
                }
                Thread.Sleep(_pollMs);
            }
            if (batch != null && Environment.TickCount64 - firstAt >= _opt.FlushMilliseconds)
            {
                submit(batch);
                batch = null;
            }
        }
        // Whatever the kernel had already retired is handed on too, but without waiting for more.
        for (uint i = 0; i < _blocks && NextBlock(h, 0, out var block) > 0; i++)
            Consume(h, block, rent, submit, ref batch, ref firstAt);
        if (batch != null) submit(batch);
    }

    /// <summary>Copies a block's frames into batches and gives the block back to the kernel.</summary>
    private void Consume(nint h, BlockDesc* block, Func<PacketBatch> rent, Action<PacketBatch> submit, ref PacketBatch? batch, ref long firstAt)
    {
        long frames = 0, bytes = 0;
        try
        {
            byte* p = (byte*)block + block->OffsetToFirstPkt;
            uint n = block->NumPkts;
            int snapLen = _opt.SnapLength > 0 ? _opt.SnapLength : int.MaxValue;
            for (uint i = 0; i < n; i++, p += ((Tpacket3Hdr*)p)->NextOffset)
            {
                var hdr = (Tpacket3Hdr*)p;
                if (_skipOutgoing && p[SllOffset + SllPktType] == PacketOutgoing) continue;
                var data = new ReadOnlySpan<byte>(p + hdr->Mac, (int)hdr->Snaplen);
                // The kernel strips a VLAN tag into metadata; like libpcap, put it back so frames are as on the wire.
                bool vlan = _linkType == EthernetLink && (hdr->Status & TpStatusVlanValid) != 0 && data.Length >= 12;
                int extra = vlan ? 4 : 0;
                int len = Math.Min(data.Length + extra, snapLen);
                int origLen = (int)hdr->Len + extra;
                if (batch != null && (batch.IsFull || batch.Free < len))
                {
                    submit(batch);
                    batch = null;
                }
                if (batch == null)
                {
                    batch = rent();
                    firstAt = Environment.TickCount64;
                }
                var dst = batch.Add(Timestamp.FromUnix(hdr->Sec, hdr->Nsec, 1_000_000_000), len, origLen, _linkType, 0);
                if (vlan)
                {
                    ushort tpid = (hdr->Status & TpStatusVlanTpidValid) != 0 ? hdr->VlanTpid : (ushort)0x8100;
                    CopyVlan(data, dst, tpid, (ushort)hdr->VlanTci);
                }
                else data[..len].CopyTo(dst);
                frames++;
                bytes += origLen;
            }
        }
        finally
        {
            ReleaseBlock(h);
            _packets.Add(frames);
            _bytes.Add(bytes);
        }
    }

    private static void CopyVlan(ReadOnlySpan<byte> data, Span<byte> dst, ushort tpid, ushort tci)
    {
        Span<byte> tag = stackalloc byte[4];
        BinaryPrimitives.WriteUInt16BigEndian(tag, tpid);
        BinaryPrimitives.WriteUInt16BigEndian(tag[2..], tci);
        // dst may be shorter than the tagged frame (snap length): copy piecewise up to its end.
        int n = Math.Min(12, dst.Length);
        data[..n].CopyTo(dst);
        if (dst.Length <= 12) return;
        int t = Math.Min(4, dst.Length - 12);
        tag[..t].CopyTo(dst[12..]);
        if (dst.Length <= 16) return;
        data.Slice(12, dst.Length - 16).CopyTo(dst[16..]);
    }

    public void Stop()
    {
        lock (_gate)
        {
            if (!_started || _stopped) return;
            _stopped = true;
            _stopping = true;
            foreach (var r in _rings) r.Thread?.Join();
        }
        PollStats();
    }

    public void PollStats()
    {
        foreach (var r in _rings)
        {
            uint drops, freezes;
            lock (r.Gate)
            {
                if (r.Handle == 0 || Stats(r.Handle, out _, out drops, out freezes) < 0) continue;
            }
            _drops.Add(drops);
            _freezes.Add(freezes);
        }
    }

    public void Dispose()
    {
        Stop();
        lock (_gate)
        {
            if (_disposed) return;
            _disposed = true;
        }
        PollStats();    // counts gathered since the last poll would otherwise be lost with the socket
        foreach (var r in _rings)
            lock (r.Gate)
            {
                Close(r.Handle);
                r.Handle = 0;
            }
    }
}
