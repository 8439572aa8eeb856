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
/// concrete path (counts, statuses, time span, credentials), and by endpoint shape (parameters, bodies,
/// responses; see <see cref="EndpointShape"/>). Templating happens over the stored aggregate (this run's
/// and earlier runs'), so a later replay extends the inventory. Each worker has its own tables; they are
/// bounded, and what does not fit is counted.
/// </summary>
public sealed class InventoryAnalyzerFactory : IHttpAnalyzerFactory
{
    private readonly List<Analyzer> _parts = [];
    private readonly InventoryLimits _limits;
    private readonly Counter _pathsFolded, _shapesDropped;
    public string Name => "inventory";

    public InventoryAnalyzerFactory(CounterRegistry? counters = null, InventoryLimits? limits = null)
    {
        counters ??= new CounterRegistry();
        _limits = limits ?? new InventoryLimits();
        _pathsFolded = counters.Create("inventory", "paths_folded", "requests recorded under their shape's sample path because the per-worker path table was full");
        _shapesDropped = counters.Create("inventory", "shapes_dropped", "requests not learned from because the per-worker endpoint shape table was full");
    }

    public IHttpAnalyzer Create(int workerId)
    {
        var a = new Analyzer(this);
        lock (_parts) _parts.Add(a);
        return a;
    }

    private readonly List<(Dictionary<UInt128, PathObservation>, Dictionary<EndpointRef, EndpointShape>)> _handed = [];

    /// <summary>
    /// Live capture: what the workers learned since the previous checkpoint (they hand it over at a checkpoint
    /// and start afresh), merged. Stored with <c>InventoryStore.Save</c>, which adds it to what is stored.
    /// </summary>
    public (IReadOnlyCollection<PathObservation> Observations, IReadOnlyCollection<EndpointShape> Shapes) TakeCheckpoint()
    {
        List<(Dictionary<UInt128, PathObservation>, Dictionary<EndpointRef, EndpointShape>)> parts;
        lock (_handed) { parts = [.. _handed]; _handed.Clear(); }
        var obs = new Dictionary<(string, string, string), PathObservation>();
        var shapes = new Dictionary<(string, string, string), EndpointShape>();
        foreach (var (p, sh) in parts)
        {
            MergeInto(obs, p.Values);
            MergeInto(shapes, sh.Values);
        }
        return (obs.Values, shapes.Values);
    }

    // Workers' tables are keyed by reference or digest; across workers (and references) the same endpoint merges by value.
    private static void MergeInto(Dictionary<(string, string, string), PathObservation> all, IEnumerable<PathObservation> part) =>
        ShapeMerge.Into(all, part, o => (o.Service, o.Method, o.Path), (a, b) => a.Merge(b));

    private static void MergeInto(Dictionary<(string, string, string), EndpointShape> all, IEnumerable<EndpointShape> part) =>
        ShapeMerge.Into(all, part, o => (o.Service, o.Method, o.Key), (a, b) => a.Merge(b));

    /// <summary>All workers' observations merged (call after the pipeline completed).</summary>
    public IReadOnlyCollection<PathObservation> Observations()
    {
        var all = new Dictionary<(string, string, string), PathObservation>();
        lock (_parts)
            foreach (var part in _parts) MergeInto(all, part.Paths.Values);
        return all.Values;
    }

    /// <summary>All workers' endpoint shapes merged (call after the pipeline completed).</summary>
    public IReadOnlyCollection<EndpointShape> Shapes()
    {
        var all = new Dictionary<(string, string, string), EndpointShape>();
        lock (_parts)
            foreach (var part in _parts) MergeInto(all, part.Shapes.Values);
        return all.Values;
    }

    public static string ServiceOf(HttpTransaction t) =>
        string.IsNullOrEmpty(t.Host) ? t.ServerIp.WithPort(t.ServerPort) : t.Host.ToLowerInvariant();

    private sealed class Analyzer(InventoryAnalyzerFactory f) : IHttpAnalyzer
    {
        // Keyed by the request digest (host as sent, method, path): requests whose hosts differ only in case are
        // two entries here and one once merged by value.
        public Dictionary<UInt128, PathObservation> Paths = [];
        public Dictionary<EndpointRef, EndpointShape> Shapes = new(ReferenceEqualityComparer.Instance);
        private readonly ShapeLearner _learner = new();

        public void Checkpoint()
        {
            if (Paths.Count == 0 && Shapes.Count == 0) return;
            lock (f._handed) f._handed.Add((Paths, Shapes));
            Paths = [];
            Shapes = new(ReferenceEqualityComparer.Instance);
        }

