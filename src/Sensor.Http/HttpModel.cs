using Sensor.Core;

namespace Sensor.Http;

public readonly record struct HttpHeader(string Name, string Value);

[Flags]
public enum TransactionFlags
{
    None = 0,
    Gap = 1 << 0,               // bytes missing inside the request or response
    Truncated = 1 << 1,         // a body ended early (RST/close/end of capture) or exceeded a limit
    Bomb = 1 << 2,              // decoded body cut at the decompression cap
    Asymmetric = 1 << 3,        // only one direction of the connection was seen
    NoResponse = 1 << 4,        // the request got no response
    Interim = 1 << 5,           // 1xx responses preceded the final one
    Upgrade = 1 << 6,           // 101 Switching Protocols: the connection left HTTP
    Tunnel = 1 << 7,            // CONNECT established a tunnel
    DecodeError = 1 << 8,       // Content-Encoding could not be decoded
    BadHeader = 1 << 9,         // malformed header lines were skipped
    Pipelined = 1 << 10,        // sent before the previous response finished
    UnknownEncoding = 1 << 11,  // Content-Encoding not supported; body kept as sent
    HeadTooLarge = 1 << 12,
    Midstream = 1 << 13,        // the connection was picked up without its handshake
    Unterminated = 1 << 14,     // close-delimited body without a seen close
}

/// <summary>The parsed start line and headers of one message.</summary>
public sealed class HttpHead
{
    public bool IsRequest;
    public string Method = "";
    public string Target = "";
    public int Status;
    public string Reason = "";
    public string Version = "";
    /// <summary>Header fields in order, as strings; built from the raw bytes on first use.</summary>
    public List<HttpHeader> Headers => _headers ??= MaterializeHeaders();
    private List<HttpHeader>? _headers;
    // Where each field's name and value sit in RawHeaderBytes; a folded value (obs-fold) is kept as a string.
    internal readonly record struct Field(int NameStart, int NameLength, int ValueStart, int ValueLength, string? Folded);
    internal Field[] Fields = [];
    internal int _fieldCount;
    /// <summary>Number of header fields; with <see cref="NameAt"/>/<see cref="ValueAt"/> they are read without building the list.</summary>
    public int FieldCount => _fieldCount;
    // Several analyzers read every field of every message: each name and value is decoded once, when first read.
    private string?[]? _names, _lowerNames, _values;
    public string NameAt(int i) => Cached(ref _names, i) ??= HttpHeadParser.Name(RawHeaderBytes.AsSpan(Fields[i].NameStart, Fields[i].NameLength));
    /// <summary>The field name in lower case (the form analyzers match on).</summary>
    public string LowerNameAt(int i)
    {
        if (_lowerNames == null || _lowerNames.Length < _fieldCount) LowerAll();
        return Cached(ref _lowerNames, i) ??= HeaderNames.Lower(RawHeaderBytes.AsSpan(Fields[i].NameStart, Fields[i].NameLength));
    }

    /// <summary>The small id of the field's lowered name (<see cref="HeaderNames.MaxIds"/>), or 0.</summary>
    public int NameIdAt(int i)
    {
        if (_nameIds == null || _nameIds.Length < _fieldCount) LowerAll();
        return (uint)i < (uint)_fieldCount ? _nameIds![i] : 0;
    }

    // Every analyzer walks every field: the first asked lowers them all.
    private void LowerAll()
    {
        var names = new string?[_fieldCount];
        var ids = new int[_fieldCount];
        HeaderNames.LowerAll(RawHeaderBytes, Fields, _fieldCount, names, ids);
        (_lowerNames, _nameIds) = (names, ids);
    }

    private int[]? _nameIds;
    public string ValueAt(int i) => Cached(ref _values, i) ??= FieldValue(Fields[i]);

