using System.Buffers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Sensor.Analysis.Schema;

/// <summary>
/// A schema learned from sample values, merged across samples: how often each JSON type occurred here, the
/// scalar statistics, object properties with how often each was present (for <c>required</c>), and array
/// items. Bounded: objects keep at most <see cref="MaxProperties"/> named properties, keys that look like
/// ids (maps keyed by id) fold into one additionalProperties node, and nesting stops at <see cref="MaxDepth"/>.
/// </summary>
public sealed class SchemaNode
{
    public const int MaxProperties = 200;
    public const int MaxDepth = 16;

    /// <summary>Times a value was seen here (of any type).</summary>
    public long Count { get; set; }
    public long ObjectCount { get; set; }
    public long ArrayCount { get; set; }
    public ValueStats? Scalar { get; set; }
    public Dictionary<string, SchemaNode>? Properties { get; set; }
    /// <summary>Values of keys not kept as properties (id-like keys, or beyond the property limit).</summary>
    public SchemaNode? AdditionalProperties { get; set; }
    public SchemaNode? Items { get; set; }
    public int MaxItems { get; set; }
    /// <summary>Values below this point were not examined (too deep).</summary>
    public bool Truncated { get; set; }

    /// <summary>Nodes created on this thread so far: lets a learner see whether a sample taught anything new.</summary>
    [ThreadStatic] private static long t_created;
    public static long CreatedOnThisThread => t_created;

    // Lookup by UTF-8 name without allocating: properties usually come in the same order, so the next
    // expected one is tried first.
    [JsonIgnore] private List<(byte[] Utf8, SchemaNode Node)>? _byUtf8;
    [JsonIgnore] private int _hint;

    public void Merge(SchemaNode o)
    {
        Count += o.Count; ObjectCount += o.ObjectCount; ArrayCount += o.ArrayCount;
        MaxItems = Math.Max(MaxItems, o.MaxItems);
        Truncated |= o.Truncated;
        if (o.Scalar != null) (Scalar ??= new ValueStats()).Merge(o.Scalar);
        if (o.Properties != null)
            foreach (var (k, v) in o.Properties)
            {
                var mine = Property(k);
                if (mine != null) mine.Merge(v);
                else (AdditionalProperties ??= new SchemaNode()).Merge(v);
            }
        if (o.AdditionalProperties != null) (AdditionalProperties ??= new SchemaNode()).Merge(o.AdditionalProperties);
        if (o.Items != null) (Items ??= new SchemaNode()).Merge(o.Items);
    }

    /// <summary>The property node for a name, created while under the limit; null when the name is folded.</summary>
    public SchemaNode? Property(string name)
    {
        Properties ??= new Dictionary<string, SchemaNode>(StringComparer.Ordinal);
        if (Properties.TryGetValue(name, out var n)) return n;
        if (Properties.Count >= MaxProperties || LooksLikeIdKey(name)) return null;
        Properties[name] = n = new SchemaNode();
        t_created++;
        if (SensitiveNames.IsSensitive(name)) n.Scalar = new ValueStats { Values = null, Sensitive = true };
        _byUtf8?.Add((Encoding.UTF8.GetBytes(name), n));
        return n;
    }

    private SchemaNode? Property(ref Utf8JsonReader r)
    {
        if (_byUtf8 == null)
        {
            _byUtf8 = [];
            if (Properties != null) foreach (var (k, v) in Properties) _byUtf8.Add((Encoding.UTF8.GetBytes(k), v));
        }
        int n = _byUtf8.Count;
        for (int i = 0; i < n; i++)
        {
            int j = _hint + i;
            if (j >= n) j -= n;
            if (r.ValueTextEquals(_byUtf8[j].Utf8))
            {
                _hint = j + 1;
                return _byUtf8[j].Node;
            }
        }
        var name = r.GetString()!;
        return Property(name);
    }

    /// <summary>Keys that are data rather than names: numbers, UUIDs, long hex, emails (a map keyed by id).</summary>
    public static bool LooksLikeIdKey(string k)
    {
        if (k.Length == 0) return true;
        if (k.All(char.IsAsciiDigit)) return true;
        if (k.Length >= 16 && k.All(char.IsAsciiHexDigit)) return true;
        var f = ValueStats.DetectFormat(k);
        return f is "uuid" or "email" or "date" or "date-time" or "ipv4" or "ipv6" or "uri";
    }

