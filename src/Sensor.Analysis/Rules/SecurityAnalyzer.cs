using System.Text;
using System.Text.Json;
using Sensor.Analysis.Inventory;
using Sensor.Analysis.Sensitive;
using Sensor.Http;

namespace Sensor.Analysis.Rules;

/// <summary>
/// Collects, per endpoint shape, the evidence the traffic security rules are decided on: credentials over
/// plaintext, JWT weaknesses, session cookies without Secure/HttpOnly/SameSite, stack traces and versions
/// disclosed, missing security headers, permissive CORS, request rates without rate limiting, one client
/// walking through object ids, and attack payloads with how the server answered. Rules are applied after
/// the run (<see cref="TrafficRules"/>), once endpoints are templated. One analyzer per worker, bounded tables.
/// </summary>
public sealed class SecurityAnalyzerFactory(Sensor.Core.CounterRegistry? counters = null) : IHttpAnalyzerFactory
{
    public const int MaxShapesPerWorker = 20_000;
    /// <summary>
    /// Successful responses of an endpoint whose bodies are searched for stack traces and error pages: every one of
    /// the first <see cref="FullBodyChecks"/>, then one in <see cref="BodyCheckEvery"/>. Error answers (4xx, 5xx),
    /// where traces live, are always searched; an endpoint that leaks in its successes does it again and again.
    /// </summary>
    public const int FullBodyChecks = 64, BodyCheckEvery = 16;
    private readonly Sensor.Core.Counter _bodiesSkipped = (counters ?? new Sensor.Core.CounterRegistry()).Create("security", "bodies_sampled_out",
        "successful responses whose bodies were not searched for stack traces (busy endpoint, see sampling)");
    private readonly List<Analyzer> _parts = [];
    public string Name => "security";

    private readonly List<Dictionary<EndpointRef, EndpointEvidence>> _handed = [];

    /// <summary>Live capture: the evidence the workers handed over at checkpoints since the previous call, merged.</summary>
    public IReadOnlyCollection<EndpointEvidence> TakeCheckpoint()
    {
        List<Dictionary<EndpointRef, EndpointEvidence>> parts;
        lock (_handed) { parts = [.. _handed]; _handed.Clear(); }
        var all = new Dictionary<(string, string, string), EndpointEvidence>();
        foreach (var p in parts) MergeInto(all, p.Values);
        return all.Values;
    }

    // Workers' tables are keyed by reference; across workers (and references) the same endpoint merges by value.
    private static void MergeInto(Dictionary<(string, string, string), EndpointEvidence> all, IEnumerable<EndpointEvidence> part) =>
        ShapeMerge.Into(all, part, e => (e.Service, e.Method, e.Key), (a, b) => a.Merge(b));

    public IHttpAnalyzer Create(int workerId)
    {
        var a = new Analyzer(this);
        lock (_parts) _parts.Add(a);
        return a;
    }

    /// <summary>All workers' evidence merged (after the pipeline completed).</summary>
    public IReadOnlyCollection<EndpointEvidence> Evidence()
    {
        var all = new Dictionary<(string, string, string), EndpointEvidence>();
        lock (_parts)
            foreach (var p in _parts) MergeInto(all, p.ByShape.Values);
        return all.Values;
    }

    private sealed class Analyzer(SecurityAnalyzerFactory owner) : IHttpAnalyzer
    {
        public Dictionary<EndpointRef, EndpointEvidence> ByShape = new(ReferenceEqualityComparer.Instance);

        public void Checkpoint()
        {
            if (ByShape.Count == 0) return;
            lock (owner._handed) owner._handed.Add(ByShape);
            ByShape = new(ReferenceEqualityComparer.Instance);
        }
        // Keyed by digest and bounded by characters, like the sensitive-data memos: tens of thousands of tokens fit.
        private readonly ValueMemo<UInt128, JwtFacts> _jwts = new(2 << 20);
        private readonly Dictionary<Sensor.Core.IpAddr, string> _clients = [];

        /// <summary>Client addresses as text, made once per address (every request of a client names it).</summary>
        private string ClientText(Sensor.Core.IpAddr ip)
        {
            if (_clients.TryGetValue(ip, out var text)) return text;
            text = ip.ToString();
            if (_clients.Count < 65536) _clients[ip] = text;
            return text;
        }
        /// <summary>"req_header:name" and the role of a request header, by its lowered name (remembered per thread).</summary>
        [ThreadStatic] private static HeaderNameMemo<(string Location, HeaderRole Role)>? t_roles;

