using System.Text;
using Sensor.Analysis.Schema;
using Sensor.Http;

namespace Sensor.Analysis.Inventory;

/// <summary>
/// Feeds one transaction into its endpoint shape: query, header, cookie and path values, request and
/// response bodies, credentials. One instance per worker (it reuses its buffers).
/// </summary>
public sealed class ShapeLearner
{
    private readonly SchemeSet _schemes = new();
    private readonly List<string> _seen = [];

    /// <summary>
    /// Learns from <paramref name="t"/>; returns the credential schemes it carried (a reused set). Counts,
    /// statuses and credentials are exact for every request; parameters, values and bodies are learned from
    /// a sample once the shape is well known (<see cref="EndpointShape.ShouldSample"/>).
    /// </summary>
    public SchemeSet Learn(EndpointShape shape, HttpTransaction t, IReadOnlyList<int> variablePositions)
    {
        _schemes.Clear();
        int? status = t.Status;
        bool rejected = status is >= 400 and < 500;
        shape.Requests++;
        if (!rejected) shape.Accepted++;
        shape.FirstSeen = Math.Min(shape.FirstSeen, t.TsRequest);
        shape.LastSeen = Math.Max(shape.LastSeen, t.TsRequest);
        var req = t.Request;
        bool detail = shape.ShouldSample();
        if (detail) { shape.Sampled++; if (!rejected) shape.SampledAccepted++; }
        int known = shape.Query.Count + shape.Header.Count + shape.Cookie.Count;

        _seen.Clear();
        if (t.Query is { Length: > 0 } q && (detail || Credentials.MayHoldQueryCredential(q)))
            foreach (var pair in q.Split('&', StringSplitOptions.RemoveEmptyEntries))
            {
                int eq = pair.IndexOf('=');
                var name = BodyShapes.Decode(eq < 0 ? pair : pair[..eq]);
                if (name.Length == 0 || name.Length > 128) continue;
                // Array-style names (ids[]=1&ids[]=2) are one parameter.
                if (name.EndsWith("[]", StringComparison.Ordinal)) name = name[..^2];
                if (Credentials.IsCredentialQuery(name) && eq >= 0 && eq < pair.Length - 1) { _schemes.Add("apiKey-query-" + name.ToLowerInvariant()); continue; }
                if (!detail || (shape.Query.Count >= 128 && !shape.Query.ContainsKey(name))) continue;
                Param(shape.Query, name, rejected, eq < 0 ? "" : BodyShapes.Decode(pair[(eq + 1)..]));
            }

        _seen.Clear();
        for (int i = 0; i < req.FieldCount; i++)
        {
            var role = HeaderRoles.At(req, i);
            if (role == HeaderRole.Transport || !detail && role is HeaderRole.Parameter or HeaderRole.Standard) continue;
            var lower = req.LowerNameAt(i);
            switch (role)
            {
                case HeaderRole.Authorization:
                    var auth = req.ValueBytesAt(i);
                    _schemes.Add(Credentials.AuthorizationScheme(lower, auth));
                    if (Credentials.LooksLikeJwt(auth)) shape.JwtBearer++;
                    continue;
                case HeaderRole.Credential: _schemes.Add(CredentialId(lower)); continue;
                case HeaderRole.Cookie:
                    Cookies(shape, req.ValueAt(i), rejected, detail);
                    continue;
                case HeaderRole.Transport: continue;
            }
            if (!detail || (shape.Header.Count >= 64 && !shape.Header.ContainsKey(lower))) continue;
            Param(shape.Header, lower, rejected, req.ValueBytesAt(i));
        }

        if (_schemes.Count > 0)
        {
            bool accepted = status is not (401 or 403);
            for (int i = 0; i < _schemes.Count; i++) shape.CountScheme(_schemes[i], accepted);
        }
        else
        {
            shape.WithoutCredentials++;
            if (status is >= 200 and < 300) shape.Unauthenticated2xx++;
        }

        ResponseStats? rs = null;
        if (t.Response != null && status is int st)
        {
            rs = shape.Response(st);
            rs.Count++;
        }
        if (!detail) return _schemes;

        if (variablePositions.Count > 0)
        {
            var segs = PathTemplater.Segments(t.StoredPath);
            foreach (var p in variablePositions)
                if (p < segs.Length)
                {
                    if (!shape.PathValues.TryGetValue(p, out var vs)) shape.PathValues[p] = vs = new ValueStats { Values = null, Sensitive = true };   // ids and names: never kept
                    vs.AddText(BodyShapes.Decode(segs[p]));
                }
        }

        if (t.RequestBody.CapturedLength > 0 && BodyShapes.MediaType(req.ContentType) is { } reqMedia)
            Body(rejected ? shape.RejectedBodies : shape.RequestBodies, reqMedia, req.ContentType, t.RequestBody, t.RequestComplete);

        if (rs != null && t.Response is { } resp)
        {
            rs.HeaderSamples++;
            for (int i = 0; i < resp.FieldCount && rs.Headers.Count < 64; i++)
            {
                var lower = resp.LowerNameAt(i);
                rs.Headers[lower] = rs.Headers.GetValueOrDefault(lower) + 1;
            }
            var media = BodyShapes.MediaType(resp.ContentType);
            if (media != null && (t.ResponseBody.Length > 0 || t.ResponseBody.CapturedLength > 0))
                Body(rs.Content, media, resp.ContentType, t.ResponseBody, t.ResponseComplete);
        }
        if (t.Sensitive is { Count: > 0 } tags) MarkSensitive(shape, t, tags, rs);
        // A parameter never seen before: look closely at the next requests too.
        if (shape.Query.Count + shape.Header.Count + shape.Cookie.Count != known && shape.Sampled > 1) shape.Boost = shape.Sampled < 256 ? 64 : 4;
        return _schemes;
    }

