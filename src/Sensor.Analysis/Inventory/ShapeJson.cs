using System.Text.Json;
using System.Text.Json.Serialization;

namespace Sensor.Analysis.Inventory;

/// <summary>How endpoint shapes are kept in the database between runs. Every member is written: several
/// have non-default initial values (an empty enum map differs from none), so leaving defaults out would change them.</summary>
public static class ShapeJson
{
    private static readonly JsonSerializerOptions Options = new()
    {
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    public static string Serialize(EndpointShape s) => JsonSerializer.Serialize(s, Options);

    public static EndpointShape Deserialize(string json) =>
        JsonSerializer.Deserialize<EndpointShape>(json, Options) ?? throw new JsonException("empty endpoint shape");
}