        public void OnTransaction(HttpTransaction t)
        {
            var ep = ShapeKeys.Of(t, t.StoredPath);
            var positions = ep.Positions;
            if (!ByShape.TryGetValue(ep, out var ev))
            {
                if (ByShape.Count >= MaxShapesPerWorker) return;
                ByShape[ep] = ev = new EndpointEvidence { Service = ep.Service, Method = ep.Method, Key = ep.Key, SamplePath = t.StoredPath };
            }
            long ts = t.TsRequest;
            ev.Requests++;
            ev.FirstSeen = Math.Min(ev.FirstSeen, ts);
            ev.LastSeen = Math.Max(ev.LastSeen, ts);
            int status = t.Status ?? 0;
            bool ok = status is >= 200 and < 300;
            var req = t.Request;
            var client = ClientText(t.ClientIp);

            // Credentials on the wire: everything we parse is plaintext HTTP.
            bool credential = t.Query is { } query && Credentials.MayHoldQueryCredential(query) && Credentials.Schemes(req, query).Count > 0;
            var roles = t_roles ??= new(static l => ("req_header:" + l, HeaderRoles.Of(l)));
            for (int i = 0; i < req.FieldCount; i++)
            {
                var (location, role) = roles.At(req, i);
                if (role is HeaderRole.Authorization or HeaderRole.Credential)
                {
                    credential = true;
                    ev.Add("plaintext-credentials", location, ts, null, ok);
                    if (role == HeaderRole.Authorization) Jwt(ev, req.ValueBytesAt(i), location, ts, ok);
                }
                else if (role == HeaderRole.Cookie)
                    foreach (var c in Credentials.Pairs(req.ValueAt(i)))
                    {
                        if (!c.HasValue) continue;
                        var cookie = Credentials.Cookie(c.Name);
                        if (cookie.Session) { credential = true; ev.Add("plaintext-credentials", cookie.RequestLocation, ts, null, ok); }
                        Jwt(ev, c.Value, cookie.RequestLocation, ts, ok);
                    }
            }

            // Answered 2xx to a request without any credential (this run's evidence, so a fix shows).
            if (!credential && ok) ev.Add("unauthenticated-endpoint", "", ts, null, true);

            // Rates per client minute; server push-back.
            ev.CountClientMinute(client, ts / Sensor.Core.Timestamp.TicksPerSecond / 60);
            if (status == 429) ev.RateLimitSignals = true;

            // One client walking numeric ids at the first id position.
            if (positions.Length > 0)
            {
                if (long.TryParse(PathTemplater.Segment(t.Path, positions[0]), out long id))
                {
                    ev.IdRequests++;
                    if (ok) ev.IdRequests2xx++;
                    ev.AddId(client, id);
                }
            }

            // Attack payloads in the path and query, with the answer they got.
            if (t.Path.Contains('%') || AttackPayloads.MayContain(t.Path)) Payloads(ev, "path", Uri.UnescapeDataString(t.Path), ts, status);
            // Most queries hold nothing a payload rule looks for: one pass over the raw text tells (encoded ones are decoded below).
            if (t.Query is { Length: > 0 } q && (q.Contains('%') || q.Contains('+') || AttackPayloads.MayContain(q)))
                foreach (var pair in q.Split('&'))
                {
                    int eq = pair.IndexOf('=');
                    if (eq < 0) continue;
                    Payloads(ev, "query:" + Schema.BodyShapes.Decode(pair[..eq]), Schema.BodyShapes.Decode(pair[(eq + 1)..]), ts, status);
                }

            if (t.Response is { } resp) Response(ev, t, resp, ts, status);
        }

