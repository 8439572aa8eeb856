using Sensor.Analysis.Findings;
using Sensor.Analysis.Rules;

namespace Sensor.Analysis.Tests.Rules;

/// <summary>Each traffic rule with a true positive and a near miss.</summary>
public class TrafficRulesTests
{
    private const string Jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2ln";                              // HS256, no exp
    private const string JwtExp = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIiwiZXhwIjo0MTAyNDQ0ODAwfQ.c2ln";         // exp 2100
    private const string JwtExpired = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIiwiZXhwIjoxMDAwMDAwMDAwfQ.c2ln";     // exp 2001
    private const string JwtNone = "eyJhbGciOiJub25lIn0.eyJzdWIiOiIxIiwiZXhwIjo0MTAyNDQ0ODAwfQ.";            // alg none
    private const string JwtClaims = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIiwiZXhwIjo0MTAyNDQ0ODAwLCJwYXNzd29yZCI6IngifQ.c2ln";

    private static Finding? One(List<Finding> f, string rule) => f.SingleOrDefault(x => x.RuleId == rule);

    [Fact]
    public void Unauthenticated_endpoint_is_raised_and_graded()
    {
        var f = new RuleTraffic()
            .Call("GET", "/api/items/1", 200)                                              // no credential, 2xx
            .Call("DELETE", "/api/items/2", 204)                                           // mutating without credential
            .Call("GET", "/api/orders/1", 200, ["Authorization: Bearer " + JwtExp])        // near miss: authenticated
            .Call("GET", "/api/orders/2", 401)                                             // near miss: refused
            .Findings();
        var get = f.Single(x => x.RuleId == "unauthenticated-endpoint" && x.Method == "GET");
        Assert.Equal("/api/items/{itemId}", get.PathTemplate);
        Assert.Equal(Severity.Medium, get.Severity);
        Assert.Equal(Severity.High, f.Single(x => x.RuleId == "unauthenticated-endpoint" && x.Method == "DELETE").Severity);
        Assert.DoesNotContain(f, x => x.RuleId == "unauthenticated-endpoint" && x.PathTemplate!.StartsWith("/api/orders"));
        Assert.Equal("API2:2023", get.Owasp);
    }

    [Fact]
    public void Unauthenticated_endpoint_returning_sensitive_data_is_high()
    {
        var t = new RuleTraffic().Call("GET", "/api/profile", 200);
        t.Sensitive.Add(new SensitiveAggregate("api.example.com", "GET", "/api/profile", "resp_body", "$.email", "email", 1, 1, 1, "j***@x.com", 1));
        var f = t.Findings();
        Assert.Equal(Severity.High, One(f, "unauthenticated-endpoint")!.Severity);
        var exposure = One(f, "sensitive-data-exposure")!;
        Assert.Equal(Severity.High, exposure.Severity);      // PII, and the endpoint is open
        Assert.Equal("resp_body:$.email", exposure.Location);
        Assert.True(exposure.RiskScore > One(f, "unauthenticated-endpoint")!.RiskScore - 10);
    }

    [Fact]
    public void Secrets_in_urls_and_example_values()
    {
        var t = new RuleTraffic().Call("GET", "/api/x?token=abc", 200, ["Authorization: Basic dTpw"]);
        t.Sensitive.Add(new SensitiveAggregate("api.example.com", "GET", "/api/x", "query", "token", "api_key", 3, 1, 2, "ab…", 1));
        t.Sensitive.Add(new SensitiveAggregate("api.example.com", "GET", "/api/x", "query", "key", "example", 3, 1, 2, "AK…", 1));   // near miss: documented example key
        var f = t.Findings();
        var url = One(f, "secret-in-url")!;
        Assert.Equal("query:token", url.Location);
        Assert.Equal("secret", url.Sensitivity);
        Assert.DoesNotContain(f, x => x.Location == "query:key");
    }

    [Fact]
    public void Credentials_over_plaintext()
    {
        var f = new RuleTraffic()
            .Call("GET", "/api/a", 200, ["X-API-Key: k1234567890"])
            .Call("GET", "/api/b", 200, ["X-Request-ID: 42"])                               // near miss: not a credential
            .Findings();
        Assert.Equal("req_header:x-api-key", One(f, "plaintext-credentials")!.Location);
        Assert.DoesNotContain(f, x => x.RuleId == "plaintext-credentials" && x.PathTemplate == "/api/b");
    }

