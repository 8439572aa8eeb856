using System.Diagnostics;
using System.Text;

namespace Sensor.Cli.Tests;

/// <summary>Runs the built `sensor` CLI as a separate process, as a user (and check.py) would.</summary>
public static class SensorProcess
{
    public sealed record Result(int ExitCode, string Stdout, string Stderr);

    private static string Dll => Path.Combine(AppContext.BaseDirectory, "sensor.dll");

    public static Result Run(params string[] args)
    {
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        psi.ArgumentList.Add("exec");
        psi.ArgumentList.Add(Dll);
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var stdout = new StringBuilder();
        var stderr = new StringBuilder();
        p.OutputDataReceived += (_, e) => { if (e.Data != null) lock (stdout) stdout.AppendLine(e.Data); };
        p.ErrorDataReceived += (_, e) => { if (e.Data != null) lock (stderr) stderr.AppendLine(e.Data); };
        p.BeginOutputReadLine();
        p.BeginErrorReadLine();
        if (!p.WaitForExit(TimeSpan.FromMinutes(5)))
        {
            p.Kill(entireProcessTree: true);
            throw new TimeoutException("sensor " + string.Join(' ', args) + " did not finish");
        }
        p.WaitForExit();
        return new Result(p.ExitCode, stdout.ToString(), stderr.ToString());
    }
}