    /// <summary>Adds one JSON document; false (and nothing reliable added) when it is not valid JSON.</summary>
    public bool AddJson(ReadOnlySpan<byte> json)
    {
        var r = new Utf8JsonReader(json, new JsonReaderOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true, MaxDepth = 256 });
        try
        {
            if (!r.Read()) return false;
            AddValue(ref r, 0);
            return true;
        }
        catch (JsonException) { return false; }
    }

    private void AddValue(ref Utf8JsonReader r, int depth)
    {
        Count++;
        switch (r.TokenType)
        {
            case JsonTokenType.StartObject:
                ObjectCount++;
                if (depth >= MaxDepth) { Truncated = true; r.Skip(); return; }
                while (r.Read() && r.TokenType == JsonTokenType.PropertyName)
                {
                    var child = Property(ref r);
                    if (!r.Read()) return;
                    (child ?? (AdditionalProperties ??= new SchemaNode())).AddValue(ref r, depth + 1);
                }
                return;
            case JsonTokenType.StartArray:
                ArrayCount++;
                if (depth >= MaxDepth) { Truncated = true; r.Skip(); return; }
                int items = 0;
                while (r.Read() && r.TokenType != JsonTokenType.EndArray)
                {
                    items++;
                    if (Items == null) { Items = new SchemaNode(); t_created++; }
                    Items.AddValue(ref r, depth + 1);
                }
                if (items > MaxItems) MaxItems = items;
                return;
            case JsonTokenType.String:
                AddString(ref r);
                return;
            case JsonTokenType.Number:
            {
                Span<char> buf = stackalloc char[64];
                var raw = r.HasValueSequence ? r.ValueSequence.ToArray() : r.ValueSpan;
                int len = Math.Min(raw.Length, buf.Length);
                for (int i = 0; i < len; i++) buf[i] = (char)raw[i];
                var s = buf[..len];
                (Scalar ??= new ValueStats()).AddJsonNumber(s, s.IndexOfAny('.', 'e', 'E') < 0);
                return;
            }
            case JsonTokenType.True: (Scalar ??= new ValueStats()).AddJsonBoolean(true); return;
            case JsonTokenType.False: (Scalar ??= new ValueStats()).AddJsonBoolean(false); return;
            case JsonTokenType.Null: (Scalar ??= new ValueStats()).AddJsonNull(); return;
            default: return;
        }
    }

    private void AddString(ref Utf8JsonReader r)
    {
        const int Look = 256;   // enough for every format we detect; longer strings are plain text
        int byteLen = r.HasValueSequence ? (int)Math.Min(int.MaxValue, r.ValueSequence.Length) : r.ValueSpan.Length;
        var stats = Scalar ??= new ValueStats();
        if (byteLen > Look * 4)
        {
            stats.Typed = true;
            stats.Count++;
            stats.FormatCounts[0]++;
            stats.MaxLength = Math.Max(stats.MaxLength, byteLen);
            stats.MinLength = Math.Min(stats.MinLength, byteLen);
            stats.Values = null;
            return;
        }
        char[]? rented = null;
        Span<char> buf = byteLen <= 256 ? stackalloc char[256] : (rented = ArrayPool<char>.Shared.Rent(byteLen));
        int n = r.CopyString(buf);
        stats.AddJsonString(buf[..n]);
        if (rented != null) ArrayPool<char>.Shared.Return(rented);
    }

    /// <summary>Adds a flat name → text value map (form fields, multipart parts).</summary>
    public void AddFields(IEnumerable<(string Name, string Value, bool File)> fields)
    {
        Count++;
        ObjectCount++;
        foreach (var (name, value, file) in fields)
        {
            var child = Property(name) ?? (AdditionalProperties ??= new SchemaNode());
            child.Count++;
            var s = child.Scalar ??= new ValueStats();
            if (file)
            {
                s.Count++;
                s.FormatCounts[ValueStats.Binary]++;
                s.Values = null;
            }
            else s.AddText(value);
        }
    }

    /// <summary>A body that is kept only as a string (XML, text).</summary>
    public void AddOpaque(int length)
    {
        Count++;
        var s = Scalar ??= new ValueStats();
        s.Count++;
        s.FormatCounts[0]++;
        s.MinLength = Math.Min(s.MinLength, length);
        s.MaxLength = Math.Max(s.MaxLength, length);
        s.Values = null;
    }

    /// <summary>Property paths below this node ("tags.name"; arrays are see-through).</summary>
    public IEnumerable<string> PropertyPaths(string prefix = "")
    {
        if (Properties != null)
            foreach (var (k, v) in Properties)
            {
                var p = prefix.Length == 0 ? k : prefix + "." + k;
                yield return p;
                foreach (var sub in v.PropertyPaths(p)) yield return sub;
            }
        if (Items != null) foreach (var sub in Items.PropertyPaths(prefix)) yield return sub;
    }
}
