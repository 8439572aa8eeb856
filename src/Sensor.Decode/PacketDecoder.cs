using System.Buffers.Binary;
using Sensor.Core;

namespace Sensor.Decode;

/// <summary>
/// Peels link layers and tunnels down to the innermost TCP segment, straight from the frame bytes
/// (no per-packet objects). One method per layer, dispatching on the next protocol, like Zeek's
/// packet analyzers; anything odd is counted under "decode" rather than thrown.
/// Layers: Ethernet, Linux SLL/SLL2, raw IP, BSD null/loop; 802.1Q/QinQ, MPLS, PPPoE; GRE (incl. ERSPAN
/// I/II/III and transparent Ethernet), VXLAN, Geneve, IP-in-IP; IPv4/IPv6 with extension headers and fragments.
/// Not thread-safe: one decoder per decoding thread (it owns the fragment table).
/// </summary>
public sealed class PacketDecoder
{
    public const int MaxDepth = 8;   // nested encapsulations; deeper is treated as hostile
    public int VxlanPort { get; init; } = 4789;
    /// <summary>The Linux kernel's historical VXLAN port, still its default for many setups.</summary>
    public int VxlanLinuxPort { get; init; } = 8472;
    public int VxlanGpePort { get; init; } = 4790;
    public int GenevePort { get; init; } = 6081;

    private readonly FragmentTable _frags;
    private readonly Counter _frames, _tcp, _notTcp, _malformed, _unsupported, _truncated, _tooDeep, _tunnelled;
    private long _now;

    public PacketDecoder(CounterRegistry counters, FragmentTable.Limits? fragLimits = null)
    {
        _frags = new FragmentTable(counters, fragLimits);
        _frames = counters.Create("decode", "frames", "frames decoded");
        _tcp = counters.Create("decode", "tcp_segments", "TCP segments extracted");
        _notTcp = counters.Create("decode", "not_tcp", "frames carrying something other than TCP");
        _malformed = counters.Create("decode", "malformed", "frames with inconsistent or cut-short headers");
        _unsupported = counters.Create("decode", "unsupported", "frames of a link type or ethertype not decoded");
        _truncated = counters.Create("decode", "snaplen_truncated", "TCP segments whose payload was cut by the capture length");
        _tooDeep = counters.Create("decode", "encapsulation_too_deep", "frames nested deeper than the encapsulation limit");
        _tunnelled = counters.Create("decode", "tunnelled", "TCP segments found inside a tunnel or label stack");
    }

    public FragmentTable Fragments => _frags;

    public DecodeResult Decode(ReadOnlySpan<byte> frame, int linkType, long ts, ref TcpPacket pkt)
    {
        _frames.Inc();
        _now = ts;
        pkt = default;
        var r = DecodeLink(frame, linkType, ref pkt);
        switch (r)
        {
            case DecodeResult.Tcp:
                _tcp.Inc();
                if (pkt.MissingBytes > 0) _truncated.Inc();
                if (pkt.TunnelDepth > 0) _tunnelled.Inc();
                break;
            case DecodeResult.NotTcp: _notTcp.Inc(); break;
            case DecodeResult.Malformed: _malformed.Inc(); break;
            case DecodeResult.UnsupportedLink: _unsupported.Inc(); break;
        }
        return r;
    }

    public void Sweep(long now) => _frags.Sweep(now);

    private DecodeResult DecodeLink(ReadOnlySpan<byte> f, int linkType, ref TcpPacket pkt)
    {
        switch (linkType)
        {
            case LinkTypes.Ethernet: return Ethernet(f, ref pkt, 0);
            case LinkTypes.Raw:
            case LinkTypes.RawOpenBsd:
            case LinkTypes.RawBsdOs:
                return IpByVersion(f, ref pkt, 0);
            case LinkTypes.IPv4: return IPv4(f, ref pkt, 0);
            case LinkTypes.IPv6: return IPv6(f, ref pkt, 0);
            case LinkTypes.Null:
            case LinkTypes.Loop:
                {
                    if (f.Length < 4) return DecodeResult.Malformed;
                    // DLT_NULL stores the family in the writer's byte order; accept either order.
                    uint af = BinaryPrimitives.ReadUInt32LittleEndian(f);
                    if (af > 0xFFFF) af = BinaryPrimitives.ReadUInt32BigEndian(f);
                    return af switch
                    {
                        2 => IPv4(f[4..], ref pkt, 0),
                        10 or 24 or 28 or 30 => IPv6(f[4..], ref pkt, 0),
                        _ => DecodeResult.UnsupportedLink,
                    };
                }
            case LinkTypes.LinuxSll:
                if (f.Length < 16) return DecodeResult.Malformed;
                return EtherType(BinaryPrimitives.ReadUInt16BigEndian(f[14..]), f[16..], ref pkt, 0);
            case LinkTypes.LinuxSll2:
                if (f.Length < 20) return DecodeResult.Malformed;
                return EtherType(BinaryPrimitives.ReadUInt16BigEndian(f), f[20..], ref pkt, 0);
            default:
                return DecodeResult.UnsupportedLink;
        }
    }

