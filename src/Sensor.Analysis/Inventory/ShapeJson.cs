using System.Buffers;
using System.Text;
using System.Text.Json;
using Sensor.Analysis.Schema;

namespace Sensor.Analysis.Inventory;

/// <summary>
/// How endpoint shapes are kept in the database between runs: a JSON object per shape, each member named as the
/// property it holds and every member written (several have non-default initial values: an empty enum map differs
/// from none, so leaving defaults out would change them).
/// </summary>
/// <remarks>
/// Written and read with <see cref="Utf8JsonWriter"/> and <see cref="Utf8JsonReader"/> by hand: the serializer's
/// converters are generic over these types, so each run compiled them afresh (a replay's save and an export spent
/// over 100 ms of their few hundred on it). The format is the serializer's, so shapes stored by it read back; a
/// test holds the two to the same text. Unknown members are skipped, missing ones keep their initial value.
/// </remarks>
public static class ShapeJson
{
    public static string Serialize(EndpointShape s)
    {
        var buffer = new ArrayBufferWriter<byte>(2048);
        using (var w = new Utf8JsonWriter(buffer)) Write(w, s);
        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    public static EndpointShape Deserialize(string json)
    {
        var bytes = ArrayPool<byte>.Shared.Rent(Encoding.UTF8.GetMaxByteCount(json.Length));
        try
        {
            int n = Encoding.UTF8.GetBytes(json, bytes);
            // Schemas nest up to SchemaNode.MaxDepth levels, three JSON levels each.
            var r = new Utf8JsonReader(bytes.AsSpan(0, n), new JsonReaderOptions { MaxDepth = 4 * SchemaNode.MaxDepth + 16 });
            if (!r.Read() || r.TokenType == JsonTokenType.Null) throw new JsonException("empty endpoint shape");
            var s = ReadShape(ref r);
            if (r.Read()) throw new JsonException($"text after the endpoint shape at byte {r.TokenStartIndex}");
            return s;
        }
        finally { ArrayPool<byte>.Shared.Return(bytes); }
    }

    // ---- writing, members in declaration order (as the serializer wrote them) ----

    private static void Write(Utf8JsonWriter w, EndpointShape s)
    {
        w.WriteStartObject();
        w.WriteString("Service", s.Service);
        w.WriteString("Method", s.Method);
        w.WriteString("Key", s.Key);
        w.WriteString("SamplePath", s.SamplePath);
        w.WriteNumber("Requests", s.Requests);
        w.WriteNumber("Accepted", s.Accepted);
        w.WriteNumber("Sampled", s.Sampled);
        w.WriteNumber("SampledAccepted", s.SampledAccepted);
        w.WriteNumber("Boost", s.Boost);
        w.WriteNumber("FirstSeen", s.FirstSeen);
        w.WriteNumber("LastSeen", s.LastSeen);
        WriteMap(w, "Query", s.Query, Write);
        WriteMap(w, "Header", s.Header, Write);
        WriteMap(w, "Cookie", s.Cookie, Write);
        WriteMap(w, "PathValues", s.PathValues, Write);
        WriteMap(w, "RequestBodies", s.RequestBodies, Write);
        WriteMap(w, "RejectedBodies", s.RejectedBodies, Write);
        WriteMap(w, "Responses", s.Responses, Write);
        WriteCounts(w, "Schemes", s.Schemes);
        WriteCounts(w, "SchemesAccepted", s.SchemesAccepted);
        w.WriteNumber("JwtBearer", s.JwtBearer);
        w.WriteNumber("WithoutCredentials", s.WithoutCredentials);
        w.WriteNumber("Unauthenticated2xx", s.Unauthenticated2xx);
        w.WriteEndObject();
    }

    private static void Write(Utf8JsonWriter w, ParamStats p)
    {
        w.WriteStartObject();
        w.WriteNumber("Present", p.Present);
        w.WriteNumber("PresentAccepted", p.PresentAccepted);
        w.WritePropertyName("Values");
        Write(w, p.Values);
        w.WriteEndObject();
    }

    private static void Write(Utf8JsonWriter w, BodyStats b)
    {
        w.WriteStartObject();
        w.WriteNumber("Count", b.Count);
        w.WriteNumber("Unparsed", b.Unparsed);
        w.WritePropertyName("Schema");
        Write(w, b.Schema);
        w.WriteNumber("Learned", b.Learned);
        w.WriteNumber("Boost", b.Boost);
        w.WriteEndObject();
    }

    private static void Write(Utf8JsonWriter w, ResponseStats rs)
    {
        w.WriteStartObject();
        w.WriteNumber("Count", rs.Count);
        WriteMap(w, "Content", rs.Content, Write);
        WriteCounts(w, "Headers", rs.Headers);
        w.WriteNumber("HeaderSamples", rs.HeaderSamples);
        w.WriteEndObject();
    }

    private static void Write(Utf8JsonWriter w, SchemaNode? n)
    {
        if (n == null) { w.WriteNullValue(); return; }
        w.WriteStartObject();
        w.WriteNumber("Count", n.Count);
        w.WriteNumber("ObjectCount", n.ObjectCount);
        w.WriteNumber("ArrayCount", n.ArrayCount);
        w.WritePropertyName("Scalar");
        Write(w, n.Scalar);
        if (n.Properties == null) w.WriteNull("Properties");
        else WriteMap(w, "Properties", n.Properties, Write);
        w.WritePropertyName("AdditionalProperties");
        Write(w, n.AdditionalProperties);
        w.WritePropertyName("Items");
        Write(w, n.Items);
        w.WriteNumber("MaxItems", n.MaxItems);
        w.WriteBoolean("Truncated", n.Truncated);
        w.WriteEndObject();
    }

    private static void Write(Utf8JsonWriter w, ValueStats? v)
    {
        if (v == null) { w.WriteNullValue(); return; }
        w.WriteStartObject();
        w.WriteNumber("Count", v.Count);
        w.WriteNumber("IntegerCount", v.IntegerCount);
        w.WriteNumber("NumberCount", v.NumberCount);
        w.WriteNumber("BooleanCount", v.BooleanCount);
        w.WriteNumber("NullCount", v.NullCount);
        w.WriteNumber("EmptyCount", v.EmptyCount);
        w.WriteStartArray("FormatCounts");
        foreach (var c in v.FormatCounts) w.WriteNumberValue(c);
        w.WriteEndArray();
        w.WriteNumber("MinLength", v.MinLength);
        w.WriteNumber("MaxLength", v.MaxLength);
        WriteDouble(w, "Minimum", v.Minimum);
        WriteDouble(w, "Maximum", v.Maximum);
        if (v.Values == null) w.WriteNull("Values");
        else WriteCounts(w, "Values", v.Values);
        w.WriteNumber("Distinct", v.Distinct);
        w.WriteBoolean("Sensitive", v.Sensitive);
        w.WriteBoolean("Typed", v.Typed);
        w.WriteEndObject();
    }

    private static void WriteDouble(Utf8JsonWriter w, string name, double? d)
    {
        if (d is not { } x) w.WriteNull(name);
        else if (double.IsFinite(x)) w.WriteNumber(name, x);
        else w.WriteString(name, double.IsNaN(x) ? "NaN" : x > 0 ? "Infinity" : "-Infinity");   // as the serializer's named literals
    }

    private static void WriteMap<TV>(Utf8JsonWriter w, string name, Dictionary<string, TV> map, Action<Utf8JsonWriter, TV> write)
    {
        w.WriteStartObject(name);
        foreach (var (k, v) in map) { w.WritePropertyName(k); write(w, v); }
        w.WriteEndObject();
    }

    private static void WriteMap<TV>(Utf8JsonWriter w, string name, Dictionary<int, TV> map, Action<Utf8JsonWriter, TV> write)
    {
        w.WriteStartObject(name);
        Span<char> key = stackalloc char[11];
        foreach (var (k, v) in map)
        {
            k.TryFormat(key, out int len, default, System.Globalization.CultureInfo.InvariantCulture);
            w.WritePropertyName(key[..len]);
            write(w, v);
        }
        w.WriteEndObject();
    }

    private static void WriteCounts(Utf8JsonWriter w, string name, Dictionary<string, long> counts)
    {
        w.WriteStartObject(name);
        foreach (var (k, v) in counts) w.WriteNumber(k, v);
        w.WriteEndObject();
    }

    // ---- reading ----

    private static EndpointShape ReadShape(ref Utf8JsonReader r)
    {
        var s = new EndpointShape();
        for (Start(ref r); Member(ref r, out var name);)
            switch (name)
            {
                case "Service": s.Service = Text(ref r); break;
                case "Method": s.Method = Text(ref r); break;
                case "Key": s.Key = Text(ref r); break;
                case "SamplePath": s.SamplePath = Text(ref r); break;
                case "Requests": s.Requests = r.GetInt64(); break;
                case "Accepted": s.Accepted = r.GetInt64(); break;
                case "Sampled": s.Sampled = r.GetInt64(); break;
                case "SampledAccepted": s.SampledAccepted = r.GetInt64(); break;
                case "Boost": s.Boost = r.GetInt32(); break;
                case "FirstSeen": s.FirstSeen = r.GetInt64(); break;
                case "LastSeen": s.LastSeen = r.GetInt64(); break;
                case "Query": s.Query = ReadMap(ref r, ReadParam); break;
                case "Header": s.Header = ReadMap(ref r, ReadParam); break;
                case "Cookie": s.Cookie = ReadMap(ref r, ReadParam); break;
                case "PathValues": s.PathValues = ReadIntMap(ref r, ReadValuesOrEmpty); break;
                case "RequestBodies": s.RequestBodies = ReadMap(ref r, ReadBody); break;
                case "RejectedBodies": s.RejectedBodies = ReadMap(ref r, ReadBody); break;
                case "Responses": s.Responses = ReadIntMap(ref r, ReadResponse); break;
                case "Schemes": s.Schemes = ReadCounts(ref r); break;
                case "SchemesAccepted": s.SchemesAccepted = ReadCounts(ref r); break;
                case "JwtBearer": s.JwtBearer = r.GetInt64(); break;
                case "WithoutCredentials": s.WithoutCredentials = r.GetInt64(); break;
                case "Unauthenticated2xx": s.Unauthenticated2xx = r.GetInt64(); break;
                default: r.Skip(); break;
            }
        return s;
    }

    private static ParamStats ReadParam(ref Utf8JsonReader r)
    {
        var p = new ParamStats();
        for (Start(ref r); Member(ref r, out var name);)
            switch (name)
            {
                case "Present": p.Present = r.GetInt64(); break;
                case "PresentAccepted": p.PresentAccepted = r.GetInt64(); break;
                case "Values": p.Values = ReadValuesOrEmpty(ref r); break;
                default: r.Skip(); break;
            }
        return p;
    }

    private static BodyStats ReadBody(ref Utf8JsonReader r)
    {
        var b = new BodyStats();
        for (Start(ref r); Member(ref r, out var name);)
            switch (name)
            {
                case "Count": b.Count = r.GetInt64(); break;
                case "Unparsed": b.Unparsed = r.GetInt64(); break;
                case "Schema": b.Schema = ReadNode(ref r) ?? new SchemaNode(); break;
                case "Learned": b.Learned = r.GetInt64(); break;
                case "Boost": b.Boost = r.GetInt32(); break;
                default: r.Skip(); break;
            }
        return b;
    }

    private static ResponseStats ReadResponse(ref Utf8JsonReader r)
    {
        var rs = new ResponseStats();
        for (Start(ref r); Member(ref r, out var name);)
            switch (name)
            {
                case "Count": rs.Count = r.GetInt64(); break;
                case "Content": rs.Content = ReadMap(ref r, ReadBody); break;
                case "Headers": rs.Headers = ReadCounts(ref r); break;
                case "HeaderSamples": rs.HeaderSamples = r.GetInt64(); break;
                default: r.Skip(); break;
            }
        return rs;
    }

    private static SchemaNode? ReadNode(ref Utf8JsonReader r)
    {
        if (r.TokenType == JsonTokenType.Null) return null;
        var n = new SchemaNode();
        for (Start(ref r); Member(ref r, out var name);)
            switch (name)
            {
                case "Count": n.Count = r.GetInt64(); break;
                case "ObjectCount": n.ObjectCount = r.GetInt64(); break;
                case "ArrayCount": n.ArrayCount = r.GetInt64(); break;
                case "Scalar": n.Scalar = ReadValues(ref r); break;
                case "Properties": n.Properties = r.TokenType == JsonTokenType.Null ? null : ReadMap(ref r, ReadChild); break;
                case "AdditionalProperties": n.AdditionalProperties = ReadNode(ref r); break;
                case "Items": n.Items = ReadNode(ref r); break;
                case "MaxItems": n.MaxItems = r.GetInt32(); break;
                case "Truncated": n.Truncated = r.GetBoolean(); break;
                default: r.Skip(); break;
            }
        return n;
    }

    private static SchemaNode ReadChild(ref Utf8JsonReader r) => ReadNode(ref r) ?? new SchemaNode();

    private static ValueStats? ReadValues(ref Utf8JsonReader r)
    {
        if (r.TokenType == JsonTokenType.Null) return null;
        var v = new ValueStats();
        for (Start(ref r); Member(ref r, out var name);)
            switch (name)
            {
                case "Count": v.Count = r.GetInt64(); break;
                case "IntegerCount": v.IntegerCount = r.GetInt64(); break;
                case "NumberCount": v.NumberCount = r.GetInt64(); break;
                case "BooleanCount": v.BooleanCount = r.GetInt64(); break;
                case "NullCount": v.NullCount = r.GetInt64(); break;
                case "EmptyCount": v.EmptyCount = r.GetInt64(); break;
                case "FormatCounts": v.FormatCounts = ReadFormatCounts(ref r); break;
                case "MinLength": v.MinLength = r.GetInt32(); break;
                case "MaxLength": v.MaxLength = r.GetInt32(); break;
                case "Minimum": v.Minimum = ReadDouble(ref r); break;
                case "Maximum": v.Maximum = ReadDouble(ref r); break;
                case "Values": v.Values = r.TokenType == JsonTokenType.Null ? null : ReadCounts(ref r); break;
                case "Distinct": v.Distinct = r.GetInt32(); break;
                case "Sensitive": v.Sensitive = r.GetBoolean(); break;
                case "Typed": v.Typed = r.GetBoolean(); break;
                default: r.Skip(); break;
            }
        return v;
    }

    private static ValueStats ReadValuesOrEmpty(ref Utf8JsonReader r) => ReadValues(ref r) ?? new ValueStats();

    /// <summary>The counts by format, as long as today's list of formats at least (a shape stored before one was added reads with it at 0).</summary>
    private static long[] ReadFormatCounts(ref Utf8JsonReader r)
    {
        if (r.TokenType == JsonTokenType.Null) return new long[ValueStats.FormatNames.Length];
        if (r.TokenType != JsonTokenType.StartArray) throw Unexpected(ref r, "an array");
        var list = new List<long>(ValueStats.FormatNames.Length);
        while (r.Read() && r.TokenType != JsonTokenType.EndArray) list.Add(r.GetInt64());
        while (list.Count < ValueStats.FormatNames.Length) list.Add(0);
        return [.. list];
    }

    private static double? ReadDouble(ref Utf8JsonReader r) => r.TokenType switch
    {
        JsonTokenType.Null => null,
        JsonTokenType.String => r.GetString() switch
        {
            "NaN" => double.NaN,
            "Infinity" => double.PositiveInfinity,
            "-Infinity" => double.NegativeInfinity,
            var other => throw new JsonException($"not a number: '{other}' at byte {r.TokenStartIndex}"),
        },
        _ => r.GetDouble(),
    };

    private delegate T ReadValue<T>(ref Utf8JsonReader r);

    private static Dictionary<string, T> ReadMap<T>(ref Utf8JsonReader r, ReadValue<T> read)
    {
        var map = new Dictionary<string, T>(StringComparer.Ordinal);
        for (Start(ref r); Member(ref r, out var name);) map[name] = read(ref r);
        return map;
    }

    private static Dictionary<int, T> ReadIntMap<T>(ref Utf8JsonReader r, ReadValue<T> read)
    {
        var map = new Dictionary<int, T>();
        for (Start(ref r); Member(ref r, out var name);)
        {
            if (!int.TryParse(name, System.Globalization.NumberStyles.AllowLeadingSign, System.Globalization.CultureInfo.InvariantCulture, out int key))
                throw new JsonException($"not a number key: '{name}' at byte {r.TokenStartIndex}");
            map[key] = read(ref r);
        }
        return map;
    }

    private static Dictionary<string, long> ReadCounts(ref Utf8JsonReader r)
    {
        var map = new Dictionary<string, long>(StringComparer.Ordinal);
        for (Start(ref r); Member(ref r, out var name);) map[name] = r.GetInt64();
        return map;
    }

    private static string Text(ref Utf8JsonReader r) =>
        r.TokenType == JsonTokenType.String ? r.GetString()! : throw Unexpected(ref r, "a string");

    private static void Start(ref Utf8JsonReader r)
    {
        if (r.TokenType != JsonTokenType.StartObject) throw Unexpected(ref r, "an object");
    }

    /// <summary>Moves to the next member's value; false at the end of the object.</summary>
    private static bool Member(ref Utf8JsonReader r, out string name)
    {
        name = "";
        if (!r.Read()) throw new JsonException("endpoint shape cut short");
        if (r.TokenType == JsonTokenType.EndObject) return false;
        name = r.GetString()!;
        if (!r.Read()) throw new JsonException("endpoint shape cut short");
        return true;
    }

    private static JsonException Unexpected(ref Utf8JsonReader r, string what) =>
        new($"expected {what}, found {r.TokenType} at byte {r.TokenStartIndex}");
}
