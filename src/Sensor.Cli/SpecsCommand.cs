using System.CommandLine;
using Sensor.Storage;

namespace Sensor.Cli;

internal static class SpecsCommand
{
    public static Command Create()
    {
        var path = new Argument<string>("path") { Description = "an OpenAPI 2.0/3.0/3.1 file (YAML or JSON) or a directory of them" };
        var db = DbReader.DbOption("DuckDB file (not one a running service holds: stop it, or use `sensor run --specs`)");
        var import = new Command("import", "Store the user's specs and compare the inventory with them (shadow, zombie, orphan, conformance findings)") { path, db };
        import.SetAction(pr => ImportAndEvaluate(pr.GetValue(db)!, pr.GetValue(path)!, quiet: false));
        var listDb = DbReader.DbOption();
        var list = new Command("list", "List the imported specs") { listDb };
        list.SetAction(pr => QueryCommand.Run(pr.GetValue(listDb)!,
            "select source_path, title, version, openapi_version, operations, imported_at from specs order by source_path", "table"));
        return new Command("specs", "OpenAPI specs provided by the user") { import, list };
    }

    /// <summary>Imports specs (when a path is given) and re-evaluates every stored spec; 0, or 2 when a spec could not be read.</summary>
    internal static int ImportAndEvaluate(string dbPath, string? specPath, bool quiet)
    {
        using var db = SensorDatabase.Open(dbPath);
        var now = TimeProvider.System.GetUtcNow().UtcDateTime;
        int rc = 0;
        if (specPath != null)
        {
            var imp = SpecStore.Import(db, specPath, now);
            foreach (var f in imp.Failures) { Console.Error.WriteLine($"sensor: {f.Path}: {f.Reason}"); rc = 2; }
            if (!quiet)
                foreach (var s in imp.Imported)
                    Console.WriteLine($"imported {s.SourcePath}: {s.Title} {s.Version} (OpenAPI {s.OpenApiVersion}, {s.Operations.Count} operations{(s.Warnings.Count > 0 ? $", {s.Warnings.Count} reader warnings" : "")})");
        }
        var ev = SpecStore.Evaluate(db, now);
        if (!quiet && ev.Specs > 0)
        {
            var cats = string.Join(", ", new[] { "shadow", "zombie", "orphan", "conformance" }.Select(c => $"{ev.ByCategory.GetValueOrDefault(c)} {c}"));
            Console.WriteLine($"specs: {ev.Specs} compared with the inventory: {cats} ({ev.New} new, {ev.Fixed} fixed since last time)");
        }
        return rc;
    }
}
