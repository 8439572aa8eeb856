using Microsoft.OpenApi;
using Sensor.Analysis.OpenApi;

namespace Sensor.Storage;

/// <summary>Exports the stored inventory as OpenAPI documents, one file per service.</summary>
public static class OpenApiExport
{
    /// <summary>Writes the documents; returns each file written with its operation count.</summary>
    public static List<(string File, int Operations)> Run(string dbPath, string outDir, OpenApiSpecVersion version, OpenApiFormat format, string? service = null)
    {
        using var db = SensorDatabase.Open(dbPath, readOnly: true);
        var endpoints = InventoryStore.LoadEndpoints(db.Connection, service);
        Directory.CreateDirectory(outDir);
        var written = new List<(string, int)>();
        foreach (var group in endpoints.GroupBy(e => e.Service).OrderBy(g => g.Key, StringComparer.Ordinal))
        {
            var doc = OpenApiGenerator.Generate(group.Key, group.ToList());
            var file = Path.Combine(outDir, OpenApiFiles.FileName(group.Key, format));
            File.WriteAllText(file, OpenApiFiles.Serialize(doc, version, format));
            written.Add((file, doc.Paths.Values.Sum(p => p.Operations?.Count ?? 0)));
        }
        return written;
    }
}