        private void Response(EndpointEvidence ev, HttpTransaction t, HttpHead resp, long ts, int status)
        {
            bool hasBody = t.ResponseBody.Length > 0;
            string? acao = null, acac = null;
            bool nosniff = false;
            var kinds = t_responseHeaders ??= new(Kind);
            for (int i = 0; i < resp.FieldCount; i++)
            {
                switch (kinds.At(resp, i))
                {
                    case ResponseHeader.SetCookie: Cookie(ev, resp.ValueAt(i), ts); break;
                    case ResponseHeader.Version:
                        var v = resp.ValueAt(i);
                        if (v.Any(char.IsAsciiDigit) && v.Any(char.IsAsciiLetter)) ev.Add("version-disclosure", "resp_header:" + resp.LowerNameAt(i), ts, Trim(v, 60), false);
                        break;
                    case ResponseHeader.AllowOrigin: acao = resp.ValueAt(i).Trim(); break;
                    case ResponseHeader.AllowCredentials: acac = resp.ValueAt(i).Trim(); break;
                    case ResponseHeader.RateLimit: ev.RateLimitSignals = true; break;
                    case ResponseHeader.NoSniff: nosniff = true; break;
                }
            }
            bool credentials = string.Equals(acac, "true", StringComparison.OrdinalIgnoreCase);
            if (acao == "*" && credentials) ev.Add("cors-wildcard-credentials", "resp_header:access-control-allow-origin", ts, "Access-Control-Allow-Origin: * with Allow-Credentials: true", false);
            else if (acao != null && acao != "*" && credentials && t.Request.Get("Origin") is { } origin && origin == acao
                     && !SameHost(origin, t.Host))
                ev.Add("cors-reflected-origin", "resp_header:access-control-allow-origin", ts, "the request's Origin echoed back, with credentials", false);

            if (hasBody && resp.ContentType != null && !nosniff)
                ev.Add("missing-nosniff", "resp_header:x-content-type-options", ts, null, false);
            // Cache control on responses that carried sensitive data (tags are set by the sensitive-data analyzer, which runs first).
            if (t.Sensitive is { Count: > 0 } tags && tags.Any(x => x.Part.StartsWith("resp", StringComparison.Ordinal)))
            {
                var cc = resp.Get("Cache-Control");
                if (cc == null || !(cc.Contains("no-store", StringComparison.OrdinalIgnoreCase) || cc.Contains("private", StringComparison.OrdinalIgnoreCase)))
                    ev.Add("sensitive-cacheable", "resp_header:cache-control", ts, cc == null ? "no Cache-Control" : "Cache-Control: " + Trim(cc, 60), false);
            }
            if (hasBody && t.ResponseBody.CapturedLength > 0 && !SampledOut(ev, status))
            {
                var body = t.ResponseBody.Content;
                var window = body.Length > 64 * 1024 ? body[..(64 * 1024)] : body;
                if (StackTraces.Find(window) is { } marker) ev.Add("stack-trace-disclosure", "resp_body", ts, marker, false);
                else if (status >= 500 && body.Length > 1024) ev.Add("verbose-error", "resp_body", ts, $"{status} with a {body.Length}-byte body", false);
            }
        }

        private bool SampledOut(EndpointEvidence ev, int status)
        {
            if (status is < 200 or >= 400) return false;
            long n = ++ev.SuccessBodies;
            if (n <= FullBodyChecks || n % BodyCheckEvery == 0) return false;
            owner._bodiesSkipped.Inc();
            return true;
        }

        private enum ResponseHeader { Other, SetCookie, Version, AllowOrigin, AllowCredentials, RateLimit, NoSniff }

        // What a response header is to the rules depends on its name only: decided once per name and thread.
        [ThreadStatic] private static HeaderNameMemo<ResponseHeader>? t_responseHeaders;

        private static ResponseHeader Kind(string name) => name switch
        {
            "set-cookie" => ResponseHeader.SetCookie,
            "server" or "x-powered-by" or "x-aspnet-version" or "x-aspnetmvc-version" => ResponseHeader.Version,
            "access-control-allow-origin" => ResponseHeader.AllowOrigin,
            "access-control-allow-credentials" => ResponseHeader.AllowCredentials,
            "x-content-type-options" => ResponseHeader.NoSniff,
            _ when name == "retry-after" || name.StartsWith("x-ratelimit", StringComparison.Ordinal) || name.StartsWith("ratelimit", StringComparison.Ordinal)
                || name.StartsWith("x-rate-limit", StringComparison.Ordinal) => ResponseHeader.RateLimit,
            _ => ResponseHeader.Other,
        };

        private static bool SameHost(string origin, string? host)
        {
            if (host == null) return false;
            return Uri.TryCreate(origin, UriKind.Absolute, out var u) && string.Equals(u.Authority, host, StringComparison.OrdinalIgnoreCase);
        }