    private DecodeResult Ethernet(ReadOnlySpan<byte> f, ref TcpPacket pkt, int depth)
    {
        if (f.Length < 14) return DecodeResult.Malformed;
        return EtherType(BinaryPrimitives.ReadUInt16BigEndian(f[12..]), f[14..], ref pkt, depth);
    }

    private DecodeResult EtherType(ushort type, ReadOnlySpan<byte> p, ref TcpPacket pkt, int depth)
    {
        while (true)
        {
            switch (type)
            {
                case 0x0800: return IPv4(p, ref pkt, depth);
                case 0x86DD: return IPv6(p, ref pkt, depth);
                case 0x8100: case 0x88A8: case 0x9100: case 0x9200: // 802.1Q, 802.1ad (QinQ), legacy QinQ
                    if (p.Length < 4) return DecodeResult.Malformed;
                    type = BinaryPrimitives.ReadUInt16BigEndian(p[2..]);
                    p = p[4..];
                    if (++depth > MaxDepth) return TooDeep();
                    continue;
                case 0x8847: case 0x8848:
                    return Mpls(p, ref pkt, depth + 1);
                case 0x8864: // PPPoE session: 6-byte header, then PPP protocol
                    {
                        if (p.Length < 8) return DecodeResult.Malformed;
                        int len = BinaryPrimitives.ReadUInt16BigEndian(p[4..]);
                        var ppp = p.Slice(6, Math.Min(len, p.Length - 6));
                        return Ppp(ppp, ref pkt, depth + 1);
                    }
                default:
                    return type < 0x0600 ? DecodeResult.NotTcp /* 802.3 length + LLC */ : DecodeResult.NotTcp;
            }
        }
    }

    private DecodeResult Ppp(ReadOnlySpan<byte> p, ref TcpPacket pkt, int depth)
    {
        if (p.Length >= 2 && p[0] == 0xFF && p[1] == 0x03) p = p[2..];   // HDLC address/control, when not compressed away
        if (p.Length < 1) return DecodeResult.Malformed;
        // Protocol-field compression (RFC 1661): an odd first byte is a one-byte protocol number.
        int proto, hl;
        if ((p[0] & 1) != 0) { proto = p[0]; hl = 1; }
        else
        {
            if (p.Length < 2) return DecodeResult.Malformed;
            proto = BinaryPrimitives.ReadUInt16BigEndian(p); hl = 2;
        }
        return proto switch
        {
            0x21 => IPv4(p[hl..], ref pkt, depth),
            0x57 => IPv6(p[hl..], ref pkt, depth),
            _ => DecodeResult.NotTcp,
        };
    }

    private DecodeResult Mpls(ReadOnlySpan<byte> p, ref TcpPacket pkt, int depth)
    {
        for (int labels = 0; ; labels++)
        {
            if (p.Length < 4) return DecodeResult.Malformed;
            bool bottom = (p[2] & 1) != 0;
            p = p[4..];
            if (bottom) break;
            if (labels > 16) return TooDeep();
        }
        if (p.Length < 1) return DecodeResult.Malformed;
        return (p[0] >> 4) switch
        {
            4 => IPv4(p, ref pkt, depth),
            6 => IPv6(p, ref pkt, depth),
            0 when p.Length >= 4 => Ethernet(p[4..], ref pkt, depth + 1), // pseudowire control word + Ethernet
            _ => DecodeResult.NotTcp,
        };
    }

    private DecodeResult IpByVersion(ReadOnlySpan<byte> p, ref TcpPacket pkt, int depth)
    {
        if (p.Length < 1) return DecodeResult.Malformed;
        return (p[0] >> 4) switch
        {
            4 => IPv4(p, ref pkt, depth),
            6 => IPv6(p, ref pkt, depth),
            _ => DecodeResult.Malformed,
        };
    }

