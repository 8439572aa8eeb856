using Sensor.Http;

namespace Sensor.Analysis.Sensitive;

/// <summary>
/// Finds personal data and secrets in every part of a transaction — path segments, query parameters,
/// request and response headers, cookies, bodies — each with its exact location. Linear and bounded:
/// bodies are cut, values capped, hits capped per transaction (<see cref="SensitiveScanOptions"/>).
/// Thread-safe (no shared mutable state).
/// </summary>
public static class TransactionScanner
{
    public static void Scan(HttpTransaction t, List<SensitiveHit> into) => Scan(t, into, SensitiveScanOptions.Default);

    public static void Scan(HttpTransaction t, List<SensitiveHit> into, SensitiveScanOptions options)
    {
        // Time comes from the packets; a transaction without a timestamp (a HAR entry without startedDateTime)
        // puts no upper bound on birth years.
        int year = t.TsRequest > 0 ? Sensor.Core.Timestamp.ToDateTime(t.TsRequest).Year : DateTime.MaxValue.Year;
        var s = new ScanState(options, into, year);
        // One malformed part must not hide the others (or take the pipeline down).
        Guard(t, s, static (t, s) => ScanPath(t.Path, s));
        if (t.Query is { Length: > 0 }) Guard(t, s, static (t, s) => ScanQuery(t.Query!, s));
        Guard(t, s, static (t, s) => ScanHeaders(t.Request, SensitiveParts.ReqHeader, SensitiveParts.ReqCookie, s));
        if (t.Response != null) Guard(t, s, static (t, s) => ScanHeaders(t.Response!, SensitiveParts.RespHeader, SensitiveParts.RespCookie, s));
        if (!options.Bodies) return;
        Guard(t, s, static (t, s) => BodyScanner.Scan(t.RequestBody.Content, t.RequestBody.CaptureTruncated, t.Request.ContentType, SensitiveParts.ReqBody, s));
        if (t.Response != null) Guard(t, s, static (t, s) => BodyScanner.Scan(t.ResponseBody.Content, t.ResponseBody.CaptureTruncated, t.Response!.ContentType, SensitiveParts.RespBody, s));
    }

    private static void Guard(HttpTransaction t, ScanState s, Action<HttpTransaction, ScanState> part)
    {
        try { part(t, s); }
        catch (Exception e) when (e is not OutOfMemoryException) { /* skip the part */ }
    }

    private static void ScanPath(string path, ScanState s)
    {
        if (path.Length == 0) return;
        // The same paths come back (an object fetched again and again): one lookup instead of one per segment,
        // by digest (a hit then compares no cold strings).
        var whole = t_wholePathMemo ??= new(MemoChars / 4);
        var key = Digest.Of(path);
        if (s.Replayed(whole, key)) return;
        int mark = s.Mark;
        ScanSegments(path, s);
        s.Remember(whole, key, mark);
    }

    [ThreadStatic] private static ValueMemo<UInt128, SensitiveHit[]>? t_wholePathMemo;

    private static void ScanQuery(string query, ScanState s)
    {
        if (query.Length > 16384) query = query[..16384];
        // Queries come back too (the same page of the same list, the same search): one lookup for the whole.
        var memo = t_queryMemo ??= new(MemoChars / 4);
        var key = Digest.Of(query);
        if (s.Replayed(memo, key)) return;
        int mark = s.Mark;
        BodyScanner.Form(query, SensitiveParts.Query, s, ValueSource.Query);
        s.Remember(memo, key, mark);
    }

    [ThreadStatic] private static ValueMemo<UInt128, SensitiveHit[]>? t_queryMemo;

