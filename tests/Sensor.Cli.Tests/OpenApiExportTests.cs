using System.Diagnostics;
using System.Text.Json.Nodes;
using Microsoft.OpenApi;
using Microsoft.OpenApi.Reader;
using Microsoft.OpenApi.YamlReader;
using Sensor.TestSupport;
using Xunit.Abstractions;

namespace Sensor.Cli.Tests;

/// <summary>
/// `sensor openapi export` end to end: the spec-recon dev traffic, replayed and exported, scored by the
/// dev set's own scorer against its truth; the documents read back through Microsoft.OpenApi without
/// errors and pass Redocly's recommended lint.
/// </summary>
public class OpenApiExportTests(ITestOutputHelper output)
{
    private static readonly string Dev = Path.Combine(SharedData.Shared, "spec-recon-dev");
    private const string Host = "127.0.0.1:36255";
    private const string RedoclyVersion = "2.77.0";

    /// <summary>Rules of Redocly's recommended set left out: they ask for what only a human can write or decide.</summary>
    public static readonly string[] LintRulesOff =
    [
        "info-license",             // the licence of an API is not on the wire
        "operation-4xx-response",   // an operation only has the statuses it was seen answering; we do not invent error responses
    ];

    private static string? Which(string tool) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':').Select(d => Path.Combine(d, tool)).FirstOrDefault(File.Exists);

    private static (string Dir, string Db) Replay(string input)
    {
        var dir = Directory.CreateTempSubdirectory("sensor-openapi-").FullName;
        var db = Path.Combine(dir, "s.duckdb");
        var r = SensorProcess.Run("replay", input, "--db", db, "--quiet");
        Assert.True(r.ExitCode == 0, r.Stderr);
        return (dir, db);
    }

    private static string Export(string db, string dir, string version, string format)
    {
        var outDir = Path.Combine(dir, $"out-{version}-{format}");
        var r = SensorProcess.Run("openapi", "export", "--db", db, "--out", outDir, "--version", version, "--format", format);
        Assert.True(r.ExitCode == 0, r.Stderr);
        var file = Path.Combine(outDir, "127.0.0.1_36255." + format);
        Assert.True(File.Exists(file), $"expected {file}; export printed: {r.Stdout}");
        return file;
    }

    private JsonObject Score(string candidate)
    {
        var psi = new ProcessStartInfo("node") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in (string[])[Path.Combine(Dev, "score.js"), Path.Combine(Dev, "truth.json"), candidate, "--host", Host, "--json-only"]) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEnd();
        var stderr = p.StandardError.ReadToEnd();
        p.WaitForExit();
        Assert.True(p.ExitCode == 0, stderr);
        var json = JsonNode.Parse(stdout.Trim().Split('\n')[0])!.AsObject();
        output.WriteLine($"{Path.GetFileName(candidate)}: {json["summary"]!.ToJsonString()}");
        return json;
    }

    private static void AssertBars(JsonObject s)
    {
        Assert.True((bool)s["ok"]!, s.ToJsonString());
        var sum = s["summary"]!;
        Assert.True((double)sum["opF1"]! >= 0.95, "operation F1 " + sum["opF1"]);
        Assert.Equal(0, (int)sum["overMerged"]!);
        foreach (var loc in (string[])["path", "query", "header", "cookie"])
        {
            var p = s["params"]![loc]!;
            if ((int)p["truth"]! > 0) Assert.True((double)p["recall"]! >= 0.90, $"{loc} parameter recall {p["recall"]}");
        }
        Assert.True((double)sum["statusRObs"]! >= 0.95, "observed status recall " + sum["statusRObs"]);
        Assert.True((double)s["props"]!["request"]!["all"]!["recall"]! >= 0.90, "request property recall");
        Assert.True((double)s["props"]!["response"]!["all"]!["recall"]! >= 0.90, "response property recall");
        Assert.Equal(1.0, (double)sum["secR"]!);
        Assert.True((double)s["security"]!["opSecurityRecall"]! >= 0.90, "operation security recall");
    }

    [Theory]
    [InlineData("traffic.pcap")]
    [InlineData("traffic.har")]
    public void Dev_spec_is_reconstructed_from_traffic_above_the_bars(string input)
    {
        if (Which("node") == null) { output.WriteLine("SKIPPED: node is not installed, so score.js cannot run (bash .ci/setup installs it as root)"); return; }
        var (dir, db) = Replay(Path.Combine(Dev, input));
        try
        {
            AssertBars(Score(Export(db, dir, "3.1", "yaml")));
            AssertBars(Score(Export(db, dir, "3.0", "json")));
        }
        finally { Directory.Delete(dir, true); }
    }

    [Theory]
    [InlineData("3.1", "yaml")]
    [InlineData("3.1", "json")]
    [InlineData("3.0", "yaml")]
    [InlineData("3.0", "json")]
    public void Exported_documents_read_back_through_Microsoft_OpenApi_without_errors(string version, string format)
    {
        var (dir, db) = Replay(Path.Combine(Dev, "traffic.pcap"));
        try
        {
            var file = Export(db, dir, version, format);
            var settings = new OpenApiReaderSettings();
            settings.TryAddReader("yaml", new OpenApiYamlReader());
            var result = OpenApiDocument.Parse(File.ReadAllText(file), format, settings);
            Assert.NotNull(result.Document);
            Assert.Empty(result.Diagnostic!.Errors.Select(e => e.ToString()));
            Assert.Equal(version == "3.1" ? OpenApiSpecVersion.OpenApi3_1 : OpenApiSpecVersion.OpenApi3_0, result.Diagnostic.SpecificationVersion);
            Assert.Equal(19, result.Document!.Paths.Values.Sum(p => p.Operations!.Count));
            Assert.Equal("http://" + Host, result.Document.Servers![0].Url);
            Assert.Equal(3, result.Document.Components!.SecuritySchemes!.Count);
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public void Exported_documents_pass_redocly_recommended_lint()
    {
        if (Which("node") == null || Which("npm") == null) { output.WriteLine("SKIPPED: node/npm are not installed, so @redocly/cli cannot run (bash .ci/setup installs them as root)"); return; }
        var tools = Path.Combine(Path.GetTempPath(), "sensor-test-tools", "redocly-" + RedoclyVersion);
        var redocly = Path.Combine(tools, "node_modules", ".bin", "redocly");
        if (!File.Exists(redocly))
        {
            var (rc, text) = Run("npm", tools, "install", "--no-audit", "--no-fund", "--prefix", tools, "@redocly/cli@" + RedoclyVersion);
            if (rc != 0 || !File.Exists(redocly)) { output.WriteLine($"SKIPPED: could not install @redocly/cli {RedoclyVersion} from npm: {text}"); return; }
        }
        var (dir, db) = Replay(Path.Combine(Dev, "traffic.pcap"));
        try
        {
            var config = Path.Combine(dir, "redocly.yaml");
            File.WriteAllText(config, "extends:\n  - recommended\nrules:\n" + string.Concat(LintRulesOff.Select(r => $"  {r}: off\n")));
            output.WriteLine("recommended ruleset minus: " + string.Join(", ", LintRulesOff));
            foreach (var (v, f) in new[] { ("3.1", "yaml"), ("3.0", "json") })
            {
                var file = Export(db, dir, v, f);
                var (rc, text) = Run(redocly, dir, "lint", "--config", config, "--format", "stylish", file);
                output.WriteLine($"redocly lint {Path.GetFileName(file)} ({v}): exit {rc}");
                Assert.True(rc == 0, text);
            }
        }
        finally { Directory.Delete(dir, true); }
    }

    private static (int, string) Run(string exe, string cwd, params string[] args)
    {
        Directory.CreateDirectory(cwd);
        var psi = new ProcessStartInfo(exe) { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = cwd };
        psi.Environment["NO_UPDATE_NOTIFIER"] = "1";
        psi.Environment["REDOCLY_TELEMETRY"] = "off";
        psi.Environment["REDOCLY_SUPPRESS_UPDATE_NOTICE"] = "true";
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var so = p.StandardOutput.ReadToEndAsync();
        var se = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(TimeSpan.FromMinutes(5))) { p.Kill(true); return (-1, "timed out"); }
        return (p.ExitCode, so.Result + se.Result);
    }
}