        private static void Cookie(EndpointEvidence ev, string setCookie, long ts)
        {
            int eq = setCookie.IndexOf('=');
            if (eq <= 0) return;
            var name = setCookie[..eq].Trim();
            if (!Credentials.IsSessionCookie(name)) return;
            var attrs = setCookie.Split(';').Skip(1).Select(a => a.Trim().Split('=')[0].ToLowerInvariant()).ToHashSet();
            // A cookie being deleted (Max-Age=0 / past Expires) needs no protection.
            if (setCookie.Contains("max-age=0", StringComparison.OrdinalIgnoreCase)) return;
            var missing = new List<string>();
            if (!attrs.Contains("secure")) missing.Add("Secure");
            if (!attrs.Contains("httponly")) missing.Add("HttpOnly");
            if (!attrs.Contains("samesite")) missing.Add("SameSite");
            if (missing.Count > 0) ev.Add("cookie-flags", "resp_cookie:" + name, ts, "missing " + string.Join(", ", missing), false);
        }

        private void Jwt(EndpointEvidence ev, ReadOnlySpan<char> value, string location, long ts, bool ok)
        {
            // Sliced, not copied: the token is only made a string of its own when it has not been seen before.
            var v = Validators.JwtShaped(value);
            if (v.IsEmpty || v.Length > 8192 || !Validators.B64MayBeJsonObject(v[(v.IndexOf('.') + 1)..])) return;
            var key = Digest.Of(v);
            Report(ev, _jwts.TryGet(key, out var facts) ? facts : Learn(key, v.ToString()), location, ts, ok);
        }

        /// <summary>As above, for a header value's bytes as sent: a token seen before is never decoded (its digest is of the bytes).</summary>
        private void Jwt(EndpointEvidence ev, ReadOnlySpan<byte> value, string location, long ts, bool ok)
        {
            var v = Validators.JwtShaped(value);
            if (v.IsEmpty || v.Length > 8192 || !Validators.B64MayBeJsonObject(v[(v.IndexOf((byte)'.') + 1)..])) return;
            var key = Digest.Of(v, 1);
            Report(ev, _jwts.TryGet(key, out var facts) ? facts : Learn(key, Encoding.UTF8.GetString(v)), location, ts, ok);
        }

        /// <summary>Decodes a token not seen before and remembers what it reveals.</summary>
        private JwtFacts Learn(UInt128 key, string token)
        {
            var facts = JwtFacts.Decode(token);
            _jwts.Add(key, facts, 8 + (facts.Valid ? facts.SensitiveClaims.Length : 0));
            return facts;
        }

        private static void Report(EndpointEvidence ev, JwtFacts facts, string location, long ts, bool ok)
        {
            if (!facts.Valid) return;
            if (facts.AlgNone) ev.Add("jwt-alg-none", location, ts, "alg: none", ok);
            if (facts.Exp == null) ev.Add("jwt-no-expiry", location, ts, "no exp claim", ok);
            else if (facts.Exp.Value < ts / Sensor.Core.Timestamp.TicksPerSecond)
                ev.Add("jwt-expired-accepted", location, ts, "exp in the past at request time", ok);
            if (facts.SensitiveClaims.Length > 0) ev.Add("jwt-sensitive-claims", location, ts, "claims: " + facts.SensitiveClaims, ok);
        }

        private static void Payloads(EndpointEvidence ev, string location, string value, long ts, int status)
        {
            if (value.Length < 3) return;
            var kind = AttackPayloads.Classify(value);
            if (kind != null) ev.Add("attack-" + kind, location, ts, $"answered {(status == 0 ? "nothing" : status.ToString())}", status is >= 200 and < 300);
        }

        private static string Trim(string s, int n) => s.Length <= n ? s : s[..n] + "…";

        public void Complete() { }
    }
}