    private ref string? Cached(ref string?[]? cache, int i)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual((uint)i, (uint)_fieldCount, nameof(i));
        if (cache == null || cache.Length < _fieldCount) cache = new string?[_fieldCount];
        return ref cache[i];
    }
    /// <summary>The value's bytes as sent (a folded value re-encoded).</summary>
    public ReadOnlySpan<byte> ValueBytesAt(int i) => Fields[i].Folded is { } f ? System.Text.Encoding.UTF8.GetBytes(f) : RawHeaderBytes.AsSpan(Fields[i].ValueStart, Fields[i].ValueLength);

    /// <summary>
    /// The header section as sent, with the values of some fields replaced (<paramref name="replacements"/> in
    /// field order): everything else stays byte for byte. A folded value is replaced with its continuation lines.
    /// </summary>
    public byte[] WithValues(IReadOnlyList<(int Field, string Value)> replacements)
    {
        var raw = RawHeaderBytes;
        Span<(int Start, int End)> spans = replacements.Count <= 16 ? stackalloc (int, int)[16] : new (int, int)[replacements.Count];
        int length = raw.Length, last = 0;
        for (int r = 0; r < replacements.Count; r++)
        {
            var (i, value) = replacements[r];
            ref readonly var f = ref Fields[i];
            int end = f.ValueStart + f.ValueLength;
            if (f.Folded != null)
            {
                // Up to the line break before the next field (or the end of the section).
                end = i + 1 < _fieldCount ? Fields[i + 1].NameStart : raw.Length;
                while (end > f.ValueStart && raw[end - 1] is (byte)'\r' or (byte)'\n') end--;
            }
            if (f.ValueStart < last) { spans[r] = (-1, -1); continue; }   // inside a folded value already replaced
            spans[r] = (f.ValueStart, end);
            length += System.Text.Encoding.UTF8.GetByteCount(value) - (end - f.ValueStart);
            last = end;
        }
        var result = new byte[length];
        int pos = 0, at = 0;
        for (int k = 0; k < replacements.Count; k++)
        {
            var (start, end) = spans[k];
            if (start < 0) continue;
            raw.AsSpan(pos, start - pos).CopyTo(result.AsSpan(at));
            at += start - pos;
            at += System.Text.Encoding.UTF8.GetBytes(replacements[k].Value, result.AsSpan(at));
            pos = end;
        }
        raw.AsSpan(pos).CopyTo(result.AsSpan(at));
        return result;
    }

    internal void AddField(in Field f)
    {
        if (_fieldCount == Fields.Length) Array.Resize(ref Fields, Math.Max(8, Fields.Length * 2));
        Fields[_fieldCount++] = f;
    }

    internal string FieldValue(in Field f) => f.Folded ?? System.Text.Encoding.UTF8.GetString(RawHeaderBytes, f.ValueStart, f.ValueLength);

    private List<HttpHeader> MaterializeHeaders()
    {
        var list = new List<HttpHeader>(FieldCount);
        for (int i = 0; i < FieldCount; i++)
        {
            ref readonly var f = ref Fields[i];
            list.Add(new HttpHeader(HttpHeadParser.Name(RawHeaderBytes.AsSpan(f.NameStart, f.NameLength)), FieldValue(f)));
        }
        return list;
    }
    /// <summary>The header section as sent (UTF-8 bytes, without the empty line that ends it).</summary>
    public byte[] RawHeaderBytes = [];
    private string? _rawHeaders;
    /// <summary>The header section as text, decoded on first use.</summary>
    public string RawHeaders => _rawHeaders ??= System.Text.Encoding.UTF8.GetString(RawHeaderBytes);
    public long ContentLength = -1;
    public bool Chunked;
    public bool OtherTransferCoding;
    public string? ContentEncoding;
    public string? ContentType;
    public string? Host;
    public bool ConnectionClose;
    public bool HasUpgrade;
    public bool BadLines;
    public bool ConflictingLength;
    /// <summary>Malformed header lines were skipped, or Content-Length values disagree.</summary>
    public bool HasBadHeader => BadLines || ConflictingLength;
    public int HeadBytes;

    /// <summary>Names of the header fields that contain <paramref name="fragment"/> (ASCII, case-insensitive), without materialising values.</summary>
    public IEnumerable<string> FieldNamesContaining(string fragment)
    {
        for (int i = 0; i < FieldCount; i++)
        {
            if (ContainsIgnoreCase(RawHeaderBytes.AsSpan(Fields[i].NameStart, Fields[i].NameLength), fragment))
                yield return HttpHeadParser.Name(RawHeaderBytes.AsSpan(Fields[i].NameStart, Fields[i].NameLength));
        }
    }

    private static bool ContainsIgnoreCase(ReadOnlySpan<byte> hay, string needle)
    {
        for (int i = 0; i + needle.Length <= hay.Length; i++)
        {
            int j = 0;
            while (j < needle.Length && (hay[i + j] | 0x20) == (needle[j] | 0x20)) j++;
            if (j == needle.Length) return true;
        }
        return false;
    }

    /// <summary>The first value of a header field (case-insensitive name), or null.</summary>
    public string? Get(string name)
    {
        if (_headers != null)
        {
            foreach (var h in _headers) if (h.Name.Equals(name, StringComparison.OrdinalIgnoreCase)) return h.Value;
            return null;
        }
        for (int i = 0; i < FieldCount; i++)
            if (HttpHeadParser.NameIs(RawHeaderBytes.AsSpan(Fields[i].NameStart, Fields[i].NameLength), name)) return FieldValue(Fields[i]);
        return null;
    }
}

/// <summary>A decoded message body: sizes and hash of the decoded bytes and the first bytes for analyzers.</summary>
public sealed class HttpBody
{
    public static readonly HttpBody Empty = new();
    /// <summary>Bytes after chunked and Content-Encoding decoding.</summary>
    public long Length;
    /// <summary>Bytes on the wire (after chunked, before content decoding).</summary>
    public long WireLength;
    public byte[]? Sha256;
    public string? Encoding;
    /// <summary>Decoded bytes kept for analyzers (up to the capture limit); released after analysis.</summary>
    public byte[]? Captured;
    public int CapturedLength;
    public bool CaptureTruncated;
    internal HttpMemory? Memory;   // where the captured buffer is accounted
    public ReadOnlySpan<byte> Content => Captured is null ? default : Captured.AsSpan(0, CapturedLength);
    public string? Sha256Hex => Sha256 is null ? null : Convert.ToHexStringLower(Sha256);
}

