using System.Text.Json.Serialization;
using Sensor.Analysis.Schema;

namespace Sensor.Analysis.Inventory;

/// <summary>How often a parameter was present and what its values looked like.</summary>
public sealed class ParamStats
{
    public long Present { get; set; }
    /// <summary>Present in requests the server accepted (not 4xx): what <c>required</c> is decided on.</summary>
    public long PresentAccepted { get; set; }
    public ValueStats Values { get; set; } = new();

    public void Merge(ParamStats o)
    {
        Present += o.Present;
        PresentAccepted += o.PresentAccepted;
        Values.Merge(o.Values);
    }
}

/// <summary>Bodies of one media type: how many, and their merged schema.</summary>
public sealed class BodyStats
{
    public long Count { get; set; }
    /// <summary>Bodies that did not parse as their media type (or were cut short) and were left out of the schema.</summary>
    public long Unparsed { get; set; }
    public SchemaNode Schema { get; set; } = new();
    /// <summary>Bodies learned from (the rest were sampled out: see <see cref="ShouldLearn"/>).</summary>
    public long Learned { get; set; }
    /// <summary>Bodies still to learn in full because a recent one taught a new property.</summary>
    public int Boost { get; set; }

    /// <summary>
    /// Every body is learned until 32 were, then one in 8 until 128, then one in 64 as the schema settles; a body
    /// that brings a new property makes the next 32 count again (4 past 128). Counts stay consistent (required-ness is a
    /// ratio over learned bodies), and a steady high-rate endpoint costs little.
    /// </summary>
    public bool ShouldLearn()
    {
        if (Boost > 0) { Boost--; return true; }
        long interval = Learned < 32 ? 1 : Learned < 128 ? 8 : 64;
        return Count % interval == 0;
    }

    public void Merge(BodyStats o)
    {
        Learned += o.Learned;
        Count += o.Count;
        Unparsed += o.Unparsed;
        Schema.Merge(o.Schema);
    }
}

public sealed class ResponseStats
{
    public long Count { get; set; }
    public Dictionary<string, BodyStats> Content { get; set; } = new(StringComparer.Ordinal);
    /// <summary>Response headers by lower-case name, with presence counts (values are not kept).</summary>
    public Dictionary<string, long> Headers { get; set; } = new(StringComparer.Ordinal);

    /// <summary>Responses whose headers were recorded (sampled like values).</summary>
    public long HeaderSamples { get; set; }

    public void Merge(ResponseStats o)
    {
        Count += o.Count;
        HeaderSamples += o.HeaderSamples;
        ShapeMerge.Into(Content, o.Content, (a, b) => a.Merge(b));
        foreach (var (k, v) in o.Headers) Headers[k] = Headers.GetValueOrDefault(k) + v;
    }
}

/// <summary>
/// What was learned about the requests and responses of one endpoint shape: parameters by location,
/// request bodies by media type (accepted and rejected apart, so probes with broken bodies do not decide
/// the schema), responses by status and media type, and credentials. One shape covers all concrete paths
/// that differ only in id-like segments (<see cref="ShapeKey"/>); shapes merge into endpoints once
/// templates are known.
/// </summary>
public sealed class EndpointShape
{
    public string Service { get; set; } = "";
    public string Method { get; set; } = "";
    public string Key { get; set; } = "";
    /// <summary>One concrete path of the shape: resolving it through the templater gives the endpoint.</summary>
    public string SamplePath { get; set; } = "";
    public long Requests { get; set; }
    /// <summary>Requests not answered 4xx (answered otherwise, or not answered).</summary>
    public long Accepted { get; set; }
    /// <summary>Requests whose parameters and bodies were learned (see <see cref="ShouldSample"/>); presence ratios use these.</summary>
    public long Sampled { get; set; }
    public long SampledAccepted { get; set; }
    /// <summary>Requests still to learn in full because a recent one brought a new parameter.</summary>
    public int Boost { get; set; }

