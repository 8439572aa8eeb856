using System.Diagnostics;

namespace Sensor.Deploy.Tests;

/// <summary>Repository paths and external processes for the deployment checks.</summary>
public static class Tools
{
    public static string RepoRoot { get; } = FindRepoRoot();

    public static string InRepo(params string[] parts) => Path.Combine([RepoRoot, .. parts]);

    private static string FindRepoRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir != null && !File.Exists(Path.Combine(dir.FullName, "Sensor.sln"))) dir = dir.Parent;
        return dir?.FullName ?? throw new InvalidOperationException("Sensor.sln not found above " + AppContext.BaseDirectory);
    }

    public static string? Which(string tool) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries)
            .Select(d => Path.Combine(d, tool)).FirstOrDefault(File.Exists);

    public sealed record Result(int ExitCode, string Stdout, string Stderr)
    {
        public string All => Stdout + Stderr;
    }

    public static Result Run(string exe, IEnumerable<string> args, string? cwd = null, TimeSpan? timeout = null)
    {
        var psi = new ProcessStartInfo(exe)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = cwd ?? RepoRoot,
        };
        // Plain, uncoloured, unpaged output from systemd tools; no update chatter from npm.
        psi.Environment["SYSTEMD_COLORS"] = "0";
        psi.Environment["SYSTEMD_PAGER"] = "";
        psi.Environment["SYSTEMD_LOG_COLOR"] = "0";
        psi.Environment["NO_UPDATE_NOTIFIER"] = "1";
        psi.Environment["npm_config_update_notifier"] = "false";
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var so = p.StandardOutput.ReadToEndAsync();
        var se = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(timeout ?? TimeSpan.FromMinutes(2)))
        {
            p.Kill(true);
            return new Result(-1, so.Result, se.Result + $"\n{exe} timed out");
        }
        return new Result(p.ExitCode, so.Result, se.Result);
    }
}

/// <summary>A fact that is skipped, with the reason, when a tool it needs is not on PATH.</summary>
public sealed class RequiresToolsFactAttribute : FactAttribute
{
    public RequiresToolsFactAttribute(params string[] tools)
    {
        var missing = tools.Where(t => Tools.Which(t) == null).ToArray();
        if (missing.Length > 0) Skip = $"needs {string.Join(" and ", missing)}, not found on PATH";
    }
}
