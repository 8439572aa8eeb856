using System.Buffers;
using Sensor.Core;

namespace Sensor.Reassembly;

public sealed record ReassemblyOptions
{
    /// <summary>Out-of-order bytes held per direction before the hole is declared a gap.</summary>
    public int MaxBufferedPerStream { get; init; } = 4 << 20;
    /// <summary>Out-of-order bytes held across all connections of one reassembler.</summary>
    public long MaxBufferedTotal { get; init; } = 128L << 20;
    public int MaxConnections { get; init; } = 500_000;
    public long IdleTimeoutTicks { get; init; } = 120 * Timestamp.TicksPerSecond;
    /// <summary>How long a closed connection stays to absorb late retransmissions.</summary>
    public long ClosedLingerTicks { get; init; } = 10 * Timestamp.TicksPerSecond;
}

/// <summary>Per-segment facts the reassembler needs (the payload travels separately as a span).</summary>
public readonly record struct SegmentInfo(uint Seq, uint Ack, bool Syn, bool AckFlag, bool Fin, bool Rst, int MissingBytes);

/// <summary>
/// TCP stream reassembly for one flow worker (not thread-safe; flows are sharded so a flow is only ever
/// seen by one worker). Modelled on gopacket's reassembly: out-of-order buffering with per-stream and
/// global byte limits, first-copy-wins overlaps, explicit gaps, packet-time timeouts. A gap is declared
/// when the peer, in a segment carrying data or FIN, acknowledges bytes we never saw while later data
/// waits (bare ACKs are not trusted for this: mirror ports reorder the two directions), when a buffer
/// limit is hit, and when the connection ends or times out with holes.
/// </summary>
public sealed class TcpReassembler
{
    private readonly ReassemblyOptions _opt;
    private readonly Func<TcpConnection, IStreamReceiver> _receiverFactory;
    private readonly Dictionary<FlowKey, TcpConnection> _conns = [];
    private long _buffered;
    private long _lastSweep;
    private long _lastForcedSweep = long.MinValue / 2;

    private readonly Counter _segments, _connsOpened, _midstream, _retrans, _overlapBytes, _overlapDiff,
        _ooo, _gaps, _gapBytes, _forcedGaps, _tableFull, _forcedSweeps, _timeouts, _dataAfterClose, _active, _portReuse, _ignored, _bufferedGauge;

    public TcpReassembler(CounterRegistry counters, ReassemblyOptions options, Func<TcpConnection, IStreamReceiver> receiverFactory)
    {
        _opt = options;
        _receiverFactory = receiverFactory;
        const string s = "tcp";
        _segments = counters.Create(s, "segments", "TCP segments processed");
        _connsOpened = counters.Create(s, "connections", "connections tracked");
        _midstream = counters.Create(s, "midstream_pickups", "connections picked up without a SYN");
        _portReuse = counters.Create(s, "port_reuse", "new connections on a 4-tuple still in the table");
        _retrans = counters.Create(s, "retransmitted_segments", "segments carrying only bytes already delivered");
        _overlapBytes = counters.Create(s, "overlap_bytes", "bytes received more than once (first copy kept)");
        _overlapDiff = counters.Create(s, "overlap_conflicts", "overlapping segments whose bytes differ from the copy kept");
        _ooo = counters.Create(s, "out_of_order_segments", "segments buffered ahead of a hole");
        _gaps = counters.Create(s, "gaps", "holes in a stream reported to the parser");
        _gapBytes = counters.Create(s, "gap_bytes", "bytes missing inside streams");
        _forcedGaps = counters.Create(s, "buffer_limit_gaps", "gaps forced because a stream or the worker hit its out-of-order buffer limit");
        _tableFull = counters.Create(s, "table_full_drops", "segments dropped because the connection table was full");
        _forcedSweeps = counters.Create(s, "table_full_sweeps", "idle-connection sweeps forced by a full connection table");
        _timeouts = counters.Create(s, "idle_timeouts", "connections closed by the idle timeout");
        _dataAfterClose = counters.Create(s, "data_after_close", "segments arriving for a closed connection");
        _ignored = counters.Create(s, "ignored_segments", "bare ACK/RST segments of connections not tracked");
        _active = counters.Create(s, "active_connections", "connections in the table (gauge)");
        _bufferedGauge = counters.Create(s, "buffered_bytes", "out-of-order bytes held (gauge)");
    }

    public int ConnectionCount => _conns.Count;
    public long BufferedBytes => _buffered;