    /// <summary>
    /// Where the sensitive-data analyzer found personal data or secrets, the learned values are dropped and
    /// marked sensitive: no enum and no example can then carry them into storage or an exported spec.
    /// </summary>
    private static void MarkSensitive(EndpointShape shape, HttpTransaction t, List<SensitiveTag> tags, ResponseStats? rs)
    {
        foreach (var tag in tags)
        {
            switch (tag.Part)
            {
                case "query": Mark(shape.Query.GetValueOrDefault(tag.Location)?.Values); break;
                case "req_header": Mark(shape.Header.GetValueOrDefault(tag.Location)?.Values); break;
                case "req_cookie": Mark(shape.Cookie.GetValueOrDefault(tag.Location)?.Values); break;
                case "req_body":
                    foreach (var b in shape.RequestBodies.Values.Concat(shape.RejectedBodies.Values)) MarkPath(b.Schema, tag.Location);
                    break;
                case "resp_body":
                    if (rs != null) foreach (var b in rs.Content.Values) MarkPath(b.Schema, tag.Location);
                    break;
            }
        }
    }

    private static void Mark(ValueStats? v)
    {
        if (v == null) return;
        v.Values = null;
        v.Sensitive = true;
    }

    /// <summary>Follows a location ($.a.b[0].c, $['e-mail'], or a form field name) to its learned node and marks it.</summary>
    private static void MarkPath(SchemaNode root, string location)
    {
        var node = root;
        if (!location.StartsWith('$'))
        {
            Mark(root.Properties?.GetValueOrDefault(location)?.Scalar);
            return;
        }
        int i = 1;
        while (node != null && i < location.Length)
        {
            if (location[i] == '.')
            {
                int end = location.IndexOfAny(['.', '['], i + 1);
                if (end < 0) end = location.Length;
                node = node.Properties?.GetValueOrDefault(location[(i + 1)..end]) ?? node.AdditionalProperties;
                i = end;
            }
            else if (location[i] == '[')
            {
                int end = location.IndexOf(']', i);
                if (end < 0) return;
                var inner = location[(i + 1)..end];
                node = inner.Length > 0 && (inner[0] == '\'' || inner[0] == '"')
                    ? node.Properties?.GetValueOrDefault(inner[1..^1]) ?? node.AdditionalProperties
                    : node.Items;
                i = end + 1;
            }
            else return;
        }
        if (node != null) Mark(node.Scalar ??= new ValueStats());
    }

    /// <summary>The schemes of a request not learned from (its endpoint table was full), in the learner's set.</summary>
    public SchemeSet SchemesOf(HttpTransaction t)
    {
        _schemes.Clear();
        foreach (var s in Credentials.Schemes(t.Request, t.Query)) _schemes.Add(s);
        return _schemes;
    }

    private readonly Dictionary<string, string> _credentialIds = new(StringComparer.Ordinal);

    private string CredentialId(string lower)
    {
        if (!_credentialIds.TryGetValue(lower, out var id)) _credentialIds[lower] = id = "apiKey-header-" + lower;
        return id;
    }

    private static void Body(Dictionary<string, BodyStats> into, string media, string? contentType, HttpBody body, bool complete)
    {
        if (into.Count >= 16 && !into.ContainsKey(media)) return;
        if (!into.TryGetValue(media, out var bs)) into[media] = bs = new BodyStats();
        bs.Count++;
        // A body cut short would teach missing properties and broken JSON; it counts but is not learned from.
        if (!complete || body.CaptureTruncated || body.CapturedLength == 0) { bs.Unparsed++; return; }
        if (!bs.ShouldLearn()) return;
        long created = SchemaNode.CreatedOnThisThread;
        if (!BodyShapes.Add(bs.Schema, media, contentType, body.Content)) { bs.Unparsed++; return; }
        bs.Learned++;
        if (SchemaNode.CreatedOnThisThread != created && bs.Learned > 1) bs.Boost = bs.Learned < 128 ? 32 : 4;
    }

