using System.CommandLine;
using Sensor.Host.Live;
using Sensor.Storage;

namespace Sensor.Cli;

internal static class SpecsCommand
{
    public static Command Create()
    {
        var path = new Argument<string>("path") { Description = "an OpenAPI 2.0/3.0/3.1 file (YAML or JSON) or a directory of them" };
        var db = DbReader.DbOption("DuckDB file (a running service that holds it takes the specs through its socket)");
        var import = new Command("import", "Store the user's specs and compare the inventory with them (shadow, zombie, orphan, conformance findings)") { path, db };
        import.SetAction(pr => Import(pr.GetValue(db)!, pr.GetValue(path)!));
        var listDb = DbReader.DbOption();
        var list = new Command("list", "List the imported specs") { listDb };
        list.SetAction(pr => QueryCommand.Run(pr.GetValue(listDb)!,
            "select source_path, title, version, openapi_version, operations, imported_at from specs order by source_path", "table"));
        return new Command("specs", "OpenAPI specs provided by the user") { import, list };
    }

    /// <summary>
    /// Into the file, or, when a running service holds it, through the service's socket: the files are read here
    /// (with the caller's permissions) and the service stores and judges them.
    /// </summary>
    private static int Import(string dbPath, string specPath)
    {
        var socket = QueryClient.SocketFor(dbPath);
        if (!QueryClient.Answers(socket)) return ImportAndEvaluate(dbPath, specPath, quiet: false);
        var (files, unread) = Sensor.Analysis.Specs.SpecLoader.ReadFiles(specPath);
        int rc = 0;
        foreach (var f in unread) { Console.Error.WriteLine($"sensor: {f.Path}: {f.Reason}"); rc = 2; }
        if (files.Count == 0) return rc;
        QueryClient.RemoteSpecImport imp;
        try { imp = QueryClient.ImportSpecs(socket, files); }
        catch (RemoteQueryException e) { Console.Error.WriteLine($"sensor: {socket}: {e.Message}"); return 2; }
        foreach (var f in imp.Failures) { Console.Error.WriteLine($"sensor: {f.Path}: {f.Reason}"); rc = 2; }
        foreach (var s in imp.Imported) Imported(s.Path, s.Title, s.Version, s.OpenApiVersion, s.Operations, s.Warnings, " into the running service");
        Report(imp.Evaluation);
        return rc;
    }

    private static void Imported(string path, string title, string? version, string openApi, int operations, int warnings, string where) =>
        Console.WriteLine($"imported {path}: {title} {version} (OpenAPI {openApi}, {operations} operations{(warnings > 0 ? $", {warnings} reader warnings" : "")}){where}");

    private static void Report(SpecEvaluation ev)
    {
        if (ev.Specs == 0) return;
        var cats = string.Join(", ", new[] { "shadow", "zombie", "orphan", "conformance" }.Select(c => $"{ev.ByCategory.GetValueOrDefault(c)} {c}"));
        Console.WriteLine($"specs: {ev.Specs} compared with the inventory: {cats} ({ev.New} new, {ev.Fixed} fixed since last time)");
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
                    Imported(s.SourcePath, s.Title, s.Version, s.OpenApiVersion, s.Operations.Count, s.Warnings.Count, "");
        }
        var ev = SpecStore.Evaluate(db, now);
        if (!quiet) Report(ev);
        return rc;
    }
}
