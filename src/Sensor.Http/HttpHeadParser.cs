using System.Buffers;
using System.Text;

namespace Sensor.Http;

/// <summary>
/// Restartable parser for an HTTP/1.x start line and header section over a <see cref="ReadOnlySequence{T}"/>,
/// in the manner of Kestrel's HttpParser: it consumes nothing until the whole head is present and
/// answers NeedMore otherwise, so the caller simply retries with more bytes. A start line that cannot be
/// HTTP is rejected as soon as its first bytes are seen, so garbage is skipped without waiting for a newline.
/// </summary>
public static class HttpHeadParser
{
    public enum Result { Ok, NeedMore, Invalid, TooLarge }

    public const int MaxStartLine = 16 * 1024;

    public static Result TryParse(in ReadOnlySequence<byte> input, bool isRequest, int maxHead, out HttpHead? head, out long consumed)
    {
        if (input.IsSingleSegment) return TryParse(input.FirstSpan, isRequest, maxHead, out head, out consumed);
        // A head never exceeds the limits, so a contiguous copy of that much decides every case.
        int n = (int)Math.Min(input.Length, (long)Math.Max(maxHead, MaxStartLine) + 1);
        var rented = ArrayPool<byte>.Shared.Rent(n);
        try
        {
            input.Slice(0, n).CopyTo(rented);
            return TryParse(rented.AsSpan(0, n), isRequest, maxHead, out head, out consumed);
        }
        finally { ArrayPool<byte>.Shared.Return(rented); }
    }

    /// <summary>The same over contiguous bytes (the common case: a head inside one buffer).</summary>
    public static Result TryParse(ReadOnlySpan<byte> input, bool isRequest, int maxHead, out HttpHead? head, out long consumed)
    {
        head = null; consumed = 0;
        int lf = input.IndexOf((byte)'\n');
        if (lf < 0)
        {
            if (!PlausibleStart(input[..Math.Min(64, input.Length)], isRequest)) return Result.Invalid;
            return input.Length > MaxStartLine ? Result.Invalid : Result.NeedMore;
        }
        if (lf > MaxStartLine) return Result.Invalid;
        var h = new HttpHead { IsRequest = isRequest };
        var startLine = TrimCr(input[..lf]);
        if (!(isRequest ? ParseRequestLine(startLine, h) : ParseStatusLine(startLine, h))) return Result.Invalid;

        int headersStart = lf + 1, pos = headersStart, sectionEnd;
        // Header lines until the empty line.
        while (true)
        {
            int l = input[pos..].IndexOf((byte)'\n');
            if (l < 0) return input.Length > maxHead ? Result.TooLarge : Result.NeedMore;
            if (pos + l + 1 > maxHead) return Result.TooLarge;
            bool empty = l == 0 || (l == 1 && input[pos] == (byte)'\r');
            if (empty) { sectionEnd = pos; pos += l + 1; break; }
            pos += l + 1;
        }
        consumed = pos;
        h.HeadBytes = pos;
        // The header fields as sent, without the empty line that ends them.
        ParseHeaders(input[headersStart..sectionEnd], h);
        head = h;
        return Result.Ok;
    }

    private static ReadOnlySpan<byte> TrimCr(ReadOnlySpan<byte> s) => s.Length > 0 && s[^1] == (byte)'\r' ? s[..^1] : s;

    private static readonly bool[] TokenChars = Enumerable.Range(0, 256).Select(i =>
        i > 32 && i < 127 && "()<>@,;:\\\"/[]?={}".IndexOf((char)i) < 0).ToArray();

    /// <summary>RFC 9110 tchar.</summary>
    public static bool IsTokenChar(byte c) => TokenChars[c];

    /// <summary>Could these bytes begin a start line? (Used to reject garbage early.)</summary>
    public static bool PlausibleStart(ReadOnlySpan<byte> s, bool isRequest)
    {
        if (isRequest)
        {
            int i = 0;
            while (i < s.Length && i < 32 && IsMethodChar(s[i])) i++;
            if (i == s.Length) return i <= 32;
            return i > 0 && s[i] == (byte)' ';
        }
        ReadOnlySpan<byte> http = "HTTP/"u8;
        int n = Math.Min(s.Length, http.Length);
        return s[..n].SequenceEqual(http[..n]);
    }

    private static bool IsMethodChar(byte c) => (c >= 'A' && c <= 'Z') || c == '-' || c == '_' || (c >= 'a' && c <= 'z');

