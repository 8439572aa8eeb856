using Sensor.Core;
using Sensor.Http;

namespace Sensor.Analysis.Inventory;

/// <summary>What was seen of one concrete request path of one service and method.</summary>
/// <remarks>
/// There is one per concrete path (hundreds of thousands on an API with object ids), so the common case is held
/// inline: one status code and up to two credential schemes need no table of their own. <see cref="Statuses"/> and
/// <see cref="AuthSchemes"/> make the tables when asked for (storage, templating, merging).
/// </remarks>
public sealed class PathObservation
{
    public required string Service, Method, Path;
    public long Count;
    public long FirstSeen = long.MaxValue, LastSeen = long.MinValue;   // packet-time ticks
    public long WithCredentials, Unauthenticated2xx;
    private int _status;
    private long _statusCount;
    private Dictionary<int, long>? _statuses;
    private string? _scheme0, _scheme1;
    private HashSet<string>? _schemes;

    /// <summary>Responses by status code.</summary>
    public Dictionary<int, long> Statuses
    {
        get
        {
            if (_statuses == null)
            {
                _statuses = [];
                if (_statusCount > 0) _statuses[_status] = _statusCount;
            }
            return _statuses;
        }
    }

    /// <summary>Credential schemes seen on requests for this path.</summary>
    public HashSet<string> AuthSchemes
    {
        get
        {
            if (_schemes == null)
            {
                _schemes = [];
                if (_scheme0 != null) _schemes.Add(_scheme0);
                if (_scheme1 != null) _schemes.Add(_scheme1);
            }
            return _schemes;
        }
    }

    public void CountStatus(int status) => AddStatus(status, 1);

    /// <summary>Adds <paramref name="n"/> responses of <paramref name="status"/> (the table is made only for a second status).</summary>
    public void AddStatus(int status, long n)
    {
        if (_statuses == null && (_statusCount == 0 || _status == status)) { _status = status; _statusCount += n; return; }
        var all = Statuses;
        all[status] = all.GetValueOrDefault(status) + n;
    }

    /// <summary>Responses that succeeded (2xx, 3xx) and that drew a client error (4xx), without making the table.</summary>
    public (long Ok, long ClientErrors) Outcomes()
    {
        if (_statuses == null) return _status is >= 200 and < 400 ? (_statusCount, 0) : _status is >= 400 and < 500 ? (0, _statusCount) : (0, 0);
        long ok = 0, ce = 0;
        foreach (var (s, n) in _statuses)
        {
            if (s is >= 200 and < 400) ok += n;
            else if (s is >= 400 and < 500) ce += n;
        }
        return (ok, ce);
    }

    /// <summary>The status counts ordered by status (the inline one without making the table).</summary>
    public IEnumerable<(int Status, long Count)> StatusCounts() =>
        _statuses != null ? _statuses.OrderBy(kv => kv.Key).Select(kv => (kv.Key, kv.Value))
        : _statusCount > 0 ? [(_status, _statusCount)] : [];

    /// <summary>The credential schemes in ordinal order, joined by commas ("" when none).</summary>
    public string SchemesText()
    {
        if (_schemes != null) return string.Join(",", _schemes.Order(StringComparer.Ordinal));
        if (_scheme1 == null) return _scheme0 ?? "";
        return string.CompareOrdinal(_scheme0, _scheme1) <= 0 ? _scheme0 + "," + _scheme1 : _scheme1 + "," + _scheme0;
    }

    public void AddSchemes(SchemeSet schemes)
    {
        for (int i = 0; i < schemes.Count; i++) AddScheme(schemes[i]);
    }

    public void AddScheme(string s)
    {
        if (_schemes != null) { _schemes.Add(s); return; }
        if (s == _scheme0 || s == _scheme1) return;
        if (_scheme0 == null) _scheme0 = s;
        else if (_scheme1 == null) _scheme1 = s;
        else AuthSchemes.Add(s);
    }

    public void Merge(PathObservation o)
    {
        Count += o.Count;
        FirstSeen = Math.Min(FirstSeen, o.FirstSeen);
        LastSeen = Math.Max(LastSeen, o.LastSeen);
        if (o._statuses != null) foreach (var (s, n) in o._statuses) AddStatus(s, n);
        else if (o._statusCount > 0) AddStatus(o._status, o._statusCount);
        WithCredentials += o.WithCredentials;
        Unauthenticated2xx += o.Unauthenticated2xx;
        if (o._schemes != null) foreach (var s in o._schemes) AddScheme(s);
        else
        {
            if (o._scheme0 != null) AddScheme(o._scheme0);
            if (o._scheme1 != null) AddScheme(o._scheme1);
        }
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
            _generation++;   // observations handed over are no longer this analyzer's
        }

        private int _generation;