/// <summary>What a JWT's header and claims reveal (decoded without verifying: we have no keys).</summary>
public readonly record struct JwtFacts(bool Valid, bool AlgNone, long? Exp, string SensitiveClaims)
{
    private static readonly string[] Sensitive = ["password", "passwd", "pwd", "secret", "ssn", "card", "cvv", "pin", "iban", "dob", "birth"];

    public static JwtFacts Decode(string token)
    {
        var v = token.AsSpan();
        int d1 = v.IndexOf('.');
        if (d1 <= 0) return default;
        int d2 = v[(d1 + 1)..].IndexOf('.');
        if (d2 < 0) return default;
        d2 += d1 + 1;
        if (v[(d2 + 1)..].Contains('.')) return default;
        // Tokens that only look like JWTs (random base64 between dots) end here, before any JSON parsing.
        var header = Base64Json(v[..d1]);
        var payload = Base64Json(v[(d1 + 1)..d2]);
        if (header == null || payload == null) return default;
        try
        {
            bool none = false;
            var h = new Utf8JsonReader(header, new JsonReaderOptions { MaxDepth = 16 });
            if (!h.Read() || h.TokenType != JsonTokenType.StartObject) return default;
            while (h.Read() && h.TokenType == JsonTokenType.PropertyName)
            {
                bool alg = h.ValueTextEquals("alg"u8);
                h.Read();
                if (alg && h.TokenType == JsonTokenType.String) none = string.Equals(h.GetString(), "none", StringComparison.OrdinalIgnoreCase);
                else h.Skip();
            }
            long? exp = null;
            List<string>? claims = null;
            var p = new Utf8JsonReader(payload, new JsonReaderOptions { MaxDepth = 16 });
            if (!p.Read() || p.TokenType != JsonTokenType.StartObject) return default;
            while (p.Read() && p.TokenType == JsonTokenType.PropertyName)
            {
                var name = p.GetString()!;
                if (Sensitive.Any(x => name.Contains(x, StringComparison.OrdinalIgnoreCase))) (claims ??= []).Add(name);
                p.Read();
                if (name == "exp" && exp == null && p.TokenType == JsonTokenType.Number && p.TryGetInt64(out var x)) exp = x;
                else p.Skip();
            }
            // Both documents must be complete objects (the reader throws on what is not JSON).
            if (h.TokenType != JsonTokenType.EndObject || h.Read() || p.TokenType != JsonTokenType.EndObject || p.Read()) return default;
            return new JwtFacts(true, none, exp, claims == null ? "" : string.Join(",", claims));
        }
        catch (JsonException) { return default; }
    }

    private static byte[]? Base64Json(ReadOnlySpan<char> b64url) =>
        b64url.Length is > 0 and <= 6000 && Validators.DecodeB64Url(b64url) is { } json && Validators.MayBeJsonObject(json) ? json : null;
}

/// <summary>Framework error pages and stack traces in a response body (bounded scan, fixed markers).</summary>
public static class StackTraces
{
    private static readonly (byte[] Marker, string Name)[] Markers =
    [
        (Encoding.ASCII.GetBytes("Traceback (most recent call last)"), "Python traceback"),
        (Encoding.ASCII.GetBytes("Exception in thread \""), "Java exception"),
        (Encoding.ASCII.GetBytes("\tat java."), "Java stack trace"),
        (Encoding.ASCII.GetBytes("\n\tat org."), "Java stack trace"),
        (Encoding.ASCII.GetBytes("   at System."), ".NET stack trace"),
        (Encoding.ASCII.GetBytes("System.NullReferenceException"), ".NET exception"),
        (Encoding.ASCII.GetBytes("Microsoft.AspNetCore.Diagnostics"), "ASP.NET developer exception page"),
        (Encoding.ASCII.GetBytes("Whitelabel Error Page"), "Spring Boot error page"),
        (Encoding.ASCII.GetBytes("<b>Fatal error</b>:"), "PHP fatal error"),
        (Encoding.ASCII.GetBytes("Stack trace:\n#0 "), "PHP stack trace"),
        (Encoding.ASCII.GetBytes("    at Object.<anonymous>"), "Node.js stack trace"),
        (Encoding.ASCII.GetBytes("node:internal/"), "Node.js stack trace"),
        (Encoding.ASCII.GetBytes("goroutine 1 [running]"), "Go panic"),
        (Encoding.ASCII.GetBytes("ActiveRecord::"), "Rails exception"),
        (Encoding.ASCII.GetBytes("django.core.exceptions"), "Django exception"),
        (Encoding.ASCII.GetBytes("SQLSTATE["), "SQL error"),
        (Encoding.ASCII.GetBytes("You have an error in your SQL syntax"), "SQL error"),
        (Encoding.ASCII.GetBytes("ORA-0"), "Oracle error"),
    ];

    // One vectorised pass for all markers (over the body widened to chars), instead of one pass per marker.
    private static readonly System.Buffers.SearchValues<string> Any =
        System.Buffers.SearchValues.Create(Markers.Select(m => Encoding.Latin1.GetString(m.Marker)).ToArray(), StringComparison.Ordinal);

