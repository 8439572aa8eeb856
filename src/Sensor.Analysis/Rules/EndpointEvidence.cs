namespace Sensor.Analysis.Rules;

/// <summary>
/// What the security rules saw on one endpoint shape (service + method + path with ids folded), merged
/// across workers and then into endpoints. Counters only, plus small bounded samples: never raw values.
/// </summary>
public sealed class EndpointEvidence
{
    public string Service = "", Method = "", Key = "", SamplePath = "";
    public long Requests, FirstSeen = long.MaxValue, LastSeen = long.MinValue;
    /// <summary>Per rule id + location: occurrences, with first/last packet time and a redacted example.</summary>
    public readonly Dictionary<(string Rule, string Location), Hit> Hits = new(RuleLocation.Comparer);

    /// <summary>
    /// Rule ids are literals and locations are made once per name, so keys mostly arrive as the same strings:
    /// compared by reference first, and hashed on their lengths and a few characters rather than in full
    /// (this runs several times per request). The table is bounded (256), so colliding keys cost little.
    /// </summary>
    private sealed class RuleLocation : IEqualityComparer<(string Rule, string Location)>
    {
        public static readonly RuleLocation Comparer = new();
        public bool Equals((string Rule, string Location) a, (string Rule, string Location) b) =>
            (ReferenceEquals(a.Rule, b.Rule) || string.Equals(a.Rule, b.Rule, StringComparison.Ordinal))
            && (ReferenceEquals(a.Location, b.Location) || string.Equals(a.Location, b.Location, StringComparison.Ordinal));
        public int GetHashCode((string Rule, string Location) k) => HashCode.Combine(k.Rule.Length, k.Rule.Length > 0 ? k.Rule[^1] : '\0',
            k.Location.Length, k.Location.Length > 0 ? k.Location[^1] : '\0', k.Location.Length > 12 ? k.Location[12] : '\0');
    }

    public sealed class Hit
    {
        public long Count, FirstSeen = long.MaxValue, LastSeen = long.MinValue;
        public string? Evidence;
        /// <summary>Of the requests behind this hit, how many were answered 2xx (attack payloads, expired tokens).</summary>
        public long Answered2xx;
        public void Merge(Hit o)
        {
            Count += o.Count; Answered2xx += o.Answered2xx;
            FirstSeen = Math.Min(FirstSeen, o.FirstSeen); LastSeen = Math.Max(LastSeen, o.LastSeen);
            Evidence ??= o.Evidence;
        }
    }

    // Rate limiting: requests per client per minute of packet time, and whether the server ever pushed back
    // (429, RateLimit-* / Retry-After headers). Enumeration: distinct numeric ids per client at the first id
    // position. Both are bounded and merged across workers (one client's connections may sit on several).
    public const int MaxClientMinutes = 4096, MaxClients = 512, MaxIdsPerClient = 512;
    private readonly Dictionary<(string Client, long Minute), long> _clientMinutes = [];
    public IReadOnlyDictionary<(string Client, long Minute), long> ClientMinutes { get { FlushRun(); return _clientMinutes; } }
    // The current run of requests from one client within one minute, counted here and added to the table when the
    // client or the minute changes (a busy client's requests come one after another: one table update per run).
    private string? _runClient;
    private long _runMinute, _runCount;
    public bool RateLimitSignals;
    public readonly Dictionary<string, HashSet<long>> IdsByClient = [];
    public long IdRequests, IdRequests2xx;
    /// <summary>Successful responses with a body seen by this worker (the stack-trace search samples by it; not merged).</summary>
    public long SuccessBodies;

    /// <summary>Highest per-client minute already folded away to keep the table bounded.</summary>
    public long PeakFolded;
    private long _prunedAt = long.MinValue;
    public long MaxPerClientMinute => Math.Max(PeakFolded, ClientMinutes.Count == 0 ? 0 : ClientMinutes.Values.Max());

    public void CountClientMinute(string client, long minute)
    {
        if (ReferenceEquals(client, _runClient) && minute == _runMinute) { _runCount++; return; }
        FlushRun();
        (_runClient, _runMinute, _runCount) = (client, minute, 1);
    }