    [Fact]
    public void Jwt_weaknesses()
    {
        var f = new RuleTraffic()
            .Call("GET", "/api/none", 200, ["Authorization: Bearer " + JwtNone])
            .Call("GET", "/api/noexp", 200, ["Authorization: Bearer " + Jwt])
            .Call("GET", "/api/expired", 200, ["Authorization: Bearer " + JwtExpired])
            .Call("GET", "/api/refused", 401, ["Authorization: Bearer " + JwtExpired])       // near miss: expired and refused
            .Call("GET", "/api/claims", 200, ["Authorization: Bearer " + JwtClaims])
            .Call("GET", "/api/good", 200, ["Authorization: Bearer " + JwtExp])             // near miss: fine token
            .Call("GET", "/api/broken", 200, ["Authorization: Bearer eyJub3Rqc29u.eyJ4.c2ln"])  // near miss: does not decode
            .Call("GET", "/api/random", 200, ["Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.MxGh6zi6lLWmxcXDe.c2lnbmF0dXJl"])  // near miss: 4n+1 base64 characters
            .Call("GET", "/api/notjson", 200, ["Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.eyJleHAiOjEsfQ.c2lnbmF0dXJl"])   // near miss: '{"exp":1,}' is not JSON
            .Findings();
        Assert.Equal("/api/none", One(f, "jwt-alg-none")!.PathTemplate);
        Assert.Equal(Severity.Critical, One(f, "jwt-alg-none")!.Severity);
        Assert.Equal("/api/noexp", One(f, "jwt-no-expiry")!.PathTemplate);
        Assert.Equal("/api/expired", One(f, "jwt-expired-accepted")!.PathTemplate);
        Assert.Equal("/api/claims", One(f, "jwt-sensitive-claims")!.PathTemplate);
        Assert.DoesNotContain(f, x => x.RuleId.StartsWith("jwt-") && x.PathTemplate is "/api/good" or "/api/broken" or "/api/refused" or "/api/random" or "/api/notjson");
    }

    [Fact]
    public void Session_cookie_flags()
    {
        var f = new RuleTraffic()
            .Call("POST", "/api/login", 200, responseHeaders: ["Set-Cookie: sessionid=abc; Path=/"])
            .Call("POST", "/api/login2", 200, responseHeaders: ["Set-Cookie: sessionid=abc; Path=/; Secure; HttpOnly; SameSite=Lax"])   // near miss
            .Call("GET", "/api/prefs", 200, responseHeaders: ["Set-Cookie: theme=dark"])                                           // near miss: not a session cookie
            .Findings();
        var c = One(f, "cookie-flags")!;
        Assert.Equal("/api/login", c.PathTemplate);
        Assert.Contains("Secure", c.Evidence);
        Assert.Single(f, x => x.RuleId == "cookie-flags");
    }

    [Fact]
    public void Information_disclosure()
    {
        var f = new RuleTraffic()
            .Call("GET", "/api/crash", 500, responseBody: "Traceback (most recent call last):\n  File \"app.py\"", responseType: "text/plain")
            .Call("GET", "/api/fine", 500, responseBody: "{\"error\":\"internal\"}")                                               // near miss: terse 5xx
            .Call("GET", "/api/ver", 200, responseHeaders: ["Server: nginx/1.18.0", "X-Content-Type-Options: nosniff"], responseBody: "{}")
            .Call("GET", "/api/nover", 200, responseHeaders: ["Server: nginx", "X-Content-Type-Options: nosniff"], responseBody: "{}")  // near miss
            .Findings();
        Assert.Equal("/api/crash", One(f, "stack-trace-disclosure")!.PathTemplate);
        Assert.Equal("/api/ver", One(f, "version-disclosure")!.PathTemplate);
        Assert.DoesNotContain(f, x => x.PathTemplate == "/api/fine" && x.RuleId is "stack-trace-disclosure" or "verbose-error");
        Assert.DoesNotContain(f, x => x.PathTemplate == "/api/nover" && x.RuleId == "version-disclosure");
    }

    [Fact]
    public void Stack_traces_in_success_bodies_are_sampled_and_error_bodies_always_searched()
    {
        const string trace = "{\"debug\":\"Traceback (most recent call last):\\n  File app.py\"}";
        var t = new RuleTraffic();
        // A busy endpoint whose successes are clean at first: past the full checks, successes are searched one in BodyCheckEvery.
        t.Repeat(SecurityAnalyzerFactory.FullBodyChecks, (c, i) => c.Call("GET", "/api/items", 200, responseBody: "{}"));
        t.Repeat(SecurityAnalyzerFactory.BodyCheckEvery - 1, (c, i) => c.Call("GET", "/api/items", 200, responseBody: trace));
        Assert.DoesNotContain(t.Findings(), x => x.RuleId == "stack-trace-disclosure");

        // The next sampled success is searched, and an error answer always is.
        var f = t.Call("GET", "/api/items", 200, responseBody: trace).Findings();
        Assert.Equal(1, One(f, "stack-trace-disclosure")!.Count);
        var e = new RuleTraffic()
            .Repeat(SecurityAnalyzerFactory.FullBodyChecks + 5, (c, i) => c.Call("GET", "/api/items", 200, responseBody: "{}"))
            .Call("GET", "/api/items", 500, responseBody: trace)
            .Findings();
        Assert.Equal(1, One(e, "stack-trace-disclosure")!.Count);
    }

    [Fact]
    public void Missing_nosniff_only_when_consistently_missing()
    {
        var t = new RuleTraffic();
        for (int i = 0; i < 5; i++) t.Call("GET", "/api/a", 200, responseBody: "{}");
        for (int i = 0; i < 5; i++) t.Call("GET", "/api/b", 200, responseHeaders: ["X-Content-Type-Options: nosniff"], responseBody: "{}");
        var f = t.Findings();
        Assert.Equal("/api/a", One(f, "missing-nosniff")!.PathTemplate);
    }

