using Sensor.Analysis.Specs;

namespace Sensor.Storage;

public sealed record SpecImport(IReadOnlyList<ApiSpec> Imported, IReadOnlyList<SpecLoadFailure> Failures);

public sealed record SpecEvaluation(int Specs, int Findings, int New, int Fixed, IReadOnlyDictionary<string, int> ByCategory);

/// <summary>
/// The user's specs, kept in the database as imported (so later replays and imports re-judge the traffic
/// without the files), and the shadow/zombie/orphan/conformance findings drawn from them.
/// </summary>
public static class SpecStore
{
    public const string Table = """
        create table if not exists specs(
          source_path varchar primary key, title varchar, version varchar, openapi_version varchar,
          operations integer, warnings varchar, content blob, imported_at timestamp)
        """;

    /// <summary>Whether specs were imported, so the inventory is to be judged against them.</summary>
    public static bool Any(SensorDatabase db) => Convert.ToInt64(db.Scalar("select count(*) from specs")) > 0;

    /// <summary>Loads every spec file of a directory (or one file) and stores it, replacing an earlier import of the same path.</summary>
    public static SpecImport Import(SensorDatabase db, string path, DateTime now)
    {
        var (files, failures) = SpecLoader.ReadFiles(path);
        var imported = Import(db, files, now);
        return imported with { Failures = [.. failures, .. imported.Failures] };
    }

    /// <summary>Parses spec files and stores those that read, replacing earlier imports of the same paths.</summary>
    public static SpecImport Import(SensorDatabase db, IReadOnlyList<SpecFile> files, DateTime now)
    {
        var (specs, failures) = SpecLoader.ParseAll(files);
        using var tx = db.Connection.BeginTransaction();
        foreach (var (s, f) in specs)
        {
            var full = Path.GetFullPath(f.Path);
            db.Execute("delete from specs where source_path = ?", full);
            db.Execute("insert into specs values (?, ?, ?, ?, ?, ?, ?, ?)", full, s.Title, s.Version, s.OpenApiVersion, s.Operations.Count,
                string.Join("\n", s.Warnings), f.Content, now);
        }
        tx.Commit();
        return new SpecImport(specs.Select(x => x.Spec).ToList(), failures);
    }

    public static List<ApiSpec> LoadAll(SensorDatabase db)
    {
        var list = new List<ApiSpec>();
        using var cmd = db.Connection.CreateCommand();
        cmd.CommandText = "select source_path, content from specs order by source_path";
        using var r = cmd.ExecuteReader();
        while (r.Read())
        {
            using var blob = r.GetStream(1);
            using var ms = new MemoryStream();
            blob.CopyTo(ms);
            try { list.Add(SpecLoader.Parse(ms.ToArray(), r.GetString(0))); }
            catch (SpecFormatException) { /* it was readable when imported; a reader change must not stop evaluation */ }
        }
        return list;
    }

    /// <summary>Judges the whole stored inventory against every stored spec and reconciles the spec findings.</summary>
    public static SpecEvaluation Evaluate(SensorDatabase db, DateTime now)
    {
        var specs = LoadAll(db);
        var endpoints = InventoryStore.LoadEndpoints(db.Connection);
        var findings = SpecComparer.Compare(specs, endpoints);
        var (created, fixedNow, total) = FindingsStore.Reconcile(db, "spec:", findings, now);
        var byCategory = findings.GroupBy(f => f.Category).ToDictionary(g => g.Key, g => g.Count());
        return new SpecEvaluation(specs.Count, total, created, fixedNow, byCategory);
    }
}
