namespace Sensor.Decode;

/// <summary>pcap LINKTYPE_ values the decoder understands.</summary>
public static class LinkTypes
{
    public const int Null = 0;          // BSD loopback, address family in host byte order
    public const int Ethernet = 1;
    public const int RawOpenBsd = 12;   // DLT_RAW on some systems
    public const int RawBsdOs = 14;
    public const int Raw = 101;
    public const int Loop = 108;        // OpenBSD loopback, address family in network byte order
    public const int LinuxSll = 113;
    public const int IPv4 = 228;
    public const int IPv6 = 229;
    public const int LinuxSll2 = 276;
}