    public void Process(in FlowKey key, bool fromA, in SegmentInfo seg, ReadOnlySpan<byte> payload, long ts)
    {
        _segments.Inc();
        bool hasData = payload.Length > 0 || seg.MissingBytes > 0;
        if (_conns.TryGetValue(key, out var c))
        {
            if (seg.Syn && !seg.AckFlag && c.IsNewSynFor(fromA, seg.Seq))
            {
                _portReuse.Inc();
                Finish(c, EndReason.Flush, ts);
                c = null;
            }
        }
        if (c == null)
        {
            if (!seg.Syn && !hasData && !seg.Fin) { _ignored.Inc(); return; }
            if (_conns.Count >= _opt.MaxConnections)
            {
                // Evict idle connections to make room, but at most every 100 ms of packet time: under a
                // flood of new flows a sweep per packet would cost O(table) each time.
                if (ts - _lastForcedSweep >= Timestamp.TicksPerSecond / 10 || ts < _lastForcedSweep)
                {
                    _lastForcedSweep = ts;
                    _forcedSweeps.Inc();
                    Sweep(ts, force: true);
                }
                if (_conns.Count >= _opt.MaxConnections) { _tableFull.Inc(); return; }
            }
            c = new TcpConnection(key);
            if (seg.Syn) c.ClientIsA = seg.AckFlag ? !fromA : fromA;
            else _midstream.Inc();
            c.Receiver = _receiverFactory(c);
            _conns[key] = c;
            _connsOpened.Inc();
            _active.Set(_conns.Count);
        }
        c.LastSeen = ts;
        var st = c.Stream(fromA);
        var peer = c.Stream(!fromA);

        if (c.Closed)
        {
            if (hasData) _dataAfterClose.Inc();
            return;
        }

        if (seg.Rst)
        {
            Drain(c, true, ts, flushHoles: true);
            Drain(c, false, ts, flushHoles: true);
            EndStream(c, fromA, EndReason.Reset, ts);
            EndStream(c, !fromA, EndReason.Reset, ts);
            CloseIfDone(c, ts);
            return;
        }

        if (seg.Syn)
        {
            if (!st.HaveSeq || !st.Delivered)
            {
                st.HaveSeq = true;
                st.Isn = seg.Seq;
                st.Next = seg.Seq + 1;
                st.SawSyn = true;
            }
            c.ClientIsA ??= seg.AckFlag ? !fromA : fromA;
        }

        uint seq = seg.Syn ? seg.Seq + 1 : seg.Seq;
        if (hasData || seg.Fin)
        {
            if (!st.HaveSeq) { st.HaveSeq = true; st.Next = seq; }
            if (hasData) Insert(c, fromA, seq, payload, seg.MissingBytes, ts);
            if (seg.Fin && !st.FinSeen)
            {
                st.FinSeen = true;
                st.FinSeq = seq + (uint)payload.Length + (uint)seg.MissingBytes;
            }
        }

        // The peer acknowledging bytes we never saw, while later bytes wait behind the hole: they are lost.
        if (seg.AckFlag && (hasData || seg.Fin) && peer.HaveSeq && peer.Ooo.Count > 0 && Seq.Gt(seg.Ack, peer.Next))
            SkipHoles(c, !fromA, seg.Ack, ts);

        Drain(c, fromA, ts, flushHoles: false);

        if (st.OooBytes > _opt.MaxBufferedPerStream || _buffered > _opt.MaxBufferedTotal)
        {
            _forcedGaps.Inc();
            while ((st.OooBytes > _opt.MaxBufferedPerStream / 2 || _buffered > _opt.MaxBufferedTotal / 2) && st.Ooo.Count > 0)
                SkipTo(c, fromA, st.Ooo[0].Seq, ts);
        }
        // A FIN can be reached in either direction: by this segment, or by a gap it caused the peer to declare.
        EndAtFin(c, fromA, ts);
        EndAtFin(c, !fromA, ts);
        CloseIfDone(c, ts);
        _bufferedGauge.Set(_buffered);

        if (ts - _lastSweep > Timestamp.TicksPerSecond) Sweep(ts, force: false);
    }

