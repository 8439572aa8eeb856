using System.Text.Json;
using System.Text.RegularExpressions;

namespace Sensor.Deploy.Tests;

/// <summary>One Dockerfile instruction: its keyword, its arguments (continuations joined) and its line.</summary>
public sealed record Instruction(string Keyword, string Args, int Line);

/// <summary>
/// The project's own rules for the Dockerfile, beyond syntax: what a capture image must and must not do.
/// Each rule returns the problems it finds; none means it passes.
/// </summary>
public static partial class DockerfilePolicy
{
    public static List<Instruction> Parse(string text)
    {
        var result = new List<Instruction>();
        var lines = text.Replace("\r\n", "\n").Split('\n');
        string? pending = null;
        int start = 0;
        for (int i = 0; i < lines.Length; i++)
        {
            var line = lines[i];
            // Comment lines are dropped, also inside a continued instruction (as the builder does).
            if (line.TrimStart().StartsWith('#')) continue;
            if (pending == null) { if (line.Trim().Length == 0) continue; start = i + 1; }
            var trimmed = line.TrimEnd();
            if (trimmed.EndsWith('\\')) { pending = (pending ?? "") + trimmed[..^1] + " "; continue; }
            var full = ((pending ?? "") + trimmed).Trim();
            pending = null;
            var space = full.IndexOfAny([' ', '\t']);
            result.Add(space < 0 ? new(full.ToUpperInvariant(), "", start) : new(full[..space].ToUpperInvariant(), full[(space + 1)..].Trim(), start));
        }
        return result;
    }

    public static readonly (string Name, Func<List<Instruction>, IEnumerable<string>> Check)[] Rules =
    [
        ("multi-stage build", MultiStage),
        ("base images pinned to a tag, never latest", PinnedBases),
        ("final stage runs as a non-root USER", NonRootUser),
        ("final stage has an exec-form HEALTHCHECK", Healthcheck),
        ("final stage declares VOLUME /var/lib/sensor", Volume),
        ("state paths (SENSOR_Database, SENSOR_KEY_FILE) lie in the volume", StateInVolume),
        ("apt-get install: update, --no-install-recommends and rm -rf /var/lib/apt/lists/* in the same RUN", AptHygiene),
        ("no ADD of remote URLs", NoRemoteAdd),
        ("final stage ENTRYPOINT in exec form", ExecEntrypoint),
        ("file capabilities are exactly cap_net_raw,cap_net_admin", FileCapabilities),
    ];

    public static List<(string Rule, string Problem)> Check(string text)
    {
        var ins = Parse(text);
        return Rules.SelectMany(r => r.Check(ins).Select(p => (r.Name, p))).ToList();
    }

    private static List<Instruction> FinalStage(List<Instruction> ins)
    {
        var last = ins.FindLastIndex(i => i.Keyword == "FROM");
        return last < 0 ? [] : ins[last..];
    }

