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

    private readonly List<(Dictionary<(string, string, string), PathObservation>, Dictionary<(string, string, string), EndpointShape>)> _handed = [];

    /// <summary>
    /// Live capture: what the workers learned since the previous checkpoint (they hand it over at a checkpoint
    /// and start afresh), merged. Stored with <c>InventoryStore.Save</c>, which adds it to what is stored.
    /// </summary>
    public (IReadOnlyCollection<PathObservation> Observations, IReadOnlyCollection<EndpointShape> Shapes) TakeCheckpoint()
    {
        List<(Dictionary<(string, string, string), PathObservation>, Dictionary<(string, string, string), EndpointShape>)> parts;
        lock (_handed) { parts = [.. _handed]; _handed.Clear(); }
        var obs = new Dictionary<(string, string, string), PathObservation>();
        var shapes = new Dictionary<(string, string, string), EndpointShape>();
        foreach (var (p, sh) in parts)
        {
            foreach (var (k, o) in p) { if (obs.TryGetValue(k, out var have)) have.Merge(o); else obs[k] = o; }
            foreach (var (k, o) in sh) { if (shapes.TryGetValue(k, out var have)) have.Merge(o); else shapes[k] = o; }
        }
        return (obs.Values, shapes.Values);
    }

    /// <summary>All workers' observations merged (call after the pipeline completed).</summary>
    public IReadOnlyCollection<PathObservation> Observations()
    {
        var all = new Dictionary<(string, string, string), PathObservation>();
        lock (_parts)
            foreach (var part in _parts)
                foreach (var (k, o) in part.Paths)
                {
                    if (all.TryGetValue(k, out var have)) have.Merge(o); else all[k] = o;
                }
        return all.Values;
    }

    /// <summary>All workers' endpoint shapes merged (call after the pipeline completed).</summary>
    public IReadOnlyCollection<EndpointShape> Shapes()
    {
        var all = new Dictionary<(string, string, string), EndpointShape>();
        lock (_parts)
            foreach (var part in _parts)
                foreach (var (k, o) in part.Shapes)
                {
                    if (all.TryGetValue(k, out var have)) have.Merge(o); else all[k] = o;
                }
        return all.Values;
    }

    public static string ServiceOf(HttpTransaction t) =>
        string.IsNullOrEmpty(t.Host) ? t.ServerIp.WithPort(t.ServerPort) : t.Host.ToLowerInvariant();

    private sealed class Analyzer(InventoryAnalyzerFactory f) : IHttpAnalyzer
    {
        public Dictionary<(string, string, string), PathObservation> Paths = [];
        public Dictionary<(string, string, string), EndpointShape> Shapes = [];
        private readonly ShapeLearner _learner = new();

        public void Checkpoint()
        {
            if (Paths.Count == 0 && Shapes.Count == 0) return;
            lock (f._handed) f._handed.Add((Paths, Shapes));
            Paths = [];
            Shapes = [];
        }

        public void OnTransaction(HttpTransaction t)
        {
            var service = ServiceOf(t);
            var (shapeKey, positions) = _keys.Get(t, t.StoredPath);
            var sk = (service, t.Method, shapeKey);
            if (!Shapes.TryGetValue(sk, out var shape) && Shapes.Count < f._limits.MaxShapesPerWorker)
                Shapes[sk] = shape = new EndpointShape { Service = service, Method = t.Method, Key = shapeKey, SamplePath = t.StoredPath };
            var schemes = shape != null ? _learner.Learn(shape, t, positions) : Credentials.Schemes(t.Request, t.Query);
            if (shape == null) f._shapesDropped.Inc();

            var key = (service, t.Method, t.StoredPath);
            if (!Paths.TryGetValue(key, out var o))
            {
                if (Paths.Count < f._limits.MaxPathsPerWorker) Paths[key] = o = new PathObservation { Service = service, Method = t.Method, Path = t.StoredPath };
                else if (shape != null)
                {
                    // Table full: count under the shape's sample path, which resolves to the same endpoint.
                    f._pathsFolded.Inc();
                    key = (service, t.Method, shape.SamplePath);
                    if (!Paths.TryGetValue(key, out o)) Paths[key] = o = new PathObservation { Service = service, Method = t.Method, Path = shape.SamplePath };
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

        private readonly ShapeKeyCache _keys = new();
    }
}

public sealed record InventoryLimits
{
    /// <summary>Distinct concrete paths per worker; beyond it requests count under their shape's sample path.</summary>
    public int MaxPathsPerWorker { get; init; } = 200_000;
    /// <summary>Distinct endpoint shapes (service + method + path with ids folded) per worker.</summary>
    public int MaxShapesPerWorker { get; init; } = 20_000;
}

/// <summary>Shape keys of concrete paths, worked out once per worker: paths repeat (the same ids are fetched again and again).</summary>
public sealed class ShapeKeyCache
{
    private readonly Dictionary<string, (string Key, int[] Positions)> _keys = new(StringComparer.Ordinal);

    /// <summary>The shape key of <paramref name="path"/> of <paramref name="t"/>: worked out once per transaction, whichever analyzer asks first.</summary>
    public (string Key, int[] Positions) Get(HttpTransaction t, string path)
    {
        if (t.Shape is { } known && ReferenceEquals(known.Path, path)) return (known.Key, known.Positions);
        var k = Get(path);
        t.Shape = (path, k.Key, k.Positions);
        return k;
    }

    public (string Key, int[] Positions) Get(string path)
    {
        if (_keys.TryGetValue(path, out var k)) return k;
        var positions = new List<int>();
        k = (EndpointShape.ShapeKey(path, positions), positions.Count == 0 ? [] : positions.ToArray());
        if (_keys.Count >= 65536) _keys.Clear();   // bounded: a flood of unique paths only costs the recomputation
        _keys[path] = k;
        return k;
    }
}
