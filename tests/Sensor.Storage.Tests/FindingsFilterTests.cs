using DuckDB.NET.Data;
using Sensor.Analysis.Findings;
using Sensor.Storage;

namespace Sensor.Storage.Tests;

/// <summary>The `sensor findings` filter language, run against a real findings table.</summary>
public class FindingsFilterTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("sensor-filter-").FullName;
    private readonly SensorDatabase _db;

    public FindingsFilterTests()
    {
        _db = SensorDatabase.Open(Path.Combine(_dir, "f.duckdb"));
        Finding F(string rule, string sev, string owasp, string path, string service = "api.example.com", string cwe = "CWE-1") => new()
        {
            RuleId = rule, Title = rule, Category = "c", Owasp = owasp, Cwe = cwe, Severity = sev, Service = service, Method = "GET",
            PathTemplate = path, Detail = "d", Count = 1, Source = "traffic:test",
        };
        FindingsStore.Reconcile(_db, "traffic:", [
            F("jwt-no-expiry", Severity.Medium, "API2:2023", "/users/{userId}"),
            F("jwt-alg-none", Severity.Critical, "API2:2023", "/users/me"),
            F("unauthenticated-endpoint", Severity.High, "API2:2023", "/orders"),
            F("attack-sqli", Severity.Low, "API8:2023", "/search", cwe: "CWE-89"),
            F("stack-trace-disclosure", Severity.Medium, "API8:2023", "/users_admin", service: "other.example.com"),
        ], DateTime.UnixEpoch);
    }

    public void Dispose()
    {
        _db.Dispose();
        Directory.Delete(_dir, true);
    }

    private List<string> Rules(string filter)
    {
        var (sql, args) = FindingsFilter.ToSql(filter);
        using var cmd = _db.Connection.CreateCommand();
        cmd.CommandText = $"select rule_id from findings where {sql} order by rule_id";
        foreach (var a in args) cmd.Parameters.Add(new DuckDBParameter(a));
        using var r = cmd.ExecuteReader();
        var list = new List<string>();
        while (r.Read()) list.Add(r.GetString(0));
        return list;
    }

    [Theory]
    [InlineData("", "attack-sqli,jwt-alg-none,jwt-no-expiry,stack-trace-disclosure,unauthenticated-endpoint")]
    [InlineData("severity:high", "unauthenticated-endpoint")]
    [InlineData("severity>=high", "jwt-alg-none,unauthenticated-endpoint")]
    [InlineData("severity<medium", "attack-sqli")]
    [InlineData("owasp:API2 and path:/users*", "jwt-alg-none,jwt-no-expiry")]
    [InlineData("owasp:API2:2023 path:/users/*", "jwt-alg-none,jwt-no-expiry")]                    // "and" implied
    [InlineData("path:/users_*", "stack-trace-disclosure")]                                           // "_" is literal, "*" is the wildcard
    [InlineData("not status:fixed and rule:jwt-*", "jwt-alg-none,jwt-no-expiry")]
    [InlineData("rule:attack-sqli or (severity:critical and service:api.example.com)", "attack-sqli,jwt-alg-none")]
    [InlineData("not (owasp:API2 or owasp:API8)", "")]
    [InlineData("cwe:89", "attack-sqli")]
    [InlineData("cwe:CWE-8", "")]                                                                      // exact, not a prefix
    [InlineData("service:\"other.example.com\"", "stack-trace-disclosure")]
    [InlineData("SEVERITY:HIGH", "unauthenticated-endpoint")]
    [InlineData("title:expiry", "jwt-no-expiry")]
    [InlineData("risk>=80", "jwt-alg-none")]
    public void Filters_select_the_right_findings(string filter, string expected) =>
        Assert.Equal(expected, string.Join(",", Rules(filter)));

    [Theory]
    [InlineData("path:\"/x' or '1'='1\"")]
    [InlineData("service:a\"; drop table findings; --\"")]
    [InlineData("rule:%")]
    public void Values_never_become_sql(string filter)
    {
        var (sql, args) = FindingsFilter.ToSql(filter);
        Assert.DoesNotContain("drop", sql, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("'1'='1", sql);
        Assert.NotEmpty(args);
        Assert.Empty(Rules(filter));                                   // matches nothing, breaks nothing
        Assert.Equal(5, Rules("").Count);                              // the table is still there
    }

    [Theory]
    [InlineData("bogus:1", "unknown field")]
    [InlineData("severity:extreme", "unknown severity")]
    [InlineData("risk:high", "number")]
    [InlineData("path>/x", "applies to severity, risk and count")]
    [InlineData("(severity:high", "missing ')'")]
    [InlineData("severity:high and", "missing")]
    [InlineData("justaword", "not field:value")]
    [InlineData("path:/x' or '1'='1", "unknown field")]                   // unquoted: the quote trick is just a bad term
    [InlineData("service:\"unterminated", "unterminated quote")]
    public void Bad_filters_say_what_is_wrong(string filter, string message)
    {
        var e = Assert.Throws<FilterSyntaxException>(() => FindingsFilter.ToSql(filter));
        Assert.Contains(message, e.Message);
    }
}