    private void Insert(TcpConnection c, bool fromA, uint seq, ReadOnlySpan<byte> data, int missing, long ts)
    {
        var st = c.Stream(fromA);
        if (st.Ended) { _dataAfterClose.Inc(); return; }
        uint end = seq + (uint)data.Length;
        // Trim what was already delivered (retransmission / overlap with the past).
        if (Seq.Lt(seq, st.Next))
        {
            int skip = (int)(st.Next - seq);
            if (skip >= data.Length)
            {
                _retrans.Inc();
                _overlapBytes.Add(data.Length);
                missing -= skip - data.Length;
                if (missing <= 0) return;
                data = default;
            }
            else
            {
                _overlapBytes.Add(skip);
                data = data[skip..];
            }
            seq = st.Next;
        }
        if (seq == st.Next && st.Ooo.Count == 0)
        {
            // Fast path: in order, nothing waiting.
            Deliver(c, fromA, data, ts);
            if (missing > 0) Gap(c, fromA, missing, ts);
            return;
        }
        _ooo.Inc();
        // First copy wins: cut the new data around every byte already buffered.
        int pos = 0;
        int idx = 0;
        while (pos < data.Length)
        {
            uint s = seq + (uint)pos;
            while (idx < st.Ooo.Count && Seq.Le(st.Ooo[idx].End, s)) idx++;
            if (idx < st.Ooo.Count && Seq.Le(st.Ooo[idx].Seq, s))
            {
                var o = st.Ooo[idx];
                int n = Math.Min(data.Length - pos, (int)(o.End - s));
                var kept = o.Data.AsSpan((int)(s - o.Seq), n);
                if (!kept.SequenceEqual(data.Slice(pos, n))) _overlapDiff.Inc();
                _overlapBytes.Add(n);
                pos += n;
                continue;
            }
            int take = data.Length - pos;
            if (idx < st.Ooo.Count) take = Math.Min(take, (int)(st.Ooo[idx].Seq - s));
            var buf = ArrayPool<byte>.Shared.Rent(take);
            data.Slice(pos, take).CopyTo(buf);
            st.Ooo.Insert(idx, new OooSegment(s, buf, take, 0, ts));
            st.OooBytes += take; _buffered += take;
            idx++;
            pos += take;
        }
        if (missing > 0)
        {
            // A zero-length marker carrying the snaplen-cut bytes, delivered as a gap in order.
            uint ms = seq + (uint)data.Length;
            int i = 0;
            while (i < st.Ooo.Count && Seq.Le(st.Ooo[i].Seq, ms)) i++;
            st.Ooo.Insert(i, new OooSegment(ms, [], 0, missing, ts));
        }
    }

    /// <summary>Delivers buffered segments that have become contiguous.</summary>
    private void Drain(TcpConnection c, bool fromA, long ts, bool flushHoles)
    {
        var st = c.Stream(fromA);
        while (st.Ooo.Count > 0)
        {
            var o = st.Ooo[0];
            if (Seq.Gt(o.Seq, st.Next))
            {
                if (!flushHoles) break;
                Gap(c, fromA, o.Seq - st.Next, ts);
            }
            st.Ooo.RemoveAt(0);
            st.OooBytes -= o.Len; _buffered -= o.Len;
            if (Seq.Gt(o.End, st.Next))
            {
                int skip = (int)(st.Next - o.Seq);
                Deliver(c, fromA, o.Data.AsSpan(skip, o.Len - skip), o.Ts);
            }
            if (o.Missing > 0) Gap(c, fromA, o.Missing, o.Ts);
            if (o.Data.Length > 0) ArrayPool<byte>.Shared.Return(o.Data);
        }
        if (flushHoles && st.FinSeen && Seq.Gt(st.FinSeq, st.Next)) Gap(c, fromA, st.FinSeq - st.Next, ts);
    }

    private void SkipHoles(TcpConnection c, bool fromA, uint ack, long ts)
    {
        var st = c.Stream(fromA);
        while (st.Ooo.Count > 0 && Seq.Gt(st.Ooo[0].Seq, st.Next) && Seq.Ge(ack, st.Ooo[0].Seq))
        {
            SkipTo(c, fromA, st.Ooo[0].Seq, ts);
        }
    }

    private void SkipTo(TcpConnection c, bool fromA, uint seq, long ts)
    {
        var st = c.Stream(fromA);
        if (Seq.Gt(seq, st.Next)) Gap(c, fromA, seq - st.Next, ts);
        Drain(c, fromA, ts, flushHoles: false);
    }

    private void Deliver(TcpConnection c, bool fromA, ReadOnlySpan<byte> data, long ts)
    {
        var st = c.Stream(fromA);
        if (data.Length == 0) return;
        st.Next += (uint)data.Length;
        st.Delivered = true;
        c.Receiver!.OnData(fromA, data, ts);
    }

