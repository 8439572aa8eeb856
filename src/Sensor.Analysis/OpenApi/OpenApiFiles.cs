using Microsoft.OpenApi;

namespace Sensor.Analysis.OpenApi;

public enum OpenApiFormat { Yaml, Json }

/// <summary>Writes generated documents with the Microsoft.OpenApi writers, one file per service.</summary>
public static class OpenApiFiles
{
    public static string Serialize(OpenApiDocument doc, OpenApiSpecVersion version, OpenApiFormat format)
    {
        using var sw = new StringWriter();
        IOpenApiWriter w = format == OpenApiFormat.Yaml ? new OpenApiYamlWriter(sw) : new OpenApiJsonWriter(sw);
        doc.SerializeAs(version, w);
        sw.Flush();
        return sw.ToString();
    }

    /// <summary>"api.example.com" → api.example.com.yaml, "10.0.0.5:8080" → 10.0.0.5_8080.yaml.</summary>
    public static string FileName(string service, OpenApiFormat format)
    {
        var safe = new string(service.Select(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '-' or '_' ? c : '_').ToArray()).Trim('.');
        if (safe.Length == 0) safe = "service";
        return safe + (format == OpenApiFormat.Yaml ? ".yaml" : ".json");
    }

    public static OpenApiSpecVersion ParseVersion(string v) => v switch
    {
        "3.1" or "3.1.0" or "3.1.1" => OpenApiSpecVersion.OpenApi3_1,
        "3.0" or "3.0.0" or "3.0.3" or "3.0.4" => OpenApiSpecVersion.OpenApi3_0,
        _ => throw new ArgumentException($"unsupported OpenAPI version '{v}' (use 3.1 or 3.0)"),
    };
}
