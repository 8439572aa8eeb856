using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Sensor.TestSupport;

namespace Sensor.Cli.Tests;

/// <summary>
/// `sensor replay --specs` and `sensor specs import` end to end on the spec-recon dev set: the traffic against the spec
/// it was generated from, then against an edited copy of that spec, then the original again.
/// </summary>
public class SpecsCommandTests : IDisposable
{
    private static readonly string Dev = Path.Combine(SharedData.Shared, "spec-recon-dev");
    private static readonly string OriginalSpec = File.ReadAllText(Path.Combine(Dev, "petstore-plus.yaml"));

    private readonly DirectoryInfo _dir = Directory.CreateTempSubdirectory("sensor-specs-");
    private string Db => Path.Combine(_dir.FullName, "s.duckdb");
    /// <summary>The user's spec file: a copy of the dev spec that the tests edit in place, as a user would.</summary>
    private string SpecFile => Path.Combine(_dir.FullName, "specs", "petstore-plus.yaml");

    public void Dispose() => _dir.Delete(true);

    private sealed record Row(string Id, string Rule, string Category, string Status, string Method, string Path, string? Location, string Detail,
        string? FixedAt, string Source);

    private static string Norm(string path) => Regex.Replace(path, "{[^}]*}", "{}");

    private SensorProcess.Result Sensor(params string[] args)
    {
        var r = SensorProcess.Run(args);
        Assert.DoesNotContain("   at ", r.Stderr);
        return r;
    }

    private JsonArray Query(string sql)
    {
        var r = Sensor("query", sql, "--db", Db, "--format", "json");
        Assert.True(r.ExitCode == 0, r.Stderr);
        return JsonNode.Parse(r.Stdout)!.AsArray();
    }

    /// <summary>The spec findings (traffic rules keep their own findings in the same table).</summary>
    private List<Row> Findings() => Query(
            "select finding_id, rule_id, category, status, method, path_template, location, detail, fixed_at, source from findings "
            + "where starts_with(source, 'spec:') order by rule_id, path_template, method, location")
        .Select(n => new Row((string)n!["finding_id"]!, (string)n["rule_id"]!, (string)n["category"]!, (string)n["status"]!, (string)n["method"]!,
            (string)n["path_template"]!, (string?)n["location"], (string)n["detail"]!, (string?)n["fixed_at"], (string)n["source"]!))
        .ToList();

    private List<string> Events(string id) =>
        Query($"select status from finding_events where finding_id = '{id}' order by changed_at").Select(n => (string)n!["status"]!).ToList();

    private void ReplayWithSpec()
    {
        Directory.CreateDirectory(Path.GetDirectoryName(SpecFile)!);
        File.WriteAllText(SpecFile, OriginalSpec);
        var r = Sensor("replay", Path.Combine(Dev, "traffic.pcap"), "--db", Db, "--specs", SpecFile);
        Assert.True(r.ExitCode == 0, r.Stderr);
        Assert.Contains("specs: 1 compared with the inventory: 0 shadow, 0 zombie, 0 orphan", r.Stdout);
    }

    /// <summary>The statuses each operation answered on the wire that its spec entry does not declare, from truth.json.</summary>
    private static HashSet<string> UndocumentedStatusesInTruth()
    {
        var set = new HashSet<string>();
        foreach (var op in JsonNode.Parse(File.ReadAllText(Path.Combine(Dev, "truth.json")))!["operations"]!.AsArray())
        {
            var declared = op!["responses"]!.AsArray().Select(s => (string)s!).ToHashSet();
            foreach (var s in op["observed"]!["statuses"]!.AsArray().Select(s => (string)s!))
                if (!declared.Contains(s)) set.Add($"{op["method"]} {Norm((string)op["path"]!)} {s}");
        }
        return set;
    }

    [Fact]
    public void The_traffic_against_its_own_spec_has_no_shadow_zombie_or_orphan_only_the_statuses_prism_added()
    {
        ReplayWithSpec();
        var findings = Findings();
        string Show(IEnumerable<Row> rows) => string.Join("\n", rows.Select(f => $"{f.Rule} {f.Method} {f.Path} {f.Location}: {f.Detail}"));

        Assert.True(!findings.Any(f => f.Category is "shadow" or "zombie" or "orphan"), Show(findings));
        Assert.All(findings, f => Assert.Equal(("new", "spec:petstore-plus.yaml", "conformance"), (f.Status, f.Source, f.Category)));

        // The statuses Prism answered that the spec does not declare (422 for /pets/abc-style probes, 401 and 400 on a few
        // operations), exactly.
        var statuses = findings.Where(f => f.Rule == "undocumented-status").Select(f => $"{f.Method} {Norm(f.Path)} {f.Location!["status:".Length..]}").ToHashSet();
        var truth = UndocumentedStatusesInTruth();
        Assert.Equal(truth.Order(), statuses.Order());
        Assert.Equal(8, statuses.Count(s => s.EndsWith(" 422")));

        // Prism generated the traffic from this very spec: anything undocumented beyond statuses would be a false positive,
        // and the only schema breaches are the deliberately bad bodies it refused.
        Assert.True(!findings.Any(f => f.Rule is "undocumented-parameter" or "undocumented-content-type" or "undocumented-response-property"), Show(findings));
        var breaches = findings.Where(f => f.Rule == "request-schema-violation").ToList();
        Assert.NotEmpty(breaches);
        Assert.True(breaches.All(f => f.Detail.EndsWith("(refused with 4xx)")), Show(breaches));
    }

