using System.Diagnostics;
using System.Text;
using Microsoft.OpenApi;
using Sensor.Analysis.OpenApi;
using Sensor.Analysis.Schema;

namespace Sensor.Analysis.Tests;

/// <summary>Value typing, schema learning and merging, and the OpenAPI schemas written from them.</summary>
public class SchemaInferenceTests
{
    private static ValueStats Text(params string[] values)
    {
        var v = new ValueStats();
        foreach (var s in values) v.AddText(s);
        return v;
    }

    [Theory]
    [InlineData("integer", null, "1", "25", "-3")]
    [InlineData("number", null, "1.5", "2", "3e4")]
    [InlineData("boolean", null, "true", "false", "TRUE")]
    [InlineData("string", "uuid", "3fa85f64-5717-4562-b3fc-2c963f66afa6", "00000000-0000-0000-0000-000000000000")]
    [InlineData("string", "date", "2024-02-29", "1999-12-31")]
    [InlineData("string", "date-time", "2024-02-29T10:00:00Z", "2024-02-29T10:00:00.123+02:00")]
    [InlineData("string", "email", "a@example.com", "first.last@sub.example.org")]
    [InlineData("string", "uri", "https://example.com/x?y=1", "http://localhost:8080/")]
    [InlineData("string", "ipv4", "10.0.0.1", "192.168.1.254")]
    [InlineData("string", "ipv6", "2001:db8::1", "::1")]
    [InlineData("string", null, "007", "123")]          // a leading zero is text (zip codes, phone numbers)
    [InlineData("string", null, "12", "abc")]           // mixed kinds are strings
    [InlineData("string", null, "2024-13-45")]          // not a real date
    public void Text_values_are_typed_by_what_they_all_share(string type, string? format, params string[] values)
    {
        var (t, f) = Text(values).Infer();
        Assert.Equal(type, t);
        Assert.Equal(format, f);
    }

    [Fact]
    public void Empty_values_do_not_decide_the_type()
    {
        Assert.Equal(("integer", (string?)null), Text("", "5", "").Infer());
    }

    [Fact]
    public void Enum_candidates_are_short_words_only_and_vanish_when_too_many()
    {
        var v = Text("available", "pending", "sold", "available");
        Assert.Equal(3, v.Values!.Count);
        Assert.Null(Text("available", "tok_8f3Kx92LmQ").Values);       // an id-like value: never kept
        Assert.Null(Text(Enumerable.Range(0, 20).Select(i => "w" + (char)('a' + i)).ToArray()).Values);
        Assert.False(ValueStats.IsEnumLike("12345"));
        Assert.False(ValueStats.IsEnumLike("a@b.co"));
        Assert.True(ValueStats.IsEnumLike("desc"));
    }

    [Fact]
    public void Json_objects_merge_with_presence_counts_for_required()
    {
        var n = new SchemaNode();
        Assert.True(n.AddJson("""{"id":1,"name":"a","tags":[{"id":1,"name":"x"},{"id":2}]}"""u8));
        Assert.True(n.AddJson("""{"id":2,"name":null,"extra":true,"tags":[]}"""u8));
        Assert.Equal(2, n.ObjectCount);
        Assert.Equal(2, n.Properties!["id"].Count);
        Assert.Equal(1, n.Properties["extra"].Count);
        var tags = n.Properties["tags"].Items!;
        Assert.Equal(2, tags.ObjectCount);
        Assert.Equal(1, tags.Properties!["name"].Count);
        Assert.Equal(["extra", "id", "name", "tags", "tags.id", "tags.name"], n.PropertyPaths().Order());

        var schema = (OpenApiSchema)OpenApiGenerator.NodeSchema(n, 0);
        Assert.Equal(JsonSchemaType.Object, schema.Type);
        Assert.Equal(["id", "name", "tags"], schema.Required!.Order());
        var name = (OpenApiSchema)schema.Properties!["name"];
        Assert.Equal(JsonSchemaType.String | JsonSchemaType.Null, name.Type);     // nullable
        var items = (OpenApiSchema)((OpenApiSchema)schema.Properties["tags"]).Items!;
        Assert.Equal(["id"], items.Required!);
    }

    [Fact]
    public void Conflicting_types_become_oneOf()
    {
        var n = new SchemaNode();
        n.AddJson("""{"v":1}"""u8);
        n.AddJson("""{"v":"one"}"""u8);
        n.AddJson("""{"v":[1]}"""u8);
        var v = (OpenApiSchema)((OpenApiSchema)OpenApiGenerator.NodeSchema(n, 0)).Properties!["v"];
        Assert.Equal(3, v.OneOf!.Count);
        Assert.Contains(v.OneOf, s => s.Type == JsonSchemaType.Integer);
        Assert.Contains(v.OneOf, s => s.Type == JsonSchemaType.String);
        Assert.Contains(v.OneOf, s => s.Type == JsonSchemaType.Array);
    }

    [Fact]
    public void Integers_and_numbers_merge_to_number()
    {
        var n = new SchemaNode();
        n.AddJson("""{"w":1}"""u8);
        n.AddJson("""{"w":1.5}"""u8);
        Assert.Equal(JsonSchemaType.Number, ((OpenApiSchema)((OpenApiSchema)OpenApiGenerator.NodeSchema(n, 0)).Properties!["w"]).Type);
    }

    [Fact]
    public void Maps_keyed_by_id_fold_into_additionalProperties()
    {
        var n = new SchemaNode();
        n.AddJson("""{"123":{"qty":1},"456":{"qty":2},"3fa85f64-5717-4562-b3fc-2c963f66afa6":{"qty":3}}"""u8);
        Assert.True(n.Properties is null or { Count: 0 });
        Assert.Equal(3, n.AdditionalProperties!.ObjectCount);
        var s = (OpenApiSchema)OpenApiGenerator.NodeSchema(n, 0);
        Assert.NotNull(s.AdditionalProperties);
    }

