using Sensor.Analysis.Schema;

namespace Sensor.Analysis.Inventory;

/// <summary>One documented parameter of an endpoint, as learned.</summary>
public sealed record EndpointParam(string Location, string Name, bool Required, long Present, ValueStats Values, bool Sensitive)
{
    public string Type => Location == "path" && Values.Count == 0 ? "string" : Values.Infer().Type;
    public string? Format => Location == "path" && Values.Count == 0 ? null : Values.Infer().Format;
    /// <summary>Enum values, only for repeated word-like values of fields that cannot be sensitive.</summary>
    public IReadOnlyList<string>? Enum =>
        !Sensitive && !Values.Sensitive && Values.Values is { Count: >= 2 } v && v.Count == Values.Distinct && Values.Count >= 3 * v.Count && Format == null && Type == "string"
            ? v.Keys.Order(StringComparer.Ordinal).ToList() : null;
}

/// <summary>
/// Which of an endpoint's observed inputs are its parameters: path variables, every query parameter that is
/// not a credential, custom headers, and standard headers or cookies only where an endpoint uses them and
/// most others do not (a User-Agent every client sends says nothing about one endpoint).
/// Required means present in every accepted request (every request when none was accepted).
/// </summary>
public static class EndpointParams
{
    public static List<EndpointParam> Of(Endpoint e, ServiceHeaderUsage usage)
    {
        var shape = e.Shape;
        var list = new List<EndpointParam>();
        foreach (var p in e.PathParams)
            list.Add(new EndpointParam("path", p.Name, true, shape.Sampled, shape.PathValues.GetValueOrDefault(p.Position) ?? new ValueStats(), true));
        foreach (var (name, ps) in shape.Query.OrderBy(kv => kv.Key, StringComparer.Ordinal))
            list.Add(Make("query", name, ps, shape));
        foreach (var (name, ps) in shape.Header.OrderBy(kv => kv.Key, StringComparer.Ordinal))
        {
            var role = HeaderRoles.Of(name);
            if (role == HeaderRole.Parameter || (role == HeaderRole.Standard && usage.Specific("h:" + name, ps, shape)))
                list.Add(Make("header", name, ps, shape));
        }
        foreach (var (name, ps) in shape.Cookie.OrderBy(kv => kv.Key, StringComparer.Ordinal))
            if (usage.Endpoints < 3 || usage.Count("c:" + name) * 5 < usage.Endpoints * 4)
                list.Add(Make("cookie", name, ps, shape));
        return list;
    }

    /// <summary>For a single endpoint, judged against itself (standard headers are then left out).</summary>
    public static List<EndpointParam> Of(Endpoint e) => Of(e, new ServiceHeaderUsage([e]));

    private static EndpointParam Make(string loc, string name, ParamStats ps, EndpointShape shape) =>
        new(loc, name, shape.SampledAccepted > 0 ? ps.PresentAccepted >= shape.SampledAccepted : ps.Present >= shape.Sampled, ps.Present, ps.Values, SensitiveNames.IsSensitive(name));
}

/// <summary>How many endpoints of a service send each standard header and cookie on most of their requests.</summary>
public sealed class ServiceHeaderUsage
{
    private readonly Dictionary<string, int> _usage = new(StringComparer.Ordinal);
    public int Endpoints { get; }

    public ServiceHeaderUsage(IReadOnlyCollection<Endpoint> endpoints)
    {
        Endpoints = endpoints.Count;
        foreach (var e in endpoints)
        {
            foreach (var (n, ps) in e.Shape.Header) if (ps.Present * 2 >= e.Shape.Sampled) _usage["h:" + n] = _usage.GetValueOrDefault("h:" + n) + 1;
            foreach (var (n, ps) in e.Shape.Cookie) if (ps.Present * 2 >= e.Shape.Sampled) _usage["c:" + n] = _usage.GetValueOrDefault("c:" + n) + 1;
        }
    }

    public int Count(string key) => _usage.GetValueOrDefault(key);

    /// <summary>Sent on most of this endpoint's requests, and by at most a third of the service's endpoints.</summary>
    public bool Specific(string key, ParamStats ps, EndpointShape shape) =>
        Endpoints >= 3 && ps.Present * 2 >= shape.Sampled && Count(key) * 3 <= Endpoints;
}
