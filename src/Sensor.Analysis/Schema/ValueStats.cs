using System.Globalization;
using System.Net;
using System.Text.Json.Serialization;

namespace Sensor.Analysis.Schema;

/// <summary>What a scalar value looks like, most specific first; a value can be several (7 is integer and number).</summary>
[Flags]
public enum ValueKinds
{
    None = 0,
    Integer = 1 << 0,
    Number = 1 << 1,
    Boolean = 1 << 2,
    String = 1 << 3,
    Date = 1 << 4,
    DateTime = 1 << 5,
    Uuid = 1 << 6,
    Email = 1 << 7,
    Uri = 1 << 8,
    Ipv4 = 1 << 9,
    Ipv6 = 1 << 10,
    Null = 1 << 11,
    Empty = 1 << 12,
}

/// <summary>
/// Aggregate of the scalar values seen at one place (a query parameter, a path position, a JSON leaf):
/// which kinds they were, their length and range, and — only while they stay few and look like names
/// — the distinct values, as enum candidates. Values that could be personal data or secrets are never
/// kept: only short word-like tokens are, so what is stored and exported is safe by construction.
/// </summary>
public sealed class ValueStats
{
    public const int MaxEnumValues = 12;
    private const int MaxEnumValueLength = 32;

    public long Count { get; set; }
    /// <summary>Values of each single kind combination, e.g. all-integer values count under Integer|Number.</summary>
    public long IntegerCount { get; set; }
    public long NumberCount { get; set; }
    public long BooleanCount { get; set; }
    public long NullCount { get; set; }
    public long EmptyCount { get; set; }
    /// <summary>String values by detected format, indexed like <see cref="FormatNames"/> (0: plain strings).</summary>
    public long[] FormatCounts { get; set; } = new long[FormatNames.Length];
    public static readonly string[] FormatNames = ["", "uuid", "date", "date-time", "email", "uri", "ipv4", "ipv6", "binary"];
    public const int Binary = 8;
    public int MinLength { get; set; } = int.MaxValue;
    public int MaxLength { get; set; }
    public double? Minimum { get; set; }
    public double? Maximum { get; set; }
    /// <summary>Distinct word-like values with counts while they stay few; null once a value was not word-like or there were too many.</summary>
    public Dictionary<string, long>? Values { get; set; } = [];
    /// <summary>Distinct values seen, up to the enum limit + 1 (so "more than N" is known after Values is dropped).</summary>
    public int Distinct { get; set; }
    /// <summary>The values may be personal data or secrets (by their field name): no enum, no example.</summary>
    public bool Sensitive { get; set; }
    /// <summary>JSON values seen as typed literals (numbers/booleans in JSON) rather than text (query strings).</summary>
    public bool Typed { get; set; }

    [JsonIgnore] public bool IsEmpty => Count == 0;

    /// <summary>Adds a value that arrived as text (query, header, cookie, path, form field).</summary>
    public void AddText(ReadOnlySpan<char> v, long n = 1)
    {
        Count += n;
        if (v.Length == 0) { EmptyCount += n; return; }
        Length(v.Length);
        if (IsInteger(v)) { IntegerCount += n; Range(v); }
        else if (IsNumber(v)) { NumberCount += n; Range(v); }
        else if (v.Equals("true", StringComparison.OrdinalIgnoreCase) || v.Equals("false", StringComparison.OrdinalIgnoreCase)) BooleanCount += n;
        else FormatCounts[FormatIndex(v)] += n;
        Remember(v, n);
    }

    public void AddJsonString(ReadOnlySpan<char> v)
    {
        Typed = true;
        Count++;
        Length(v.Length);
        FormatCounts[v.Length == 0 ? 0 : FormatIndex(v)]++;
        Remember(v, 1);
    }

    public void AddJsonNumber(ReadOnlySpan<char> raw, bool integer)
    {
        Typed = true;
        Count++;
        if (integer) IntegerCount++; else NumberCount++;
        Range(raw);
        Length(raw.Length);
    }

    public void AddJsonBoolean(bool b) { Typed = true; Count++; BooleanCount++; Remember(b ? "true" : "false", 1); }
    public void AddJsonNull() { Typed = true; Count++; NullCount++; }

    private void Length(int len)
    {
        if (len < MinLength) MinLength = len;
        if (len > MaxLength) MaxLength = len;
    }

    private void Range(ReadOnlySpan<char> v)
    {
        if (!double.TryParse(v, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) || !double.IsFinite(d)) return;
        Minimum = Minimum is { } lo ? Math.Min(lo, d) : d;
        Maximum = Maximum is { } hi ? Math.Max(hi, d) : d;
    }

    private void Remember(ReadOnlySpan<char> v, long n)
    {
        if (Values == null) return;
        foreach (var (k, _) in Values)
            if (v.SequenceEqual(k)) { Values[k] += n; return; }
        if (Distinct <= MaxEnumValues) Distinct++;
        if (Values.Count >= MaxEnumValues || !IsEnumLike(v)) { Values = null; return; }
        Values[v.ToString()] = n;
    }

    /// <summary>Short word-like tokens (status names, sort orders, formats): never ids, numbers, secrets or personal data.</summary>
    public static bool IsEnumLike(ReadOnlySpan<char> v)
    {
        if (v.Length is 0 or > MaxEnumValueLength || !char.IsAsciiLetter(v[0])) return false;
        int digits = 0;
        foreach (var c in v)
        {
            if (char.IsAsciiDigit(c)) digits++;
            else if (!char.IsAsciiLetter(c) && c is not '-' and not '_' and not '.' and not '/' and not ' ' and not '+') return false;
        }
        // A digit or two (v2, utf8, mp4) is fine; more looks like an id or a code.
        return digits <= 2;
    }

