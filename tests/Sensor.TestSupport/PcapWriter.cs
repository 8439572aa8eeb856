using System.Buffers.Binary;

namespace Sensor.TestSupport;

/// <summary>Writes classic pcap files: micro- or nanosecond timestamps, either byte order.</summary>
public sealed class PcapWriter : IDisposable
{
    private readonly Stream _s;
    private readonly bool _be, _ns;

    public PcapWriter(Stream s, int linkType = 1, bool bigEndian = false, bool nanoseconds = false, int snapLen = 262144)
    {
        _s = s; _be = bigEndian; _ns = nanoseconds;
        Span<byte> h = stackalloc byte[24];
        U32(h, nanoseconds ? 0xa1b23c4du : 0xa1b2c3d4u);
        U16(h[4..], 2); U16(h[6..], 4);
        U32(h[16..], (uint)snapLen); U32(h[20..], (uint)linkType);
        _s.Write(h);
    }

    private void U32(Span<byte> d, uint v) { if (_be) BinaryPrimitives.WriteUInt32BigEndian(d, v); else BinaryPrimitives.WriteUInt32LittleEndian(d, v); }
    private void U16(Span<byte> d, ushort v) { if (_be) BinaryPrimitives.WriteUInt16BigEndian(d, v); else BinaryPrimitives.WriteUInt16LittleEndian(d, v); }

    /// <summary>Writes a record; ts in seconds since the epoch (fractional).</summary>
    public void Write(double ts, ReadOnlySpan<byte> frame, int? origLen = null, int? inclLenOverride = null)
    {
        Span<byte> h = stackalloc byte[16];
        long sec = (long)ts;
        long frac = (long)Math.Round((ts - sec) * (_ns ? 1e9 : 1e6));
        U32(h, (uint)sec); U32(h[4..], (uint)frac);
        U32(h[8..], (uint)(inclLenOverride ?? frame.Length)); U32(h[12..], (uint)(origLen ?? frame.Length));
        _s.Write(h);
        _s.Write(frame);
    }

    public void Dispose() => _s.Flush();
}

/// <summary>Writes little-endian pcapng with any number of interfaces (own link type and if_tsresol).</summary>
public sealed class PcapngWriter
{
    private readonly Stream _s;
    private readonly List<int> _resolutions = [];

    public PcapngWriter(Stream s)
    {
        _s = s;
        var body = new byte[16];
        BinaryPrimitives.WriteUInt32LittleEndian(body, 0x1A2B3C4D);
        BinaryPrimitives.WriteUInt16LittleEndian(body.AsSpan(4), 1);
        BinaryPrimitives.WriteInt64LittleEndian(body.AsSpan(8), -1);
        Block(0x0A0D0D0A, body);
    }

    /// <summary>Adds an interface; tsresol is the power of ten (6 = µs, 9 = ns). Returns its id.</summary>
    public int AddInterface(int linkType, int tsresol = 6)
    {
        var body = new List<byte>();
        var head = new byte[8];
        BinaryPrimitives.WriteUInt16LittleEndian(head, (ushort)linkType);
        BinaryPrimitives.WriteUInt32LittleEndian(head.AsSpan(4), 262144);
        body.AddRange(head);
        if (tsresol != 6) body.AddRange(new byte[] { 9, 0, 1, 0, (byte)tsresol, 0, 0, 0 });
        body.AddRange(new byte[4]); // opt_endofopt
        Block(1, body.ToArray());
        _resolutions.Add(tsresol);
        return _resolutions.Count - 1;
    }

    public void Write(int iface, double ts, ReadOnlySpan<byte> frame)
    {
        ulong units = (ulong)Math.Round(ts * Math.Pow(10, _resolutions[iface]));
        int padded = (frame.Length + 3) & ~3;
        var body = new byte[20 + padded];
        BinaryPrimitives.WriteUInt32LittleEndian(body, (uint)iface);
        BinaryPrimitives.WriteUInt32LittleEndian(body.AsSpan(4), (uint)(units >> 32));
        BinaryPrimitives.WriteUInt32LittleEndian(body.AsSpan(8), (uint)units);
        BinaryPrimitives.WriteUInt32LittleEndian(body.AsSpan(12), (uint)frame.Length);
        BinaryPrimitives.WriteUInt32LittleEndian(body.AsSpan(16), (uint)frame.Length);
        frame.CopyTo(body.AsSpan(20));
        Block(6, body);
    }

    private void Block(uint type, byte[] body)
    {
        int total = 12 + ((body.Length + 3) & ~3);
        var b = new byte[total];
        BinaryPrimitives.WriteUInt32LittleEndian(b, type);
        BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(4), (uint)total);
        body.CopyTo(b, 8);
        BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(total - 4), (uint)total);
        _s.Write(b);
    }
}
