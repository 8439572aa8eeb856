using DuckDB.NET.Data;
using Sensor.Host.Pipeline;
using Sensor.Host.Replay;
using Sensor.TestSupport;

namespace Sensor.Host.Tests;

/// <summary>
/// The unauthenticated-endpoint and sensitive-exposure rules and the findings lifecycle over real captures:
/// a capture with the problem raises them (new); a capture after the fix, where the endpoint keeps being
/// called without the problem, fixes them; a capture of other endpoints leaves them open; the problem
/// coming back reopens them.
/// </summary>
public class FindingsLifecycleEndToEndTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("sensor-life-").FullName;
    private string Db => Path.Combine(_dir, "s.duckdb");
    private string Key => Path.Combine(_dir, "hmac.key");
    private double _ts = 1_700_000_000;
    private ushort _port = 30000;

    public void Dispose() => Directory.Delete(_dir, true);

    private const string Jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIiwiZXhwIjo0MTAyNDQ0ODAwfQ.c2lnbmF0dXJl";

    /// <summary>A capture of <paramref name="n"/> calls, one connection each.</summary>
    private string Capture(string name, int n, Func<int, (string Request, string Response)> call)
    {
        var path = Path.Combine(_dir, name);
        using var fs = File.Create(path);
        using var w = new PcapWriter(fs);
        for (int i = 0; i < n; i++)
        {
            var (req, resp) = call(i);
            var c = new Conversation("10.0.0.7", _port++, "10.0.0.80", 80).Handshake().Request(req).Response(resp).Close();
            foreach (var f in c.Frames) { w.Write(_ts, f); _ts += 0.001; }
            _ts += 1;
        }
        return path;
    }

    private static string Get(string path, string? auth = null) =>
        $"GET {path} HTTP/1.1\r\nHost: bank.example.com\r\nUser-Agent: app/1\r\n{(auth == null ? "" : $"Authorization: Bearer {auth}\r\n")}\r\n";

    private static string Json(int status, string body) =>
        $"HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {body.Length}\r\n\r\n{body}";

    private async Task Replay(string capture)
    {
        var r = await new ReplayRunner(new PipelineOptions()) { KeyFile = Key }.RunAsync([capture], Db);
        Assert.True(r.Transactions > 0);
    }

    private Dictionary<string, string> Status()
    {
        using var c = new DuckDBConnection($"Data Source={Db};ACCESS_MODE=READ_ONLY");
        c.Open();
        using var cmd = c.CreateCommand();
        cmd.CommandText = "select rule_id, status from findings where path_template = '/api/accounts/{accountId}' and rule_id in ('unauthenticated-endpoint', 'sensitive-data-exposure')";
        using var r = cmd.ExecuteReader();
        var d = new Dictionary<string, string>();
        while (r.Read()) d[r.GetString(0)] = r.GetString(1);
        return d;
    }

    [Fact]
    public async Task Raised_fixed_kept_open_and_reopened_by_traffic()
    {
        // The problem: accounts answered without credentials, with the owner's email.
        var leaky = Capture("leaky.pcap", 12, i => (Get($"/api/accounts/{100 + i}"), Json(200, $"{{\"id\":{100 + i},\"email\":\"owner{i}@mailbox.org\"}}")));
        await Replay(leaky);
        var s = Status();
        Assert.Equal("new", s["unauthenticated-endpoint"]);
        Assert.Equal("new", s["sensitive-data-exposure"]);

        // Other endpoints only: the accounts endpoint was not called, so nothing is confirmed fixed.
        await Replay(Capture("other.pcap", 12, i => (Get("/api/health"), Json(200, "{\"ok\":true}"))));
        s = Status();
        Assert.Equal("new", s["unauthenticated-endpoint"]);
        Assert.Equal("new", s["sensitive-data-exposure"]);

        // The fix: without credentials 401; with them 200 and no email. Called 24 times without the condition.
        await Replay(Capture("fixed.pcap", 24, i => i % 2 == 0
            ? (Get($"/api/accounts/{200 + i}"), Json(401, "{\"error\":\"unauthorized\"}"))
            : (Get($"/api/accounts/{200 + i}", Jwt), Json(200, $"{{\"id\":{200 + i}}}"))));
        s = Status();
        Assert.Equal("fixed", s["unauthenticated-endpoint"]);
        Assert.Equal("fixed", s["sensitive-data-exposure"]);

        // It comes back.
        await Replay(Capture("again.pcap", 3, i => (Get($"/api/accounts/{300 + i}"), Json(200, $"{{\"id\":{300 + i},\"email\":\"back{i}@mailbox.org\"}}"))));
        s = Status();
        Assert.Equal("reopened", s["unauthenticated-endpoint"]);
        Assert.Equal("reopened", s["sensitive-data-exposure"]);

        using var c = new DuckDBConnection($"Data Source={Db};ACCESS_MODE=READ_ONLY");
        c.Open();
        using var cmd = c.CreateCommand();
        cmd.CommandText = """
            select string_agg(e.status, ',' order by e.changed_at) from finding_events e join findings f using (finding_id)
            where f.rule_id = 'unauthenticated-endpoint' and f.path_template = '/api/accounts/{accountId}'
            """;
        Assert.Equal("new,fixed,reopened", cmd.ExecuteScalar());
    }
}
