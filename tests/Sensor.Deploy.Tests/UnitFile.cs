namespace Sensor.Deploy.Tests;

/// <summary>
/// A systemd unit file as systemd reads it: sections of settings, a repeated setting accumulates and
/// an empty assignment resets it; comments and backslash continuations are handled.
/// </summary>
public sealed class UnitFile
{
    private readonly Dictionary<string, Dictionary<string, List<string>>> sections = new(StringComparer.Ordinal);

    public static UnitFile Load(string path) => Parse(File.ReadAllText(path));

    public static UnitFile Parse(string text)
    {
        var unit = new UnitFile();
        Dictionary<string, List<string>>? section = null;
        string? pending = null;
        foreach (var raw in text.Split('\n'))
        {
            var line = raw.TrimEnd('\r');
            if (pending == null && (line.TrimStart().StartsWith('#') || line.TrimStart().StartsWith(';'))) continue;
            if (line.EndsWith('\\')) { pending = (pending == null ? "" : pending + " ") + line[..^1]; continue; }
            if (pending != null) { line = pending + " " + line; pending = null; }
            line = line.Trim();
            if (line.Length == 0) continue;
            if (line.StartsWith('[') && line.EndsWith(']'))
            {
                var name = line[1..^1];
                if (!unit.sections.TryGetValue(name, out section)) unit.sections[name] = section = new(StringComparer.Ordinal);
                continue;
            }
            var eq = line.IndexOf('=');
            if (section == null || eq <= 0) throw new FormatException("not a setting inside a section: " + line);
            var key = line[..eq].Trim();
            var value = line[(eq + 1)..].Trim();
            if (!section.TryGetValue(key, out var values)) section[key] = values = [];
            if (value.Length == 0) values.Clear(); else values.Add(value);
        }
        return unit;
    }

    /// <summary>Every assignment of a setting, in order (after resets).</summary>
    public IReadOnlyList<string> All(string section, string key) =>
        sections.TryGetValue(section, out var s) && s.TryGetValue(key, out var v) ? v : [];

    /// <summary>The effective value of a single-valued setting: the last assignment.</summary>
    public string? Get(string section, string key) => All(section, key) is { Count: > 0 } v ? v[^1] : null;

    /// <summary>The words of a list setting across all its assignments.</summary>
    public IReadOnlyList<string> Words(string section, string key) =>
        All(section, key).SelectMany(v => v.Split(' ', StringSplitOptions.RemoveEmptyEntries)).ToList();
}
