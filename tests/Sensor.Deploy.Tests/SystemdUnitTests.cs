using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using Xunit.Abstractions;

namespace Sensor.Deploy.Tests;

/// <summary>
/// systemd/sensor.service: clean for systemd-analyze verify, exposure at most 2.0 for
/// systemd-analyze security, and the privilege and compatibility policy read from the file itself.
/// </summary>
public sealed partial class SystemdUnitTests(ITestOutputHelper output)
{
    private const double MaxExposure = 2.0;
    private static readonly string UnitPath = Tools.InRepo("systemd", "sensor.service");
    private static readonly string[] CaptureCapabilities = ["CAP_NET_ADMIN", "CAP_NET_RAW"];

    /// <summary>
    /// verify's stderr lines that are not about our unit. Each pattern is matched against a line
    /// with the temporary root replaced by "{root}".
    /// </summary>
    public static readonly (Regex Pattern, string Why)[] HarmlessVerifyLines =
    [
        (new(@"^\{root\}/usr/lib/systemd/system/(?!sensor\.service:)[^/:]+:"),
            "a finding in one of the host's own unit files, copied into the root only so the start transaction resolves"),
    ];

    private void Log(string line)
    {
        output.WriteLine(line);
        Console.WriteLine(line);
    }

    [RequiresToolsFact("systemd-analyze")]
    public void Verify_reports_nothing_for_the_unit()
    {
        var root = Directory.CreateTempSubdirectory("sensor-verify-").FullName;
        try
        {
            // The unit is verified unchanged, inside a root that holds what it refers to: its
            // executable (a stub; the real one exists only once installed) and the standard units
            // its default dependencies pull in.
            var units = Path.Combine(root, "etc", "systemd", "system");
            Directory.CreateDirectory(units);
            File.Copy(UnitPath, Path.Combine(units, "sensor.service"));
            var exe = Path.Combine(root, "opt", "sensor", "sensor");
            Directory.CreateDirectory(Path.GetDirectoryName(exe)!);
            File.WriteAllText(exe, "#!/bin/sh\nexit 0\n");
            if (!OperatingSystem.IsWindows())
                File.SetUnixFileMode(exe, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute |
                    UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute);
            CopyHostUnits(Path.Combine(root, "usr", "lib", "systemd", "system"));

            var r = Verify(root, "sensor.service");
            var lines = r.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.Replace(root, "{root}")).ToList();
            foreach (var l in lines) Log("verify: " + l);
            var unexplained = lines.Where(l => !HarmlessVerifyLines.Any(h => h.Pattern.IsMatch(l))).ToList();
            Assert.True(unexplained.Count == 0, "systemd-analyze verify:\n" + string.Join("\n", unexplained));
            Assert.True(r.ExitCode == 0, $"systemd-analyze verify exited {r.ExitCode}:\n{r.All}");
            Log($"systemd-analyze verify sensor.service: clean ({lines.Count} harmless line(s))");

            // The check bites: a misspelt setting in a copy of the unit is reported.
            File.WriteAllText(Path.Combine(units, "sensor-typo.service"),
                File.ReadAllText(UnitPath).Replace("ProtectHome=yes", "ProtectHome=yes\nProtectHomeDir=yes"));
            var typo = Verify(root, "sensor-typo.service");
            Assert.Contains("Unknown key 'ProtectHomeDir'", typo.Stderr);
        }
        finally { Directory.Delete(root, true); }
    }

    private static Tools.Result Verify(string root, string unit) =>
        Tools.Run("systemd-analyze", ["verify", "--root=" + root, "--recursive-errors=no", "--man=no", "--no-pager", unit]);

    private static void CopyHostUnits(string to)
    {
        var from = new[] { "/usr/lib/systemd/system", "/lib/systemd/system" }.FirstOrDefault(Directory.Exists)
            ?? throw new InvalidOperationException("no systemd unit directory on this host");
        Directory.CreateDirectory(to);
        // Regular unit files only: aliases and masks are links into the host's tree, meaningless in the root.
        foreach (var f in new DirectoryInfo(from).EnumerateFiles())
            if (f.LinkTarget == null && f.Name != "sensor.service") f.CopyTo(Path.Combine(to, f.Name));
    }

    [RequiresToolsFact("systemd-analyze")]
    public void Security_exposure_is_at_most_2_0()
    {
        var threshold = ((int)Math.Round(MaxExposure * 10)).ToString(CultureInfo.InvariantCulture);
        var r = Tools.Run("systemd-analyze", ["security", "--offline=yes", "--threshold=" + threshold, "--no-pager", UnitPath]);
        var m = ExposureLine().Match(r.Stdout);
        Assert.True(m.Success, "no overall exposure line in:\n" + r.All);
        var exposure = double.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture);
        var open = r.Stdout.Split('\n').Select(l => OpenItem().Match(l)).Where(x => x.Success)
            .Select(x => $"{x.Groups[1].Value} {x.Groups[2].Value}");
        Log($"systemd-analyze security sensor.service: overall exposure {m.Groups[1].Value} (limit {MaxExposure:0.0})");
        Log("  still exposed: " + string.Join(", ", open));
        Assert.True(exposure <= MaxExposure, $"exposure {exposure} > {MaxExposure}:\n{r.Stdout}");
        Assert.True(r.ExitCode == 0, $"systemd-analyze security --threshold={threshold} exited {r.ExitCode}:\n{r.All}");
    }

    [GeneratedRegex(@"Overall exposure level for \S+: (\d+\.\d)")]
    private static partial Regex ExposureLine();

    [GeneratedRegex(@"^✗\s+(\S+)\s.*\s(\d+\.\d)\s*$")]
    private static partial Regex OpenItem();

    [Fact]
    public void Unit_runs_as_a_static_user_with_only_the_capture_capabilities()
    {
        var u = UnitFile.Load(UnitPath);
        const string S = "Service";
        Assert.Equal("sensor", u.Get(S, "User"));
        Assert.Equal("sensor", u.Get(S, "Group"));
        Assert.DoesNotContain(u.Get(S, "User"), new[] { "root", "0" });
        // The database needs an owner that survives restarts and upgrades.
        Assert.NotEqual("yes", u.Get(S, "DynamicUser"));
        Assert.Equal(CaptureCapabilities, u.Words(S, "CapabilityBoundingSet").Order());
        Assert.Equal(CaptureCapabilities, u.Words(S, "AmbientCapabilities").Order());
        Assert.Equal("yes", u.Get(S, "NoNewPrivileges"));
        Assert.Equal("strict", u.Get(S, "ProtectSystem"));
        Assert.Equal("yes", u.Get(S, "ProtectHome"));
        Assert.Equal("yes", u.Get(S, "PrivateTmp"));
        Assert.Equal(["sensor", "sensor/archive"], u.Words(S, "StateDirectory"));
        Assert.Equal(["/var/lib/sensor"], u.Words(S, "ReadWritePaths"));
        Assert.Equal("native", u.Get(S, "SystemCallArchitectures"));
        Assert.Equal(["AF_INET", "AF_INET6", "AF_NETLINK", "AF_PACKET", "AF_UNIX"], u.Words(S, "RestrictAddressFamilies").Order());
    }

    [Fact]
    public void Unit_leaves_out_what_breaks_a_capturing_dotnet_service()
    {
        var u = UnitFile.Load(UnitPath);
        const string S = "Service";
        Assert.Equal("/opt/sensor/sensor run --config /etc/sensor/sensor.json", u.Get(S, "ExecStart"));
        Assert.Equal("notify", u.Get(S, "Type"));
        Assert.Equal("on-failure", u.Get(S, "Restart"));
        Assert.Equal("SIGTERM", u.Get(S, "KillSignal"));
        Assert.True(int.Parse(u.Get(S, "TimeoutStopSec") ?? "0", CultureInfo.InvariantCulture) >= 60, "TimeoutStopSec must leave time to drain");
        Assert.Equal("/var/lib/sensor/hmac.key", u.All(S, "Environment").Select(e => e.Split('=', 2)).Single(e => e[0] == "SENSOR_KEY_FILE")[1]);

        // The host's interfaces are what is captured.
        Assert.NotEqual("yes", u.Get(S, "PrivateNetwork"));
        // Capabilities held in a private user namespace do not count in the host's network namespace.
        Assert.NotEqual("yes", u.Get(S, "PrivateUsers"));
        // The JIT maps code writable, then executable.
        Assert.NotEqual("yes", u.Get(S, "MemoryDenyWriteExecute"));
        // Hosting.Systemd 10.0 reads /proc/<ppid>/comm to recognise systemd, which hidepid hides; `sensor run`
        // also takes NOTIFY_SOCKET as the sign (LiveCaptureTests checks READY=1 and STOPPING=1 arrive).
        Assert.Equal("invisible", u.Get(S, "ProtectProc"));
        var filter = u.Words(S, "SystemCallFilter");
        Assert.Contains("@system-service", filter);
        // CoreCLR sets each new thread's affinity (sched_setaffinity, in @resources) and fails without it.
        Assert.DoesNotContain(u.All(S, "SystemCallFilter"), a => a.StartsWith('~') && a.TrimStart('~').Split(' ').Contains("@resources"));
    }

    [Fact]
    public void Example_config_and_sysusers_match_the_unit()
    {
        using var json = JsonDocument.Parse(File.ReadAllText(Tools.InRepo("systemd", "sensor.json")));
        var c = json.RootElement;
        Assert.StartsWith("/var/lib/sensor/", c.GetProperty("Database").GetString());
        Assert.StartsWith("/var/lib/sensor/", c.GetProperty("Retention").GetProperty("ArchiveDirectory").GetString());
        Assert.NotEmpty(c.GetProperty("Interfaces").EnumerateArray().Select(i => i.GetString()));
        Assert.Contains(c.GetProperty("Capture").GetProperty("Backend").GetString(), new[] { "pcap", "afpacket" });
        // The unit lets only localhost reach the service over IP.
        Assert.StartsWith("127.0.0.1:", c.GetProperty("Metrics").GetProperty("Listen").GetString());

        var users = File.ReadAllLines(Tools.InRepo("systemd", "sensor.sysusers")).Where(l => l.Length > 0 && !l.StartsWith('#')).ToList();
        Assert.Equal(["u sensor - \"Sensor API-traffic sensor\" /var/lib/sensor"], users);
    }

    [RequiresToolsFact("systemd-sysusers")]
    public void Sysusers_creates_a_system_user_without_login()
    {
        var root = Directory.CreateTempSubdirectory("sensor-sysusers-").FullName;
        try
        {
            Directory.CreateDirectory(Path.Combine(root, "etc"));
            var r = Tools.Run("systemd-sysusers", ["--root=" + root, Tools.InRepo("systemd", "sensor.sysusers")]);
            Assert.True(r.ExitCode == 0, r.All);
            var entry = File.ReadAllLines(Path.Combine(root, "etc", "passwd")).Single(l => l.StartsWith("sensor:")).Split(':');
            Log("systemd-sysusers: " + string.Join(':', entry));
            Assert.True(int.Parse(entry[2], CultureInfo.InvariantCulture) is > 0 and < 1000, "a system uid");
            Assert.Equal("/var/lib/sensor", entry[5]);
            Assert.EndsWith("nologin", entry[6]);
            Assert.Contains(File.ReadAllLines(Path.Combine(root, "etc", "group")), l => l.StartsWith("sensor:"));
        }
        finally { Directory.Delete(root, true); }
    }
}
