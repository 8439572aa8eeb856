namespace Sensor.Core;

/// <summary>
/// Packet time as 100 ns ticks since the Unix epoch. All timing logic (idle timeouts, fragment expiry,
/// rates) runs on packet time so a replay behaves the same as the live capture it came from.
/// </summary>
public static class Timestamp
{
    public const long TicksPerSecond = TimeSpan.TicksPerSecond;
    private static readonly long EpochTicks = DateTime.UnixEpoch.Ticks;

    public static long FromUnix(long seconds, long fraction, long fractionPerSecond)
    {
        // fraction may be in µs, ns or a pcapng if_tsresol unit; convert without overflow.
        long ticks = fractionPerSecond == TicksPerSecond ? fraction
            : fractionPerSecond > TicksPerSecond ? fraction / (fractionPerSecond / TicksPerSecond)
            : fraction * (TicksPerSecond / fractionPerSecond);
        return seconds * TicksPerSecond + ticks;
    }

    public static DateTime ToDateTime(long ts)
    {
        long t = ts + EpochTicks;
        if (t < DateTime.MinValue.Ticks) t = DateTime.MinValue.Ticks;
        if (t > DateTime.MaxValue.Ticks) t = DateTime.MaxValue.Ticks;
        return new DateTime(t, DateTimeKind.Utc);
    }

    public static long FromDateTime(DateTime dt) => dt.ToUniversalTime().Ticks - EpochTicks;
}