    private void Gap(TcpConnection c, bool fromA, long bytes, long ts)
    {
        var st = c.Stream(fromA);
        st.Next += (uint)bytes;
        st.Delivered = true;
        _gaps.Inc();
        _gapBytes.Add(bytes);
        c.Receiver!.OnGap(fromA, bytes, ts);
    }

    private void EndAtFin(TcpConnection c, bool fromA, long ts)
    {
        var st = c.Stream(fromA);
        if (st.FinSeen && !st.Ended && st.Next == st.FinSeq) EndStream(c, fromA, EndReason.Fin, ts);
    }

    private void EndStream(TcpConnection c, bool fromA, EndReason reason, long ts)
    {
        var st = c.Stream(fromA);
        if (st.Ended) return;
        st.Ended = true;
        c.Receiver!.OnEnd(fromA, reason, ts);
    }

    private void CloseIfDone(TcpConnection c, long ts)
    {
        if (c.Closed || !c.A.Ended || !c.B.Ended) return;
        c.Closed = true;
        c.Receiver!.OnClose(ts);
    }

    /// <summary>Flushes a connection completely (holes become gaps) and removes it.</summary>
    private void Finish(TcpConnection c, EndReason reason, long ts)
    {
        if (!c.Closed)
        {
            Drain(c, true, ts, flushHoles: true);
            Drain(c, false, ts, flushHoles: true);
            EndStream(c, true, reason, ts);
            EndStream(c, false, reason, ts);
            CloseIfDone(c, ts);
        }
        _conns.Remove(c.Key);
        _active.Set(_conns.Count);
    }

    /// <summary>Lets packet time advance without a segment (idle shards); sweeps at most once a second.</summary>
    public void Tick(long now)
    {
        if (now - _lastSweep > Timestamp.TicksPerSecond) Sweep(now, force: false);
    }

    /// <summary>Expires idle connections by packet time. With force, uses a shorter timeout to make room.</summary>
    public void Sweep(long now, bool force)
    {
        _lastSweep = now;
        long idle = force ? _opt.IdleTimeoutTicks / 4 : _opt.IdleTimeoutTicks;
        List<TcpConnection>? expired = null;
        foreach (var c in _conns.Values)
        {
            long limit = c.Closed ? _opt.ClosedLingerTicks : idle;
            if (now - c.LastSeen > limit) (expired ??= []).Add(c);
        }
        if (expired == null) return;
        foreach (var c in expired)
        {
            if (!c.Closed) _timeouts.Inc();
            Finish(c, force ? EndReason.Evicted : EndReason.Timeout, now);
        }
    }

    /// <summary>End of input: every connection is flushed and closed.</summary>
    public void FlushAll(long now)
    {
        foreach (var c in _conns.Values.ToList()) Finish(c, EndReason.Flush, Math.Max(now, c.LastSeen));
        _bufferedGauge.Set(_buffered);
    }
}

/// <summary>Sequence-number arithmetic modulo 2^32.</summary>
public static class Seq
{
    public static bool Lt(uint a, uint b) => (int)(a - b) < 0;
    public static bool Le(uint a, uint b) => (int)(a - b) <= 0;
    public static bool Gt(uint a, uint b) => (int)(a - b) > 0;
    public static bool Ge(uint a, uint b) => (int)(a - b) >= 0;
}

internal readonly record struct OooSegment(uint Seq, byte[] Data, int Len, int Missing, long Ts)
{
    public uint End => Seq + (uint)Len;
}

public sealed class HalfStream
{
    public bool HaveSeq, SawSyn, Delivered, FinSeen, Ended;
    public uint Isn, Next, FinSeq;
    internal readonly List<OooSegment> Ooo = [];
    internal int OooBytes;
}

public sealed class TcpConnection(FlowKey key)
{
    public FlowKey Key { get; } = key;
    public HalfStream A { get; } = new();
    public HalfStream B { get; } = new();
    /// <summary>Known when a SYN was seen; otherwise the protocol layer decides from content.</summary>
    public bool? ClientIsA { get; internal set; }
    public long LastSeen { get; internal set; }
    public bool Closed { get; internal set; }
    public IStreamReceiver? Receiver { get; internal set; }
    public HalfStream Stream(bool fromA) => fromA ? A : B;

    /// <summary>A SYN that cannot belong to the current connection: it is closed, or has a new ISN.</summary>
    internal bool IsNewSynFor(bool fromA, uint seq)
    {
        var st = Stream(fromA);
        if (Closed || A.FinSeen || B.FinSeen) return !(st.SawSyn && st.Isn == seq);
        return st.SawSyn && st.Isn != seq && st.Delivered;
    }
}