    public static string? Find(ReadOnlySpan<byte> body)
    {
        var rent = System.Buffers.ArrayPool<char>.Shared.Rent(body.Length);
        try
        {
            var text = rent.AsSpan(0, Encoding.Latin1.GetChars(body, rent));
            int at = text.IndexOfAny(Any);
            if (at < 0) return null;
            foreach (var (m, name) in Markers)
                if (body[at..].StartsWith(m)) return name;
            return null;
        }
        finally { System.Buffers.ArrayPool<char>.Shared.Return(rent); }
    }
}

/// <summary>Attack payloads in parameter values: SQL injection, XSS, path traversal, SSRF targets.</summary>
public static class AttackPayloads
{
    // Every literal the rules below look for (quotes for the SQL breakouts): most values contain none of them.
    private static readonly System.Buffers.SearchValues<string> Hints = System.Buffers.SearchValues.Create(
        ["../", "..\\", "/etc/passwd", "c:\\windows", "<script", "javascript:", "onerror=", "onload=", "<svg", "'", "\"",
         "union select", "union all select", "sleep(", "benchmark(", "waitfor delay", " or 1=1", "http://", "https://", "file:", "gopher:", "dict:"],
        StringComparison.OrdinalIgnoreCase);

    /// <summary>False when <paramref name="v"/> holds none of the literals the rules look for (then <see cref="Classify"/> finds nothing).</summary>
    public static bool MayContain(ReadOnlySpan<char> v) =>
        (v.IndexOfAny(HintChars) >= 0 || v.IndexOfAny(Passwd) >= 0) && v.IndexOfAny(Hints) >= 0;

    // Searched on its own (vectorised; a case-insensitive Contains is a character loop in invariant mode).
    private static readonly System.Buffers.SearchValues<string> Passwd = System.Buffers.SearchValues.Create(["/etc/passwd"], StringComparison.OrdinalIgnoreCase);

    // Every literal above but /etc/passwd holds one of these characters, which plain paths and values (/api/v1/users/42)
    // do not: one quick pass spares the many-word search for most of them.
    private static readonly System.Buffers.SearchValues<char> HintChars = System.Buffers.SearchValues.Create(".'\"<:=( \\");

    public static string? Classify(string v)
    {
        if (v.Length > 4096) v = v[..4096];
        if (!MayContain(v)) return null;
        var l = v.ToLowerInvariant();
        if (l.Contains("../") || l.Contains("..\\") || l.Contains("/etc/passwd") || l.Contains("c:\\windows")) return "path-traversal";
        if (l.Contains("<script") || l.Contains("javascript:") || l.Contains("onerror=") || l.Contains("onload=") || l.Contains("<svg") && l.Contains("on"))
            return "xss";
        if (QuoteBreakout(l) || l.Contains("union select") || l.Contains("union all select") || l.Contains("sleep(") || l.Contains("benchmark(")
            || l.Contains("waitfor delay") || l.Contains(" or 1=1") || l.Contains("'or'1'='1"))
            return "sqli";
        if ((l.StartsWith("http://") || l.StartsWith("https://") || l.StartsWith("file://") || l.StartsWith("gopher://") || l.StartsWith("dict://"))
            && (l.StartsWith("file:") || l.StartsWith("gopher:") || l.StartsWith("dict:") || l.Contains("169.254.169.254") || l.Contains("metadata.google.internal")
                || l.Contains("://localhost") || l.Contains("://127.") || l.Contains("://0.0.0.0") || l.Contains("://[::1]") || l.Contains("://10.") || l.Contains("://192.168.")))
            return "ssrf";
        return null;
    }

    /// <summary>A quote that closes a string literal and continues as SQL: ' or, " and, '--, ';, '#, ') or (apostrophes in names do not).</summary>
    private static bool QuoteBreakout(string l)
    {
        for (int i = l.IndexOfAny(['\'', '"']); i >= 0 && i < l.Length - 1; i = l.IndexOfAny(['\'', '"'], i + 1))
        {
            var rest = l.AsSpan(i + 1).TrimStart(" )");
            if (rest.StartsWith("--") || rest.StartsWith(";") || rest.StartsWith("#") || rest.StartsWith("/*")
                || rest.StartsWith("or ") || rest.StartsWith("and ") || rest.StartsWith("union ") || rest.StartsWith("||"))
                return true;
        }
        return false;
    }
}