        public void OnTransaction(HttpTransaction t)
        {
            var path = t.StoredPath;
            var slot = ShapeKeys.Request(t, path);
            var (ep, request) = (slot.Endpoint, slot.Digest);
            if (!Shapes.TryGetValue(ep, out var shape) && Shapes.Count < f._limits.MaxShapesPerWorker)
                Shapes[ep] = shape = new EndpointShape { Service = ep.Service, Method = ep.Method, Key = ep.Key, SamplePath = path };
            var schemes = shape != null ? _learner.Learn(shape, t, ep.Positions) : _learner.SchemesOf(t);
            if (shape == null) f._shapesDropped.Inc();

            // The request's slot holds its observation once found here (no second lookup by the same digest).
            var o = ReferenceEquals(slot.Owner, this) && slot.Generation == _generation ? (PathObservation)slot.Value! : null;
            if (o == null)
            {
                if (Paths.TryGetValue(request, out o) || Paths.Count < f._limits.MaxPathsPerWorker)
                {
                    if (o == null) Paths[request] = o = new PathObservation { Service = ep.Service, Method = ep.Method, Path = path };
                    (slot.Owner, slot.Generation, slot.Value) = (this, _generation, o);
                }
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
            if (t.Status is int s) o.CountStatus(s);
            if (schemes.Count > 0) { o.WithCredentials++; o.AddSchemes(schemes); }
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
/// One concrete request (host as sent, method, path) in a thread's table: its endpoint, its digest, and a slot
/// where one analyzer keeps what it holds for the request (the inventory's <see cref="PathObservation"/>), tagged
/// with the analyzer and its generation (it starts a new one at each hand-over), so a second lookup by the same
/// digest is saved.
/// </summary>
public sealed class RequestRef
{
    public required EndpointRef Endpoint;
    public required UInt128 Digest;
    public object? Owner, Value;
    public int Generation;
    /// <summary>The sensitive-data scan found nothing in the path (it depends on the path alone): not read again.</summary>
    public bool PathClean;
}

/// <summary>
/// The endpoint references of requests, worked out once per thread: (Host as sent, method, concrete path)
/// repeat (the same ids are fetched again and again), and the analyzers of a worker run on its thread. Both
/// tables are bounded; past the bound they start over, which only costs the recomputation (a new reference
/// for a triple seen before is merged by value where it matters).
/// </summary>
public static class ShapeKeys
{
    [ThreadStatic] private static Dictionary<UInt128, RequestRef>? t_requests;
    [ThreadStatic] private static Dictionary<(string, string, string), EndpointRef>? t_endpoints;
    [ThreadStatic] private static System.IO.Hashing.XxHash128? t_hash;
    // Seeded per process: nobody can craft two requests whose digests collide.
    private static readonly long Seed = Random.Shared.NextInt64();

    /// <summary>The endpoint of <paramref name="path"/> of <paramref name="t"/>: resolved once per transaction, whichever analyzer asks first.</summary>
    public static EndpointRef Of(HttpTransaction t, string path) => Request(t, path).Endpoint;

    /// <summary>The request's entry in this thread's table (see <see cref="RequestRef"/>).</summary>
    public static RequestRef Request(HttpTransaction t, string path)
    {
        if (t.Shape is { } known && ReferenceEquals(known.Path, path) && known.Request is RequestRef r) return r;
        // One lookup for a request seen before, by a digest of the Host as sent (no lowering), the method and the path:
        // comparing the strings of a hit cost more than the hashing, as the stored ones are cold in memory. Templating
        // a path again costs several times the lookup.
        var host = t.Host;
        var digest = Digest(string.IsNullOrEmpty(host) ? t.Service ??= InventoryAnalyzerFactory.ServiceOf(t) : host, t.Method, path);
        var requests = t_requests ??= [];
        if (!requests.TryGetValue(digest, out r!))
        {
            var service = t.Service ??= InventoryAnalyzerFactory.ServiceOf(t);
            var positions = new List<int>();
            var key = EndpointShape.ShapeKey(path, positions);
            var endpoints = t_endpoints ??= [];
            if (!endpoints.TryGetValue((service, t.Method, key), out var ep))
            {
                if (endpoints.Count >= 65536) endpoints.Clear();
                endpoints[(service, t.Method, key)] = ep = new EndpointRef { Service = service, Method = t.Method, Key = key, Positions = positions.Count == 0 ? [] : positions.ToArray() };
            }
            if (requests.Count >= 65536) requests.Clear();   // bounded: a flood of unique paths only costs the recomputation
            requests[digest] = r = new RequestRef { Endpoint = ep, Digest = digest };
        }
        t.Service ??= r.Endpoint.Service;
        t.Shape = (path, r);
        return r;
    }

    public static UInt128 Digest(string service, string method, string path)
    {
        int total = service.Length + method.Length + path.Length;
        if (total <= 512)
        {
            // One pass over one buffer: the lengths, then the characters.
            Span<char> buf = stackalloc char[6 + total];
            var head = System.Runtime.InteropServices.MemoryMarshal.Cast<char, int>(buf[..6]);   // the lengths, as the streaming form below
            (head[0], head[1], head[2]) = (service.Length, method.Length, path.Length);
            service.CopyTo(buf[6..]);
            method.CopyTo(buf[(6 + service.Length)..]);
            path.CopyTo(buf[(6 + service.Length + method.Length)..]);
            return System.IO.Hashing.XxHash128.HashToUInt128(System.Runtime.InteropServices.MemoryMarshal.AsBytes(buf), Seed);
        }
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
