namespace Sensor.Http;

/// <summary>Lower-case header names, worked out once per thread: the same few names come on every message.</summary>
public static class HeaderNames
{
    [ThreadStatic] private static Dictionary<string, string>? t_lower;

    public static string Lower(string name)
    {
        var d = t_lower ??= new(StringComparer.Ordinal);
        if (d.TryGetValue(name, out var l)) return l;
        l = name.ToLowerInvariant();
        if (d.Count < 4096) d[name] = l;   // bounded: arbitrary names from hostile traffic are lowered, not kept
        return l;
    }
}