    private DecodeResult IPv4(ReadOnlySpan<byte> p, ref TcpPacket pkt, int depth)
    {
        if (depth > MaxDepth) return TooDeep();
        if (p.Length < 20 || p[0] >> 4 != 4) return DecodeResult.Malformed;
        int ihl = (p[0] & 0xF) * 4;
        if (ihl < 20 || ihl > p.Length) return DecodeResult.Malformed;
        int total = BinaryPrimitives.ReadUInt16BigEndian(p[2..]);
        int missing = 0;
        if (total == 0) total = p.Length;              // TSO/offloaded captures report 0
        if (total < ihl) return DecodeResult.Malformed;
        if (total > p.Length) { missing = total - p.Length; total = p.Length; }
        var src = IpAddr.V4(p[12..]);
        var dst = IpAddr.V4(p[16..]);
        byte proto = p[9];
        ushort fragField = BinaryPrimitives.ReadUInt16BigEndian(p[6..]);
        bool more = (fragField & 0x2000) != 0;
        int fragOffset = (fragField & 0x1FFF) * 8;
        var payload = p[ihl..total];
        if (more || fragOffset != 0)
        {
            if (missing > 0) return DecodeResult.Malformed; // a cut fragment cannot be reassembled
            uint id = BinaryPrimitives.ReadUInt16BigEndian(p[4..]);
            if (!_frags.Add(src, dst, id, proto, fragOffset, more, payload, _now, out var whole, out _))
                return DecodeResult.FragmentHeld;
            return Transport(proto, src, dst, whole, 0, ref pkt, depth);
        }
        return Transport(proto, src, dst, payload, missing, ref pkt, depth);
    }

    private DecodeResult IPv6(ReadOnlySpan<byte> p, ref TcpPacket pkt, int depth)
    {
        if (depth > MaxDepth) return TooDeep();
        if (p.Length < 40 || p[0] >> 4 != 6) return DecodeResult.Malformed;
        int plen = BinaryPrimitives.ReadUInt16BigEndian(p[4..]);
        int missing = 0;
        if (plen == 0) plen = p.Length - 40;           // jumbogram or offloaded capture
        if (40 + plen > p.Length) { missing = 40 + plen - p.Length; plen = p.Length - 40; }
        var src = IpAddr.V6(p[8..]);
        var dst = IpAddr.V6(p[24..]);
        byte next = p[6];
        var rest = p.Slice(40, plen);
        for (int hops = 0; hops < 16; hops++)
        {
            switch (next)
            {
                case 0: case 43: case 60: case 135: case 139: case 140: // hop-by-hop, routing, dest opts, mobility, HIP, shim6
                    {
                        if (rest.Length < 8) return DecodeResult.Malformed;
                        int len = (rest[1] + 1) * 8;
                        if (len > rest.Length) return DecodeResult.Malformed;
                        next = rest[0];
                        rest = rest[len..];
                        continue;
                    }
                case 51: // AH: length in 4-byte units minus 2
                    {
                        if (rest.Length < 8) return DecodeResult.Malformed;
                        int len = (rest[1] + 2) * 4;
                        if (len > rest.Length) return DecodeResult.Malformed;
                        next = rest[0];
                        rest = rest[len..];
                        continue;
                    }
                case 44: // fragment
                    {
                        if (rest.Length < 8) return DecodeResult.Malformed;
                        if (missing > 0) return DecodeResult.Malformed;
                        byte fnext = rest[0];
                        ushort fo = BinaryPrimitives.ReadUInt16BigEndian(rest[2..]);
                        uint id = BinaryPrimitives.ReadUInt32BigEndian(rest[4..]);
                        int off = (fo >> 3) * 8;
                        bool more = (fo & 1) != 0;
                        if (off == 0 && !more) { next = fnext; rest = rest[8..]; continue; } // atomic fragment
                        if (!_frags.Add(src, dst, id, fnext, off, more, rest[8..], _now, out var whole, out var proto))
                            return DecodeResult.FragmentHeld;
                        return Transport(proto, src, dst, whole, 0, ref pkt, depth);
                    }
                case 59: return DecodeResult.NotTcp;
                default:
                    return Transport(next, src, dst, rest, missing, ref pkt, depth);
            }
        }
        return DecodeResult.Malformed;
    }

    private DecodeResult Transport(byte proto, IpAddr src, IpAddr dst, ReadOnlySpan<byte> p, int missing, ref TcpPacket pkt, int depth)
    {
        switch (proto)
        {
            case 6: return Tcp(src, dst, p, missing, ref pkt, depth);
            case 4: return IPv4(p, ref pkt, depth + 1);     // IP-in-IP
            case 41: return IPv6(p, ref pkt, depth + 1);    // IPv6-in-IP
            case 47: return Gre(p, ref pkt, depth + 1);
            case 17: return Udp(p, ref pkt, depth);
            default: return DecodeResult.NotTcp;
        }
    }