/// <summary>
/// A sensitive item an analyzer found in a transaction, already redacted: its type, where it sits, a masked
/// preview and a keyed hash of the value (to follow one secret across endpoints). Never the raw value.
/// </summary>
public readonly record struct SensitiveTag(string Part, string Location, string Type, string Preview, string ValueHmac);

/// <summary>One request and its response (or the lack of one) on a connection.</summary>
public sealed class HttpTransaction
{
    public required FlowKey Flow;
    public IpAddr ClientIp, ServerIp;
    public ushort ClientPort, ServerPort;
    /// <summary>"client:port-server:port" (IPv6 in brackets); the same string object for all transactions of a connection.</summary>
    public string Conn = "";
    public long TsRequest;
    public long? TsResponse;
    public required HttpHead Request;
    public HttpHead? Response;
    public int InterimResponses;
    public HttpBody RequestBody = HttpBody.Empty;
    public HttpBody ResponseBody = HttpBody.Empty;
    public bool RequestComplete;
    public bool ResponseComplete;
    /// <summary>The final response has been read (complete or not).</summary>
    public bool ResponseDone;
    public TransactionFlags Flags;
    /// <summary>Order on its connection, from 0.</summary>
    public int Index;
    /// <summary>Sensitive items found by analyzers (redacted), stored with the transaction.</summary>
    public List<SensitiveTag>? Sensitive;
    /// <summary>Redacted forms of what storage would otherwise write as sent (set by the sensitive-data analyzer): no raw secret or personal data.</summary>
    public string? RedactedTarget;
    public byte[]? RedactedRequestHeaders, RedactedResponseHeaders;
    /// <summary>The service (Host, else server ip:port) as the analyzers name it, set by the first analyzer that needs it.</summary>
    public string? Service;
    /// <summary>
    /// The analysis stage's entry for the request (host, method and this path: its endpoint shape and digest), set by
    /// the first analyzer that looks it up and reused by the others while they ask for the same path.
    /// </summary>
    public (string Path, object Request)? Shape;

    public string Method => Request.Method;
    public string Uri => Request.Target;
    public string? Host => Request.Host;
    public int? Status => Response?.Status;
    public bool Complete => RequestComplete && ResponseComplete && (Flags & (TransactionFlags.Gap | TransactionFlags.Truncated | TransactionFlags.Bomb | TransactionFlags.DecodeError | TransactionFlags.Unterminated)) == 0;

    /// <summary>Path of the request target (origin-form, or the path of an absolute-form URI).</summary>
    public string Path => (_uriParts ??= UriParts.Split(Request.Target, Request.Method)).Path;
    public string? Query => (_uriParts ??= UriParts.Split(Request.Target, Request.Method)).Query;
    /// <summary>The path as it may be stored and aggregated: redacted when an analyzer redacted the target, else as sent.</summary>
    public string StoredPath => RedactedTarget == null ? Path : (_storedPath ??= UriParts.Split(RedactedTarget, Request.Method).Path);
    private string? _storedPath;
    private (string Path, string? Query)? _uriParts;   // split once, however many readers

    public string FlagsText()
    {
        if (Flags == TransactionFlags.None) return "";
        var parts = new List<string>();
        foreach (TransactionFlags f in Enum.GetValues<TransactionFlags>())
            if (f != TransactionFlags.None && (Flags & f) != 0) parts.Add(ToSnake(f.ToString()));
        return string.Join(',', parts);
    }

    private static string ToSnake(string s) => string.Concat(s.Select((ch, i) => i > 0 && char.IsUpper(ch) ? "_" + char.ToLowerInvariant(ch) : char.ToLowerInvariant(ch).ToString()));

    /// <summary>Drops the captured bodies once analyzers are done (raw bodies are never stored).</summary>
    public void ReleaseBodies()
    {
        BodyBuffers.Return(RequestBody);
        BodyBuffers.Return(ResponseBody);
    }
}

public static class UriParts
{
    public static (string Path, string? Query) Split(string target, string method)
    {
        if (method == "CONNECT" || target == "*") return (target, null);
        string t = target;
        int scheme = t.IndexOf("://", StringComparison.Ordinal);
        if (scheme > 0 && scheme < 10 && !t.StartsWith('/'))
        {
            int slash = t.IndexOf('/', scheme + 3);
            int q0 = t.IndexOf('?', scheme + 3);
            if (slash < 0 || (q0 >= 0 && q0 < slash)) t = "/" + (q0 >= 0 ? t[q0..] : "");
            else t = t[slash..];
        }
        int hash = t.IndexOf('#');
        if (hash >= 0) t = t[..hash];
        int q = t.IndexOf('?');
        return q < 0 ? (t, null) : (t[..q], t[(q + 1)..]);
    }
}
