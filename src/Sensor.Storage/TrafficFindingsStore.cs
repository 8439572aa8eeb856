using DuckDB.NET.Data;
using Sensor.Analysis.Rules;
using Sensor.Core;

namespace Sensor.Storage;

/// <summary>
/// After a run: applies the traffic rules to this run's evidence, its sensitive items and the inventory,
/// and reconciles the traffic findings. A finding this run did not raise again is fixed only once its
/// endpoint was called <see cref="RuleOptions.FixAfterCalls"/> times since it was last seen (or after
/// <see cref="RuleOptions.FixAfter"/>) — quiet endpoints keep their findings open.
/// </summary>
public static class TrafficFindingsStore
{
    public const string Source = "traffic";

    public static (int New, int Fixed, int Total) Evaluate(SensorDatabase db, int runId, IReadOnlyCollection<EndpointEvidence> evidence, RuleOptions options, DateTime now)
    {
        var c = db.Connection;
        var endpoints = InventoryStore.LoadEndpoints(c);
        var templateOf = new Dictionary<(string, string, string), string>();
        using (var cmd = c.CreateCommand())
        {
            cmd.CommandText = "select service, method, path, path_template from endpoint_observations";
            using var r = cmd.ExecuteReader();
            while (r.Read()) templateOf[(r.GetString(0), r.GetString(1), r.GetString(2))] = r.IsDBNull(3) ? r.GetString(2) : r.GetString(3);
        }
        var sensitive = new List<SensitiveAggregate>();
        using (var cmd = c.CreateCommand())
        {
            cmd.CommandText = """
                select s.service, s.method, coalesce(o.path_template, s.path), s.part, s.location, s.type, count(*),
                       min(s.ts), max(s.ts), min(s.preview), count(distinct s.value_hmac)
                from sensitive_items s
                left join endpoint_observations o on o.service = s.service and o.method = s.method and o.path = s.path
                where s.run_id = ? and s.service is not null
                group by all
                """;
            cmd.Parameters.Add(new DuckDBParameter(runId));
            using var r = cmd.ExecuteReader();
            while (r.Read())
                sensitive.Add(new SensitiveAggregate(r.GetString(0), r.GetString(1), r.GetString(2), r.GetString(3), r.GetString(4), r.GetString(5),
                    r.GetInt64(6), Timestamp.FromDateTime(DateTime.SpecifyKind(r.GetDateTime(7), DateTimeKind.Utc)),
                    Timestamp.FromDateTime(DateTime.SpecifyKind(r.GetDateTime(8), DateTimeKind.Utc)), r.GetString(9), r.GetInt64(10)));
        }
        var findings = TrafficRules.Evaluate(endpoints, evidence, sensitive, (s, m, p) => templateOf.GetValueOrDefault((s, m, p)), options);
        var calls = endpoints.ToDictionary(e => (e.Service, e.Method ?? "", e.Template), e => (e.Observed.Count, e.Observed.LastSeen));
        return FindingsStore.Reconcile(db, Source, findings, now, (service, method, template, endpointCalls, lastSeen) =>
        {
            // Keep it open unless the endpoint was called enough (or long enough) since the finding was last raised.
            if (service == null || template == null || !calls.TryGetValue((service, method ?? "", template), out var now2)) return true;
            long since = now2.Count - endpointCalls;
            if (since >= options.FixAfterCalls) return false;
            if (options.FixAfter is { } t && since > 0 && lastSeen is { } ls && Timestamp.ToDateTime(now2.LastSeen) - ls >= t) return false;
            return true;
        }, endpointCalls: f => f.Method == null || f.PathTemplate == null ? 0 : calls.GetValueOrDefault((f.Service, f.Method, f.PathTemplate)).Count);
    }
}
