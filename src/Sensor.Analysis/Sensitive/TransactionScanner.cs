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
        Guard(t, s, static (t, s) => ScanPath(t, s));
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

    private static void ScanPath(HttpTransaction t, ScanState s)
    {
        var path = t.Path;
        if (path.Length == 0) return;
        // A path already found clean on this thread (the request's entry in the thread's request table, looked up
        // for the endpoint anyway, keeps the verdict) is not read again. No table of whole paths of its own: they
        // hold object ids, so most are new, and the lookup cost more than the per-segment work it saved.
        var request = t.Shape is { } shape && ReferenceEquals(shape.Path, path) ? shape.Request as Inventory.RequestRef : null;
        if (request is { PathClean: true }) return;
        int mark = s.Mark;
        ScanSegments(path, s);
        if (request != null && s.Mark == mark && !s.Full) request.PathClean = true;
    }

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
        var rest = path.AsSpan(0, Math.Min(path.Length, 8192));
        var memo = t_pathMemo ??= new(MemoChars / 4);
        // Segments are read in place: only a segment not seen before (in its position, after the same segment)
        // becomes a string.
        Span<char> keyChars = stackalloc char[KeyCharsMax];
        ReadOnlySpan<char> previous = default;
        bool hasPrevious = false;
        for (int i = 0; ; i++)
        {
            int slash = rest.IndexOf('/');
            var seg = slash < 0 ? rest : rest[..slash];
            rest = slash < 0 ? default : rest[(slash + 1)..];
            if (i > 0 && !s.Full)
            {
                if (seg.IsEmpty)
                {
                    previous = default;
                    hasPrevious = false;
                }
                else
                {
                    var v = seg.Contains('%') ? PercentDecode(seg.ToString()) : seg;
                    Segment(i, previous, v, hasPrevious, memo, keyChars, s);
                    // What follows an object id is judged the same after any id: /users/{n}/orders is one key, not one per user.
                    previous = v.Length <= 6 && Validators.AllDigits(v) ? "0" : v;
                    hasPrevious = true;
                }
            }
            if (slash < 0) break;
        }
    }

    private const int KeyCharsMax = 256;

    private static void Segment(int i, ReadOnlySpan<char> previous, ReadOnlySpan<char> v, bool hasPrevious, ValueMemo<UInt128, SensitiveHit[]> memo, Span<char> keyChars, ScanState s)
    {
        // An object id (a few digits) holds nothing under an ordinary name: not worth a memo entry per id.
        if (v.Length <= 6 && Validators.AllDigits(v) && (KeyClassifier.Classify(previous) & ShortDigitKeys) == 0) return;
        // Static segments (api, v1, users) come back on every request; what a segment yields depends only on
        // its position, the segment before it and itself.
        bool memoise = previous.Length + v.Length + 2 <= KeyCharsMax;
        UInt128 key = default;
        if (memoise)
        {
            keyChars[0] = (char)i;
            previous.CopyTo(keyChars[1..]);
            keyChars[previous.Length + 1] = hasPrevious ? '/' : '\0';
            v.CopyTo(keyChars[(previous.Length + 2)..]);
            key = Digest.Of(keyChars[..(previous.Length + v.Length + 2)]);
            if (s.Replayed(memo, key)) return;
        }
        int mark = s.Mark;
        var previousText = hasPrevious ? previous.ToString() : null;
        ValueClassifier.Classify(new FieldCtx(SensitiveParts.Path, SegmentLocation(i - 1), ValueSource.Path)
        {
            Key = previousText,
            KeyFlags = KeyClassifier.Classify(previousText),   // /users/by-email/{x}, /phones/{x}
        }, v.ToString(), false, s);
        if (memoise) s.Remember(memo, key, mark);
    }

    [ThreadStatic] private static ValueMemo<UInt128, SensitiveHit[]>? t_pathMemo;
    // Names under which a short number can still be something: a PIN, a secret, a date of birth (ddmmyy).
    internal const KeyClass ShortDigitKeys = KeyClass.Password | KeyClass.Secret | KeyClass.Dob | KeyClass.Ssn | KeyClass.Card | KeyClass.Phone;
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
        var skipped = t_skipped ??= new(Skip);   // thread statics fetched once per message, not per field
        for (int i = 0; i < head.FieldCount && !s.Full; i++)
        {
            if (skipped.At(head, i)) continue;
            var name = head.LowerNameAt(i);
            // Keyed by the value's bytes as sent: a value seen before is not even decoded.
            var bytes = head.ValueBytesAt(i);
            if (bytes.IsEmpty) continue;
            if (FakeJwtBearer(name, bytes)) continue;
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

    /// <summary>
    /// "Bearer eyJ….x.y" in an Authorization header whose claims part cannot decode to a JSON object: shaped like a
    /// JWT but not one (a fake or a cut token), which <see cref="ValueClassifier.Authorization"/> reports as nothing.
    /// Told from the bytes, before a digest, a memo lookup or a decode.
    /// </summary>
    private static bool FakeJwtBearer(string name, ReadOnlySpan<byte> value)
    {
        if (name is not ("authorization" or "proxy-authorization" or "x-authorization") || value.Length is < 12 or > 1024
            || !System.Text.Ascii.EqualsIgnoreCase(value[..7], "bearer "u8)) return false;
        var token = Validators.JwtShaped(value);
        return !token.IsEmpty && token.IndexOf((byte)' ') < 0 && !Validators.B64MayBeJsonObject(token[(token.IndexOf((byte)'.') + 1)..]);
    }

    [ThreadStatic] private static HeaderNameMemo<bool>? t_skipped;

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