    [Fact]
    public void Editing_the_spec_raises_exactly_that_shadow_zombie_and_orphan_and_restoring_it_fixes_them()
    {
        ReplayWithSpec();
        var before = Findings();

        // The user edits the spec: GET /health is dropped, GET /store/inventory deprecated, GET /pets/{petId}/vaccinations added.
        int health = OriginalSpec.IndexOf("  /health:\n", StringComparison.Ordinal), pets = OriginalSpec.IndexOf("  /pets:\n", StringComparison.Ordinal);
        Assert.True(health > 0 && pets > health);
        var edited = (OriginalSpec[..health] + OriginalSpec[pets..])
            .Replace("      operationId: getInventory\n", "      operationId: getInventory\n      deprecated: true\n", StringComparison.Ordinal);
        Assert.Contains("deprecated: true", edited);
        edited = edited.TrimEnd('\n') + """

              /pets/{petId}/vaccinations:
                parameters: [ { $ref: '#/components/parameters/PetId' } ]
                get:
                  operationId: listVaccinations
                  responses:
                    '200': { description: Vaccinations }

            """;
        File.WriteAllText(SpecFile, edited);

        var r = Sensor("specs", "import", SpecFile, "--db", Db);
        Assert.True(r.ExitCode == 0, r.Stderr);
        Assert.Contains("(OpenAPI 3.0.3, 19 operations)", r.Stdout);
        Assert.Contains("specs: 1 compared with the inventory: 1 shadow, 1 zombie, 1 orphan", r.Stdout);
        Assert.Equal(1L, (long)Query("select count(*) as n from specs")[0]!["n"]!);   // the same file: replaced, not added

        var after = Findings();
        var lifecycle = after.Where(f => f.Category is "shadow" or "zombie" or "orphan").ToList();
        Assert.Equal(["orphan-endpoint GET /pets/{petId}/vaccinations", "shadow-endpoint GET /health", "zombie-endpoint GET /store/inventory"],
            lifecycle.Select(f => $"{f.Rule} {f.Method} {f.Path}").Order(StringComparer.Ordinal));
        Assert.All(lifecycle, f => Assert.Equal("new", f.Status));
        // What held before still holds, under the same ids and untouched.
        Assert.Equal(before.Select(f => (f.Id, f.Status)).Order(), after.Where(f => f.Category == "conformance").Select(f => (f.Id, f.Status)).Order());

        // The original back: those three are fixed, the rest stays as it was.
        File.WriteAllText(SpecFile, OriginalSpec);
        r = Sensor("specs", "import", SpecFile, "--db", Db);
        Assert.True(r.ExitCode == 0, r.Stderr);
        Assert.Contains("specs: 1 compared with the inventory: 0 shadow, 0 zombie, 0 orphan", r.Stdout);
        Assert.Contains("(0 new, 3 fixed since last time)", r.Stdout);

        var restored = Findings();
        foreach (var f in lifecycle)
        {
            var now = restored.Single(x => x.Id == f.Id);
            Assert.Equal("fixed", now.Status);
            Assert.NotNull(now.FixedAt);
            Assert.Equal(["new", "fixed"], Events(f.Id));
        }
        Assert.Equal(before.Select(f => (f.Id, f.Status)).Order(), restored.Where(f => f.Category == "conformance").Select(f => (f.Id, f.Status)).Order());
        Assert.Equal(["new"], Events(before[0].Id));
    }

    public static TheoryData<string, byte[], string> NotOpenApi => new()
    {
        { "config.yaml", "name: x\nitems: [1, 2]\n"u8.ToArray(), "no top-level 'openapi' or 'swagger' field" },
        { "notes.md", "# Notes\n\nSome *markdown* text.\n"u8.ToArray(), "the top level is not a mapping" },
        { "broken.json", """{"openapi": "3.0.0", "info": """u8.ToArray(), "invalid JSON" },
        { "empty.yaml", [], "the file is empty" },
        { "old.yaml", "swagger: \"1.2\"\n"u8.ToArray(), "unsupported Swagger version 1.2" },
        { "capture.yaml", File.ReadAllBytes(Path.Combine(Dev, "traffic.pcap"))[..400], "invalid YAML" },
        { "cycle.yaml", "openapi: 3.0.0\nloop: &x [*x]\n"u8.ToArray(), "cycle" },
    };

    [Theory]
    [MemberData(nameof(NotOpenApi))]
    public void Importing_a_file_that_is_not_openapi_exits_2_with_one_line(string name, byte[] content, string reason)
    {
        var file = Path.Combine(_dir.FullName, name);
        File.WriteAllBytes(file, content);
        var r = Sensor("specs", "import", file, "--db", Db);
        Assert.True(r.ExitCode == 2, $"exit {r.ExitCode}: {r.Stderr}");
        var line = Assert.Single(r.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith($"sensor: {file}: ", line);
        Assert.Contains(reason, line);
        Assert.DoesNotContain("imported", r.Stdout);
        Assert.Equal(0L, (long)Query("select count(*) as n from specs")[0]!["n"]!);
    }

    [Fact]
    public void A_directory_with_one_bad_file_imports_the_rest_and_exits_2()
    {
        var specs = Directory.CreateDirectory(Path.Combine(_dir.FullName, "dir"));
        File.WriteAllText(Path.Combine(specs.FullName, "petstore-plus.yaml"), OriginalSpec);
        File.WriteAllText(Path.Combine(specs.FullName, "zz-notes.yaml"), "just: notes\n");
        var r = Sensor("specs", "import", specs.FullName, "--db", Db);
        Assert.Equal(2, r.ExitCode);
        Assert.StartsWith($"sensor: {Path.Combine(specs.FullName, "zz-notes.yaml")}: not an OpenAPI document", Assert.Single(r.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries)));
        Assert.Contains("(OpenAPI 3.0.3, 19 operations)", r.Stdout);
        Assert.Equal(1L, (long)Query("select count(*) as n from specs")[0]!["n"]!);
    }
}