    /// <summary>
    /// Every request is learned in full until 128 were, then one in 16 until 256 (some 2,000 requests in), then
    /// one in 128: a steady high-rate endpoint then costs little, and counts stay consistent because presence is
    /// a ratio over the sampled requests. A request with a new parameter makes the next 64 count again (4 past 256).
    /// </summary>
    public bool ShouldSample()
    {
        if (Boost > 0) { Boost--; return true; }
        long interval = Sampled < 128 ? 1 : Sampled < 256 ? 16 : 128;
        return Requests % interval == 0;
    }
    public long FirstSeen { get; set; } = long.MaxValue;
    public long LastSeen { get; set; } = long.MinValue;
    public Dictionary<string, ParamStats> Query { get; set; } = new(StringComparer.Ordinal);
    public Dictionary<string, ParamStats> Header { get; set; } = new(StringComparer.Ordinal);
    public Dictionary<string, ParamStats> Cookie { get; set; } = new(StringComparer.Ordinal);
    /// <summary>Values by path position (0-based segment index), for the positions that are variables.</summary>
    public Dictionary<int, ValueStats> PathValues { get; set; } = [];
    public Dictionary<string, BodyStats> RequestBodies { get; set; } = new(StringComparer.Ordinal);
    public Dictionary<string, BodyStats> RejectedBodies { get; set; } = new(StringComparer.Ordinal);
    public Dictionary<int, ResponseStats> Responses
    {
        get => _responses;
        set { _responses = value; _lastResponse = null; }
    }

    private Dictionary<int, ResponseStats> _responses = [];
    private int _lastStatus;
    private ResponseStats? _lastResponse;   // answers come with the same status request after request

    /// <summary>The responses of <paramref name="status"/>, made at the first.</summary>
    public ResponseStats Response(int status)
    {
        if (_lastResponse != null && _lastStatus == status) return _lastResponse;
        if (!_responses.TryGetValue(status, out var rs)) _responses[status] = rs = new ResponseStats();
        (_lastStatus, _lastResponse) = (status, rs);
        return rs;
    }
    /// <summary>Requests carrying each credential scheme, and of those how many were not refused (401/403).</summary>
    public Dictionary<string, long> Schemes
    {
        get { FlushSchemeRuns(); return _schemes; }
        set { FlushSchemeRuns(); _schemes = value; }
    }

    public Dictionary<string, long> SchemesAccepted
    {
        get { FlushSchemeRuns(); return _schemesAccepted; }
        set { FlushSchemeRuns(); _schemesAccepted = value; }
    }

    private Dictionary<string, long> _schemes = new(StringComparer.Ordinal), _schemesAccepted = new(StringComparer.Ordinal);
    // An endpoint's requests carry the same scheme or two one after the other: they are counted here and go into
    // the tables when another scheme comes or the tables are read (one comparison a request instead of two look-ups).
    private string? _run0, _run1;
    private long _runCount0, _runAccepted0, _runCount1, _runAccepted1;

    /// <summary>Counts a request carrying <paramref name="scheme"/>; accepted: not refused (401/403).</summary>
    public void CountScheme(string scheme, bool accepted)
    {
        if (string.Equals(scheme, _run0)) { _runCount0++; if (accepted) _runAccepted0++; return; }
        if (string.Equals(scheme, _run1)) { _runCount1++; if (accepted) _runAccepted1++; return; }
        if (_run1 != null) FlushSchemeRuns();
        if (_run0 == null) (_run0, _runCount0, _runAccepted0) = (scheme, 1, accepted ? 1 : 0);
        else (_run1, _runCount1, _runAccepted1) = (scheme, 1, accepted ? 1 : 0);
    }

