using System.Collections.Concurrent;

namespace Sensor.Core;

/// <summary>A named event count. Owned by one stage instance; read by anyone (64-bit reads are atomic).</summary>
public sealed class Counter(string stage, string name, string description)
{
    private long _value;
    public string Stage { get; } = stage;
    public string Name { get; } = name;
    public string Description { get; } = description;
    public long Value => Volatile.Read(ref _value);
    public void Inc() => Interlocked.Increment(ref _value);
    public void Add(long n) { if (n != 0) Interlocked.Add(ref _value, n); }
    /// <summary>For gauges (e.g. active flows): the owner sets the current level.</summary>
    public void Set(long n) => Volatile.Write(ref _value, n);
}

/// <summary>
/// Every counter of a pipeline, so drops and anomalies are never silent: stages register their counters
/// once at construction (no lookups on the packet path) and the registry sums same-named counters
/// of parallel instances (e.g. one per flow worker) for reports and the capture_stats table.
/// </summary>
public sealed class CounterRegistry
{
    private readonly ConcurrentQueue<Counter> _all = new();
    private readonly ConcurrentDictionary<(string, string), string> _descriptions = new();

    public Counter Create(string stage, string name, string description)
    {
        var c = new Counter(stage, name, description);
        _all.Enqueue(c);
        _descriptions.TryAdd((stage, name), description);
        return c;
    }

    /// <summary>Summed values by (stage, name), in registration order.</summary>
    public IReadOnlyList<CounterValue> Snapshot()
    {
        var order = new List<(string, string)>();
        var sums = new Dictionary<(string, string), long>();
        foreach (var c in _all)
        {
            var k = (c.Stage, c.Name);
            if (!sums.ContainsKey(k)) { order.Add(k); sums[k] = 0; }
            sums[k] += c.Value;
        }
        return order.Select(k => new CounterValue(k.Item1, k.Item2, sums[k], _descriptions[k])).ToList();
    }

    public long Get(string stage, string name) =>
        _all.Where(c => c.Stage == stage && c.Name == name).Sum(c => c.Value);
}

public readonly record struct CounterValue(string Stage, string Name, long Value, string Description);
