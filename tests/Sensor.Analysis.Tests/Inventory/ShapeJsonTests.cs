using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using Sensor.Analysis.Inventory;
using Sensor.Analysis.Schema;

namespace Sensor.Analysis.Tests.Inventory;

/// <summary>
/// The stored form of endpoint shapes is written and read by hand; the serializer, which stored them before,
/// is the reference: the same text both ways, so shapes stored by either read back in the other.
/// </summary>
public class ShapeJsonTests
{
    private static EndpointShape Rich()
    {
        var s = new EndpointShape
        {
            Service = "api.example.test", Method = "POST", Key = "/users/{}/orders", SamplePath = "/users/42/orders?x=1",
            Requests = 1234, Accepted = 1200, Sampled = 300, SampledAccepted = 290, Boost = 3, FirstSeen = 638_000_000_000_000_000, LastSeen = 638_000_000_100_000_000,
            JwtBearer = 17, WithoutCredentials = 4, Unauthenticated2xx = 2,
        };
        var q = s.Query["status"] = new ParamStats { Present = 10, PresentAccepted = 9 };
        q.Values.AddText("open");
        q.Values.AddText("closed");
        var limit = s.Query["limit"] = new ParamStats { Present = 5, PresentAccepted = 5 };
        limit.Values.AddText("10");
        limit.Values.AddText("2.5");
        limit.Values.Values = null;   // "too many values" (null) differs from "none yet" (empty)
        s.Header["x-trace-\u00e9t\u00e9"] = new ParamStats { Present = 1 };      // escaped on the way out
        s.Header["x-trace-\u00e9t\u00e9"].Values.AddText("<a&b>+'\"\\");
        s.Cookie["sid"] = new ParamStats { Present = 3, Values = new ValueStats { Values = null, Sensitive = true } };
        s.PathValues[1] = new ValueStats { Values = null, Sensitive = true };
        s.PathValues[1].AddText("42");
        s.PathValues[1].AddText("-17");

        var body = new BodyStats { Count = 40, Unparsed = 2, Learned = 30, Boost = 1 };
        Assert.True(BodyShapes.Add(body.Schema, "application/json", "application/json",
            Encoding.UTF8.GetBytes("""{"id":7,"price":-3.5e-7,"big":1e300,"name":"a","tags":["x","y"],"items":[{"sku":"q","n":1},{"sku":"r","ok":true,"z":null}],"byId":{"550e8400-e29b-41d4-a716-446655440000":{"v":1}},"nested":{"a":{"b":{"c":1}}}}""")));
        s.RequestBodies["application/json"] = body;
        var bad = new BodyStats { Count = 1 };
        Assert.True(BodyShapes.Add(bad.Schema, "application/x-www-form-urlencoded", "application/x-www-form-urlencoded", "a=1&b=two"u8.ToArray()));
        s.RejectedBodies["application/x-www-form-urlencoded"] = bad;

        var ok = s.Responses[200] = new ResponseStats { Count = 1100, HeaderSamples = 90 };
        ok.Headers["content-type"] = 90;
        ok.Content["application/json"] = new BodyStats { Count = 1100, Learned = 60 };
        Assert.True(BodyShapes.Add(ok.Content["application/json"].Schema, "application/json", "application/json", """[{"id":1,"when":"2024-02-29T10:00:00Z"}]"""u8.ToArray()));
        s.Responses[404] = new ResponseStats { Count = 3 };
        s.Schemes["http-bearer"] = 1000;
        s.SchemesAccepted["http-bearer"] = 990;

        // Nesting beyond the schema's depth limit marks the node truncated.
        var deep = new StringBuilder();
        for (int i = 0; i < SchemaNode.MaxDepth + 4; i++) deep.Append("{\"d\":");
        deep.Append('1').Append('}', SchemaNode.MaxDepth + 4);
        var deepBody = new BodyStats { Count = 1 };
        Assert.True(BodyShapes.Add(deepBody.Schema, "application/json", "application/json", Encoding.UTF8.GetBytes(deep.ToString())));
        ok.Content["application/vnd.deep+json"] = deepBody;
        return s;
    }

    [Fact]
    public void Shapes_are_written_as_the_serializer_wrote_them()
    {
        var s = Rich();
        Assert.Equal(JsonSerializer.Serialize(s, ReferenceShapeJson.Default.EndpointShape), ShapeJson.Serialize(s));
        Assert.Contains("\"Truncated\":true", ShapeJson.Serialize(s));   // the sample reaches every kind of member
        Assert.Equal(JsonSerializer.Serialize(new EndpointShape(), ReferenceShapeJson.Default.EndpointShape), ShapeJson.Serialize(new EndpointShape()));
    }

    [Fact]
    public void Shapes_read_back_whole_from_either_writer()
    {
        var text = JsonSerializer.Serialize(Rich(), ReferenceShapeJson.Default.EndpointShape);
        var mine = ShapeJson.Deserialize(text);
        Assert.Equal(text, JsonSerializer.Serialize(mine, ReferenceShapeJson.Default.EndpointShape));
        Assert.Equal(text, ShapeJson.Serialize(JsonSerializer.Deserialize(ShapeJson.Serialize(mine), ReferenceShapeJson.Default.EndpointShape)!));
        Assert.Null(mine.Query["limit"].Values.Values);
        Assert.NotNull(mine.Query["status"].Values.Values);
        Assert.Equal(-3.5e-7, mine.RequestBodies["application/json"].Schema.Properties!["price"].Scalar!.Minimum);
        Assert.NotNull(mine.RequestBodies["application/json"].Schema.AdditionalProperties ?? mine.RequestBodies["application/json"].Schema.Properties!["byId"].AdditionalProperties);
    }

    [Fact]
    public void Members_it_does_not_know_are_skipped_and_missing_ones_keep_their_start_values()
    {
        var s = ShapeJson.Deserialize("""{"Service":"s","Later":{"a":[1,{"b":2}]},"Query":{"q":{"Present":2,"Values":{"Count":2,"FormatCounts":[2]}}}}""");
        Assert.Equal("s", s.Service);
        Assert.Equal(long.MaxValue, s.FirstSeen);
        Assert.Equal(2, s.Query["q"].Present);
        // A shape stored before a format was added reads with that format at 0.
        Assert.Equal(ValueStats.FormatNames.Length, s.Query["q"].Values.FormatCounts.Length);
        Assert.NotNull(s.Query["q"].Values.Values);
    }

    [Theory]
    [InlineData("")]
    [InlineData("null")]
    [InlineData("[]")]
    [InlineData("""{"Service":"s","Query":{"q":""")]
    [InlineData("""{"Service":3}""")]
    [InlineData("""{"Responses":{"ok":{}}}""")]
    [InlineData("""{"Service":"s"} {}""")]
    public void Broken_text_is_a_clear_error(string text)
    {
        var e = Assert.ThrowsAny<JsonException>(() => ShapeJson.Deserialize(text));
        Assert.False(string.IsNullOrEmpty(e.Message));
    }
}

[JsonSourceGenerationOptions(NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals)]
[JsonSerializable(typeof(EndpointShape))]
internal partial class ReferenceShapeJson : JsonSerializerContext;
