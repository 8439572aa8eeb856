namespace Sensor.Core;

/// <summary>
/// Innermost IP/TCP 4-tuple in canonical order (lower endpoint first), so both directions of a
/// connection find the same table entry. Whether a packet travels A→B is given separately.
/// </summary>
public readonly struct FlowKey : IEquatable<FlowKey>
{
    public readonly IpAddr AddrA, AddrB;
    public readonly ushort PortA, PortB;

    private FlowKey(IpAddr a, ushort pa, IpAddr b, ushort pb) { AddrA = a; PortA = pa; AddrB = b; PortB = pb; }

    /// <summary>Canonical key for a packet src→dst; <paramref name="fromA"/> tells whether src is endpoint A.</summary>
    public static FlowKey Create(IpAddr src, ushort sport, IpAddr dst, ushort dport, out bool fromA)
    {
        int c = src.CompareTo(dst);
        fromA = c < 0 || (c == 0 && sport <= dport);
        return fromA ? new FlowKey(src, sport, dst, dport) : new FlowKey(dst, dport, src, sport);
    }

    public bool Equals(FlowKey o) => PortA == o.PortA && PortB == o.PortB && AddrA.Equals(o.AddrA) && AddrB.Equals(o.AddrB);
    public override bool Equals(object? obj) => obj is FlowKey o && Equals(o);
    public override int GetHashCode() => HashCode.Combine(AddrA.Lo, AddrA.Hi, AddrB.Lo, AddrB.Hi, PortA, PortB);

    /// <summary>Stable across processes (unlike GetHashCode), so a flow always lands on the same worker.</summary>
    public uint ShardHash()
    {
        ulong h = 14695981039346656037UL;
        static ulong Mix(ulong h, ulong v) { h ^= v; h *= 1099511628211UL; return h ^ (h >> 29); }
        h = Mix(h, AddrA.Hi); h = Mix(h, AddrA.Lo); h = Mix(h, AddrB.Hi); h = Mix(h, AddrB.Lo);
        h = Mix(h, ((ulong)PortA << 16) | PortB);
        // Full avalanche (murmur3 fmix64): Linux hands out even client ports, so without it the low
        // bits (which pick the worker) would hardly vary and one worker would get every flow.
        h ^= h >> 33; h *= 0xff51afd7ed558ccdUL;
        h ^= h >> 33; h *= 0xc4ceb9fe1a85ec53UL;
        h ^= h >> 33;
        return (uint)h;
    }

    public override string ToString() => $"{AddrA.WithPort(PortA)}-{AddrB.WithPort(PortB)}";
}
