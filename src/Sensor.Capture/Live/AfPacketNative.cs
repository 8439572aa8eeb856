using System.Runtime.InteropServices;

namespace Sensor.Capture.Live;

/// <summary>libsensor_afpacket (native/afpacket): TPACKET_V3 rings with fanout. Negative results are -errno.</summary>
internal static unsafe partial class AfPacketNative
{
    private const string Lib = "sensor_afpacket";
    /// <summary>Must equal SENSOR_AFP_ABI_VERSION of the library found at run time.</summary>
    public const int ExpectedAbi = 1;

    [LibraryImport(Lib, EntryPoint = "sensor_afp_abi_version")]
    public static partial int AbiVersion();

    [LibraryImport(Lib, EntryPoint = "sensor_afp_iface_type", StringMarshalling = StringMarshalling.Utf8)]
    public static partial int IfaceType(string ifname);

    [LibraryImport(Lib, EntryPoint = "sensor_afp_open", StringMarshalling = StringMarshalling.Utf8)]
    public static partial int Open(string ifname, uint blockSize, uint blockCount, uint frameSize, uint retireTovMs,
        int promisc, SockFilter* filter, uint filterLen, out nint handle);

    [LibraryImport(Lib, EntryPoint = "sensor_afp_join_fanout")]
    public static partial int JoinFanout(nint handle, int groupId);

    [LibraryImport(Lib, EntryPoint = "sensor_afp_next_block")]
    public static partial int NextBlock(nint handle, int timeoutMs, out BlockDesc* block);

    [LibraryImport(Lib, EntryPoint = "sensor_afp_release_block")]
    public static partial void ReleaseBlock(nint handle);

    [LibraryImport(Lib, EntryPoint = "sensor_afp_stats")]
    public static partial int Stats(nint handle, out uint packets, out uint drops, out uint freezes);

    [LibraryImport(Lib, EntryPoint = "sensor_afp_close")]
    public static partial void Close(nint handle);

    public static string Describe(int negErrno) => $"{Marshal.GetPInvokeErrorMessage(-negErrno)} (errno {-negErrno})";

    public const int EPERM = 1, EACCES = 13, ENODEV = 19, ENETDOWN = 100;

    // linux/if_arp.h
    public const int ArphrdEther = 1, ArphrdLoopback = 772, ArphrdRawIp = 519, ArphrdNone = 0xFFFE;
    // linux/if_packet.h
    public const uint TpStatusUser = 1, TpStatusVlanValid = 1 << 4, TpStatusVlanTpidValid = 1 << 6;
    /// <summary>struct sockaddr_ll follows the tpacket3_hdr at TPACKET_ALIGN(sizeof(tpacket3_hdr)); sll_pkttype is its byte 10.</summary>
    public const int SllOffset = 48, SllPktType = 10;
    public const byte PacketOutgoing = 4;

    /// <summary>struct sock_filter, identical in layout to libpcap's struct bpf_insn.</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct SockFilter { public ushort Code; public byte Jt, Jf; public uint K; }

    /// <summary>struct tpacket_block_desc with its tpacket_hdr_v1 (timestamps of the block left out).</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct BlockDesc
    {
        public uint Version, OffsetToPriv;
        public uint BlockStatus, NumPkts, OffsetToFirstPkt, BlkLen;
        public ulong SeqNum;
    }

    /// <summary>struct tpacket3_hdr with the hv1 variant (rxhash, VLAN).</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct Tpacket3Hdr
    {
        public uint NextOffset, Sec, Nsec, Snaplen, Len, Status;
        public ushort Mac, Net;
        public uint RxHash, VlanTci;
        public ushort VlanTpid, Padding;
    }

    /// <summary>libpcap, only to compile tcpdump filter expressions into classic BPF.</summary>
    public static partial class Pcap
    {
        public const string Lib = "libpcap.so.0.8";
        public const uint NetmaskUnknown = 0xffffffff;
        public const int DltEn10Mb = 1, DltRaw = 12;    // DLT values (not LINKTYPE_): raw IP is DLT_RAW on Linux

        [StructLayout(LayoutKind.Sequential)]
        public struct BpfProgram { public uint Len; public SockFilter* Insns; }

        [LibraryImport(Lib, EntryPoint = "pcap_open_dead")]
        public static partial nint OpenDead(int linkType, int snapLen);

        [LibraryImport(Lib, EntryPoint = "pcap_compile", StringMarshalling = StringMarshalling.Utf8)]
        public static partial int Compile(nint p, BpfProgram* prog, string filter, int optimize, uint netmask);

        [LibraryImport(Lib, EntryPoint = "pcap_geterr")]
        public static partial nint GetErr(nint p);

        [LibraryImport(Lib, EntryPoint = "pcap_freecode")]
        public static partial void FreeCode(BpfProgram* prog);

        [LibraryImport(Lib, EntryPoint = "pcap_close")]
        public static partial void Close(nint p);
    }
}
