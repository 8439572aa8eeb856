using System.IO.Hashing;
using System.Runtime.InteropServices;

namespace Sensor.Analysis.Sensitive;

/// <summary>
/// A 128-bit digest of a value, for memo keys: equal values give equal keys, and a key keeps nothing of the
/// value alive (a memo keyed by a client's 200-character token kept a copy of it per entry, which the garbage
/// collector then had to promote; collisions are out of reach at 2^-128 per pair).
/// </summary>
internal static class Digest
{
    public static UInt128 Of(string value) => Of(value.AsSpan());
    public static UInt128 Of(ReadOnlySpan<char> value) => XxHash128.HashToUInt128(MemoryMarshal.AsBytes(value));
    public static UInt128 Of(ReadOnlySpan<byte> value, long seed) => XxHash128.HashToUInt128(value, seed);
}

/// <summary>
/// What was decided about a value, remembered for when it comes back (a client's token on every request, a
/// user's email on every call). Bounded by the characters of the keys it holds, not by entries, so many short
/// values or a few long ones fit. One per thread: no locks. In memory only.
/// </summary>
/// <remarks>
/// Two generations of half the bound each: when the current one is full it becomes the previous one and the
/// older is dropped, and a hit in the previous generation moves forward. Values in steady use survive the
/// turnover; a memo that started over when full missed almost always once its working set was a little
/// larger than the bound, and every miss kept a fresh copy alive until the next start (garbage-collector work).
/// </remarks>
internal sealed class ValueMemo<TKey, TValue>(int maxChars) where TKey : notnull
{
    private Dictionary<TKey, (TValue Value, int Chars)> _current = [], _previous = [];
    private int _chars;
    // In front of the tables, one slot per hash bucket: the values that come back on nearly every request (static
    // path segments, the common queries) are answered from a few cache lines instead of a table of tens of
    // thousands of entries.
    private readonly (TKey Key, TValue Value, bool Set)[] _front = new (TKey, TValue, bool)[FrontSlots];
    private const int FrontSlots = 256;

    public bool TryGet(TKey key, out TValue value)
    {
        ref var f = ref _front[key.GetHashCode() & (FrontSlots - 1)];
        if (f.Set && EqualityComparer<TKey>.Default.Equals(f.Key, key)) { value = f.Value; return true; }
        if (_current.TryGetValue(key, out var e)) { value = e.Value; f = (key, value, true); return true; }
        if (_previous.Count > 0 && _previous.Remove(key, out e))
        {
            Put(key, e);
            value = e.Value;
            f = (key, value, true);
            return true;
        }
        value = default!;
        return false;
    }

    public void Add(TKey key, TValue value, int chars)
    {
        chars += 32;   // the entry itself
        if (chars > maxChars / 16) return;   // a huge value is not worth remembering
        Put(key, (value, chars));
    }

    private void Put(TKey key, (TValue Value, int Chars) e)
    {
        if (_chars + e.Chars > maxChars / 2)
        {
            (_previous, _current) = (_current, _previous);
            _current.Clear();
            _chars = 0;
        }
        if (_current.TryAdd(key, e)) _chars += e.Chars;
    }
}

/// <summary>
/// A decision about a lowered header name, remembered per thread (keep one in a [ThreadStatic] field). Lowered
/// names come from a per-thread table (<see cref="Sensor.Http.HeaderNames.Lower"/>), so the same name is the same
/// string: it is looked up by reference, without hashing its characters. Bounded: names past the bound, as
/// hostile traffic can invent, are decided again each time.
/// </summary>
internal sealed class HeaderNameMemo<T>(Func<string, T> decide)
{
    private readonly Dictionary<string, T> _known = new(ReferenceEqualityComparer.Instance);
    // In front of the table: one slot per identity-hash bucket, as most lookups are for the same dozen names.
    private readonly (string? Name, T Decision)[] _recent = new (string?, T)[256];

    // Decisions by name id (HeaderNames.MaxIds): an array read, without touching the name.
    private readonly (T Decision, bool Set)[] _byId = new (T, bool)[Sensor.Http.HeaderNames.MaxIds];

    /// <summary>The decision for field <paramref name="i"/> of a message.</summary>
    public T At(Sensor.Http.HttpHead head, int i)
    {
        int id = head.NameIdAt(i);   // 1 … MaxIds - 1, or 0 for a name past the bound
        if (id == 0) return Of(head.LowerNameAt(i));
        ref var e = ref _byId[id];
        if (!e.Set) e = (Of(head.LowerNameAt(i)), true);
        return e.Decision;
    }

    public T Of(string lower)
    {
        ref var r = ref _recent[System.Runtime.CompilerServices.RuntimeHelpers.GetHashCode(lower) & 255];
        if (ReferenceEquals(r.Name, lower)) return r.Decision;
        if (!_known.TryGetValue(lower, out var d))
        {
            d = decide(lower);
            if (_known.Count < 4096) _known[lower] = d;
        }
        r = (lower, d);
        return d;
    }
}
