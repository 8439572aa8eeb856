using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Sensor.TestSupport;
using Xunit.Abstractions;

namespace Sensor.Cli.Tests;

/// <summary>
/// Replays EVERY capture of the shared ground-truth corpus with the real CLI and compares the stored
/// transactions with the expectations, the way ../shared/corpus/check.py does; prints the per-file table.
/// </summary>
public class CorpusEndToEndTests(ITestOutputHelper output)
{
    private static readonly string[] Fields = ["conn", "method", "host", "uri", "status", "req_body_len", "resp_body_len", "req_body_sha256", "resp_body_sha256", "complete"];
    private static readonly string[] PartialFields = ["conn", "method", "host", "uri"];

    private sealed record FileOutcome(string Name, int Expected, int Matched, int Extra, bool MalformedOk, string Note);

    [Fact]
    public void Every_corpus_capture_matches_its_expected_transactions()
    {
        var expectedFiles = Directory.GetFiles(SharedData.Corpus, "*.expected.jsonl").Order(StringComparer.Ordinal).ToList();
        Assert.NotEmpty(expectedFiles);
        var outcomes = new List<FileOutcome>();
        foreach (var exp in expectedFiles)
            outcomes.Add(Check(exp));

        var sb = new StringBuilder();
        int w = outcomes.Max(o => o.Name.Length);
        foreach (var o in outcomes)
            sb.AppendLine($"{o.Name.PadRight(w)}  {o.Matched,4}/{o.Expected,-4} extra {o.Extra}  {(o.MalformedOk ? "" : "MALFORMED-HANDLING-WRONG ")}{o.Note}");
        int tot = outcomes.Sum(o => o.Expected), hit = outcomes.Sum(o => o.Matched), extra = outcomes.Sum(o => o.Extra);
        double rate = tot == 0 ? 0 : (double)hit / tot;
        sb.AppendLine($"corpus: {outcomes.Count} files, matched {hit}/{tot} = {rate:F4}, extra {extra}, malformed handled wrong {outcomes.Count(o => !o.MalformedOk)}");
        output.WriteLine(sb.ToString());
        Console.WriteLine(sb.ToString());

        Assert.True(rate >= 0.995, $"match rate {rate:F4} below 0.995\n{sb}");
        Assert.True(extra == 0, $"{extra} unexpected transactions\n{sb}");
        Assert.True(outcomes.All(o => o.MalformedOk), sb.ToString());
    }

    private static FileOutcome Check(string expPath)
    {
        string stem = expPath[..^".expected.jsonl".Length];
        var capture = Directory.GetFiles(Path.GetDirectoryName(stem)!, Path.GetFileName(stem) + ".*")
            .Where(p => !p.EndsWith(".jsonl") && !p.EndsWith(".json") && !p.EndsWith(".md")).OrderBy(p => p.Length).First();
        var lines = File.ReadAllLines(expPath).Where(l => l.Trim().Length > 0).Select(l => JsonNode.Parse(l)!.AsObject()).ToList();
        var error = lines.FirstOrDefault(l => l.ContainsKey("error"));
        var expected = lines.Where(l => !l.ContainsKey("error")).ToList();

        var dir = Directory.CreateTempSubdirectory("sensor-corpus-");
        try
        {
            var db = Path.Combine(dir.FullName, "t.duckdb");
            var replay = SensorProcess.Run("replay", capture, "--db", db, "--quiet");
            var got = new List<JsonObject>();
            if (File.Exists(db))
            {
                var q = SensorProcess.Run("query", "select " + string.Join(", ", Fields) + " from http_transactions", "--db", db, "--format", "json");
                Assert.True(q.ExitCode == 0, q.Stderr);
                got = JsonNode.Parse(q.Stdout)!.AsArray().Select(n => n!.AsObject()).ToList();
            }
            bool malformedOk = true;
            string note = "";
            if (error != null)
            {
                int want = (int)error["exit_code"]!;
                int before = error["transactions_before_error"]?.GetValue<int>() ?? 0;
                bool trace = replay.Stderr.Contains("Unhandled exception") || replay.Stderr.Contains("   at ");
                bool said = replay.Stderr.Trim().Length > 0;
                malformedOk = replay.ExitCode == want && !trace && said && got.Count >= before;
                note = $"rc={replay.ExitCode} want={want}: {replay.Stderr.Trim().Split('\n')[0]}";
            }
            else if (replay.ExitCode != 0) note = $"rc={replay.ExitCode}: {replay.Stderr.Trim()}";

            var pool = got.ToList();
            int matched = 0;
            foreach (var e in expected.Where(e => e["partial"]?.GetValue<bool>() != true))
            {
                int i = pool.FindIndex(g => Fields.All(f => Same(f, e[f], g[f])));
                if (i >= 0) { pool.RemoveAt(i); matched++; }
            }
            foreach (var e in expected.Where(e => e["partial"]?.GetValue<bool>() == true))
            {
                int i = pool.FindIndex(g => PartialFields.All(f => Same(f, e[f], g[f]))
                    && (e["status"] == null || Same("status", e["status"], g["status"]))
                    && g["complete"]?.GetValue<bool>() == false);
                if (i >= 0) { pool.RemoveAt(i); matched++; }
            }
            return new FileOutcome(Path.GetFileName(capture), expected.Count, matched, pool.Count, malformedOk, note);
        }
        finally { dir.Delete(true); }
    }

    private static bool Same(string field, JsonNode? a, JsonNode? b)
    {
        // An absent body counts as length 0 whether stored as 0 or null (as in check.py).
        if (field.EndsWith("_body_len")) return Num(a) == Num(b);
        if (a == null || b == null) return a == null && b == null;
        if (a.GetValueKind() is JsonValueKind.Number || b.GetValueKind() is JsonValueKind.Number) return Num(a) == Num(b);
        return a.ToJsonString() == b.ToJsonString();
    }

    private static long Num(JsonNode? n) => n == null ? 0 : n.GetValueKind() == JsonValueKind.Number ? n.GetValue<long>() : long.Parse(n.GetValue<string>());
}
