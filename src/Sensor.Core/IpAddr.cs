using System.Buffers.Binary;
using System.Net;

namespace Sensor.Core;

/// <summary>An IPv4 or IPv6 address as two longs: compact, hashable, no allocation on the packet path.</summary>
public readonly struct IpAddr : IEquatable<IpAddr>, IComparable<IpAddr>
{
    public readonly ulong Hi;
    public readonly ulong Lo;
    public readonly bool IsV6;

    public IpAddr(ulong hi, ulong lo, bool isV6) { Hi = hi; Lo = lo; IsV6 = isV6; }

    public static IpAddr V4(ReadOnlySpan<byte> b) => new(0, BinaryPrimitives.ReadUInt32BigEndian(b), false);
    public static IpAddr V6(ReadOnlySpan<byte> b) =>
        new(BinaryPrimitives.ReadUInt64BigEndian(b), BinaryPrimitives.ReadUInt64BigEndian(b[8..]), true);

    public static IpAddr Parse(string s)
    {
        var ip = IPAddress.Parse(s.Trim('[', ']'));
        var bytes = ip.GetAddressBytes();
        return bytes.Length == 4 ? V4(bytes) : V6(bytes);
    }

    public bool Equals(IpAddr o) => Hi == o.Hi && Lo == o.Lo && IsV6 == o.IsV6;
    public override bool Equals(object? obj) => obj is IpAddr o && Equals(o);
    public override int GetHashCode() => HashCode.Combine(Hi, Lo, IsV6);
    public int CompareTo(IpAddr o)
    {
        int c = IsV6.CompareTo(o.IsV6);
        if (c != 0) return c;
        c = Hi.CompareTo(o.Hi);
        return c != 0 ? c : Lo.CompareTo(o.Lo);
    }
    public static bool operator ==(IpAddr a, IpAddr b) => a.Equals(b);
    public static bool operator !=(IpAddr a, IpAddr b) => !a.Equals(b);

    public override string ToString()
    {
        if (!IsV6)
        {
            uint v = (uint)Lo;
            return $"{v >> 24}.{(v >> 16) & 0xff}.{(v >> 8) & 0xff}.{v & 0xff}";
        }
        Span<byte> b = stackalloc byte[16];
        BinaryPrimitives.WriteUInt64BigEndian(b, Hi);
        BinaryPrimitives.WriteUInt64BigEndian(b[8..], Lo);
        return new IPAddress(b).ToString();
    }

    /// <summary>"ip:port", IPv6 in brackets, as used in the conn column.</summary>
    public string WithPort(ushort port) => IsV6 ? $"[{this}]:{port}" : $"{this}:{port}";
}
