namespace Sensor.Capture.Tests.Live;

/// <summary>
/// A fact that needs root (it creates veth pairs and captures on them), ip, tcpreplay and the native
/// afpacket library; otherwise it shows as skipped with the reason instead of failing.
/// </summary>
public sealed class RootFactAttribute : FactAttribute
{
    public RootFactAttribute()
    {
        Skip = NativeFactAttribute.Missing();
        if (Skip != null) return;
        if (Environment.UserName != "root") Skip = "needs root: creates a veth pair and captures on it";
        else if (!OnPath("tcpreplay")) Skip = "needs tcpreplay (.ci/setup installs it)";
        else if (!OnPath("ip")) Skip = "needs ip from iproute2 (.ci/setup installs it)";
    }

    private static bool OnPath(string exe) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':').Append("/usr/sbin").Append("/sbin")
            .Any(d => d.Length > 0 && File.Exists(Path.Combine(d, exe)));
}

/// <summary>A fact that needs the native afpacket library (built with the solution where gcc is present), not privileges.</summary>
public sealed class NativeFactAttribute : FactAttribute
{
    public NativeFactAttribute() => Skip = Missing();

    internal static string? Missing() =>
        !OperatingSystem.IsLinux() ? "needs Linux: AF_PACKET capture"
        : !File.Exists(Path.Combine(AppContext.BaseDirectory, "libsensor_afpacket.so")) ? "needs libsensor_afpacket.so (built by the Sensor.Capture build when gcc is present)"
        : null;
}