    private void FlushRun()
    {
        if (_runCount == 0) return;
        (string Client, long Minute) k = (_runClient!, _runMinute);
        long n = _runCount;
        _runCount = 0;
        _runClient = null;
        if (_clientMinutes.Count >= MaxClientMinutes && !_clientMinutes.ContainsKey(k))
        {
            // Full: remember the peak so far and forget minutes before the previous one, once per minute (with more
            // clients than fit in two minutes, pruning on every new client would scan the whole table each time).
            if (_prunedAt != k.Minute)
            {
                _prunedAt = k.Minute;
                PeakFolded = Math.Max(PeakFolded, _clientMinutes.Values.Max());
                foreach (var old in _clientMinutes.Keys.Where(x => x.Minute < k.Minute - 1).ToList()) _clientMinutes.Remove(old);
            }
            if (_clientMinutes.Count >= MaxClientMinutes) return;
        }
        System.Runtime.InteropServices.CollectionsMarshal.GetValueRefOrAddDefault(_clientMinutes, k, out _) += n;
    }

    /// <summary>An object id one client asked for (bounded per client and in clients).</summary>
    public void AddId(string client, long id)
    {
        // The same client again (its requests come one after another): no table lookup.
        if (!ReferenceEquals(client, _idsClient))
        {
            if (!IdsByClient.TryGetValue(client, out _ids) && IdsByClient.Count < MaxClients) IdsByClient[client] = _ids = [];
            _idsClient = client;
            _idsFull = _ids == null || _ids.Count >= MaxIdsPerClient;
        }
        if (_idsFull) return;
        _ids!.Add(id);
        _idsFull = _ids.Count >= MaxIdsPerClient;
    }

    private string? _idsClient;
    private HashSet<long>? _ids;
    private bool _idsFull;

    /// <summary>The client that fetched the most distinct ids: how many, and the longest run of consecutive ones.</summary>
    public (long Distinct, long LongestRun) Enumeration()
    {
        long best = 0, run = 0;
        foreach (var ids in IdsByClient.Values)
        {
            if (ids.Count < best) continue;
            var sorted = ids.Order().ToArray();
            long longest = 1, cur = 1;
            for (int i = 1; i < sorted.Length; i++)
            {
                cur = sorted[i] == sorted[i - 1] + 1 ? cur + 1 : 1;
                longest = Math.Max(longest, cur);
            }
            if (ids.Count > best || longest > run) { best = Math.Max(best, ids.Count); run = Math.Max(run, longest); }
        }
        return (best, run);
    }

    // In front of the table, one slot per identity bucket: the same few rules fire on every request of an
    // endpoint with the same (literal, once-made) strings, so most calls end on two reference compares.
    private readonly (string? Rule, string? Location, Hit? Hit)[] _recent = new (string?, string?, Hit?)[16];

    public void Add(string rule, string location, long ts, string? evidence, bool answered2xx)
    {
        ref var r = ref _recent[(System.Runtime.CompilerServices.RuntimeHelpers.GetHashCode(rule) ^ System.Runtime.CompilerServices.RuntimeHelpers.GetHashCode(location)) & 15];
        Hit? h;
        if (ReferenceEquals(r.Rule, rule) && ReferenceEquals(r.Location, location)) h = r.Hit!;
        else
        {
            if (!Hits.TryGetValue((rule, location), out h))
            {
                if (Hits.Count >= 256) return;   // bounded: a pathological endpoint cannot grow this without end
                Hits[(rule, location)] = h = new Hit();
            }
            r = (rule, location, h);
        }
        h.Count++;
        if (answered2xx) h.Answered2xx++;
        h.FirstSeen = Math.Min(h.FirstSeen, ts);
        h.LastSeen = Math.Max(h.LastSeen, ts);
        h.Evidence ??= evidence;
    }

    public void Merge(EndpointEvidence o)
    {
        Requests += o.Requests;
        FirstSeen = Math.Min(FirstSeen, o.FirstSeen); LastSeen = Math.Max(LastSeen, o.LastSeen);
        foreach (var (k, h) in o.Hits)
        {
            if (Hits.TryGetValue(k, out var mine)) mine.Merge(h);
            else Hits[k] = h;
        }
        FlushRun();
        foreach (var (k, n) in o.ClientMinutes)
            if (_clientMinutes.ContainsKey(k) || _clientMinutes.Count < MaxClientMinutes) _clientMinutes[k] = _clientMinutes.GetValueOrDefault(k) + n;
        PeakFolded = Math.Max(PeakFolded, o.PeakFolded);
        RateLimitSignals |= o.RateLimitSignals;
        foreach (var (c, ids) in o.IdsByClient)
        {
            if (!IdsByClient.TryGetValue(c, out var mine))
            {
                if (IdsByClient.Count >= MaxClients) continue;
                IdsByClient[c] = mine = [];
            }
            foreach (var id in ids) { if (mine.Count >= MaxIdsPerClient) break; mine.Add(id); }
        }
        IdRequests += o.IdRequests; IdRequests2xx += o.IdRequests2xx;
    }
}
