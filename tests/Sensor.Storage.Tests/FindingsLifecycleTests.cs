using Sensor.Analysis.Findings;
using Sensor.Core;

namespace Sensor.Storage.Tests;

/// <summary>
/// The findings lifecycle against a real DuckDB file: a rule family hands over the complete set that holds now,
/// round after round, and each finding moves new → active → fixed → reopened, with one finding_events row per
/// transition, stable ids, and other families' findings left alone.
/// </summary>
public class FindingsLifecycleTests : IDisposable
{
    private readonly DirectoryInfo _dir = Directory.CreateTempSubdirectory("sensor-findings-");
    private string DbPath => Path.Combine(_dir.FullName, "f.duckdb");
    public void Dispose() => _dir.Delete(true);

    private static readonly DateTime T0 = new(2025, 3, 1, 12, 0, 0, DateTimeKind.Utc);
    private static DateTime At(int round) => T0.AddHours(round);

    /// <summary>Packet time of the n-th request (seconds after 2025-03-01 10:00 UTC).</summary>
    private static long Packet(int second) => Timestamp.FromDateTime(new DateTime(2025, 3, 1, 10, 0, 0, DateTimeKind.Utc)) + second * Timestamp.TicksPerSecond;

    private static Finding F(string path, long count, int lastSecond = 100, string source = "spec:api.yaml", string rule = "shadow-endpoint",
        string? location = null, int firstSecond = 1) => new()
    {
        RuleId = rule, Title = "Shadow endpoint: observed but not documented", Category = "shadow", Owasp = "API9:2023", Cwe = "CWE-1059",
        Severity = Severity.Medium, Service = "api.example.com", Method = "GET", PathTemplate = path, Location = location,
        Detail = $"GET {path} is in no spec for this service (called {count} times)", Evidence = "statuses 200×" + count,
        FirstSeen = count == 0 ? null : Packet(firstSecond), LastSeen = count == 0 ? null : Packet(lastSecond), Count = count, Source = source,
    };

    private sealed record Row(string Id, string Status, long Count, DateTime CreatedAt, DateTime UpdatedAt, DateTime? FixedAt,
        DateTime? FirstSeen, DateTime? LastSeen, string Source, string? PathTemplate);

    private static Dictionary<string, Row> Rows(SensorDatabase db)
    {
        using var cmd = db.Connection.CreateCommand();
        cmd.CommandText = "select finding_id, status, count, created_at, updated_at, fixed_at, first_seen, last_seen, source, path_template from findings";
        using var r = cmd.ExecuteReader();
        var rows = new Dictionary<string, Row>();
        DateTime? T(int i) => r.IsDBNull(i) ? null : DateTime.SpecifyKind(r.GetDateTime(i), DateTimeKind.Utc);
        while (r.Read())
            rows.Add(r.GetString(0), new Row(r.GetString(0), r.GetString(1), r.GetInt64(2), T(3)!.Value, T(4)!.Value, T(5), T(6), T(7), r.GetString(8),
                r.IsDBNull(9) ? null : r.GetString(9)));
        return rows;
    }

    private static List<(string Id, DateTime At, string Status, long Count)> Events(SensorDatabase db, string? id = null)
    {
        using var cmd = db.Connection.CreateCommand();
        cmd.CommandText = "select finding_id, changed_at, status, count from finding_events order by changed_at, finding_id";
        using var r = cmd.ExecuteReader();
        var list = new List<(string, DateTime, string, long)>();
        while (r.Read())
            if (id == null || r.GetString(0) == id)
                list.Add((r.GetString(0), DateTime.SpecifyKind(r.GetDateTime(1), DateTimeKind.Utc), r.GetString(2), r.GetInt64(3)));
        return list;
    }

