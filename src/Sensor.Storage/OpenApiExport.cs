using Microsoft.OpenApi;
using Sensor.Analysis.OpenApi;

namespace Sensor.Storage;

/// <summary>Exports the stored inventory as OpenAPI documents, one file per service.</summary>
public static class OpenApiExport
{
    /// <summary>Writes the documents; returns each file written with its operation count.</summary>
    public static List<(string File, int Operations)> Run(string dbPath, string outDir, OpenApiSpecVersion version, OpenApiFormat format, string? service = null)
    {
        // The generator and the writers are cold in a fresh process: a small document goes through them on another
        // core while the database opens and the endpoints load, instead of after.
        var warm = Task.Run(() => WarmUp(version, format));
        using var db = SensorDatabase.Open(dbPath, readOnly: true);
        var endpoints = InventoryStore.LoadEndpoints(db.Connection, service);
        warm.Wait();
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

    private static void WarmUp(OpenApiSpecVersion version, OpenApiFormat format)
    {
        try
        {
            var shape = new Sensor.Analysis.Inventory.EndpointShape { Service = "warm.up", Method = "POST", Key = "/items/{}", SamplePath = "/items/1", Requests = 1, Sampled = 1 };
            shape.Query["q"] = new Sensor.Analysis.Inventory.ParamStats { Present = 1, PresentAccepted = 1 };
            shape.Query["q"].Values.AddText("word");
            var body = new Sensor.Analysis.Inventory.BodyStats { Count = 1, Learned = 1 };
            Sensor.Analysis.Schema.BodyShapes.Add(body.Schema, "application/json", "application/json", """{"id":1,"name":"a","tags":["x"],"at":"2024-01-01T00:00:00Z"}"""u8.ToArray());
            shape.RequestBodies["application/json"] = body;
            shape.Response(200).Count = 1;
            shape.Response(200).Content["application/json"] = body;
            shape.CountScheme("http-bearer", true);
            var observed = new Sensor.Analysis.Inventory.PathObservation { Service = "warm.up", Method = "POST", Path = "/items/{itemId}", Count = 1 };
            observed.AddStatus(200, 1);
            var e = new Sensor.Analysis.Inventory.Endpoint
            {
                Service = "warm.up", Method = "POST", Template = "/items/{itemId}", Observed = observed, Shape = shape, DistinctPaths = 1,
                PathParams = [new Sensor.Analysis.Inventory.PathParam("itemId", 1, Sensor.Analysis.Inventory.SegmentKind.Numeric)],
            };
            OpenApiFiles.Serialize(OpenApiGenerator.Generate("warm.up", [e]), version, format);
        }
        catch (Exception)
        {
            // Only a warm-up: whatever it hit, the export proper meets (and reports) on real data.
        }
    }
}
