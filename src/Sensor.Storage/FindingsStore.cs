using DuckDB.NET.Data;
using Sensor.Analysis.Findings;
using Sensor.Core;

namespace Sensor.Storage;

/// <summary>
/// The findings table and its lifecycle. A rule family re-evaluates its whole scope and hands over what
/// holds now: findings not seen before become <c>new</c>; seen again with more occurrences, <c>active</c>;
/// no longer raised, <c>fixed</c> (the row stays, with when it was fixed); raised again after a fix,
/// <c>reopened</c>. Every status change is kept in finding_events.
/// </summary>
public static class FindingsStore
{
    public const string Table = """
        create table if not exists findings(
          finding_id varchar primary key,
          rule_id varchar, title varchar, category varchar, owasp varchar, cwe varchar,
          severity varchar, risk_score integer, status varchar,
          service varchar, method varchar, path_template varchar, location varchar,
          detail varchar, evidence varchar,
          first_seen timestamp, last_seen timestamp, count bigint,
          source varchar, created_at timestamp, updated_at timestamp, fixed_at timestamp,
          endpoint_calls bigint)
        """;

    public const string Events = """
        create table if not exists finding_events(finding_id varchar, changed_at timestamp, status varchar, count bigint)
        """;

    public const string New = "new", Active = "active", Fixed = "fixed", Reopened = "reopened";

    /// <summary>A stored finding row (all columns, in table order).</summary>
    private sealed class Row
    {
        public required string Id;
        public string? RuleId, Title, Category, Owasp, Cwe, Severity, Status, Service, Method, PathTemplate, Location, Detail, Evidence, Source;
        public int RiskScore;
        public DateTime? FirstSeen, LastSeen, CreatedAt, UpdatedAt, FixedAt;
        public long Count, EndpointCalls;
    }

    /// <summary>Decides whether a finding that was not raised again stays open: (service, method, template, endpoint calls when last raised, last seen).</summary>
    public delegate bool KeepOpen(string? service, string? method, string? template, long endpointCalls, DateTime? lastSeen);

