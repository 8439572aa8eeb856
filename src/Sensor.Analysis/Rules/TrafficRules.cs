using Sensor.Analysis.Findings;
using Sensor.Analysis.Inventory;

namespace Sensor.Analysis.Rules;

/// <summary>Thresholds of the traffic rules (all configurable).</summary>
public sealed record RuleOptions
{
    /// <summary>Requests one client sends one endpoint in one minute, without any push-back, that count as "no rate limiting".</summary>
    public int RateLimitPerClientMinute { get; init; } = 300;
    /// <summary>Distinct numeric object ids one client fetched on one endpoint, and the consecutive run among them, that signal enumeration.</summary>
    public int EnumerationDistinctIds { get; init; } = 20;
    public int EnumerationRun { get; init; } = 10;
    /// <summary>A finding no longer raised is fixed once its endpoint was called this many times since (or after <see cref="FixAfter"/>).</summary>
    public int FixAfterCalls { get; init; } = 10;
    public TimeSpan? FixAfter { get; init; }
}

/// <summary>Sensitive items of one endpoint location and type in this run (from sensitive_items; redacted).</summary>
public sealed record SensitiveAggregate(string Service, string Method, string Template, string Part, string Location, string Type,
    long Count, long FirstSeen, long LastSeen, string Preview, long DistinctValues);

/// <summary>
/// The traffic rules: turns what the analyzers saw (sensitive items, rule evidence, the inventory) into
/// findings with OWASP API Top 10 2023 ids, CWE, severity and risk. See the README for the rule list.
/// </summary>
public static class TrafficRules
{
    public static readonly HashSet<string> SecretTypes =
    [
        "aws_access_key", "aws_secret_key", "github_token", "gitlab_token", "slack_token", "stripe_key", "google_api_key", "twilio_key",
        "sendgrid_key", "openai_key", "npm_token", "private_key", "jwt", "basic_auth", "password", "api_key", "connection_string",
    ];

    public static string? Group(string type) => type == "example" ? null : SecretTypes.Contains(type) ? "secret" : "pii";

    private sealed record Rule(string Id, string Title, string Category, string Owasp, string Cwe, string Severity);

    private static readonly Dictionary<string, Rule> Rules = new[]
    {
        new Rule("unauthenticated-endpoint", "Endpoint answers without authentication", "authentication", "API2:2023", "CWE-306", Severity.Medium),
        new Rule("sensitive-data-exposure", "Sensitive data returned in responses", "data-exposure", "API3:2023", "CWE-200", Severity.Medium),
        new Rule("secret-in-url", "Secret in the URL", "data-exposure", "API8:2023", "CWE-598", Severity.High),
        new Rule("pii-in-url", "Personal data in the URL", "data-exposure", "API8:2023", "CWE-598", Severity.Medium),
        new Rule("plaintext-credentials", "Credentials sent over plaintext HTTP", "transport", "API8:2023", "CWE-319", Severity.High),
        new Rule("jwt-alg-none", "JWT with alg none", "authentication", "API2:2023", "CWE-347", Severity.Critical),
        new Rule("jwt-no-expiry", "JWT without expiry", "authentication", "API2:2023", "CWE-613", Severity.Medium),
        new Rule("jwt-expired-accepted", "Expired JWT accepted", "authentication", "API2:2023", "CWE-613", Severity.High),
        new Rule("jwt-sensitive-claims", "Sensitive data in JWT claims", "data-exposure", "API3:2023", "CWE-359", Severity.Medium),
        new Rule("cookie-flags", "Session cookie without Secure/HttpOnly/SameSite", "session", "API8:2023", "CWE-614", Severity.Medium),
        new Rule("stack-trace-disclosure", "Stack trace or framework error page in a response", "information-disclosure", "API8:2023", "CWE-209", Severity.Medium),
        new Rule("verbose-error", "Verbose server error response", "information-disclosure", "API8:2023", "CWE-209", Severity.Low),
        new Rule("version-disclosure", "Server software version disclosed", "information-disclosure", "API8:2023", "CWE-200", Severity.Low),
        new Rule("missing-nosniff", "X-Content-Type-Options missing on API responses", "security-headers", "API8:2023", "CWE-693", Severity.Low),
        new Rule("sensitive-cacheable", "Sensitive response without Cache-Control: no-store", "security-headers", "API8:2023", "CWE-524", Severity.Medium),
        new Rule("cors-wildcard-credentials", "CORS allows any origin with credentials", "cors", "API8:2023", "CWE-942", Severity.High),
        new Rule("cors-reflected-origin", "CORS reflects the request origin with credentials", "cors", "API8:2023", "CWE-942", Severity.High),
        new Rule("no-rate-limiting", "High request rate from one client without rate limiting", "resource-consumption", "API4:2023", "CWE-770", Severity.Medium),
        new Rule("id-enumeration", "One client enumerates object ids (BOLA signal)", "authorization", "API1:2023", "CWE-639", Severity.Medium),
        new Rule("attack-sqli", "SQL injection payload in a parameter", "attack", "API8:2023", "CWE-89", Severity.Low),
        new Rule("attack-xss", "Cross-site scripting payload in a parameter", "attack", "API8:2023", "CWE-79", Severity.Low),
        new Rule("attack-path-traversal", "Path traversal payload in a parameter", "attack", "API8:2023", "CWE-22", Severity.Low),
        new Rule("attack-ssrf", "Internal URL in a parameter (SSRF)", "attack", "API7:2023", "CWE-918", Severity.Low),
    }.ToDictionary(r => r.Id);