        public void OnTransaction(HttpTransaction t)
        {
            var path = t.StoredPath;
            var (ep, request) = ShapeKeys.Resolve(t, path);
            if (!Shapes.TryGetValue(ep, out var shape) && Shapes.Count < f._limits.MaxShapesPerWorker)
                Shapes[ep] = shape = new EndpointShape { Service = ep.Service, Method = ep.Method, Key = ep.Key, SamplePath = path };
            var schemes = shape != null ? _learner.Learn(shape, t, ep.Positions) : Credentials.Schemes(t.Request, t.Query);
            if (shape == null) f._shapesDropped.Inc();

            if (!Paths.TryGetValue(request, out var o))
            {
                if (Paths.Count < f._limits.MaxPathsPerWorker) Paths[request] = o = new PathObservation { Service = ep.Service, Method = ep.Method, Path = path };
                else if (shape != null)
                {
                    // Table full: count under the shape's sample path, which resolves to the same endpoint.
                    f._pathsFolded.Inc();
                    var sample = ShapeKeys.Digest(ep.Service, ep.Method, shape.SamplePath);
                    if (!Paths.TryGetValue(sample, out o))
                        Paths[sample] = o = new PathObservation { Service = ep.Service, Method = ep.Method, Path = shape.SamplePath };
                }
                else return;
            }
            o.Count++;
            o.FirstSeen = Math.Min(o.FirstSeen, t.TsRequest);
            o.LastSeen = Math.Max(o.LastSeen, t.TsRequest);
            if (t.Status is int s) o.Statuses[s] = o.Statuses.GetValueOrDefault(s) + 1;
            if (schemes.Count > 0) { o.WithCredentials++; o.AuthSchemes.UnionWith(schemes); }
            else if (t.Status is >= 200 and < 300) o.Unauthenticated2xx++;
        }

        public void Complete() { }
    }
}

public sealed record InventoryLimits
{
    /// <summary>Distinct concrete paths per worker; beyond it requests count under their shape's sample path.</summary>
    public int MaxPathsPerWorker { get; init; } = 200_000;
    /// <summary>Distinct endpoint shapes (service + method + path with ids folded) per worker.</summary>
    public int MaxShapesPerWorker { get; init; } = 20_000;
}

/// <summary>
/// One endpoint shape of one service: service + method + shape key (the path with id-like segments folded),
/// and where the folded segments are. One instance per distinct triple on a thread, so the analyzers key
/// their per-endpoint tables by reference (<see cref="ReferenceEqualityComparer"/>) instead of hashing three
/// strings each.
/// </summary>
public sealed class EndpointRef
{
    public required string Service, Method, Key;
    public required int[] Positions;
}

/// <summary>
/// The endpoint references of requests, worked out once per thread: (Host as sent, method, concrete path)
/// repeat (the same ids are fetched again and again), and the analyzers of a worker run on its thread. Both
/// tables are bounded; past the bound they start over, which only costs the recomputation (a new reference
/// for a triple seen before is merged by value where it matters).
/// </summary>
public static class ShapeKeys
{
    [ThreadStatic] private static Dictionary<UInt128, EndpointRef>? t_requests;
    [ThreadStatic] private static Dictionary<(string, string, string), EndpointRef>? t_endpoints;
    [ThreadStatic] private static System.IO.Hashing.XxHash128? t_hash;
    // Seeded per process: nobody can craft two requests whose digests collide.
    private static readonly long Seed = Random.Shared.NextInt64();

    /// <summary>The endpoint of <paramref name="path"/> of <paramref name="t"/>: resolved once per transaction, whichever analyzer asks first.</summary>
    public static EndpointRef Of(HttpTransaction t, string path) => Resolve(t, path).Endpoint;

    /// <summary>
    /// The endpoint of <paramref name="path"/> of <paramref name="t"/> and a 128-bit digest of (host as sent,
    /// method, path), which keys per-request tables without hashing or comparing their strings again.
    /// </summary>
    public static (EndpointRef Endpoint, UInt128 Request) Resolve(HttpTransaction t, string path)
    {
        if (t.Shape is { } known && ReferenceEquals(known.Path, path) && known.Endpoint is EndpointRef r) return (r, known.Request);
        // One lookup for a request seen before, by a digest of the Host as sent (no lowering), the method and the path:
        // comparing the strings of a hit cost more than the hashing, as the stored ones are cold in memory.
        var host = t.Host;
        var digest = Digest(string.IsNullOrEmpty(host) ? t.Service ??= InventoryAnalyzerFactory.ServiceOf(t) : host, t.Method, path);
        var requests = t_requests ??= [];
        if (!requests.TryGetValue(digest, out r!))
        {
            var service = t.Service ??= InventoryAnalyzerFactory.ServiceOf(t);
            var positions = new List<int>();
            var key = EndpointShape.ShapeKey(path, positions);
            var endpoints = t_endpoints ??= [];
            if (!endpoints.TryGetValue((service, t.Method, key), out r!))
            {
                if (endpoints.Count >= 65536) endpoints.Clear();
                endpoints[(service, t.Method, key)] = r = new EndpointRef { Service = service, Method = t.Method, Key = key, Positions = positions.Count == 0 ? [] : positions.ToArray() };
            }
            if (requests.Count >= 65536) requests.Clear();   // bounded: a flood of unique paths only costs the recomputation
            requests[digest] = r;
        }
        t.Service ??= r.Service;
        t.Shape = (path, r, digest);
        return (r, digest);
    }

    public static UInt128 Digest(string service, string method, string path)
    {
        var h = t_hash ??= new System.IO.Hashing.XxHash128(Seed);
        h.Reset();
        Span<int> lengths = [service.Length, method.Length, path.Length];
        h.Append(System.Runtime.InteropServices.MemoryMarshal.AsBytes(lengths));
        h.Append(System.Runtime.InteropServices.MemoryMarshal.AsBytes(service.AsSpan()));
        h.Append(System.Runtime.InteropServices.MemoryMarshal.AsBytes(method.AsSpan()));
        h.Append(System.Runtime.InteropServices.MemoryMarshal.AsBytes(path.AsSpan()));
        return h.GetCurrentHashAsUInt128();
    }
}
