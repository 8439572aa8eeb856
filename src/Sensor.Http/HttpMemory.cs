using Sensor.Core;

namespace Sensor.Http;

/// <summary>
/// The bytes HTTP parsing holds for all connections of one flow worker (unparsed heads, captured bodies),
/// under one cap, Suricata-memcap style: what does not fit is refused and counted, and the caller degrades
/// (resynchronises, or stops capturing a body) instead of growing. Used by one worker thread only.
/// </summary>
public sealed class HttpMemory
{
    private readonly long _limit;
    private readonly Counter _held, _refused;
    public long Held { get; private set; }

    public HttpMemory(long limit, CounterRegistry counters)
    {
        _limit = limit;
        _held = counters.Create("http", "buffered_bytes", "bytes held for unparsed heads and captured bodies (gauge)");
        _refused = counters.Create("http", "memcap_refusals", "buffer growths refused at the per-worker HTTP memory cap (head lost or body capture cut)");
    }

    public bool TryReserve(long bytes)
    {
        if (bytes <= 0) return true;
        if (Held + bytes > _limit) { _refused.Inc(); return false; }
        Held += bytes;
        _held.Set(Held);
        return true;
    }

    public void Release(long bytes)
    {
        if (bytes <= 0) return;
        Held -= bytes;
        _held.Set(Held);
    }
}