    [Fact]
    public void A_finding_goes_new_active_fixed_reopened_with_one_event_per_transition()
    {
        using var db = SensorDatabase.Open(DbPath);
        var a = F("/admin", 3, lastSecond: 30);
        var b = F("/debug", 1, lastSecond: 40);

        // 1: both appear.
        Assert.Equal((2, 0, 2), FindingsStore.Reconcile(db, "spec:", [a, b], At(1)));
        var rows = Rows(db);
        Assert.Equal([a.Id, b.Id], rows.Keys.Order());
        Assert.All(rows.Values, r => Assert.Equal((FindingsStore.New, At(1), At(1)), (r.Status, r.CreatedAt, r.UpdatedAt)));
        Assert.Equal(2, Events(db).Count);

        // 2: the same again: nothing changes but the time it was last confirmed.
        Assert.Equal((0, 0, 2), FindingsStore.Reconcile(db, "spec:", [F("/admin", 3, lastSecond: 30), F("/debug", 1, lastSecond: 40)], At(2)));
        rows = Rows(db);
        Assert.All(rows.Values, r => Assert.Equal((FindingsStore.New, At(1), At(2)), (r.Status, r.CreatedAt, r.UpdatedAt)));
        Assert.Equal(2, Events(db).Count);

        // 3: /admin seen more often: active.
        Assert.Equal((0, 0, 2), FindingsStore.Reconcile(db, "spec:", [F("/admin", 5, lastSecond: 50), b], At(3)));
        rows = Rows(db);
        Assert.Equal((FindingsStore.Active, 5L), (rows[a.Id].Status, rows[a.Id].Count));
        Assert.Equal(Timestamp.ToDateTime(Packet(50)), rows[a.Id].LastSeen);
        Assert.Equal(FindingsStore.New, rows[b.Id].Status);

        // 4: /admin no longer raised: fixed, and the row stays with when it was fixed.
        Assert.Equal((0, 1, 1), FindingsStore.Reconcile(db, "spec:", [b], At(4)));
        rows = Rows(db);
        Assert.Equal((FindingsStore.Fixed, At(4), At(4)), (rows[a.Id].Status, rows[a.Id].FixedAt, rows[a.Id].UpdatedAt));
        Assert.Equal(5L, rows[a.Id].Count);
        Assert.Null(rows[b.Id].FixedAt);

        // 5: still absent: still fixed, fixed_at unchanged, no event.
        Assert.Equal((0, 0, 1), FindingsStore.Reconcile(db, "spec:", [b], At(5)));
        Assert.Equal((FindingsStore.Fixed, At(4)), (Rows(db)[a.Id].Status, Rows(db)[a.Id].FixedAt));

        // 6: back: reopened, fixed_at cleared, created_at kept.
        Assert.Equal((0, 0, 2), FindingsStore.Reconcile(db, "spec:", [F("/admin", 5, lastSecond: 50), b], At(6)));
        rows = Rows(db);
        Assert.Equal((FindingsStore.Reopened, null, At(1)), (rows[a.Id].Status, rows[a.Id].FixedAt, rows[a.Id].CreatedAt));

        // 7: seen more often again: active.
        FindingsStore.Reconcile(db, "spec:", [F("/admin", 9, lastSecond: 90), b], At(7));
        Assert.Equal(FindingsStore.Active, Rows(db)[a.Id].Status);

        Assert.Equal(
            [(a.Id, At(1), "new", 3L), (a.Id, At(3), "active", 5L), (a.Id, At(4), "fixed", 5L), (a.Id, At(6), "reopened", 5L), (a.Id, At(7), "active", 9L)],
            Events(db, a.Id));
        Assert.Equal([(b.Id, At(1), "new", 1L)], Events(db, b.Id));
        Assert.Equal([a.Id, b.Id], Rows(db).Keys.Order());   // ids never changed
    }

    [Fact]
    public void A_later_last_seen_alone_makes_a_finding_active()
    {
        using var db = SensorDatabase.Open(DbPath);
        FindingsStore.Reconcile(db, "spec:", [F("/admin", 3, lastSecond: 30)], At(1));
        FindingsStore.Reconcile(db, "spec:", [F("/admin", 3, lastSecond: 31)], At(2));
        Assert.Equal(FindingsStore.Active, Assert.Single(Rows(db).Values).Status);
    }

