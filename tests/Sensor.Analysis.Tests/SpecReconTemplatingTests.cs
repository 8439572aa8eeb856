using System.Text.Json.Nodes;
using Sensor.Analysis.Inventory;
using Sensor.Host.Pipeline;
using Sensor.Host.Replay;
using Sensor.Http;
using Sensor.TestSupport;
using Xunit.Abstractions;

namespace Sensor.Analysis.Tests;

/// <summary>Templates learned from the spec-recon dev traffic (through the pipeline's analyzer hand-off) against its truth.</summary>
public class SpecReconTemplatingTests(ITestOutputHelper output)
{
    private sealed class Collect(List<(string, string, int?)> calls) : IHttpAnalyzer, IHttpAnalyzerFactory
    {
        public string Name => "collect";
        public IHttpAnalyzer Create(int workerId) => this;
        public void OnTransaction(HttpTransaction t) { lock (calls) calls.Add((t.Method, t.Path, t.Status)); }
        public void Complete() { }
    }

    [Fact]
    public async Task Every_operation_of_the_dev_spec_is_found_and_nothing_else()
    {
        var dir = Path.Combine(SharedData.Shared, "spec-recon-dev");
        var calls = new List<(string Method, string Path, int? Status)>();
        var result = await new ReplayRunner(new PipelineOptions(), [new Collect(calls)]).RunAsync([Path.Combine(dir, "traffic.pcap")], null);
        Assert.Equal(228, result.Transactions);

        var t = new PathTemplater();
        foreach (var (m, p, s) in calls) t.Observe(p, m, s);
        static string Norm(string p) => System.Text.RegularExpressions.Regex.Replace(p, "{[^}]*}", "{}");
        var ours = calls.Select(c => c.Method + " " + Norm(t.Resolve(c.Path)!.Template)).ToHashSet();
        var truth = JsonNode.Parse(File.ReadAllText(Path.Combine(dir, "truth.json")))!["operations"]!.AsArray()
            .Select(o => (string)o!["method"]! + " " + Norm((string)o["path"]!)).ToHashSet();
        output.WriteLine($"operations: ours {ours.Count}, truth {truth.Count}, matched {ours.Intersect(truth).Count()}");
        Assert.Equal(truth.Order(), ours.Order());
    }
}