    public static IReadOnlyCollection<string> RuleIds => Rules.Keys;

    /// <param name="endpoints">The inventory after this run.</param>
    /// <param name="templateOf">(service, method, concrete path) → template, for evidence keyed by a sample path.</param>
    public static List<Finding> Evaluate(IReadOnlyList<Endpoint> endpoints, IReadOnlyCollection<EndpointEvidence> evidence,
        IReadOnlyList<SensitiveAggregate> sensitive, Func<string, string, string, string?> templateOf, RuleOptions options)
    {
        var findings = new List<Finding>();
        // Evidence is keyed by endpoint shape; merge it into endpoints first.
        var merged = new Dictionary<(string, string, string), EndpointEvidence>();
        foreach (var ev in evidence)
        {
            var template = templateOf(ev.Service, ev.Method, ev.SamplePath);
            if (template == null) continue;
            var k = (ev.Service, ev.Method, template);
            if (!merged.TryGetValue(k, out var m)) merged[k] = m = new EndpointEvidence { Service = ev.Service, Method = ev.Method, Key = template, SamplePath = ev.SamplePath };
            m.Merge(ev);
        }
        var unauthenticated = merged.Where(kv => kv.Value.Hits.ContainsKey(("unauthenticated-endpoint", ""))).Select(kv => kv.Key).ToHashSet();
        var returnsSensitive = new HashSet<(string, string, string)>();

        Finding Make(string ruleId, string service, string method, string template, string? location, string detail, string? evidence,
            long count, long first, long last, string? severity = null, string? sensitivity = null)
        {
            var r = Rules[ruleId];
            return new Finding
            {
                RuleId = r.Id, Title = r.Title, Category = r.Category, Owasp = r.Owasp, Cwe = r.Cwe, Severity = severity ?? r.Severity,
                Service = service, Method = method, PathTemplate = template, Location = location, Detail = detail, Evidence = evidence,
                FirstSeen = first, LastSeen = last, Count = count, Source = "traffic", Sensitivity = sensitivity,
                Unauthenticated = unauthenticated.Contains((service, method, template)),
            };
        }

        foreach (var s in sensitive)
        {
            var group = Group(s.Type);
            if (group == null) continue;
            var key = (s.Service, s.Method, s.Template);
            string where = $"{s.Part}:{s.Location}";
            if (s.Part.StartsWith("resp", StringComparison.Ordinal))
            {
                returnsSensitive.Add(key);
                bool open = unauthenticated.Contains(key);
                string sev = group == "secret" ? (open ? Severity.Critical : Severity.High) : (open ? Severity.High : Severity.Medium);
                // A sign-in or token endpoint issuing a token is doing its job; it stays listed, at low.
                if (s.Type is "jwt" or "api_key" && PublicByDesign(s.Template)) sev = Severity.Low;
                findings.Add(Make("sensitive-data-exposure", s.Service, s.Method, s.Template, where,
                    $"{s.Type} returned in {where} ({s.Count} times, {s.DistinctValues} distinct values{(open ? "; the endpoint answers without credentials" : "")})",
                    $"{s.Type} e.g. {s.Preview}", s.Count, s.FirstSeen, s.LastSeen, sev, group));
            }
            else if (s.Part is "path" or "query")
                findings.Add(Make(group == "secret" ? "secret-in-url" : "pii-in-url", s.Service, s.Method, s.Template, where,
                    $"{s.Type} sent in the URL ({where}, {s.Count} times): URLs end up in logs, proxies and browser history", $"{s.Type} e.g. {s.Preview}",
                    s.Count, s.FirstSeen, s.LastSeen, sensitivity: group));
            else if (s.Part == "req_body" && s.Type is "password" or "connection_string" or "private_key" or "aws_secret_key")
                findings.Add(Make("plaintext-credentials", s.Service, s.Method, s.Template, where,
                    $"{s.Type} sent in a plaintext HTTP request body ({s.Count} times)", $"{s.Type} e.g. {s.Preview}", s.Count, s.FirstSeen, s.LastSeen, sensitivity: "secret"));
        }

        foreach (var ((service, method, template), ev) in merged)
        {
            foreach (var ((rule, location), h) in ev.Hits)
            {
                if (!Rules.ContainsKey(rule)) continue;
                string? sev = null;
                string detail = $"{Rules[rule].Title}: {location}, {h.Count} of {ev.Requests} requests";
                if (rule == "unauthenticated-endpoint")
                {
                    bool mutating = method is "POST" or "PUT" or "PATCH" or "DELETE";
                    bool leaks = returnsSensitive.Contains((service, method, template));
                    findings.Add(Make(rule, service, method, template, null,
                        $"{method} {template} answered 2xx to {h.Count} of {ev.Requests} requests without any credential"
                        + (mutating ? "; it changes state" : "") + (leaks ? "; its responses carry sensitive data" : ""),
                        $"{h.Count} of {ev.Requests} requests", h.Count, h.FirstSeen, h.LastSeen,
                        mutating || leaks ? Severity.High : PublicByDesign(template) ? Severity.Info : Severity.Medium, leaks ? "pii" : null));
                    continue;
                }
                if (rule.StartsWith("attack-", StringComparison.Ordinal))
                {
                    // The server's answer decides: accepted (2xx) payloads deserve a look, refused ones are noise.
                    sev = h.Answered2xx > 0 ? Severity.High : Severity.Low;
                    detail = $"{Rules[rule].Title} at {location} ({h.Count} requests, {h.Answered2xx} answered 2xx)";
                }
                else if (rule == "missing-nosniff" && (ev.Requests < 3 || h.Count * 10 < ev.Requests * 9)) continue;   // only when consistently missing
                else if (rule == "jwt-expired-accepted" && h.Answered2xx == 0) continue;                                  // refused: working as intended
                else if (rule == "plaintext-credentials") detail = $"credentials ({location}) sent over plaintext HTTP in {h.Count} requests";
                findings.Add(Make(rule, service, method, template, location, detail, h.Evidence, h.Count, h.FirstSeen, h.LastSeen, sev,
                    rule == "plaintext-credentials" ? "secret" : null));
            }
            long peak = ev.MaxPerClientMinute;
            if (peak >= options.RateLimitPerClientMinute && !ev.RateLimitSignals)
                findings.Add(Make("no-rate-limiting", service, method, template, null,
                    $"one client sent {peak} requests in one minute and never got 429 or rate-limit headers", $"peak {peak}/min", peak, ev.FirstSeen, ev.LastSeen));
            var (distinct, run) = ev.Enumeration();
            if (distinct >= options.EnumerationDistinctIds && run >= options.EnumerationRun)
                findings.Add(Make("id-enumeration", service, method, template, "path",
                    $"one client fetched {distinct} distinct object ids, {run} of them consecutive ({ev.IdRequests2xx} of {ev.IdRequests} answered 2xx)",
                    $"{distinct} ids, run of {run}", distinct, ev.FirstSeen, ev.LastSeen, ev.IdRequests2xx * 2 > ev.IdRequests ? Severity.High : Severity.Medium));
        }
        return findings;
    }

    /// <summary>Endpoints that are public by design (sign-in, health): still reported, at info.</summary>
    private static bool PublicByDesign(string template)
    {
        var l = template.ToLowerInvariant();
        foreach (var w in (string[])["login", "signin", "sign-in", "signup", "sign-up", "register", "oauth", "token", "health", "ping", "status", "ready", "live", ".well-known", "openapi", "swagger", "docs"])
            if (l.Contains(w, StringComparison.Ordinal)) return true;
        return false;
    }
}
