using Sensor.Core;

namespace Sensor.Decode;

[Flags]
public enum TcpFlags : byte { None = 0, Fin = 1, Syn = 2, Rst = 4, Psh = 8, Ack = 16, Urg = 32, Ece = 64, Cwr = 128 }

/// <summary>
/// The innermost TCP segment of a frame. <see cref="Payload"/> points into the frame or into the
/// decoder's reassembly buffer and is valid until the next Decode call.
/// </summary>
public ref struct TcpPacket
{
    public IpAddr Src, Dst;
    public ushort SrcPort, DstPort;
    public uint Seq, Ack;
    public TcpFlags Flags;
    public ushort Window;
    public ReadOnlySpan<byte> Payload;
    /// <summary>Payload bytes the IP header announces but the capture cut off (snaplen).</summary>
    public int MissingBytes;
    /// <summary>Encapsulation layers peeled off (VLAN, MPLS, GRE, VXLAN, ...).</summary>
    public int TunnelDepth;
}

public enum DecodeResult
{
    Tcp,
    NotTcp,          // valid frame, other protocol (UDP that is not a tunnel, ICMP, ARP, ...)
    FragmentHeld,    // an IP fragment waiting for the rest of its datagram
    Malformed,       // headers inconsistent or cut short
    UnsupportedLink, // link type or ethertype we do not decode
}