    private static string[] Words(string args) => args.Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries);

    /// <summary>FROM [--flag=...] image [AS name] → (image, name).</summary>
    private static (string Image, string? Name) From(Instruction i)
    {
        var w = Words(i.Args).Where(x => !x.StartsWith("--")).ToArray();
        return (w.Length > 0 ? w[0] : "", w.Length >= 3 && w[1].Equals("AS", StringComparison.OrdinalIgnoreCase) ? w[2] : null);
    }

    private static IEnumerable<string> MultiStage(List<Instruction> ins)
    {
        var n = ins.Count(i => i.Keyword == "FROM");
        if (n < 2) yield return $"{n} FROM instruction(s); build tools must stay out of the runtime image";
    }

    private static IEnumerable<string> PinnedBases(List<Instruction> ins)
    {
        var stages = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (var i in ins.Where(i => i.Keyword == "FROM"))
        {
            var (image, name) = From(i);
            if (!stages.Contains(image) && image != "scratch")
            {
                var lastSegment = image[(image.LastIndexOf('/') + 1)..];
                var tag = lastSegment.Contains(':') ? lastSegment[(lastSegment.IndexOf(':') + 1)..] : null;
                if (image.Contains("@sha256:")) { }
                else if (tag == null) yield return $"line {i.Line}: {image} has no tag";
                else if (tag.Equals("latest", StringComparison.OrdinalIgnoreCase)) yield return $"line {i.Line}: {image} uses latest";
            }
            if (name != null) stages.Add(name);
        }
    }

    private static IEnumerable<string> NonRootUser(List<Instruction> ins)
    {
        var user = FinalStage(ins).LastOrDefault(i => i.Keyword == "USER");
        if (user == null) { yield return "no USER in the final stage: the container would run as root"; yield break; }
        var name = user.Args.Split(':')[0].Trim();
        if (name is "root" or "0" or "") yield return $"line {user.Line}: USER {user.Args} is root";
    }

    private static IEnumerable<string> Healthcheck(List<Instruction> ins)
    {
        var h = FinalStage(ins).LastOrDefault(i => i.Keyword == "HEALTHCHECK");
        if (h == null) { yield return "no HEALTHCHECK in the final stage"; yield break; }
        var cmd = HealthcheckCmd().Match(h.Args);
        if (!cmd.Success || !IsJsonStringArray(cmd.Groups[1].Value)) yield return $"line {h.Line}: HEALTHCHECK needs CMD [\"...\"] (exec form; the image has no curl, the sensor checks itself)";
    }

    private static IEnumerable<string> Volume(List<Instruction> ins)
    {
        var volumes = VolumePaths(ins);
        if (!volumes.Contains("/var/lib/sensor")) yield return "no VOLUME /var/lib/sensor in the final stage: the database would live in the container layer";
    }

    private static HashSet<string> VolumePaths(List<Instruction> ins) =>
        FinalStage(ins).Where(i => i.Keyword == "VOLUME")
            .SelectMany(i => IsJsonStringArray(i.Args) ? JsonSerializer.Deserialize<string[]>(i.Args)! : Words(i.Args))
            .Select(p => p.TrimEnd('/')).ToHashSet();

    private static IEnumerable<string> StateInVolume(List<Instruction> ins)
    {
        var volumes = VolumePaths(ins);
        var env = FinalStage(ins).Where(i => i.Keyword == "ENV")
            .SelectMany(i => EnvPair().Matches(i.Args)).ToDictionary(m => m.Groups[1].Value, m => m.Groups[2].Value.Trim('"'));
        foreach (var key in new[] { "SENSOR_Database", "SENSOR_KEY_FILE" })
        {
            if (!env.TryGetValue(key, out var path)) yield return $"ENV {key} is not set in the final stage";
            else if (!volumes.Any(v => path.StartsWith(v + "/", StringComparison.Ordinal))) yield return $"{key}={path} is outside every VOLUME";
        }
    }

    private static IEnumerable<string> AptHygiene(List<Instruction> ins)
    {
        foreach (var i in ins.Where(i => i.Keyword == "RUN" && AptInstall().IsMatch(i.Args)))
        {
            if (!i.Args.Contains("apt-get update")) yield return $"line {i.Line}: apt-get install without apt-get update in the same RUN (stale package lists)";
            if (!i.Args.Contains("--no-install-recommends")) yield return $"line {i.Line}: apt-get install without --no-install-recommends";
            if (!i.Args.Contains("rm -rf /var/lib/apt/lists/*")) yield return $"line {i.Line}: package lists not removed (rm -rf /var/lib/apt/lists/*) in the same RUN";
        }
    }

    private static IEnumerable<string> NoRemoteAdd(List<Instruction> ins) =>
        ins.Where(i => i.Keyword == "ADD" && Words(i.Args).Where(w => !w.StartsWith("--")).Any(w => w.Contains("://") || w.StartsWith("git@")))
            .Select(i => $"line {i.Line}: ADD fetches a remote URL; download with a checksum in a RUN instead");

    private static IEnumerable<string> ExecEntrypoint(List<Instruction> ins)
    {
        var e = FinalStage(ins).LastOrDefault(i => i.Keyword == "ENTRYPOINT");
        if (e == null) yield return "no ENTRYPOINT in the final stage";
        else if (!IsJsonStringArray(e.Args)) yield return $"line {e.Line}: ENTRYPOINT in shell form: signals would go to /bin/sh, not the sensor";
    }

    private static IEnumerable<string> FileCapabilities(List<Instruction> ins)
    {
        var grants = ins.Where(i => i.Keyword == "RUN").SelectMany(i => Setcap().Matches(i.Args)).ToList();
        if (grants.Count == 0) yield return "no setcap: a non-root sensor cannot open capture sockets";
        foreach (var g in grants)
        {
            var caps = g.Groups[1].Value.Split(',').Order().ToArray();
            if (!caps.SequenceEqual(["cap_net_admin", "cap_net_raw"])) yield return $"setcap grants {g.Groups[1].Value}";
        }
    }

    private static bool IsJsonStringArray(string s)
    {
        try { return JsonSerializer.Deserialize<string[]>(s.Trim()) is { Length: > 0 }; }
        catch (JsonException) { return false; }
    }

    [GeneratedRegex(@"\bCMD\s+(.*)$")]
    private static partial Regex HealthcheckCmd();

    [GeneratedRegex(@"(\w+)=(""[^""]*""|\S+)")]
    private static partial Regex EnvPair();

    [GeneratedRegex(@"\bapt-get\s+(-\S+\s+)*install\b")]
    private static partial Regex AptInstall();

    [GeneratedRegex(@"\bsetcap\s+([a-z_,]+)[+=][a-z]+\s")]
    private static partial Regex Setcap();
}
