namespace Sensor.Http;

/// <summary>Lower-case header names, worked out once per thread: the same few names come on every message.</summary>
public static class HeaderNames
{
    [ThreadStatic] private static Dictionary<string, string>? t_lower;
    [ThreadStatic] private static Slot[]? t_slots;

    /// <summary>
    /// A name as sent, held inline (up to <see cref="InlineBytes"/> bytes, zero-padded) with its lowered form and id:
    /// one slot is one cache line, so a lookup compares a few words without following a pointer to the bytes.
    /// </summary>
    private struct Slot
    {
        public Words Raw;
        public int Length, Id;
        public string? Lower;
    }

    [System.Runtime.CompilerServices.InlineArray(InlineBytes / 8)]
    private struct Words { private ulong _w; }

    private const int InlineBytes = 40;

    /// <summary>
    /// Small dense ids of lowered names, the same on every thread (1, 2, …; 0 past <see cref="MaxIds"/>): analyzers
    /// keep what they decided about a name in an array indexed by it, so a field's decision costs neither hashing
    /// nor a look at the name's characters. Bounded: invented names beyond the bound get 0 and are decided by name.
    /// </summary>
    public const int MaxIds = 1024;
    private static readonly Dictionary<string, int> s_ids = new(StringComparer.Ordinal);

    private static int IdOf(string lower)
    {
        lock (s_ids)
        {
            if (s_ids.TryGetValue(lower, out int id)) return id;
            if (s_ids.Count >= MaxIds - 1) return 0;
            s_ids[lower] = id = s_ids.Count + 1;
            return id;
        }
    }

    public static string Lower(string name)
    {
        var d = t_lower ??= new(StringComparer.Ordinal);
        if (d.TryGetValue(name, out var l)) return l;
        l = name.ToLowerInvariant();
        // One string per lowered name, whatever the case it was sent in (X-Id and x-id): analyzers compare by reference.
        if (!ReferenceEquals(l, name) && d.TryGetValue(l, out var same)) l = same;
        if (d.Count < 4096)   // bounded: arbitrary names from hostile traffic are lowered, not kept
        {
            d[name] = l;
            d.TryAdd(l, l);
        }
        return l;
    }

    /// <summary>
    /// The lowered name of a field name as sent, the same string as <see cref="Lower(string)"/> gives on this
    /// thread. Asked for every field of every message: a small two-way cache keyed by the bytes answers without
    /// decoding or hashing the characters; other names take the string path.
    /// </summary>
    public static string Lower(ReadOnlySpan<byte> raw) => Lower(t_slots ??= new Slot[512], raw, out _);

    /// <summary>The lowered names of a message's fields, all at once (one look-up of this thread's table for the lot).</summary>
    internal static void LowerAll(byte[] raw, HttpHead.Field[] fields, int count, string?[] names, int[] ids)
    {
        var slots = t_slots ??= new Slot[512];
        for (int k = 0; k < count; k++) names[k] = Lower(slots, raw.AsSpan(fields[k].NameStart, fields[k].NameLength), out ids[k]);
    }

    private static string Lower(Slot[] slots, ReadOnlySpan<byte> raw, out int id)
    {
        id = 0;
        int n = raw.Length;
        if (n > InlineBytes || n == 0) return Lower(HttpHeadParser.Name(raw));   // rare: decided by the string table
        Words w = default;
        int words = Load(raw, ref w);
        int i = Bucket(w, n);
        ref var a = ref slots[i];
        if (a.Length == n && a.Lower != null && Same(a.Raw, w, words)) { id = a.Id; return a.Lower; }
        ref var b = ref slots[i + 1];
        if (b.Length == n && b.Lower != null && Same(b.Raw, w, words)) { id = b.Id; return b.Lower; }
        var lower = Lower(HttpHeadParser.Name(raw));
        // The older of the two makes room: the first slot's entry moves to the second.
        b = a;
        a = new Slot { Raw = w, Length = n, Lower = lower, Id = id = IdOf(lower) };
        return lower;
    }

    /// <summary>The name's bytes into zero-padded words, read a word at a time (names are asked for on every field); the words used.</summary>
    private static int Load(ReadOnlySpan<byte> raw, ref Words w)
    {
        Span<ulong> to = w;
        ref byte from = ref System.Runtime.InteropServices.MemoryMarshal.GetReference(raw);
        int full = raw.Length >> 3;
        for (int k = 0; k < full; k++) to[k] = System.Runtime.CompilerServices.Unsafe.ReadUnaligned<ulong>(ref System.Runtime.CompilerServices.Unsafe.Add(ref from, k * 8));
        int rest = raw.Length & 7;
        if (rest == 0) return full;
        ulong last = 0;
        for (int j = rest - 1; j >= 0; j--) last = last << 8 | raw[full * 8 + j];
        to[full] = last;
        return full + 1;
    }

    // Both are zero-padded past the length, which the caller compared: the words in use decide.
    private static bool Same(in Words a, in Words b, int words)
    {
        ReadOnlySpan<ulong> x = a, y = b;
        for (int k = 0; k < words; k++) if (x[k] != y[k]) return false;
        return true;
    }

    /// <summary>An even slot index from the length and the first and last words.</summary>
    private static int Bucket(in Words w, int length)
    {
        ReadOnlySpan<ulong> x = w;
        ulong h = (ulong)length * 0x9E3779B97F4A7C15;
        h ^= x[0];
        h *= 0xC2B2AE3D27D4EB4F;
        h ^= x[(length - 1) / 8];
        h *= 0x9E3779B97F4A7C15;
        return (int)(h >> 56) & 0xFE;   // 0..254, even: the pair (i, i + 1) is the bucket
    }
}
