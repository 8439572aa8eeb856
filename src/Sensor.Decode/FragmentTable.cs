using System.Buffers;
using Sensor.Core;

namespace Sensor.Decode;

/// <summary>
/// IPv4/IPv6 fragment reassembly with bounds: a datagram count, a byte budget and a packet-time
/// timeout. Overlapping fragments keep the first copy (as our TCP layer does). Anything that does
/// not fit or never completes is counted, never held forever.
/// </summary>
public sealed class FragmentTable
{
    public sealed record Limits(int MaxDatagrams = 4096, long MaxBytes = 64L << 20, long TimeoutTicks = 30 * Timestamp.TicksPerSecond);

    private readonly record struct Key(IpAddr Src, IpAddr Dst, uint Id, byte Proto);

    private sealed class Datagram
    {
        public byte[] Data = [];
        public readonly List<(int Start, int End)> Have = [];
        public int Total = -1;             // known once the last fragment arrived
        public byte Proto;
        public long FirstTs;
        public bool Covers(int s, int e) => Have.Any(h => h.Start <= s && h.End >= e);
    }

    private readonly Dictionary<Key, Datagram> _table = [];
    private readonly Limits _limits;
    private long _bytes;
    private long _lastSweep;
    private byte[] _out = new byte[65536];

    private readonly Counter _fragments, _reassembled, _timeouts, _dropFull, _overlaps, _invalid;

    public FragmentTable(CounterRegistry counters, Limits? limits = null)
    {
        _limits = limits ?? new Limits();
        _fragments = counters.Create("decode", "ip_fragments", "IP fragments seen");
        _reassembled = counters.Create("decode", "ip_datagrams_reassembled", "fragmented IP datagrams completed");
        _timeouts = counters.Create("decode", "ip_fragment_timeouts", "incomplete datagrams dropped after the fragment timeout");
        _dropFull = counters.Create("decode", "ip_fragment_table_full_drops", "fragments dropped because the fragment table was at its datagram or byte limit");
        _overlaps = counters.Create("decode", "ip_fragment_overlaps", "fragments overlapping data already held (first copy kept)");
        _invalid = counters.Create("decode", "ip_fragment_invalid", "fragments with impossible offsets or lengths");
    }

    public int Count => _table.Count;

    /// <summary>
    /// Adds a fragment (offset in bytes). When it completes its datagram, returns true with the whole
    /// upper-layer payload; that span is valid until the next call.
    /// </summary>
    public bool Add(IpAddr src, IpAddr dst, uint id, byte proto, int offset, bool more, ReadOnlySpan<byte> data, long ts, out ReadOnlySpan<byte> complete, out byte completeProto)
    {
        complete = default; completeProto = proto;
        _fragments.Inc();
        Sweep(ts);
        int end = offset + data.Length;
        if (end > 65535 + 65535 || (more && data.Length % 8 != 0 && data.Length > 0) || offset < 0) { _invalid.Inc(); return false; }
        var key = new Key(src, dst, id, proto);
        if (!_table.TryGetValue(key, out var d))
        {
            if (_table.Count >= _limits.MaxDatagrams || _bytes + end > _limits.MaxBytes) { _dropFull.Inc(); return false; }
            d = new Datagram { Proto = proto, FirstTs = ts, Data = ArrayPool<byte>.Shared.Rent(Math.Max(end, 2048)) };
            _table[key] = d;
            _bytes += d.Data.Length;
        }
        if (end > d.Data.Length)
        {
            if (_bytes + end - d.Data.Length > _limits.MaxBytes) { _dropFull.Inc(); return false; }
            var nb = ArrayPool<byte>.Shared.Rent(end);
            Buffer.BlockCopy(d.Data, 0, nb, 0, d.Data.Length);
            _bytes += nb.Length - d.Data.Length;
            ArrayPool<byte>.Shared.Return(d.Data);
            d.Data = nb;
        }
        if (!more)
        {
            if (d.Total >= 0 && d.Total != end) { _invalid.Inc(); }
            else d.Total = end;
        }
        // First copy wins: write only the parts not already held.
        bool overlapped = false;
        int pos = offset;
        while (pos < end)
        {
            var cover = d.Have.FirstOrDefault(h => h.Start <= pos && h.End > pos);
            if (cover.End > pos && cover.Start <= pos) { overlapped = true; pos = cover.End; continue; }
            int next = end;
            foreach (var h in d.Have) if (h.Start > pos && h.Start < next) next = h.Start;
            data.Slice(pos - offset, next - pos).CopyTo(d.Data.AsSpan(pos));
            pos = next;
        }
        if (overlapped) _overlaps.Inc();
        Merge(d.Have, offset, end);
        if (d.Total >= 0 && d.Have.Count == 1 && d.Have[0].Start == 0 && d.Have[0].End >= d.Total)
        {
            if (_out.Length < d.Total) _out = new byte[Math.Max(d.Total, _out.Length * 2)];
            d.Data.AsSpan(0, d.Total).CopyTo(_out);
            complete = _out.AsSpan(0, d.Total);
            completeProto = d.Proto;
            Remove(key, d);
            _reassembled.Inc();
            return true;
        }
        return false;
    }

    private static void Merge(List<(int Start, int End)> have, int s, int e)
    {
        if (e <= s) return;
        have.Add((s, e));
        have.Sort((a, b) => a.Start.CompareTo(b.Start));
        for (int i = 1; i < have.Count;)
        {
            if (have[i].Start <= have[i - 1].End)
            {
                have[i - 1] = (have[i - 1].Start, Math.Max(have[i - 1].End, have[i].End));
                have.RemoveAt(i);
            }
            else i++;
        }
    }

    private void Remove(Key k, Datagram d)
    {
        _table.Remove(k);
        _bytes -= d.Data.Length;
        ArrayPool<byte>.Shared.Return(d.Data);
    }

    /// <summary>Drops datagrams older than the timeout (packet time); cheap when called often.</summary>
    public void Sweep(long now)
    {
        if (_table.Count == 0 || now - _lastSweep < Timestamp.TicksPerSecond) return;
        _lastSweep = now;
        List<Key>? old = null;
        foreach (var (k, d) in _table)
            if (now - d.FirstTs > _limits.TimeoutTicks) (old ??= []).Add(k);
        if (old == null) return;
        foreach (var k in old) { Remove(k, _table[k]); _timeouts.Inc(); }
    }

    /// <summary>End of input: whatever is still incomplete is counted as timed out.</summary>
    public void Clear()
    {
        foreach (var (k, d) in _table.ToList()) { Remove(k, d); _timeouts.Inc(); }
    }
}