    [Fact]
    public void Sensitive_fields_keep_no_values()
    {
        var n = new SchemaNode();
        for (int i = 0; i < 10; i++) n.AddJson("""{"password":"hunter2","status":"ok","role":"admin"}"""u8);
        Assert.Null(n.Properties!["password"].Scalar!.Values);
        Assert.True(n.Properties["password"].Scalar!.Sensitive);
        Assert.NotNull(n.Properties["status"].Scalar!.Values);
        var yaml = OpenApiFiles.Serialize(new OpenApiDocument { Info = new OpenApiInfo { Title = "t", Version = "1" }, Paths = [],
            Components = new OpenApiComponents { Schemas = new Dictionary<string, IOpenApiSchema> { ["x"] = OpenApiGenerator.NodeSchema(n, 0) } } },
            OpenApiSpecVersion.OpenApi3_1, OpenApiFormat.Yaml);
        Assert.DoesNotContain("hunter2", yaml);
        Assert.Contains("ok", yaml);
    }

    [Fact]
    public void Invalid_json_is_refused()
    {
        Assert.False(new SchemaNode().AddJson("{\"a\":"u8));
        Assert.False(new SchemaNode().AddJson("not json"u8));
        Assert.False(new SchemaNode().AddJson(""u8));
    }

    [Fact]
    public void Hostile_bodies_are_bounded_in_time_and_size()
    {
        // 10 MB of digits, 100k-deep nesting, 100k distinct keys, a 5 MB string: each learned quickly with a bounded schema.
        var digits = Encoding.ASCII.GetBytes(new string('7', 10_000_000));
        var deep = Encoding.ASCII.GetBytes(new string('[', 100_000) + new string(']', 100_000));
        var keys = Encoding.ASCII.GetBytes("{" + string.Join(",", Enumerable.Range(0, 100_000).Select(i => $"\"k{i}x\":{i}")) + "}");
        var longString = Encoding.ASCII.GetBytes("{\"s\":\"" + new string('a', 5_000_000) + "\"}");
        var sw = Stopwatch.StartNew();
        foreach (var body in new[] { digits, deep, keys, longString })
        {
            var n = new SchemaNode();
            n.AddJson(body);   // may refuse (the digits overflow no reader limit but the deep one exceeds JSON depth): never throws
            Assert.True((n.Properties?.Count ?? 0) <= SchemaNode.MaxProperties);
            Assert.True(Depth(n) <= SchemaNode.MaxDepth + 1);
        }
        // Behaviour, not speed: the bound is generous; it fails only if learning went quadratic.
        Assert.True(sw.Elapsed < TimeSpan.FromSeconds(20), $"took {sw.Elapsed}");
    }

    private static int Depth(SchemaNode n) =>
        1 + Math.Max(n.Items == null ? 0 : Depth(n.Items), n.Properties == null || n.Properties.Count == 0 ? 0 : n.Properties.Values.Max(Depth));

    [Fact]
    public void Form_and_multipart_bodies_become_fields()
    {
        var n = new SchemaNode();
        Assert.True(BodyShapes.Add(n, "application/x-www-form-urlencoded", null, "username=jo&remember=true&age=7&note=a+b%21"u8));
        Assert.Equal(["age", "note", "remember", "username"], n.Properties!.Keys.Order());
        Assert.Equal(("integer", (string?)null), n.Properties["age"].Scalar!.Infer());
        Assert.Equal(("boolean", (string?)null), n.Properties["remember"].Scalar!.Infer());

        var m = new SchemaNode();
        var body = "--XyZ\r\nContent-Disposition: form-data; name=\"title\"\r\n\r\nhello\r\n--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.png\"\r\nContent-Type: image/png\r\n\r\n\u0089PNG\r\n--XyZ--\r\n";
        Assert.True(BodyShapes.Add(m, "multipart/form-data", "multipart/form-data; boundary=XyZ", Encoding.Latin1.GetBytes(body)));
        Assert.Equal(["file", "title"], m.Properties!.Keys.Order());
        Assert.Equal("binary", m.Properties["file"].Scalar!.SingleFormat());
    }

    [Fact]
    public void Media_types_are_normalised()
    {
        Assert.Equal("application/json", BodyShapes.MediaType("Application/JSON; charset=utf-8"));
        Assert.Null(BodyShapes.MediaType("garbage"));
        Assert.True(BodyShapes.IsJson("application/problem+json"));
        Assert.False(BodyShapes.IsJson("text/plain"));
    }

    [Fact]
    public void Value_stats_survive_a_round_trip_through_storage_json()
    {
        var shape = new Sensor.Analysis.Inventory.EndpointShape { Service = "s", Method = "GET", Key = "/a", SamplePath = "/a" };
        shape.Query["q"] = new Sensor.Analysis.Inventory.ParamStats { Present = 3 };
        shape.Query["q"].Values.AddText("x");
        shape.Query["big"] = new Sensor.Analysis.Inventory.ParamStats { Present = 1 };
        shape.Query["big"].Values.Values = null;
        var back = Sensor.Analysis.Inventory.ShapeJson.Deserialize(Sensor.Analysis.Inventory.ShapeJson.Serialize(shape));
        Assert.Equal(1, back.Query["q"].Values.MinLength);
        Assert.Null(back.Query["big"].Values.Values);          // "too many values" must not come back as "none yet"
        Assert.NotNull(back.Query["q"].Values.Values);
    }
}
