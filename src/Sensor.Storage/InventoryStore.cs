using System.Text.Json;
using DuckDB.NET.Data;
using Sensor.Analysis.Inventory;
using Sensor.Core;

namespace Sensor.Storage;

/// <summary>
/// Keeps the inventory in the database: the per-path aggregate of every run (endpoint_observations) and the
/// endpoints templated from all of it (endpoints). Each replay merges its observations into the aggregate and
/// re-templates the services it touched, so more traffic extends the inventory instead of starting over.
/// </summary>
public static class InventoryStore
{
    public const string Observations = """
        create table if not exists endpoint_observations(
          service varchar, method varchar, path varchar, count bigint,
          first_seen timestamp, last_seen timestamp, statuses varchar,
          with_credentials bigint, unauthenticated_2xx bigint, auth_schemes varchar)
        """;

    public const string Endpoints = """
        create table if not exists endpoints(
          service varchar, method varchar, path_template varchar,
          first_seen timestamp, last_seen timestamp, count bigint, status_counts varchar,
          auth_observed varchar, unauthenticated_2xx bigint, distinct_paths bigint)
        """;

    public static void Save(SensorDatabase db, IReadOnlyCollection<PathObservation> fresh)
    {
        if (fresh.Count == 0) return;
        var services = fresh.Select(o => o.Service).ToHashSet();
        var merged = new Dictionary<(string, string, string), PathObservation>();
        foreach (var o in Load(db.Connection, services)) merged[(o.Service, o.Method, o.Path)] = o;
        foreach (var o in fresh)
        {
            var k = (o.Service, o.Method, o.Path);
            if (merged.TryGetValue(k, out var have)) have.Merge(o); else merged[k] = o;
        }
        using var tx = db.Connection.BeginTransaction();
        foreach (var s in services)
        {
            db.Execute("delete from endpoint_observations where service = ?", s);
            db.Execute("delete from endpoints where service = ?", s);
        }
        using (var app = db.Connection.CreateAppender("endpoint_observations"))
            foreach (var o in merged.Values)
                app.CreateRow().AppendValue(o.Service).AppendValue(o.Method).AppendValue(o.Path).AppendValue(o.Count)
                    .AppendValue(Timestamp.ToDateTime(o.FirstSeen)).AppendValue(Timestamp.ToDateTime(o.LastSeen))
                    .AppendValue(StatusJson(o.Statuses))
                    .AppendValue(o.WithCredentials).AppendValue(o.Unauthenticated2xx).AppendValue(string.Join(",", o.AuthSchemes.Order())).EndRow();
        using (var app = db.Connection.CreateAppender("endpoints"))
            foreach (var group in merged.Values.GroupBy(o => o.Service))
                foreach (var e in Template(group.ToList()))
                    app.CreateRow().AppendValue(group.Key).AppendValue(e.Method).AppendValue(e.Template)
                        .AppendValue(Timestamp.ToDateTime(e.Obs.FirstSeen)).AppendValue(Timestamp.ToDateTime(e.Obs.LastSeen)).AppendValue(e.Obs.Count)
                        .AppendValue(StatusJson(e.Obs.Statuses))
                        .AppendValue(e.Obs.AuthSchemes.Count == 0 ? "none" : string.Join(",", e.Obs.AuthSchemes.Order()))
                        .AppendValue(e.Obs.Unauthenticated2xx).AppendValue((long)e.Paths).EndRow();
        tx.Commit();
    }

    /// <summary>Status counts as a JSON object ordered by status, e.g. {"200":12,"404":1}.</summary>
    private static string StatusJson(Dictionary<int, long> statuses) =>
        JsonSerializer.Serialize(statuses.OrderBy(kv => kv.Key).ToDictionary(kv => kv.Key.ToString(), kv => kv.Value));

    private sealed record Endpoint(string Method, string Template, PathObservation Obs, int Paths);

    private static IEnumerable<Endpoint> Template(List<PathObservation> obs)
    {
        var t = new PathTemplater();
        foreach (var o in obs)
        {
            long ok = o.Statuses.Where(kv => kv.Key is >= 200 and < 400).Sum(kv => kv.Value);
            long ce = o.Statuses.Where(kv => kv.Key is >= 400 and < 500).Sum(kv => kv.Value);
            t.Observe(o.Path, o.Method, o.Count, ok, ce);
        }
        foreach (var g in obs.GroupBy(o => (o.Method, Template: t.Resolve(o.Path)?.Template ?? o.Path)))
        {
            var agg = new PathObservation { Service = "", Method = g.Key.Method, Path = g.Key.Template };
            foreach (var o in g) agg.Merge(o);
            yield return new Endpoint(g.Key.Method, g.Key.Template, agg, g.Count());
        }
    }

    private static List<PathObservation> Load(DuckDBConnection c, HashSet<string> services)
    {
        var list = new List<PathObservation>();
        using var cmd = c.CreateCommand();
        cmd.CommandText = "select service, method, path, count, first_seen, last_seen, statuses, with_credentials, unauthenticated_2xx, auth_schemes from endpoint_observations";
        using var r = cmd.ExecuteReader();
        while (r.Read())
        {
            var service = r.GetString(0);
            if (!services.Contains(service)) continue;
            var o = new PathObservation { Service = service, Method = r.GetString(1), Path = r.GetString(2) };
            o.Count = r.GetInt64(3);
            o.FirstSeen = Timestamp.FromDateTime(DateTime.SpecifyKind(r.GetDateTime(4), DateTimeKind.Utc));
            o.LastSeen = Timestamp.FromDateTime(DateTime.SpecifyKind(r.GetDateTime(5), DateTimeKind.Utc));
            foreach (var (k, v) in JsonSerializer.Deserialize<Dictionary<string, long>>(r.GetString(6)) ?? []) o.Statuses[int.Parse(k)] = v;
            o.WithCredentials = r.GetInt64(7);
            o.Unauthenticated2xx = r.GetInt64(8);
            foreach (var s in r.GetString(9).Split(',', StringSplitOptions.RemoveEmptyEntries)) o.AuthSchemes.Add(s);
            list.Add(o);
        }
        return list;
    }
}
