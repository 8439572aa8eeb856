using Sensor.Core;
using Sensor.Http;

namespace Sensor.Analysis.Inventory;

/// <summary>What was seen of one concrete request path of one service and method.</summary>
public sealed class PathObservation
{
    public required string Service, Method, Path;
    public long Count;
    public long FirstSeen = long.MaxValue, LastSeen = long.MinValue;   // packet-time ticks
    public readonly Dictionary<int, long> Statuses = [];
    public long WithCredentials, Unauthenticated2xx;
    public readonly HashSet<string> AuthSchemes = [];

    public void Merge(PathObservation o)
    {
        Count += o.Count;
        FirstSeen = Math.Min(FirstSeen, o.FirstSeen);
        LastSeen = Math.Max(LastSeen, o.LastSeen);
        foreach (var (s, n) in o.Statuses) Statuses[s] = Statuses.GetValueOrDefault(s) + n;
        WithCredentials += o.WithCredentials;
        Unauthenticated2xx += o.Unauthenticated2xx;
        AuthSchemes.UnionWith(o.AuthSchemes);
    }
}

/// <summary>
/// Inventory, first stage: aggregates every transaction by service (Host, else server address) + method +
/// concrete path, with counts, statuses, time span and the credentials it carried. Templating happens over
/// the stored aggregate (this run's and earlier runs'), so a later replay extends the inventory.
/// </summary>
public sealed class InventoryAnalyzerFactory : IHttpAnalyzerFactory
{
    private readonly List<Dictionary<(string, string, string), PathObservation>> _parts = [];
    public string Name => "inventory";

    public IHttpAnalyzer Create(int workerId)
    {
        var part = new Dictionary<(string, string, string), PathObservation>();
        lock (_parts) _parts.Add(part);
        return new Analyzer(part);
    }

    /// <summary>All workers' observations merged (call after the pipeline completed).</summary>
    public IReadOnlyCollection<PathObservation> Observations()
    {
        var all = new Dictionary<(string, string, string), PathObservation>();
        lock (_parts)
            foreach (var part in _parts)
                foreach (var (k, o) in part)
                {
                    if (all.TryGetValue(k, out var have)) have.Merge(o); else all[k] = o;
                }
        return all.Values;
    }

    public static string ServiceOf(HttpTransaction t) =>
        string.IsNullOrEmpty(t.Host) ? t.ServerIp.WithPort(t.ServerPort) : t.Host.ToLowerInvariant();

    private sealed class Analyzer(Dictionary<(string, string, string), PathObservation> part) : IHttpAnalyzer
    {
        public void OnTransaction(HttpTransaction t)
        {
            var service = ServiceOf(t);
            var key = (service, t.Method, t.Path);
            if (!part.TryGetValue(key, out var o)) part[key] = o = new PathObservation { Service = service, Method = t.Method, Path = t.Path };
            o.Count++;
            o.FirstSeen = Math.Min(o.FirstSeen, t.TsRequest);
            o.LastSeen = Math.Max(o.LastSeen, t.TsRequest);
            if (t.Status is int s) o.Statuses[s] = o.Statuses.GetValueOrDefault(s) + 1;
            var schemes = Credentials.Schemes(t.Request);
            if (schemes.Count > 0) { o.WithCredentials++; o.AuthSchemes.UnionWith(schemes); }
            else if (t.Status is >= 200 and < 300) o.Unauthenticated2xx++;
        }

        public void Complete() { }
    }
}

/// <summary>Which kinds of credentials a request carries (names of schemes, never values).</summary>
public static class Credentials
{
    public static HashSet<string> Schemes(HttpHead request)
    {
        var found = new HashSet<string>();
        foreach (var header in (string[])["Authorization", "Proxy-Authorization"])
            if (request.Get(header) is { } v)
            {
                int sp = v.IndexOf(' ');
                found.Add("http-" + (sp > 0 ? v[..sp] : v).ToLowerInvariant());
            }
        foreach (var fragment in (string[])["api-key", "apikey", "auth-token", "access-token"])
            foreach (var name in request.FieldNamesContaining(fragment)) found.Add("apiKey-header-" + name.ToLowerInvariant());
        if (!string.IsNullOrEmpty(request.Get("Cookie"))) found.Add("cookie");
        var q = UriParts.Split(request.Target, request.Method).Query;
        if (q != null)
            foreach (var pair in q.Split('&'))
            {
                var name = pair.Split('=')[0];
                if (name.Equals("api_key", StringComparison.OrdinalIgnoreCase) || name.Equals("apikey", StringComparison.OrdinalIgnoreCase)
                    || name.Equals("access_token", StringComparison.OrdinalIgnoreCase) || name.Equals("token", StringComparison.OrdinalIgnoreCase))
                    found.Add("apiKey-query-" + name.ToLowerInvariant());
            }
        return found;
    }
}