    private static void ScanSegments(string path, ScanState s)
    {
        if (path.Length > 8192) path = path[..8192];
        var segments = path.Split('/');
        var memo = t_pathMemo ??= new(MemoChars / 4);
        string? previous = null;
        for (int i = 1; i < segments.Length && !s.Full; i++)
        {
            var seg = segments[i];
            if (seg.Length == 0) { previous = null; continue; }
            var v = PercentDecode(seg);
            // Static segments (api, v1, users) come back on every request; what a segment yields depends only on
            // its position, the segment before it and itself.
            if (!s.Replayed(memo, (i, previous, v)))
            {
                int mark = s.Mark;
                ValueClassifier.Classify(new FieldCtx(SensitiveParts.Path, SegmentLocation(i - 1), ValueSource.Path)
                {
                    Key = previous,
                    KeyFlags = KeyClassifier.Classify(previous),   // /users/by-email/{x}, /phones/{x}
                }, v, false, s);
                memo.Add((i, previous, v), s.Since(mark), v.Length + (previous?.Length ?? 0));
            }
            previous = v;
        }
    }

    [ThreadStatic] private static ValueMemo<(int, string?, string), SensitiveHit[]>? t_pathMemo;
    private static readonly string[] SegmentLocations = [.. Enumerable.Range(0, 32).Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture))];
    private static string SegmentLocation(int i) => i < SegmentLocations.Length ? SegmentLocations[i] : i.ToString(System.Globalization.CultureInfo.InvariantCulture);

    private static string PercentDecode(string s)
    {
        if (s.IndexOf('%') < 0) return s;
        try { return Uri.UnescapeDataString(s); }
        catch (UriFormatException) { return s; }
    }

    // Headers whose values are protocol plumbing, ids, hashes or client IPs (X-Forwarded-For is not a body IP).
    private static readonly HashSet<string> SkipHeaders = new(StringComparer.Ordinal)   // names arrive lowered
    {
        "host", "content-length", "content-type", "content-encoding", "transfer-encoding", "connection", "keep-alive", "accept",
        "accept-encoding", "accept-language", "accept-charset", "accept-ranges", "user-agent", "date", "server", "etag", "last-modified",
        "if-none-match", "if-match", "if-modified-since", "if-unmodified-since", "cache-control", "pragma", "expires", "age", "vary", "via",
        "x-forwarded-for", "x-forwarded-proto", "x-forwarded-host", "x-forwarded-port", "forwarded", "x-real-ip", "x-client-ip",
        "true-client-ip", "cf-connecting-ip", "traceparent", "tracestate", "x-request-id", "x-correlation-id", "request-id",
        "x-amzn-trace-id", "x-cloud-trace-context", "idempotency-key", "content-security-policy", "strict-transport-security",
        "x-powered-by", "x-content-type-options", "x-frame-options", "x-xss-protection", "referrer-policy", "permissions-policy",
        "content-disposition", "content-language", "content-range", "range", "upgrade", "te", "trailer", "origin", "www-authenticate",
        "proxy-authenticate", "alt-svc", "retry-after", "x-ratelimit-limit", "x-ratelimit-remaining", "x-ratelimit-reset", "link",
        "x-runtime", "server-timing", "timing-allow-origin", "nel", "report-to", "expect-ct", "x-dns-prefetch-control", "dnt",
        "upgrade-insecure-requests", "priority", "x-b3-traceid", "x-b3-spanid", "x-b3-parentspanid", "x-b3-sampled", "b3",
        "x-datadog-trace-id", "x-datadog-parent-id", "sentry-trace", "baggage", "x-envoy-upstream-service-time", "x-cache", "x-served-by",
        "x-timer", "cf-ray", "x-amz-cf-id", "x-amz-request-id", "x-amz-id-2", "x-goog-request-id", "x-ms-request-id", "x-github-request-id",
    };

    // Header values repeat on request after request (User-Agent, Accept, one client's token): what a value at a
    // header yields is remembered per thread, so each distinct (part, header, value) is judged once. Bounded; in
    // memory only.
    [ThreadStatic] private static ValueMemo<HeaderValueKey, SensitiveHit[]>? t_headerMemo;
    // ~8 MB a thread: tens of thousands of clients' tokens fit.
    private const int MemoChars = 4 << 20;

    private static void ScanHeaders(HttpHead head, string part, string cookiePart, ScanState s)
    {
        var memo = t_headerMemo ??= new(MemoChars);
        for (int i = 0; i < head.FieldCount && !s.Full; i++)
        {
            var name = head.LowerNameAt(i);
            if (Skipped(name)) continue;
            // Keyed by the value's bytes as sent: a value seen before is not even decoded.
            var bytes = head.ValueBytesAt(i);
            if (bytes.IsEmpty) continue;
            var key = new HeaderValueKey(name, Digest.Of(bytes, part == SensitiveParts.ReqHeader ? 0 : 1));
            if (s.Replayed(memo, key)) continue;
            var value = head.ValueAt(i);
            if (value.Length == 0) continue;
            if (value.Length > 16384) value = value[..16384];
            int mark = s.Mark;
            ScanHeader(part, cookiePart, s, name, value);
            s.Remember(memo, key, mark);
        }
    }

    /// <summary>
    /// A header value at a header: the lowered name by reference (lowered names are one string per name on a
    /// thread), the value by its digest, seeded with the part. No characters are hashed or compared but the value's.
    /// </summary>
    private readonly record struct HeaderValueKey(string Name, UInt128 Value)
    {
        public bool Equals(HeaderValueKey o) => ReferenceEquals(Name, o.Name) && Value == o.Value;
        public override int GetHashCode() => System.Runtime.CompilerServices.RuntimeHelpers.GetHashCode(Name) ^ (int)(ulong)Value;
    }

    [ThreadStatic] private static HeaderNameMemo<bool>? t_skipped;

    private static bool Skipped(string lower) => (t_skipped ??= new(Skip)).Of(lower);

    private static bool Skip(string lower) =>
        SkipHeaders.Contains(lower) || lower.StartsWith("sec-", StringComparison.Ordinal) || lower.StartsWith("access-control-", StringComparison.Ordinal);

    private static void ScanHeader(string part, string cookiePart, ScanState s, string name, string value)
    {
        {
            var c = new FieldCtx(part, name, ValueSource.Header) { Key = name, KeyFlags = KeyClassifier.Classify(name, header: true) };
            switch (name)
            {
                case "authorization" or "proxy-authorization" or "x-authorization":
                    if (!ValueClassifier.Authorization(c, value, s)) FreeText.Scan(value, c, s);
                    break;
                case "cookie" when part == SensitiveParts.ReqHeader:
                    Cookies(value, cookiePart, s, requestHeader: true);
                    break;
                case "set-cookie" when part == SensitiveParts.RespHeader:
                    Cookies(value, cookiePart, s, requestHeader: false);
                    break;
                default:
                    if (Signature(name)) break;   // webhook signatures, CSRF tokens: integrity values, not reusable credentials
                    if ((c.KeyFlags & KeyClass.Secret) != 0 && value.IndexOf(' ') is > 0 and < 20 && value.IndexOf(' ', value.IndexOf(' ') + 1) < 0)
                        ValueClassifier.Authorization(c, value, s);   // X-Api-Key: Bearer …
                    else
                        ValueClassifier.Classify(c, value, false, s);
                    break;
            }
        }
    }

    private static bool Signature(string name) =>
        name.Contains("signature", StringComparison.Ordinal) || name.Contains("hmac", StringComparison.Ordinal)
        || name.Contains("csrf", StringComparison.Ordinal) || name.Contains("xsrf", StringComparison.Ordinal)
        || name.Contains("nonce", StringComparison.Ordinal) || name.EndsWith("-digest", StringComparison.Ordinal) || name == "digest";

    /// <summary>Cookie: a=b; c=d (request) or one Set-Cookie: name=value; attributes (response). Values are judged by format only.</summary>
    private static void Cookies(string header, string part, ScanState s, bool requestHeader)
    {
        var pairs = requestHeader ? header.Split(';') : [header.Split(';')[0]];
        int count = 0;
        foreach (var p in pairs)
        {
            if (count++ > 256 || s.Full) break;
            int eq = p.IndexOf('=');
            if (eq <= 0) continue;
            var name = p[..eq].Trim();
            var value = p[(eq + 1)..].Trim().Trim('"');
            if (value.Length == 0) continue;
            value = PercentDecode(value);
            ValueClassifier.Classify(new FieldCtx(part, name, ValueSource.Cookie) { Key = name, KeyFlags = KeyClassifier.Classify(name) }, value, false, s);
        }
    }
}