    private void FlushSchemeRuns()
    {
        if (_run0 != null) Flush(_run0, _runCount0, _runAccepted0);
        if (_run1 != null) Flush(_run1, _runCount1, _runAccepted1);
        _run0 = _run1 = null;

        void Flush(string scheme, long n, long accepted)
        {
            System.Runtime.InteropServices.CollectionsMarshal.GetValueRefOrAddDefault(_schemes, scheme, out _) += n;
            if (accepted > 0) System.Runtime.InteropServices.CollectionsMarshal.GetValueRefOrAddDefault(_schemesAccepted, scheme, out _) += accepted;
        }
    }
    public long JwtBearer { get; set; }
    public long WithoutCredentials { get; set; }
    /// <summary>Requests without any credential that were answered 2xx.</summary>
    public long Unauthenticated2xx { get; set; }

    [JsonIgnore] public (string, string, string) Id => (Service, Method, Key);

    public void Merge(EndpointShape o)
    {
        Requests += o.Requests;
        Accepted += o.Accepted;
        Sampled += o.Sampled;
        SampledAccepted += o.SampledAccepted;
        FirstSeen = Math.Min(FirstSeen, o.FirstSeen);
        LastSeen = Math.Max(LastSeen, o.LastSeen);
        ShapeMerge.Into(Query, o.Query, (a, b) => a.Merge(b));
        ShapeMerge.Into(Header, o.Header, (a, b) => a.Merge(b));
        ShapeMerge.Into(Cookie, o.Cookie, (a, b) => a.Merge(b));
        ShapeMerge.Into(PathValues, o.PathValues, (a, b) => a.Merge(b));
        ShapeMerge.Into(RequestBodies, o.RequestBodies, (a, b) => a.Merge(b));
        ShapeMerge.Into(RejectedBodies, o.RejectedBodies, (a, b) => a.Merge(b));
        ShapeMerge.Into(Responses, o.Responses, (a, b) => a.Merge(b));
        foreach (var (k, v) in o.Schemes) Schemes[k] = Schemes.GetValueOrDefault(k) + v;
        foreach (var (k, v) in o.SchemesAccepted) SchemesAccepted[k] = SchemesAccepted.GetValueOrDefault(k) + v;
        JwtBearer += o.JwtBearer;
        WithoutCredentials += o.WithoutCredentials;
        Unauthenticated2xx += o.Unauthenticated2xx;
    }

    /// <summary>
    /// The path with id-like segments (numbers, UUIDs, hashes, prefixed ids, dates, emails, opaque tokens)
    /// replaced by "{}", under the same rule the templater applies: never the first segment, nor one after
    /// "api" or a version. Concrete paths with one key always end in one template.
    /// </summary>
    public static string ShapeKey(string path, List<int>? variablePositions = null)
    {
        var segs = PathTemplater.Segments(path);
        string? prev = null;
        for (int i = 0; i < segs.Length; i++)
        {
            var seg = segs[i];
            bool allow = i > 0 && prev != null && !prev.Equals("api", StringComparison.OrdinalIgnoreCase)
                && (prev == "{}" || SegmentClassifier.Classify(prev) != SegmentKind.Version);
            if (allow)
            {
                var k = SegmentClassifier.Classify(seg);
                if (SegmentClassifier.IsIdLike(k) || k == SegmentKind.Mixed)
                {
                    segs[i] = "{}";
                    variablePositions?.Add(i);
                }
            }
            prev = segs[i];
        }
        return "/" + string.Join('/', segs);
    }
}

internal static class ShapeMerge
{
    /// <summary>Adds <paramref name="items"/> to <paramref name="into"/> by their value key, merging those already there.</summary>
    public static void Into<TK, TV>(Dictionary<TK, TV> into, IEnumerable<TV> items, Func<TV, TK> key, Action<TV, TV> merge) where TK : notnull
    {
        foreach (var v in items)
        {
            var k = key(v);
            if (into.TryGetValue(k, out var mine)) merge(mine, v);
            else into[k] = v;
        }
    }

    public static void Into<TK, TV>(Dictionary<TK, TV> into, Dictionary<TK, TV> from, Action<TV, TV> merge) where TK : notnull
    {
        foreach (var (k, v) in from)
        {
            if (into.TryGetValue(k, out var mine)) merge(mine, v);
            else into[k] = v;
        }
    }
}