    public void Merge(ValueStats o)
    {
        Count += o.Count; IntegerCount += o.IntegerCount; NumberCount += o.NumberCount; BooleanCount += o.BooleanCount;
        NullCount += o.NullCount; EmptyCount += o.EmptyCount;
        for (int i = 0; i < FormatCounts.Length && i < o.FormatCounts.Length; i++) FormatCounts[i] += o.FormatCounts[i];
        MinLength = Math.Min(MinLength, o.MinLength); MaxLength = Math.Max(MaxLength, o.MaxLength);
        if (o.Minimum is { } lo) Minimum = Minimum is { } a ? Math.Min(a, lo) : lo;
        if (o.Maximum is { } hi) Maximum = Maximum is { } b ? Math.Max(b, hi) : hi;
        Typed |= o.Typed;
        Sensitive |= o.Sensitive;
        if (Values == null || o.Values == null) { Values = null; Distinct = Math.Max(Distinct, o.Distinct); }
        else
        {
            foreach (var (k, n) in o.Values) Values[k] = Values.GetValueOrDefault(k) + n;
            Distinct = Values.Count;
            if (Values.Count > MaxEnumValues) { Values = null; Distinct = MaxEnumValues + 1; }
        }
    }

    public static bool IsInteger(ReadOnlySpan<char> v)
    {
        int i = v.Length > 1 && v[0] == '-' ? 1 : 0;
        if (v.Length - i is 0 or > 18) return false;
        // A leading zero ("007", zip codes, phone numbers) is text, not a number.
        if (v[i] == '0' && v.Length - i > 1) return false;
        for (; i < v.Length; i++) if (!char.IsAsciiDigit(v[i])) return false;
        return true;
    }

    public static bool IsNumber(ReadOnlySpan<char> v)
    {
        if (v.Length is 0 or > 40 || v.IndexOfAny('.', 'e', 'E') < 0) return false;
        int i = v[0] == '-' ? 1 : 0;
        if (i >= v.Length || !char.IsAsciiDigit(v[i])) return false;
        if (v[i] == '0' && i + 1 < v.Length && char.IsAsciiDigit(v[i + 1])) return false;
        return double.TryParse(v, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) && double.IsFinite(d);
    }

    /// <summary>OpenAPI string format of a value ("" when none applies).</summary>
    public static string DetectFormat(ReadOnlySpan<char> v) => FormatNames[FormatIndex(v)];

    /// <summary>Index into <see cref="FormatNames"/> of a value's format (0 when none applies); cheap rejections first.</summary>
    public static int FormatIndex(ReadOnlySpan<char> v)
    {
        if (v.Length == 36 && v[8] == '-' && v[13] == '-' && v[18] == '-' && v[23] == '-' && Guid.TryParseExact(v, "D", out _)) return 1;
        if (v.Length == 10 && v[4] == '-' && v[7] == '-' && DateOnly.TryParseExact(v, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out _)) return 2;
        if (v.Length is >= 19 and <= 35 && v[4] == '-' && v[7] == '-' && (v[10] == 'T' || v[10] == 't')
            && DateTimeOffset.TryParse(v, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out _)) return 3;
        int at = v.IndexOf('@');
        if (at > 0 && at == v.LastIndexOf('@') && v.Length <= 254 && v[(at + 1)..].IndexOf('.') > 0 && v.IndexOfAny(" /:<>,;") < 0
            && v[^1] != '.') return 4;
        if ((v.StartsWith("http://", StringComparison.OrdinalIgnoreCase) || v.StartsWith("https://", StringComparison.OrdinalIgnoreCase))
            && System.Uri.TryCreate(v.ToString(), UriKind.Absolute, out _)) return 5;
        if (v.Length is >= 7 and <= 15 && char.IsAsciiDigit(v[0]) && v.Count('.') == 3 && IPAddress.TryParse(v, out var a4)
            && a4.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork) return 6;
        if (v.Length is >= 2 and <= 45 && v.Contains(':') && v.IndexOfAnyExcept("0123456789abcdefABCDEF:.") < 0 && IPAddress.TryParse(v, out var a6)
            && a6.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6) return 7;
        return 0;
    }

    /// <summary>The OpenAPI type and format for these values: the one kind they all share, else string.</summary>
    public (string Type, string? Format) Infer()
    {
        long nonNull = Count - NullCount;
        long strings = StringCount;
        if (nonNull <= 0) return ("string", null);
        long present = nonNull - EmptyCount;
        if (present <= 0) return ("string", null);
        if (IntegerCount == present) return ("integer", LargeInt());
        if (IntegerCount + NumberCount == present) return ("number", null);
        if (BooleanCount == present) return ("boolean", null);
        if (strings == present && SingleFormat() is { Length: > 0 } f) return ("string", f);
        return ("string", null);
    }

    private string? LargeInt() => Math.Max(Math.Abs(Minimum ?? 0), Math.Abs(Maximum ?? 0)) > int.MaxValue ? "int64" : null;

    /// <summary>How many of the values were non-string JSON types (for oneOf decisions).</summary>
    [JsonIgnore] public long StringCount => FormatCounts.Sum();

    /// <summary>The one format all string values share ("" when they are plain), or null when they differ or there are none.</summary>
    public string? SingleFormat()
    {
        int found = -1;
        for (int i = 0; i < FormatCounts.Length; i++)
            if (FormatCounts[i] > 0)
            {
                if (found >= 0) return null;
                found = i;
            }
        return found < 0 ? null : FormatNames[found];
    }
}