    [Fact]
    public void Cors_with_credentials()
    {
        var f = new RuleTraffic()
            .Call("GET", "/api/w", 200, responseHeaders: ["Access-Control-Allow-Origin: *", "Access-Control-Allow-Credentials: true"])
            .Call("GET", "/api/r", 200, ["Origin: https://evil.example"], ["Access-Control-Allow-Origin: https://evil.example", "Access-Control-Allow-Credentials: true"])
            .Call("GET", "/api/p", 200, responseHeaders: ["Access-Control-Allow-Origin: *"])                                                    // near miss: public, no credentials
            .Findings();
        Assert.Equal("/api/w", One(f, "cors-wildcard-credentials")!.PathTemplate);
        Assert.Equal("/api/r", One(f, "cors-reflected-origin")!.PathTemplate);
        Assert.DoesNotContain(f, x => x.PathTemplate == "/api/p" && x.RuleId.StartsWith("cors"));
    }

    [Fact]
    public void No_rate_limiting_needs_a_high_rate_and_no_push_back()
    {
        var opt = new RuleOptions { RateLimitPerClientMinute = 50 };
        var t = new RuleTraffic();
        for (int i = 0; i < 60; i++) t.Call("GET", "/api/hot", 200, gap: TimeSpan.FromMilliseconds(100));
        for (int i = 0; i < 60; i++) t.Call("GET", "/api/limited", i < 55 ? 200 : 429, gap: TimeSpan.FromMilliseconds(100));   // near miss: server pushes back
        for (int i = 0; i < 60; i++) t.Call("GET", "/api/slow", 200, gap: TimeSpan.FromSeconds(5));                            // near miss: 12/min
        var f = t.Findings(opt);
        Assert.Equal("/api/hot", One(f, "no-rate-limiting")!.PathTemplate);
        Assert.Single(f, x => x.RuleId == "no-rate-limiting");
    }

    [Fact]
    public void Id_enumeration_by_one_client()
    {
        var t = new RuleTraffic();
        for (int i = 1000; i < 1030; i++) t.Call("GET", $"/api/accounts/{i}", 200, ["Authorization: Bearer " + JwtExp], client: "10.0.0.66");
        // Near miss: many clients, each fetching a few ids.
        for (int i = 0; i < 30; i++) t.Call("GET", $"/api/orders/{5000 + i}", 200, ["Authorization: Bearer " + JwtExp], client: $"10.0.1.{i}");
        var f = t.Findings();
        var e = One(f, "id-enumeration")!;
        Assert.Equal("/api/accounts/{accountId}", e.PathTemplate);
        Assert.Equal("API1:2023", e.Owasp);
        Assert.Equal(Severity.High, e.Severity);
    }

    [Theory]
    [InlineData("q=1' OR '1'='1", "attack-sqli")]
    [InlineData("q=x UNION SELECT password FROM users", "attack-sqli")]
    [InlineData("file=../../etc/passwd", "attack-path-traversal")]
    [InlineData("name=<script>alert(1)</script>", "attack-xss")]
    [InlineData("url=http://169.254.169.254/latest/meta-data/", "attack-ssrf")]
    public void Attack_payloads_graded_by_the_answer(string query, string rule)
    {
        var f = new RuleTraffic()
            .Call("GET", "/api/a?" + Uri.EscapeDataString(query).Replace("%3D", "="), 200)
            .Call("GET", "/api/b?" + Uri.EscapeDataString(query).Replace("%3D", "="), 400)
            .Findings();
        Assert.Equal(Severity.High, f.Single(x => x.RuleId == rule && x.PathTemplate == "/api/a").Severity);
        Assert.Equal(Severity.Low, f.Single(x => x.RuleId == rule && x.PathTemplate == "/api/b").Severity);
    }

    [Theory]
    [InlineData("O'Brien; Smith")]          // apostrophes in names
    [InlineData("it's or isn't")]
    [InlineData("https://example.com/page")] // a public URL
    [InlineData("a/b/c")]
    [InlineData("x < y and y > z")]
    public void Ordinary_values_are_not_attacks(string value) => Assert.Null(AttackPayloads.Classify(value));

    [Fact]
    public void Risk_rises_with_sensitivity_exposure_and_frequency()
    {
        Assert.True(Risk.Score(Severity.High, 1, "secret", true) > Risk.Score(Severity.High, 1, "pii", true));
        Assert.True(Risk.Score(Severity.High, 1, "pii", true) > Risk.Score(Severity.High, 1, "pii", false));
        Assert.True(Risk.Score(Severity.Medium, 10_000) > Risk.Score(Severity.Medium, 1));
        Assert.True(Risk.Score(Severity.Low, 1_000_000, "secret", true) < Risk.Score(Severity.High, 1));   // severity dominates
        Assert.InRange(Risk.Score(Severity.Critical, long.MaxValue, "secret", true), 0, 100);
    }
}
