using System.Diagnostics;
using System.Text;
using System.Text.Json.Nodes;
using DuckDB.NET.Data;
using Sensor.TestSupport;
using Xunit.Abstractions;

namespace Sensor.Cli.Tests;

/// <summary>
/// The labelled sensitive-data set end to end: replayed (pcap and HAR), exported with `sensor findings
/// --format eval` and scored by the set's own scorer; and redaction by construction: after a run over the
/// labelled traffic no labelled raw value may appear in the database (file bytes and every table), the
/// OpenAPI exports, the findings output or what the CLI printed.
/// </summary>
public class SensitiveDataTests(ITestOutputHelper output)
{
    private static readonly string Dev = Path.Combine(SharedData.Shared, "sensitive-dev");

    private static string? Which(string tool) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':').Select(d => Path.Combine(d, tool)).FirstOrDefault(File.Exists);

    private static (string Dir, string Db, string Key) Temp()
    {
        var dir = Directory.CreateTempSubdirectory("sensor-sensitive-").FullName;
        return (dir, Path.Combine(dir, "s.duckdb"), Path.Combine(dir, "key", "hmac.key"));
    }

    [Theory]
    [InlineData("traffic.pcap")]
    [InlineData("traffic.har")]
    public void Labelled_set_scores_above_the_bars(string input)
    {
        if (Which("node") == null) { output.WriteLine("SKIPPED: node is not installed, so score.js cannot run (bash .ci/setup installs it as root)"); return; }
        var (dir, db, key) = Temp();
        try
        {
            var r = SensorProcess.Run("replay", Path.Combine(Dev, input), "--db", db, "--quiet", "--key-file", key);
            Assert.True(r.ExitCode == 0, r.Stderr);
            var eval = SensorProcess.Run("findings", "--db", db, "--format", "eval");
            Assert.True(eval.ExitCode == 0, eval.Stderr);
            var candidates = Path.Combine(dir, "candidates.jsonl");
            File.WriteAllText(candidates, eval.Stdout);

            var psi = new ProcessStartInfo("node") { RedirectStandardOutput = true, RedirectStandardError = true };
            foreach (var a in (string[])[Path.Combine(Dev, "score.js"), Path.Combine(Dev, "labels.jsonl"), candidates, "--json"]) psi.ArgumentList.Add(a);
            using var p = Process.Start(psi)!;
            var stdout = p.StandardOutput.ReadToEnd();
            p.StandardError.ReadToEnd();
            p.WaitForExit();
            var summary = JsonNode.Parse(stdout.Split('\n')[0])!;
            output.WriteLine($"{input}: {summary.ToJsonString()}");
            var overall = Find(summary, "overall")!;
            Assert.True(Num(overall, "precision", "P") >= 0.97, "precision " + overall.ToJsonString());
            Assert.True(Num(overall, "recall", "R") >= 0.95, "recall " + overall.ToJsonString());
            foreach (var g in (string[])["secret", "pii"])
            {
                var group = Find(summary, "group:" + g) ?? Find(summary, g)!;
                Assert.True(Num(group, "precision", "P") >= 0.90 && Num(group, "recall", "R") >= 0.90, g + " " + group.ToJsonString());
            }
        }
        finally { Directory.Delete(dir, true); }
    }

    /// <summary>The scorer's JSON summary, looked up by key case-insensitively (top level or one level down).</summary>
    private static JsonNode? Find(JsonNode root, string key)
    {
        foreach (var (k, v) in root.AsObject())
        {
            if (string.Equals(k, key, StringComparison.OrdinalIgnoreCase)) return v;
            if (v is JsonObject o)
                foreach (var (k2, v2) in o)
                    if (string.Equals(k2, key, StringComparison.OrdinalIgnoreCase)) return v2;
        }
        return null;
    }

    private static double Num(JsonNode n, params string[] keys)
    {
        foreach (var k in keys)
            foreach (var (name, v) in n.AsObject())
                if (string.Equals(name, k, StringComparison.OrdinalIgnoreCase) && v != null)
                {
                    double d = (double)v;
                    return d > 1 ? d / 100 : d;
                }
        throw new KeyNotFoundException($"{string.Join("/", keys)} in {n.ToJsonString()}");
    }

    [Fact]
    public void No_labelled_raw_value_is_stored_exported_or_printed()
    {
        var (dir, db, key) = Temp();
        try
        {
            var printed = new StringBuilder();
            void Run(params string[] args)
            {
                var r = SensorProcess.Run(args);
                Assert.True(r.ExitCode == 0, r.Stderr);
                printed.Append(r.Stdout).Append(r.Stderr);
            }
            Run("replay", Path.Combine(Dev, "traffic.pcap"), Path.Combine(Dev, "traffic.har"), "--db", db, "--key-file", key);
            Run("inventory", "--db", db);
            Run("findings", "--db", db, "--format", "json");
            Run("findings", "--db", db, "--format", "eval");
            Run("openapi", "export", "--db", db, "--out", Path.Combine(dir, "openapi"));
            Run("openapi", "export", "--db", db, "--out", Path.Combine(dir, "openapi-json"), "--format", "json", "--version", "3.0");

            // Every table as text (DuckDB compresses strings in its file, so the file bytes alone could hide a value).
            var dump = Path.Combine(dir, "dump");
            using (var c = new DuckDBConnection($"Data Source={db};ACCESS_MODE=READ_ONLY"))
            {
                c.Open();
                using var cmd = c.CreateCommand();
                cmd.CommandText = $"EXPORT DATABASE '{dump}' (FORMAT CSV)";
                cmd.ExecuteNonQuery();
            }
            var texts = new Dictionary<string, string> { ["cli output"] = printed.ToString() };
            foreach (var f in Directory.EnumerateFiles(dir, "*", SearchOption.AllDirectories))
                if (!f.EndsWith(".duckdb", StringComparison.Ordinal) && !f.EndsWith(".wal", StringComparison.Ordinal) && !f.EndsWith("hmac.key", StringComparison.Ordinal))
                    texts[Path.GetRelativePath(dir, f)] = File.ReadAllText(f);
            var dbBytes = File.ReadAllBytes(db);
            Assert.True(texts.Keys.Count(k => k.StartsWith("openapi", StringComparison.Ordinal)) >= 2, "exports written");
            Assert.Contains(texts.Keys, k => k.EndsWith("http_transactions.csv", StringComparison.Ordinal));

            var values = File.ReadLines(Path.Combine(Dev, "labels.jsonl")).Select(l => JsonNode.Parse(l)!)
                .Where(l => l["ignore"] == null && (string?)l["value"] is { Length: >= 6 })
                .Select(l => (string)l["value"]!).Distinct().ToList();
            Assert.True(values.Count > 1000, "labelled values loaded");
            var leaks = new List<string>();
            foreach (var v in values)
            {
                foreach (var (name, text) in texts)
                    if (text.Contains(v, StringComparison.Ordinal)) leaks.Add($"{name}: {v[..Math.Min(12, v.Length)]}…");
                if (dbBytes.AsSpan().IndexOf(Encoding.UTF8.GetBytes(v)) >= 0) leaks.Add($"database file: {v[..Math.Min(12, v.Length)]}…");
            }
            output.WriteLine($"{values.Count} labelled values checked against {texts.Count} texts and the database file: {leaks.Count} found");
            Assert.True(leaks.Count == 0, string.Join("\n", leaks.Take(30)));

            // The key was created for the installation, readable by its owner only.
            if (!OperatingSystem.IsWindows())
                Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(key));
        }
        finally { Directory.Delete(dir, true); }
    }
}