    private DecodeResult Tcp(IpAddr src, IpAddr dst, ReadOnlySpan<byte> p, int missing, ref TcpPacket pkt, int depth)
    {
        if (p.Length < 20) return DecodeResult.Malformed;
        int off = (p[12] >> 4) * 4;
        if (off < 20 || off > p.Length) return DecodeResult.Malformed;
        pkt.Src = src; pkt.Dst = dst;
        pkt.SrcPort = BinaryPrimitives.ReadUInt16BigEndian(p);
        pkt.DstPort = BinaryPrimitives.ReadUInt16BigEndian(p[2..]);
        pkt.Seq = BinaryPrimitives.ReadUInt32BigEndian(p[4..]);
        pkt.Ack = BinaryPrimitives.ReadUInt32BigEndian(p[8..]);
        pkt.Flags = (TcpFlags)p[13];
        pkt.Window = BinaryPrimitives.ReadUInt16BigEndian(p[14..]);
        pkt.Payload = p[off..];
        pkt.MissingBytes = missing;
        pkt.TunnelDepth = depth;
        return DecodeResult.Tcp;
    }

    private DecodeResult Udp(ReadOnlySpan<byte> p, ref TcpPacket pkt, int depth)
    {
        if (p.Length < 8) return DecodeResult.Malformed;
        int dport = BinaryPrimitives.ReadUInt16BigEndian(p[2..]);
        int len = BinaryPrimitives.ReadUInt16BigEndian(p[4..]);
        var data = len >= 8 && len <= p.Length ? p[8..len] : p[8..];
        if (dport == VxlanPort || dport == VxlanLinuxPort)
        {
            if (data.Length < 8) return DecodeResult.Malformed;
            return Ethernet(data[8..], ref pkt, depth + 1);
        }
        if (dport == VxlanGpePort)
        {
            // VXLAN-GPE: the P flag says byte 3 names the payload (1 IPv4, 2 IPv6, 3 Ethernet); without it, Ethernet.
            if (data.Length < 8) return DecodeResult.Malformed;
            bool hasNext = (data[0] & 0x04) != 0;
            return (hasNext ? data[3] : 3) switch
            {
                1 => IPv4(data[8..], ref pkt, depth + 1),
                2 => IPv6(data[8..], ref pkt, depth + 1),
                3 => Ethernet(data[8..], ref pkt, depth + 1),
                _ => DecodeResult.NotTcp,
            };
        }
        if (dport == GenevePort)
        {
            if (data.Length < 8) return DecodeResult.Malformed;
            int optLen = (data[0] & 0x3F) * 4;
            ushort proto = BinaryPrimitives.ReadUInt16BigEndian(data[2..]);
            if (8 + optLen > data.Length) return DecodeResult.Malformed;
            var inner = data[(8 + optLen)..];
            return proto == 0x6558 ? Ethernet(inner, ref pkt, depth + 1) : EtherType(proto, inner, ref pkt, depth + 1);
        }
        return DecodeResult.NotTcp;
    }

    private DecodeResult Gre(ReadOnlySpan<byte> p, ref TcpPacket pkt, int depth)
    {
        if (depth > MaxDepth) return TooDeep();
        if (p.Length < 4) return DecodeResult.Malformed;
        ushort flags = BinaryPrimitives.ReadUInt16BigEndian(p);
        ushort proto = BinaryPrimitives.ReadUInt16BigEndian(p[2..]);
        int version = flags & 7;
        int hl = 4;
        if ((flags & 0x8000) != 0 || (flags & 0x4000) != 0) hl += 4;   // checksum (+reserved), or routing present
        if ((flags & 0x2000) != 0) hl += 4;                            // key
        bool seq = (flags & 0x1000) != 0;
        if (seq) hl += 4;
        if (version == 1 && (flags & 0x0080) != 0) hl += 4;            // PPTP enhanced GRE acknowledgment
        if (hl > p.Length) return DecodeResult.Malformed;
        var inner = p[hl..];
        switch (proto)
        {
            case 0x6558: return Ethernet(inner, ref pkt, depth);        // transparent Ethernet bridging
            case 0x88BE:                                                  // ERSPAN type II (type I has no sequence bit and no header)
                if (!seq) return Ethernet(inner, ref pkt, depth);
                if (inner.Length < 8) return DecodeResult.Malformed;
                return Ethernet(inner[8..], ref pkt, depth);
            case 0x22EB:                                                  // ERSPAN type III
                {
                    if (inner.Length < 12) return DecodeResult.Malformed;
                    bool optional = (inner[11] & 1) != 0;
                    int frameType = (inner[10] >> 1) & 0x1F;
                    int h = 12 + (optional ? 8 : 0);
                    if (h > inner.Length) return DecodeResult.Malformed;
                    return frameType == 2 ? IpByVersion(inner[h..], ref pkt, depth) : Ethernet(inner[h..], ref pkt, depth);
                }
            case 0x880B: return Ppp(inner, ref pkt, depth);               // PPTP
            default: return EtherType(proto, inner, ref pkt, depth);
        }
    }

    private DecodeResult TooDeep() { _tooDeep.Inc(); return DecodeResult.Malformed; }

    /// <summary>End of input: incomplete fragment sets are counted and released.</summary>
    public void Finish() => _frags.Clear();
}