    [Fact]
    public void The_same_finding_with_a_sub_microsecond_timestamp_stays_new()
    {
        // Nanosecond captures give packet times finer than DuckDB's microseconds; the same finding handed over again
        // must not look newer than what was stored.
        using var db = SensorDatabase.Open(DbPath);
        Finding Fine() => F("/admin", 3) with { FirstSeen = Packet(1) + 3, LastSeen = Packet(30) + 7 };
        FindingsStore.Reconcile(db, "spec:", [Fine()], At(1));
        FindingsStore.Reconcile(db, "spec:", [Fine()], At(2));
        Assert.Equal(FindingsStore.New, Assert.Single(Rows(db).Values).Status);
        Assert.Single(Events(db));
    }

    [Fact]
    public void First_seen_keeps_the_earliest_time_and_orphans_without_times_stay_new()
    {
        using var db = SensorDatabase.Open(DbPath);
        var orphan = F("/never", 0, rule: "orphan-endpoint");
        FindingsStore.Reconcile(db, "spec:", [F("/admin", 3, firstSecond: 5), orphan], At(1));
        FindingsStore.Reconcile(db, "spec:", [F("/admin", 3, firstSecond: 9), orphan], At(2));
        var rows = Rows(db);
        Assert.Equal(Timestamp.ToDateTime(Packet(5)), rows[F("/admin", 3).Id].FirstSeen);
        Assert.Equal((FindingsStore.New, null, null), (rows[orphan.Id].Status, rows[orphan.Id].FirstSeen, rows[orphan.Id].LastSeen));
    }

    [Fact]
    public void Other_scopes_are_untouched()
    {
        using var db = SensorDatabase.Open(DbPath);
        var spec = F("/admin", 3);
        var traffic = F("/admin", 3, rule: "unauthenticated-endpoint", source: "traffic");
        FindingsStore.Reconcile(db, "traffic", [traffic], At(1));
        FindingsStore.Reconcile(db, "spec:", [spec], At(1));
        Assert.Equal(2, Rows(db).Count);

        // The spec family now raises nothing: its finding is fixed, the traffic one is not even looked at.
        Assert.Equal((0, 1, 0), FindingsStore.Reconcile(db, "spec:", [], At(2)));
        var rows = Rows(db);
        Assert.Equal(FindingsStore.Fixed, rows[spec.Id].Status);
        Assert.Equal(rows[traffic.Id], new Row(traffic.Id, FindingsStore.New, 3, At(1), At(1), null,
            Timestamp.ToDateTime(Packet(1)), Timestamp.ToDateTime(Packet(100)), "traffic", "/admin"));
        Assert.Equal([(traffic.Id, At(1), "new", 3L)], Events(db, traffic.Id));

        // And the other way round.
        FindingsStore.Reconcile(db, "traffic", [], At(3));
        Assert.Equal((FindingsStore.Fixed, At(3)), (Rows(db)[traffic.Id].Status, Rows(db)[traffic.Id].FixedAt));
        Assert.Equal((FindingsStore.Fixed, At(2)), (Rows(db)[spec.Id].Status, Rows(db)[spec.Id].FixedAt));
    }

