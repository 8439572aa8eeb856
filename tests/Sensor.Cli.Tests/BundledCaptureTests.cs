using System.Diagnostics;
using System.Text.Json.Nodes;
using Sensor.TestSupport;
using Xunit.Abstractions;

namespace Sensor.Cli.Tests;

/// <summary>The sample captures in captures/ against an independent dissector (tshark).</summary>
public class BundledCaptureTests(ITestOutputHelper output)
{
    private static string? Which(string tool) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':').Select(d => Path.Combine(d, tool)).FirstOrDefault(File.Exists);

    private static List<string> Tshark(string file, string filter, params string[] fields)
    {
        var psi = new ProcessStartInfo("tshark") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { "-r", file, "-Y", filter, "-T", "fields", "-E", "separator=|" }) psi.ArgumentList.Add(a);
        foreach (var f in fields) { psi.ArgumentList.Add("-e"); psi.ArgumentList.Add(f); }
        using var p = Process.Start(psi)!;
        var lines = p.StandardOutput.ReadToEnd().Split('\n', StringSplitOptions.RemoveEmptyEntries).ToList();
        p.WaitForExit();
        return lines;
    }

    [Fact]
    public void Sample_capture_agrees_with_tshark_request_by_request()
    {
        if (Which("tshark") == null)
        {
            output.WriteLine("SKIPPED: tshark is not installed (bash .ci/setup installs it as root)");
            return;
        }
        foreach (var file in Directory.GetFiles(SharedData.Captures, "*.pcap*"))
        {
            var dir = Directory.CreateTempSubdirectory("sensor-sample-");
            try
            {
                var db = Path.Combine(dir.FullName, "t.duckdb");
                var r = SensorProcess.Run("replay", file, "--db", db, "--quiet");
                Assert.Equal(0, r.ExitCode);
                var q = SensorProcess.Run("query", "select method, uri, status, complete from http_transactions", "--db", db, "--format", "json");
                var rows = JsonNode.Parse(q.Stdout)!.AsArray().Select(n => n!.AsObject()).ToList();
                var ours = rows.Select(o => $"{o["method"]} {o["uri"]}").Order(StringComparer.Ordinal).ToList();
                var theirs = Tshark(file, "http.request", "http.request.method", "http.request.uri").Select(l => l.Replace('|', ' ')).Order(StringComparer.Ordinal).ToList();
                var ourStatus = rows.Select(o => o["status"]?.ToString() ?? "none").Order().ToList();
                var theirStatus = Tshark(file, "http.response", "http.response.code").Order().ToList();
                output.WriteLine($"{Path.GetFileName(file)}: sensor {ours.Count} transactions ({rows.Count(o => (bool)o["complete"]!)} complete), tshark {theirs.Count} requests, {theirStatus.Count} responses");
                Assert.Equal(theirs, ours);
                Assert.Equal(theirStatus, ourStatus);
            }
            finally { dir.Delete(true); }
        }
    }
}