    private static bool ParseVersion(ReadOnlySpan<byte> v, HttpHead h)
    {
        if (v.Length != 8 || !v.StartsWith("HTTP/"u8) || !char.IsAsciiDigit((char)v[5]) || v[6] != '.' || !char.IsAsciiDigit((char)v[7])) return false;
        h.Version = Common(v, CommonVersions);
        return true;
    }

    private static bool ParseRequestLine(ReadOnlySpan<byte> line, HttpHead h)
    {
        int sp1 = line.IndexOf((byte)' ');
        int sp2 = line.LastIndexOf((byte)' ');
        if (sp1 <= 0 || sp1 > 32 || sp2 <= sp1 + 1) return false;
        var method = line[..sp1];
        foreach (var c in method) if (!IsMethodChar(c)) return false;
        if (!ParseVersion(line[(sp2 + 1)..], h)) return false;
        var target = line[(sp1 + 1)..sp2];
        foreach (var c in target) if (c < 0x21 && c != ' ' || c == 0x7f) return false;
        h.Method = Common(method, CommonMethods);
        h.Target = Encoding.UTF8.GetString(target);
        return true;
    }

    private static bool ParseStatusLine(ReadOnlySpan<byte> line, HttpHead h)
    {
        if (line.Length < 12 || !ParseVersion(line[..8], h) || line[8] != ' ') return false;
        var code = line.Slice(9, 3);
        foreach (var c in code) if (!char.IsAsciiDigit((char)c)) return false;
        if (line.Length > 12 && line[12] != ' ') return false;
        h.Status = (code[0] - '0') * 100 + (code[1] - '0') * 10 + (code[2] - '0');
        h.Reason = line.Length > 13 ? Common(line[13..], CommonReasons) : "";
        return true;
    }

    private static ReadOnlySpan<byte> Ows => " \t"u8;   // optional whitespace around field values

    private static void ParseHeaders(ReadOnlySpan<byte> section, HttpHead h)
    {
        var raw = h.RawHeaderBytes = section.ToArray();
        int pos = 0;
        while (pos < raw.Length)
        {
            int lf = raw.AsSpan(pos).IndexOf((byte)'\n');
            int lineStart = pos, lineLen = lf < 0 ? raw.Length - pos : lf;
            pos = lf < 0 ? raw.Length : pos + lf + 1;
            var line = TrimCr(raw.AsSpan(lineStart, lineLen));
            if (line.Length == 0) continue;
            if (line[0] is (byte)' ' or (byte)'\t')
            {
                // obs-fold: continuation of the previous value.
                if (h.FieldCount == 0) { h.BadLines = true; continue; }
                ref var prev = ref h.Fields[h.FieldCount - 1];
                prev = prev with { Folded = h.FieldValue(prev) + " " + Encoding.UTF8.GetString(line.Trim(Ows)) };
                continue;
            }
            int colon = line.IndexOf((byte)':');
            if (colon <= 0) { h.BadLines = true; continue; }
            var name = line[..colon];
            bool ok = true;
            foreach (var c in name) if (!IsTokenChar(c)) { ok = false; break; }
            if (!ok) { h.BadLines = true; continue; }
            var valueAll = line[(colon + 1)..];
            var value = valueAll.TrimStart(Ows);
            int valueStart = lineStart + colon + 1 + (valueAll.Length - value.Length);
            value = value.TrimEnd(Ows);
            h.AddField(new HttpHead.Field(lineStart, colon, valueStart, value.Length, null));
        }
        for (int i = 0; i < h.FieldCount; i++) Interpret(h, h.Fields[i]);
    }

    /// <summary>ASCII case-insensitive comparison of a field name with a known name.</summary>
    internal static bool NameIs(ReadOnlySpan<byte> name, string known)
    {
        if (name.Length != known.Length) return false;
        for (int i = 0; i < name.Length; i++)
        {
            int a = name[i], b = known[i];
            if (a == b) continue;
            if ((a | 0x20) != (b | 0x20) || (uint)((a | 0x20) - 'a') > 'z' - 'a') return false;
        }
        return true;
    }