    [Fact]
    public void Every_column_is_kept_and_the_latest_description_wins()
    {
        using var db = SensorDatabase.Open(DbPath);
        var f = F("/admin", 3, location: "query:debug", rule: "undocumented-parameter") with { Severity = Severity.High, Cwe = null };
        FindingsStore.Reconcile(db, "spec:", [f], At(1));
        FindingsStore.Reconcile(db, "spec:", [f with { Detail = "reworded", Source = "spec:other.yaml" }], At(2));
        using var cmd = db.Connection.CreateCommand();
        cmd.CommandText = "select finding_id, rule_id, title, category, owasp, cwe, severity, risk_score, service, method, path_template, location, detail, evidence, source from findings";
        using var r = cmd.ExecuteReader();
        Assert.True(r.Read());
        var row = Enumerable.Range(0, r.FieldCount).Select(i => r.IsDBNull(i) ? null : r.GetValue(i)).ToArray();
        Assert.Equal(new object?[]
        {
            f.Id, "undocumented-parameter", f.Title, "shadow", "API9:2023", null, "high", Risk.Score("high", 3), "api.example.com", "GET", "/admin",
            "query:debug", "reworded", "statuses 200×3", "spec:other.yaml",
        }, row);
        Assert.False(r.Read());
    }

    [Fact]
    public void The_first_of_two_findings_with_one_id_wins()
    {
        using var db = SensorDatabase.Open(DbPath);
        var first = F("/admin", 3);
        var second = first with { Detail = "second", Count = 7 };
        Assert.Equal((1, 0, 1), FindingsStore.Reconcile(db, "spec:", [first, second], At(1)));
        var row = Assert.Single(Rows(db).Values);
        Assert.Equal(3L, row.Count);
        Assert.Single(Events(db));
    }

    [Fact]
    public void Thousands_of_findings_reconcile_in_one_pass()
    {
        using var db = SensorDatabase.Open(DbPath);
        const int n = 5000;
        var round1 = Enumerable.Range(0, n).Select(i => F($"/r/{i}", 2)).ToList();
        Assert.Equal((n, 0, n), FindingsStore.Reconcile(db, "spec:", round1, At(1)));

        // 0..999 gone, 1000..1999 seen more, 2000..4999 unchanged, 5000..5499 new.
        var round2 = Enumerable.Range(1000, 1000).Select(i => F($"/r/{i}", 4, lastSecond: 200))
            .Concat(Enumerable.Range(2000, 3000).Select(i => F($"/r/{i}", 2)))
            .Concat(Enumerable.Range(5000, 500).Select(i => F($"/r/{i}", 1))).ToList();
        Assert.Equal((500, 1000, 4500), FindingsStore.Reconcile(db, "spec:", round2, At(2)));

        // 0..499 back.
        var round3 = round2.Concat(Enumerable.Range(0, 500).Select(i => F($"/r/{i}", 2))).ToList();
        Assert.Equal((0, 0, 5000), FindingsStore.Reconcile(db, "spec:", round3, At(3)));

        var byStatus = Rows(db).Values.GroupBy(r => r.Status).ToDictionary(g => g.Key, g => g.Count());
        Assert.Equal(new Dictionary<string, int> { ["new"] = 3500, ["active"] = 1000, ["fixed"] = 500, ["reopened"] = 500 }, byStatus);
        Assert.Equal(5500, Rows(db).Count);
        var events = Events(db).GroupBy(e => e.Status).ToDictionary(g => g.Key, g => g.Count());
        Assert.Equal(new Dictionary<string, int> { ["new"] = 5500, ["active"] = 1000, ["fixed"] = 1000, ["reopened"] = 500 }, events);
        Assert.Equal(round1[42].Id, Rows(db)[round1[42].Id].Id);
    }

    [Fact]
    public void The_lifecycle_survives_closing_and_reopening_the_database()
    {
        var a = F("/admin", 3);
        using (var db = SensorDatabase.Open(DbPath)) FindingsStore.Reconcile(db, "spec:", [a], At(1));
        using (var db = SensorDatabase.Open(DbPath)) FindingsStore.Reconcile(db, "spec:", [], At(2));
        using (var db = SensorDatabase.Open(DbPath))
        {
            FindingsStore.Reconcile(db, "spec:", [a], At(3));
            Assert.Equal(FindingsStore.Reopened, Rows(db)[a.Id].Status);
            Assert.Equal(["new", "fixed", "reopened"], Events(db).Select(e => e.Status));
        }
    }
}