    private void Cookies(EndpointShape shape, string header, bool rejected, bool detail)
    {
        foreach (var c in Credentials.Pairs(header))
        {
            if (c.Name.Length > 128) continue;
            var cookie = Credentials.Cookie(c.Name);
            if (cookie.Session) { _schemes.Add(cookie.SchemeId); continue; }
            if (!detail) continue;
            if (shape.Cookie.Count >= 64 && !shape.Cookie.ContainsKey(cookie.Name)) continue;
            Param(shape.Cookie, cookie.Name, rejected, c.Value.ToString());
        }
    }

    private ParamStats Stats(Dictionary<string, ParamStats> into, string name, bool rejected)
    {
        if (!into.TryGetValue(name, out var ps))
        {
            into[name] = ps = new ParamStats();
            if (SensitiveNames.IsSensitive(name)) { ps.Values.Values = null; ps.Values.Sensitive = true; }
        }
        // Present once per request, however often repeated.
        if (!_seen.Contains(name))
        {
            _seen.Add(name);
            ps.Present++;
            if (!rejected) ps.PresentAccepted++;
        }
        return ps;
    }

    private void Param(Dictionary<string, ParamStats> into, string name, bool rejected, string value)
    {
        Stats(into, name, rejected).Values.AddText(value);
    }

    private void Param(Dictionary<string, ParamStats> into, string name, bool rejected, ReadOnlySpan<byte> value)
    {
        var ps = Stats(into, name, rejected);
        Span<char> buf = stackalloc char[512];
        if (value.Length <= 512 && Encoding.UTF8.TryGetChars(value, buf, out int n)) ps.Values.AddText(buf[..n]);
        else ps.Values.AddText(Encoding.UTF8.GetString(value));
    }

}

public enum HeaderRole { Parameter, Standard, Transport, Cookie, Authorization, Credential }

/// <summary>
/// What a request header is to an API description. Transport headers (framing, hop-by-hop, Host) are
/// never parameters; standard client headers (Accept, User-Agent, tracing…) are parameters only where an
/// endpoint uses them and others do not (decided at export); credentials become security schemes.
/// </summary>
public static class HeaderRoles
{
    private static readonly HashSet<string> Transport = new(StringComparer.Ordinal)
    {
        "host", "content-length", "content-type", "content-encoding", "transfer-encoding", "connection", "keep-alive",
        "proxy-connection", "te", "trailer", "upgrade", "expect", "http2-settings",
    };

    private static readonly HashSet<string> Standard = new(StringComparer.Ordinal)
    {
        "accept", "accept-encoding", "accept-language", "accept-charset", "user-agent", "cache-control", "pragma",
        "origin", "referer", "dnt", "upgrade-insecure-requests", "range", "forwarded", "x-real-ip", "via", "priority",
        "date", "x-requested-with", "traceparent", "tracestate", "baggage", "x-amzn-trace-id", "save-data",
        "x-cloud-trace-context", "cdn-loop", "true-client-ip", "purpose", "x-forwarded-for", "x-forwarded-proto",
        "x-forwarded-host", "x-forwarded-port", "x-forwarded-prefix", "prefer", "accept-datetime", "max-forwards",
    };

    // Asked for every field of every message by several analyzers; the answer depends on the name only.
    private static readonly System.Collections.Concurrent.ConcurrentDictionary<string, HeaderRole> Known = new(StringComparer.Ordinal);

    [ThreadStatic] private static Sensitive.HeaderNameMemo<HeaderRole>? t_roles;

    /// <summary>The role of field <paramref name="i"/> of a message (remembered by name id, per thread).</summary>
    public static HeaderRole At(HttpHead head, int i) => (t_roles ??= new(Of)).At(head, i);

    public static HeaderRole Of(string lower)
    {
        if (Known.TryGetValue(lower, out var role)) return role;
        role = Decide(lower);
        if (Known.Count < 4096) Known.TryAdd(lower, role);   // bounded: hostile traffic can invent names without end
        return role;
    }

    private static HeaderRole Decide(string lower)
    {
        if (Transport.Contains(lower)) return HeaderRole.Transport;
        if (lower == "cookie") return HeaderRole.Cookie;
        if (lower is "authorization" or "proxy-authorization") return HeaderRole.Authorization;
        if (Credentials.IsCredentialHeader(lower)) return HeaderRole.Credential;
        if (Standard.Contains(lower) || lower.StartsWith("sec-", StringComparison.Ordinal) || lower.StartsWith("if-", StringComparison.Ordinal)
            || lower.StartsWith("x-b3-", StringComparison.Ordinal) || lower.StartsWith("cf-", StringComparison.Ordinal)
            || lower.StartsWith("x-envoy-", StringComparison.Ordinal) || lower.StartsWith("x-forwarded-", StringComparison.Ordinal))
            return HeaderRole.Standard;
        return HeaderRole.Parameter;
    }
}