    /// <summary>The few fields that decide framing and identity are read straight from the bytes.</summary>
    private static void Interpret(HttpHead h, in HttpHead.Field f)
    {
        var n = h.RawHeaderBytes.AsSpan(f.NameStart, f.NameLength);
        if (n.Length < 4) return;
        switch (n[0] | 0x20)
        {
            case 'c':
                if (NameIs(n, "Content-Length"))
                {
                    foreach (var part in new TokenList(h.FieldValue(f)))
                    {
                        if (!long.TryParse(part, System.Globalization.NumberStyles.None, null, out long v)) { h.ConflictingLength = true; continue; }
                        if (h.ContentLength >= 0 && h.ContentLength != v) h.ConflictingLength = true;
                        else h.ContentLength = v;
                    }
                }
                else if (NameIs(n, "Content-Encoding"))
                {
                    var v = h.FieldValue(f);
                    h.ContentEncoding = h.ContentEncoding == null ? v : h.ContentEncoding + ", " + v;
                }
                else if (NameIs(n, "Content-Type")) h.ContentType ??= h.FieldValue(f);
                else if (NameIs(n, "Connection"))
                {
                    foreach (var t in new TokenList(h.FieldValue(f)))
                        if (t.Equals("close", StringComparison.OrdinalIgnoreCase)) h.ConnectionClose = true;
                }
                break;
            case 't':
                if (NameIs(n, "Transfer-Encoding"))
                {
                    ReadOnlySpan<char> last = default;
                    int count = 0;
                    foreach (var t in new TokenList(h.FieldValue(f))) { last = t; count++; }
                    if (count > 0)
                    {
                        h.Chunked = last.Equals("chunked", StringComparison.OrdinalIgnoreCase);
                        h.OtherTransferCoding |= !h.Chunked || count > 1;
                    }
                }
                break;
            case 'h':
                if (NameIs(n, "Host")) h.Host ??= h.FieldValue(f);
                break;
            case 'u':
                if (NameIs(n, "Upgrade")) h.HasUpgrade = true;
                break;
        }
    }

    /// <summary>Comma-separated list elements, trimmed, empty ones skipped; no allocation.</summary>
    private ref struct TokenList(string s)
    {
        private ReadOnlySpan<char> _rest = s;
        public ReadOnlySpan<char> Current { get; private set; }
        public readonly TokenList GetEnumerator() => this;
        public bool MoveNext()
        {
            while (!_rest.IsEmpty)
            {
                int comma = _rest.IndexOf(',');
                var item = (comma < 0 ? _rest : _rest[..comma]).Trim();
                _rest = comma < 0 ? default : _rest[(comma + 1)..];
                if (!item.IsEmpty) { Current = item; return true; }
            }
            return false;
        }
    }

    private static readonly string[] CommonNames =
    [
        "Host", "User-Agent", "Accept", "Accept-Encoding", "Accept-Language", "Authorization", "Connection", "Content-Length",
        "Content-Type", "Content-Encoding", "Transfer-Encoding", "Cookie", "Set-Cookie", "Date", "Server", "Cache-Control",
        "ETag", "Last-Modified", "Location", "Vary", "X-Request-Id", "X-Forwarded-For", "Origin", "Referer", "Keep-Alive",
        "Upgrade", "Expect", "If-None-Match", "If-Modified-Since", "X-Powered-By", "Access-Control-Allow-Origin", "X-Api-Key",
    ];

    private static readonly string[] CommonMethods = ["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS", "CONNECT", "TRACE"];
    private static readonly string[] CommonVersions = ["HTTP/1.1", "HTTP/1.0"];
    private static readonly string[] CommonReasons = ["OK", "Created", "Accepted", "No Content", "Not Modified", "Found", "Moved Permanently",
        "Bad Request", "Unauthorized", "Forbidden", "Not Found", "Method Not Allowed", "Conflict", "Unprocessable Entity",
        "Too Many Requests", "Internal Server Error", "Bad Gateway", "Service Unavailable", "Continue", "Switching Protocols"];

    /// <summary>One shared string for values that repeat on every message (methods, versions, reasons).</summary>
    private static string Common(ReadOnlySpan<byte> value, string[] known)
    {
        foreach (var k in known)
        {
            if (k.Length != value.Length) continue;
            bool eq = true;
            for (int i = 0; i < k.Length; i++) if (k[i] != value[i]) { eq = false; break; }
            if (eq) return k;
        }
        return Encoding.UTF8.GetString(value);
    }

    private static readonly string[][] CommonByLength = Enumerable.Range(0, 64)
        .Select(n => CommonNames.Where(c => c.Length == n).ToArray()).ToArray();

    /// <summary>Header names repeat on every message: reuse the common ones instead of allocating.</summary>
    internal static string Name(ReadOnlySpan<byte> name)
    {
        // Names are token characters (ASCII), so Common's UTF-8 fallback decodes them as ASCII would.
        return name.Length < CommonByLength.Length ? Common(name, CommonByLength[name.Length]) : Encoding.ASCII.GetString(name);
    }
}