    /// <summary>
    /// Reconciles the findings whose source starts with <paramref name="sourcePrefix"/> (e.g. "spec:") with
    /// <paramref name="current"/>, the complete set that holds now for that scope. The scope is rewritten in
    /// bulk (appender), so thousands of findings cost no more than a few rows would.
    /// </summary>
    /// <param name="keepOpen">For a finding no longer raised: true keeps it open (default: it is fixed).</param>
    /// <param name="endpointCalls">The endpoint's call count when a finding is raised, remembered for <paramref name="keepOpen"/>.</param>
    public static (int New, int Fixed, int Total) Reconcile(SensorDatabase db, string sourcePrefix, IReadOnlyList<Finding> current, DateTime now,
        KeepOpen? keepOpen = null, Func<Finding, long>? endpointCalls = null)
    {
        var rows = new Dictionary<string, Row>(StringComparer.Ordinal);
        using (var cmd = db.Connection.CreateCommand())
        {
            cmd.CommandText = "select * from findings where starts_with(source, ?)";
            cmd.Parameters.Add(new DuckDBParameter(sourcePrefix));
            using var r = cmd.ExecuteReader();
            string? S(int i) => r.IsDBNull(i) ? null : r.GetString(i);
            DateTime? T(int i) => r.IsDBNull(i) ? null : r.GetDateTime(i);
            while (r.Read())
                rows[r.GetString(0)] = new Row
                {
                    Id = r.GetString(0), RuleId = S(1), Title = S(2), Category = S(3), Owasp = S(4), Cwe = S(5), Severity = S(6),
                    RiskScore = r.IsDBNull(7) ? 0 : r.GetInt32(7), Status = S(8), Service = S(9), Method = S(10), PathTemplate = S(11),
                    Location = S(12), Detail = S(13), Evidence = S(14), FirstSeen = T(15), LastSeen = T(16), Count = r.IsDBNull(17) ? 0 : r.GetInt64(17),
                    Source = S(18), CreatedAt = T(19), UpdatedAt = T(20), FixedAt = T(21), EndpointCalls = r.IsDBNull(22) ? 0 : r.GetInt64(22),
                };
        }
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var events = new List<(string Id, string Status, long Count)>();
        int created = 0, fixedNow = 0;
        foreach (var f in current)
        {
            var id = f.Id;
            if (!seen.Add(id)) continue;   // two rules naming the same place: the first wins
            // DuckDB keeps microseconds: packet times finer than that (nanosecond captures) are cut to them first, or the
            // same finding handed over again would look seen later than the stored copy and turn active.
            DateTime? first = f.FirstSeen is long fs ? Micros(Timestamp.ToDateTime(fs)) : null;
            DateTime? last = f.LastSeen is long ls ? Micros(Timestamp.ToDateTime(ls)) : null;
            string status;
            if (rows.TryGetValue(id, out var old))
            {
                status = old.Status switch
                {
                    Fixed => Reopened,
                    _ when f.Count > old.Count || (last != null && (old.LastSeen == null || last > old.LastSeen)) => Active,
                    _ => old.Status ?? New,
                };
                if (old.FirstSeen is { } of && (first == null || of < first)) first = of;
            }
            else { status = New; created++; old = null; }
            if (old == null || status != old.Status) events.Add((id, status, f.Count));
            rows[id] = new Row
            {
                Id = id, RuleId = f.RuleId, Title = f.Title, Category = f.Category, Owasp = f.Owasp, Cwe = f.Cwe, Severity = f.Severity,
                RiskScore = f.RiskScore, Status = status, Service = f.Service, Method = f.Method, PathTemplate = f.PathTemplate, Location = f.Location,
                Detail = f.Detail, Evidence = f.Evidence, FirstSeen = first, LastSeen = last, Count = f.Count, Source = f.Source,
                CreatedAt = old?.CreatedAt ?? now, UpdatedAt = now, FixedAt = null, EndpointCalls = endpointCalls?.Invoke(f) ?? 0,
            };
        }
        foreach (var row in rows.Values)
            if (!seen.Contains(row.Id) && row.Status != Fixed && keepOpen?.Invoke(row.Service, row.Method, row.PathTemplate, row.EndpointCalls, row.LastSeen) != true)
            {
                fixedNow++;
                events.Add((row.Id, Fixed, row.Count));
                row.Status = Fixed;
                row.FixedAt = now;
                row.UpdatedAt = now;
            }

        using var tx = db.Connection.BeginTransaction();
        db.Execute("delete from findings where starts_with(source, ?)", sourcePrefix);
        using (var app = db.Connection.CreateAppender("findings"))
            foreach (var w in rows.Values)
                app.CreateRow().AppendValue(w.Id).AppendValue(w.RuleId).AppendValue(w.Title).AppendValue(w.Category).AppendValue(w.Owasp).AppendValue(w.Cwe)
                    .AppendValue(w.Severity).AppendValue(w.RiskScore).AppendValue(w.Status).AppendValue(w.Service).AppendValue(w.Method)
                    .AppendValue(w.PathTemplate).AppendValue(w.Location).AppendValue(w.Detail).AppendValue(w.Evidence).AppendValue(w.FirstSeen)
                    .AppendValue(w.LastSeen).AppendValue(w.Count).AppendValue(w.Source).AppendValue(w.CreatedAt).AppendValue(w.UpdatedAt)
                    .AppendValue(w.FixedAt).AppendValue(w.EndpointCalls).EndRow();
        using (var app = db.Connection.CreateAppender("finding_events"))
            foreach (var (id, status, count) in events)
                app.CreateRow().AppendValue(id).AppendValue(now).AppendValue(status).AppendValue(count).EndRow();
        tx.Commit();
        return (created, fixedNow, seen.Count);
    }

    private static DateTime Micros(DateTime t) => new(t.Ticks - t.Ticks % 10, t.Kind);
}
