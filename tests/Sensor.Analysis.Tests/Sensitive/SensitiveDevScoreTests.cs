using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;
using Sensor.Analysis.Sensitive;
using Sensor.Host.Pipeline;
using Sensor.Host.Replay;
using Sensor.Http;
using Sensor.Http.Har;
using Sensor.TestSupport;
using Xunit.Abstractions;

namespace Sensor.Analysis.Tests.Sensitive;

/// <summary>
/// Scores the detectors on the labelled dev traffic with its own scorer (score.js), from the HAR and from
/// the pcap (through the replay pipeline, as production traffic arrives).
/// </summary>
public class SensitiveDevScoreTests(ITestOutputHelper output)
{
    private static readonly string Dir = Path.Combine(SharedData.Shared, "sensitive-dev");

    private sealed record Candidate(string conn, string part, string location, string type);

    [Fact]
    public void Har_scores_above_the_bars()
    {
        var har = Path.Combine(Dir, "traffic.har");
        // The HAR reader numbers pseudo-connections (0.0.0.0:port); the labels name the capture's connections,
        // which the HAR carries per entry as "_conn". Entries and transactions come in the same order.
        var conns = ReadConns(har);
        var candidates = new List<Candidate>();
        using (var reader = HarReader.Open(har))
        {
            int i = 0;
            var hits = new List<SensitiveHit>();
            foreach (var t in reader.ReadAll())
            {
                hits.Clear();
                TransactionScanner.Scan(t, hits);
                candidates.AddRange(hits.Select(h => new Candidate(conns[i], h.Part, h.Location, h.Type)));
                i++;
            }
            Assert.Equal(conns.Count, i);
        }
        Score(candidates, "har");
    }

    [Fact]
    public async Task Pcap_scores_above_the_bars()
    {
        var candidates = new List<Candidate>();
        var result = await new ReplayRunner(new PipelineOptions { Workers = 1 }, [new Collect(candidates)]) { Inventory = false }
            .RunAsync([Path.Combine(Dir, "traffic.pcap")], null);
        Assert.Equal(400, result.Transactions);
        Score(candidates, "pcap");
    }

    private sealed class Collect(List<Candidate> into) : IHttpAnalyzer, IHttpAnalyzerFactory
    {
        public string Name => "sensitive-collect";
        public IHttpAnalyzer Create(int workerId) => this;
        public void OnTransaction(HttpTransaction t)
        {
            var hits = new List<SensitiveHit>();
            TransactionScanner.Scan(t, hits);
            lock (into) into.AddRange(hits.Select(h => new Candidate(t.Conn, h.Part, h.Location, h.Type)));
        }
        public void Complete() { }
    }

    private static List<string> ReadConns(string har)
    {
        using var doc = JsonDocument.Parse(File.ReadAllBytes(har));
        return doc.RootElement.GetProperty("log").GetProperty("entries").EnumerateArray()
            .Select(e => e.GetProperty("_conn").GetString()!).ToList();
    }

    private void Score(List<Candidate> candidates, string source)
    {
        var file = Path.Combine(Path.GetTempPath(), $"sensitive-{source}-{Guid.NewGuid():N}.jsonl");
        File.WriteAllLines(file, candidates.Select(c => JsonSerializer.Serialize(c)));
        string stdout;
        try
        {
            var psi = new ProcessStartInfo("node", ["score.js", "labels.jsonl", file, "--json", "--fp", "40", "--fn", "40"])
            {
                WorkingDirectory = Dir,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
            };
            Process p;
            try { p = Process.Start(psi)!; }
            catch (System.ComponentModel.Win32Exception)
            {
                output.WriteLine("SKIPPED: node is not installed, the dev set cannot be scored");
                return;
            }
            stdout = p.StandardOutput.ReadToEnd();
            p.WaitForExit();
        }
        finally { File.Delete(file); }

        output.WriteLine($"{source}: {candidates.Count} candidates");
        output.WriteLine(stdout);
        var summary = JsonNode.Parse(stdout.Split('\n')[0])!;
        double P(JsonNode n) => (double)n["precision"]!;
        double R(JsonNode n) => (double)n["recall"]!;
        var overall = summary["overall"]!;
        Assert.True(P(overall) >= 0.97, $"{source} precision {P(overall)}");
        Assert.True(R(overall) >= 0.95, $"{source} recall {R(overall)}");
        foreach (var g in new[] { "secret", "pii" })
        {
            var n = summary["by_group"]![g]!;
            Assert.True(P(n) >= 0.97, $"{source} {g} precision {P(n)}");
            Assert.True(R(n) >= 0.90, $"{source} {g} recall {R(n)}");
        }
    }
}
