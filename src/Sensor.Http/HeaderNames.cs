using System.Buffers.Binary;

namespace Sensor.Http;

/// <summary>Lower-case header names, worked out once per thread: the same few names come on every message.</summary>
public static class HeaderNames
{
    [ThreadStatic] private static Dictionary<string, string>? t_lower;
    [ThreadStatic] private static Slot[]? t_slots;

    private struct Slot
    {
        public byte[]? Raw;
        public string Lower;
    }

    public static string Lower(string name)
    {
        var d = t_lower ??= new(StringComparer.Ordinal);
        if (d.TryGetValue(name, out var l)) return l;
        l = name.ToLowerInvariant();
        if (d.Count < 4096) d[name] = l;   // bounded: arbitrary names from hostile traffic are lowered, not kept
        return l;
    }

    /// <summary>
    /// The lowered name of a field name as sent, the same string as <see cref="Lower(string)"/> gives on this
    /// thread. Asked for every field of every message: a small two-way cache keyed by the bytes answers without
    /// decoding or hashing the characters; other names take the string path.
    /// </summary>
    public static string Lower(ReadOnlySpan<byte> raw)
    {
        var slots = t_slots ??= new Slot[512];
        int i = Bucket(raw);
        ref var a = ref slots[i];
        if (a.Raw != null && raw.SequenceEqual(a.Raw)) return a.Lower;
        ref var b = ref slots[i + 1];
        if (b.Raw != null && raw.SequenceEqual(b.Raw)) return b.Lower;
        var lower = Lower(HttpHeadParser.Name(raw));
        if (raw.Length <= 64)
        {
            // The older of the two makes room: the first slot's entry moves to the second.
            b = a;
            a = new Slot { Raw = raw.ToArray(), Lower = lower };
        }
        return lower;
    }

    /// <summary>An even slot index from the length and the first and last bytes (names differ there, and it costs no loop).</summary>
    private static int Bucket(ReadOnlySpan<byte> raw)
    {
        ulong h = (ulong)raw.Length * 0x9E3779B97F4A7C15;
        if (raw.Length >= 8)
        {
            h ^= BinaryPrimitives.ReadUInt64LittleEndian(raw);
            h *= 0xC2B2AE3D27D4EB4F;
            h ^= BinaryPrimitives.ReadUInt64LittleEndian(raw[^8..]);
        }
        else
            foreach (var c in raw) h = (h ^ c) * 0x100000001B3;
        h *= 0x9E3779B97F4A7C15;
        return (int)(h >> 56) & 0xFE;   // 0..254, even: the pair (i, i + 1) is the bucket
    }
}
