using System.Text.Json;
using System.Text.Json.Serialization;

namespace Sensor.Analysis.Inventory;

/// <summary>How endpoint shapes are kept in the database between runs. Every member is written: several
/// have non-default initial values (an empty enum map differs from none), so leaving defaults out would change them.
/// Source-generated: the reflection-based serializer spent a few hundred milliseconds per replay building its metadata.</summary>
public static class ShapeJson
{
    public static string Serialize(EndpointShape s) => JsonSerializer.Serialize(s, ShapeJsonContext.Default.EndpointShape);

    public static EndpointShape Deserialize(string json) =>
        JsonSerializer.Deserialize(json, ShapeJsonContext.Default.EndpointShape) ?? throw new JsonException("empty endpoint shape");
}

[JsonSourceGenerationOptions(NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals)]
[JsonSerializable(typeof(EndpointShape))]
internal partial class ShapeJsonContext : JsonSerializerContext;
