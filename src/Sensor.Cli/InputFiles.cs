namespace Sensor.Cli;

/// <summary>Expands the replay arguments: files, directories (capture and HAR files inside, sorted) and globs.</summary>
internal static class InputFiles
{
    // In a directory the extension picks the files; the replay then tells HAR from pcap by content.
    private static readonly string[] InputExtensions = [".pcap", ".pcapng", ".cap", ".dmp", ".pcap.gz", ".pcapng.gz", ".cap.gz", ".har"];

    public static (List<string> Files, List<string> Missing) Expand(IEnumerable<string> args)
    {
        var files = new List<string>();
        var missing = new List<string>();
        foreach (var a in args)
        {
            if (Directory.Exists(a))
            {
                files.AddRange(Directory.EnumerateFiles(a, "*", SearchOption.AllDirectories)
                    .Where(f => InputExtensions.Any(e => f.EndsWith(e, StringComparison.OrdinalIgnoreCase)))
                    .Order(StringComparer.Ordinal));
            }
            else if (File.Exists(a)) files.Add(a);
            else if (a.IndexOfAny(['*', '?']) >= 0)
            {
                var dir = Path.GetDirectoryName(a);
                if (string.IsNullOrEmpty(dir)) dir = ".";
                var pattern = Path.GetFileName(a);
                var hits = Directory.Exists(dir) ? Directory.GetFiles(dir, pattern).Order(StringComparer.Ordinal).ToList() : [];
                if (hits.Count == 0) missing.Add(a); else files.AddRange(hits);
            }
            else missing.Add(a);
        }
        return (files, missing);
    }
}
