using System.Buffers;
using System.Text;
using static Sensor.Http.HttpHeadParser;

namespace Sensor.Http.Tests;

public class HttpHeadParserTests
{
    private const int MaxHead = 64 * 1024;

    private static Result Parse(string s, bool isRequest, out HttpHead? head, out long consumed, int maxHead = MaxHead) =>
        TryParse(new ReadOnlySequence<byte>(Bytes.Ascii(s)), isRequest, maxHead, out head, out consumed);

    private static HttpHead ParseOk(string s, bool isRequest)
    {
        var r = Parse(s, isRequest, out var head, out long consumed);
        Assert.Equal(Result.Ok, r);
        Assert.NotNull(head);
        Assert.Equal(head!.HeadBytes, consumed);
        return head;
    }

    /// <summary>Everything observable about one parse, for comparing single- and multi-segment input.</summary>
    private static string Describe(Result r, HttpHead? h, long consumed)
    {
        var sb = new StringBuilder($"{r} consumed={consumed}");
        if (h == null) return sb.Append(" head=null").ToString();
        sb.Append($" req={h.IsRequest} m={h.Method} t={h.Target} st={h.Status} reason={h.Reason} v={h.Version} cl={h.ContentLength}")
          .Append($" chunked={h.Chunked} otherTe={h.OtherTransferCoding} ce={h.ContentEncoding} ct={h.ContentType} host={h.Host}")
          .Append($" close={h.ConnectionClose} upg={h.HasUpgrade} bad={h.BadLines} conflict={h.ConflictingLength} hb={h.HeadBytes}")
          .Append(" raw=").Append(h.RawHeaders.Replace("\r", "\\r").Replace("\n", "\\n"));
        foreach (var x in h.Headers) sb.Append($" [{x.Name}={x.Value}]");
        return sb.ToString();
    }

    private static string Describe(in ReadOnlySequence<byte> seq, bool isRequest, int maxHead)
    {
        var r = TryParse(seq, isRequest, maxHead, out var h, out long consumed);
        return Describe(r, h, consumed);
    }

    // ---- start lines ----

    [Fact]
    public void Parses_a_request_head()
    {
        const string s = "GET /index.html?x=1&y=%20 HTTP/1.1\r\nHost: example.com\r\nAccept: */*\r\nUser-Agent: t/1.0\r\n\r\nBODY";
        var h = ParseOk(s, true);
        Assert.True(h.IsRequest);
        Assert.Equal("GET", h.Method);
        Assert.Equal("/index.html?x=1&y=%20", h.Target);
        Assert.Equal("HTTP/1.1", h.Version);
        Assert.Equal("example.com", h.Host);
        Assert.Equal(s.Length - 4, h.HeadBytes);                     // the body is not consumed
        Assert.Equal(3, h.Headers.Count);
        Assert.Equal(new HttpHeader("Accept", "*/*"), h.Headers[1]);
        Assert.Equal("t/1.0", h.Get("user-agent"));
        Assert.Null(h.Get("Cookie"));
        Assert.Equal(-1, h.ContentLength);
        Assert.False(h.Chunked);
        Assert.False(h.BadLines);
        Assert.StartsWith("Host: example.com\r\nAccept: */*\r\nUser-Agent: t/1.0\r\n", h.RawHeaders);
        Assert.DoesNotContain("GET", h.RawHeaders);
        Assert.DoesNotContain("BODY", h.RawHeaders);
    }

    [Theory]
    [InlineData("POST", "/api/v1/users")]
    [InlineData("OPTIONS", "*")]
    [InlineData("CONNECT", "api.example.com:443")]
    [InlineData("GET", "http://example.com/a/b?c=d")]
    [InlineData("M-SEARCH", "*")]
    [InlineData("get", "/lower")]
    [InlineData("PROPFIND", "/dav/")]
    public void Accepts_methods_and_target_forms(string method, string target)
    {
        var h = ParseOk($"{method} {target} HTTP/1.1\r\n\r\n", true);
        Assert.Equal(method, h.Method);
        Assert.Equal(target, h.Target);
    }

    [Fact]
    public void Accepts_bare_lf_line_endings_and_http_1_0()
    {
        const string head = "GET / HTTP/1.0\nHost: a\nX: y\n\n";
        var h = ParseOk(head + "tail", true);
        Assert.Equal("HTTP/1.0", h.Version);
        Assert.Equal("a", h.Host);
        Assert.Equal("y", h.Get("X"));
        Assert.Equal(head.Length, h.HeadBytes);
    }

    [Fact]
    public void Request_target_is_utf8()
    {
        var bytes = Bytes.Cat("GET /caf"u8.ToArray(), [0xC3, 0xA9], " HTTP/1.1\r\n\r\n"u8.ToArray());
        Assert.Equal(Result.Ok, TryParse(new ReadOnlySequence<byte>(bytes), true, MaxHead, out var h, out _));
        Assert.Equal("/café", h!.Target);
    }

    [Theory]
    [InlineData("HTTP/1.1 200 OK", 200, "OK", "HTTP/1.1")]
    [InlineData("HTTP/1.1 404 Not Found", 404, "Not Found", "HTTP/1.1")]
    [InlineData("HTTP/1.0 500 Internal  Server Error ", 500, "Internal  Server Error ", "HTTP/1.0")]
    [InlineData("HTTP/1.1 204", 204, "", "HTTP/1.1")]
    [InlineData("HTTP/1.1 204 ", 204, "", "HTTP/1.1")]
    [InlineData("HTTP/1.1 101 Switching Protocols", 101, "Switching Protocols", "HTTP/1.1")]
    [InlineData("HTTP/1.1 999 Custom", 999, "Custom", "HTTP/1.1")]
    public void Parses_status_lines(string line, int status, string reason, string version)
    {
        var h = ParseOk(line + "\r\nContent-Length: 0\r\n\r\n", false);
        Assert.False(h.IsRequest);
        Assert.Equal(status, h.Status);
        Assert.Equal(reason, h.Reason);
        Assert.Equal(version, h.Version);
        Assert.Equal(0, h.ContentLength);
    }

    [Theory]
    [InlineData("\u0016\u0003\u0001\u0002\u0000\u0001\u0000\u0001\u00fc\u0003\u0003", true)]   // TLS ClientHello
    [InlineData("\u0016\u0003\u0003\u0000\u007a\u0002\u0000\u0000\u0076\u0003\u0003", false)]  // TLS ServerHello
    [InlineData("SSH-2.0-OpenSSH_9.6\r\n", true)]
    [InlineData("\u0000\u0000\u0000\u0001", true)]
    [InlineData("{\"json\":true}", true)]
    [InlineData("<html>", false)]
    [InlineData("HTTX/1.1 200 OK", false)]
    [InlineData("http/1.1 200 OK", false)]
    [InlineData("GET", false)]
    [InlineData("ABCDEFGHIJKLMNOPQRSTUVWXYZABCDEFGHIJ", true)]   // more than 32 method characters
    [InlineData("G3T / HTTP/1.1", true)]
    [InlineData(" GET / HTTP/1.1", true)]
    public void Garbage_start_is_invalid_at_once(string s, bool isRequest)
    {
        Assert.Equal(Result.Invalid, Parse(s, isRequest, out var h, out long consumed));
        Assert.Null(h);
        Assert.Equal(0, consumed);
    }

    [Theory]
    [InlineData("GET /\r\n\r\n", true)]                        // no version
    [InlineData("GET HTTP/1.1\r\n\r\n", true)]                 // no target
    [InlineData("GET  HTTP/1.1\r\n\r\n", true)]                // empty target
    [InlineData("GET / HTTP/1.1 \r\n\r\n", true)]              // trailing space
    [InlineData("GET / HTTP/11\r\n\r\n", true)]
    [InlineData("GET / HTTP/1.x\r\n\r\n", true)]
    [InlineData("GET / http/1.1\r\n\r\n", true)]
    [InlineData("GET /a\u0001b HTTP/1.1\r\n\r\n", true)]       // control character in the target
    [InlineData("GET /a\u007fb HTTP/1.1\r\n\r\n", true)]
    [InlineData("G{T / HTTP/1.1\r\n\r\n", true)]
    [InlineData("hello world, this is not http\r\n\r\n", true)]
    [InlineData("\r\n", true)]
    [InlineData("HTTP/1.1 2x0 OK\r\n\r\n", false)]
    [InlineData("HTTP/1.1 20 OK\r\n\r\n", false)]
    [InlineData("HTTP/1.1 2000 OK\r\n\r\n", false)]
    [InlineData("HTTP/1.1  200 OK\r\n\r\n", false)]
    [InlineData("HTTP/1.1\r\n\r\n", false)]
    [InlineData("HTTP/1.1 200OK\r\n\r\n", false)]
    [InlineData("HTTP/1 200 OK\r\n\r\n", false)]
    [InlineData("GET / HTTP/1.1\r\n\r\n", false)]              // a request where a response is expected
    [InlineData("HTTP/1.1 200 OK\r\n\r\n", true)]              // and the other way round
    public void Bad_start_lines_are_invalid(string s, bool isRequest)
    {
        Assert.Equal(Result.Invalid, Parse(s, isRequest, out var h, out long consumed));
        Assert.Null(h);
        Assert.Equal(0, consumed);
    }

    [Fact]
    public void Overlong_start_line_is_invalid_with_or_without_newline()
    {
        string target = "/" + new string('a', MaxStartLine + 10);
        Assert.Equal(Result.Invalid, Parse("GET " + target, true, out _, out _));
        Assert.Equal(Result.Invalid, Parse("GET " + target + " HTTP/1.1\r\n\r\n", true, out _, out _));
        // Just below the limit a start line is fine.
        string ok = "/" + new string('a', MaxStartLine - 20);
        Assert.Equal(Result.NeedMore, Parse("GET " + ok, true, out _, out _));
        Assert.Equal(Result.Ok, Parse("GET " + ok + " HTTP/1.1\r\n\r\n", true, out _, out _));
    }

    // ---- headers ----

    [Fact]
    public void Header_values_are_trimmed_and_names_keep_their_case()
    {
        var h = ParseOk("GET / HTTP/1.1\r\nX-A:   spaced  \r\nx-b:\tTabbed\t\r\nX-Empty:\r\nX-Colon: a:b:c\r\n\r\n", true);
        Assert.Equal(["X-A", "x-b", "X-Empty", "X-Colon"], h.Headers.Select(x => x.Name));
        Assert.Equal(["spaced", "Tabbed", "", "a:b:c"], h.Headers.Select(x => x.Value));
        Assert.False(h.BadLines);
    }

    [Fact]
    public void Obs_fold_continues_the_previous_value()
    {
        var h = ParseOk("GET / HTTP/1.1\r\nX-Long: first\r\n  second\r\n\tthird\r\nHost: h\r\n\r\n", true);
        Assert.Equal("first second third", h.Get("X-Long"));
        Assert.Equal("h", h.Host);
        Assert.Equal(2, h.Headers.Count);
        Assert.False(h.BadLines);
    }

    [Fact]
    public void Obs_fold_before_any_header_is_a_bad_line()
    {
        var h = ParseOk("GET / HTTP/1.1\r\n  orphan continuation\r\nHost: h\r\n\r\n", true);
        Assert.True(h.BadLines);
        Assert.Equal("h", h.Host);
        Assert.Single(h.Headers);
    }

    [Theory]
    [InlineData("NoColonHere")]
    [InlineData(": empty name")]
    [InlineData("Bad Name: space in name")]
    [InlineData("Host : space before colon")]
    [InlineData("X(y): separator in name")]
    [InlineData("X\u0001: control in name")]
    [InlineData("Näme: non-ascii")]
    public void Bad_header_lines_are_flagged_and_skipped(string bad)
    {
        var bytes = Encoding.UTF8.GetBytes($"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n{bad}\r\nContent-Type: text/plain\r\n\r\n");
        Assert.Equal(Result.Ok, TryParse(new ReadOnlySequence<byte>(bytes), false, MaxHead, out var h, out long consumed));
        Assert.Equal(bytes.Length, consumed);
        Assert.True(h!.BadLines);
        Assert.Equal(5, h.ContentLength);
        Assert.Equal("text/plain", h.ContentType);
        Assert.Equal(2, h.Headers.Count);
    }

    [Theory]
    [InlineData("Content-Length: 42", 42, false)]
    [InlineData("Content-Length: 0", 0, false)]
    [InlineData("content-length:    7   ", 7, false)]
    [InlineData("Content-Length: 10, 10", 10, false)]
    [InlineData("Content-Length: 10,10 , 10", 10, false)]
    [InlineData("Content-Length: 10\r\nContent-Length: 10", 10, false)]
    [InlineData("Content-Length: 10, 20", 10, true)]
    [InlineData("Content-Length: 10\r\nContent-Length: 11", 10, true)]
    [InlineData("Content-Length: abc", -1, true)]
    [InlineData("Content-Length: -5", -1, true)]
    [InlineData("Content-Length: +5", -1, true)]
    [InlineData("Content-Length: 5 5", -1, true)]
    [InlineData("Content-Length: 0x10", -1, true)]
    [InlineData("Content-Length: 99999999999999999999999", -1, true)]
    [InlineData("Content-Length: 9223372036854775807", long.MaxValue, false)]
    public void Content_length_lists_and_conflicts(string header, long length, bool conflict)
    {
        var h = ParseOk($"POST /x HTTP/1.1\r\n{header}\r\n\r\n", true);
        Assert.Equal(length, h.ContentLength);
        Assert.Equal(conflict, h.ConflictingLength);
    }

    [Theory]
    [InlineData("Transfer-Encoding: chunked", true, false)]
    [InlineData("Transfer-Encoding: Chunked", true, false)]
    [InlineData("transfer-encoding:  CHUNKED ", true, false)]
    [InlineData("Transfer-Encoding: gzip, chunked", true, true)]
    [InlineData("Transfer-Encoding: chunked, gzip", false, true)]
    [InlineData("Transfer-Encoding: gzip", false, true)]
    [InlineData("Transfer-Encoding: identity", false, true)]
    [InlineData("Transfer-Encoding: gzip\r\nTransfer-Encoding: chunked", true, true)]
    [InlineData("Transfer-Encoding: ,", false, false)]
    public void Transfer_encoding(string header, bool chunked, bool other)
    {
        var h = ParseOk($"HTTP/1.1 200 OK\r\n{header}\r\n\r\n", false);
        Assert.Equal(chunked, h.Chunked);
        Assert.Equal(other, h.OtherTransferCoding);
    }

    [Fact]
    public void Chunked_and_content_length_are_both_reported()
    {
        var h = ParseOk("POST / HTTP/1.1\r\nContent-Length: 30\r\nTransfer-Encoding: chunked\r\n\r\n", true);
        Assert.True(h.Chunked);
        Assert.Equal(30, h.ContentLength);
    }

    [Fact]
    public void Interprets_semantic_headers()
    {
        var h = ParseOk("HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Encoding: br\r\nContent-Type: application/json\r\n" +
            "Content-Type: text/html\r\nConnection: keep-alive, Close\r\nUpgrade: websocket\r\n\r\n", false);
        Assert.Equal("gzip, br", h.ContentEncoding);
        Assert.Equal("application/json", h.ContentType);     // first one wins
        Assert.True(h.ConnectionClose);
        Assert.True(h.HasUpgrade);

        var h2 = ParseOk("GET / HTTP/1.1\r\nHost: first\r\nHost: second\r\nConnection: keep-alive\r\n\r\n", true);
        Assert.Equal("first", h2.Host);
        Assert.False(h2.ConnectionClose);
        Assert.False(h2.HasUpgrade);
        Assert.Null(h2.ContentEncoding);
    }

    // ---- incomplete and oversized heads ----

    public static TheoryData<string, bool> CompleteHeads => new()
    {
        { "GET /a/b?c=d HTTP/1.1\r\nHost: example.com\r\nAccept: application/json\r\nX-Fold: a\r\n b\r\n\r\n", true },
        { "POST /upload HTTP/1.1\r\nHost: h\r\nContent-Length: 10, 10\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", true },
        { "HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: 1234\r\nBad Line\r\n\r\n", false },
        { "HTTP/1.0 304 Not Modified\nETag: \"abc\"\n\n", false },
        { "HTTP/1.1 204\r\n\r\n", false },
    };

    [Theory]
    [MemberData(nameof(CompleteHeads))]
    public void Every_strict_prefix_of_a_head_needs_more(string s, bool isRequest)
    {
        var bytes = Bytes.Ascii(s);
        Assert.Equal(Result.Ok, TryParse(new ReadOnlySequence<byte>(bytes), isRequest, MaxHead, out _, out long consumed));
        Assert.Equal(bytes.Length, consumed);
        for (int n = 0; n < bytes.Length; n++)
        {
            var r = TryParse(new ReadOnlySequence<byte>(bytes, 0, n), isRequest, MaxHead, out var h, out long c);
            Assert.True(r == Result.NeedMore, $"prefix {n}: {r}");
            Assert.Null(h);
            Assert.Equal(0, c);
        }
    }

    [Fact]
    public void Head_over_the_limit_is_too_large_complete_or_not()
    {
        string head = "GET / HTTP/1.1\r\n" + string.Concat(Enumerable.Range(0, 20).Select(i => $"X-Header-{i}: {new string('v', 40)}\r\n")) + "\r\n";
        int len = head.Length;
        Assert.Equal(Result.Ok, Parse(head, true, out _, out long consumed, maxHead: len));
        Assert.Equal(len, consumed);
        Assert.Equal(Result.TooLarge, Parse(head, true, out var h, out consumed, maxHead: len - 1));
        Assert.Null(h);
        Assert.Equal(0, consumed);
        Assert.Equal(Result.TooLarge, Parse(head, true, out _, out _, maxHead: 100));
        // Incomplete but already over the limit: no point waiting for the rest.
        Assert.Equal(Result.TooLarge, Parse(head[..(len - 30)], true, out _, out _, maxHead: 100));
        Assert.Equal(Result.NeedMore, Parse(head[..(len - 30)], true, out _, out _, maxHead: len));
    }

    [Fact]
    public void Never_ending_headers_become_too_large_without_a_newline()
    {
        string s = "HTTP/1.1 200 OK\r\nX-Big: " + new string('x', 5000);
        Assert.Equal(Result.TooLarge, Parse(s, false, out _, out _, maxHead: 4096));
        Assert.Equal(Result.NeedMore, Parse(s, false, out _, out _, maxHead: 8192));
    }

    // ---- multi-segment input ----

    public static TheoryData<string, bool, int> SplitCases => new()
    {
        // complete heads (with trailing body bytes that must not be consumed)
        { "GET /a/b?c=d HTTP/1.1\r\nHost: example.com\r\nAccept: application/json\r\nX-Fold: a\r\n \tb\r\nContent-Length: 3\r\n\r\nabc", true, MaxHead },
        { "POST /upload HTTP/1.1\r\nHost: h\r\nContent-Length: 10, 20\r\nTransfer-Encoding: gzip, chunked\r\nConnection: Upgrade, close\r\nUpgrade: h2c\r\n\r\n", true, MaxHead },
        { "HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: 1234\r\nContent-Encoding: gzip\r\nBad Line\r\n  fold\r\n\r\n<html>", false, MaxHead },
        { "HTTP/1.0 304 Not Modified\nETag: \"abc\"\n\n", false, MaxHead },
        { "HTTP/1.1 204\r\n\r\n", false, MaxHead },
        { "GET / HTTP/1.1\r\n\r\n", true, MaxHead },
        // incomplete
        { "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 12\r\n", false, MaxHead },
        { "GET /no/newline/yet HTTP/1.1", true, MaxHead },
        { "DELETE /items/42 HTTP/1.1\r\nHost: x\r\n\r", true, MaxHead },
        // invalid
        { "HTTP/1.1 2x0 OK\r\nContent-Length: 0\r\n\r\n", false, MaxHead },
        { "GET /x HTTP/1.1\r\nHost: x\r\n\r\n", false, MaxHead },
        { "\u0016\u0003\u0001\u0000\u00a5\u0001\u0000\u0000\u00a1\u0003\u0003 random tls-ish bytes and a newline\n", true, MaxHead },
        { "<!DOCTYPE html><html><body>not a status line at all, just a body fragment</body></html>\r\n", false, MaxHead },
        // too large
        { "GET /big HTTP/1.1\r\nX-A: 0123456789012345678901234567890123456789\r\nX-B: 0123456789012345678901234567890123456789\r\n\r\n", true, 80 },
        { "GET /big HTTP/1.1\r\nX-A: 0123456789012345678901234567890123456789\r\nX-B: 0123456789", true, 60 },
    };

    [Theory]
    [MemberData(nameof(SplitCases))]
    public void Two_segments_split_at_every_offset_parse_like_one(string s, bool isRequest, int maxHead)
    {
        var bytes = Bytes.Ascii(s);
        string expected = Describe(new ReadOnlySequence<byte>(bytes), isRequest, maxHead);
        for (int i = 0; i <= bytes.Length; i++)
            Assert.Equal(expected, Describe(Chunk.Split(bytes, i), isRequest, maxHead));
    }

    [Theory]
    [MemberData(nameof(SplitCases))]
    public void Three_segments_split_at_every_pair_of_offsets_parse_like_one(string s, bool isRequest, int maxHead)
    {
        var bytes = Bytes.Ascii(s);
        string expected = Describe(new ReadOnlySequence<byte>(bytes), isRequest, maxHead);
        for (int i = 1; i < bytes.Length; i++)
            for (int j = i + 1; j < bytes.Length; j++)
                Assert.Equal(expected, Describe(Chunk.Split(bytes, i, j), isRequest, maxHead));
    }

    [Theory]
    [MemberData(nameof(SplitCases))]
    public void One_byte_segments_and_empty_segments_parse_like_one(string s, bool isRequest, int maxHead)
    {
        var bytes = Bytes.Ascii(s);
        string expected = Describe(new ReadOnlySequence<byte>(bytes), isRequest, maxHead);
        Assert.Equal(expected, Describe(Chunk.Bytewise(bytes), isRequest, maxHead));
        // Empty segments between every byte, and at both ends.
        var withEmpty = new List<byte[]> { Array.Empty<byte>() };
        foreach (var b in bytes) { withEmpty.Add([b]); withEmpty.Add([]); }
        Assert.Equal(expected, Describe(Chunk.Sequence([.. withEmpty]), isRequest, maxHead));
    }

    [Theory]
    [MemberData(nameof(SplitCases))]
    public void Multi_segment_input_that_starts_mid_sequence_parses_like_one(string s, bool isRequest, int maxHead)
    {
        // The caller may hand over a slice of a bigger sequence (after earlier messages were consumed).
        var bytes = Bytes.Ascii(s);
        string expected = Describe(new ReadOnlySequence<byte>(bytes), isRequest, maxHead);
        var prefix = Bytes.Ascii("HTTP/1.1 200 OK\r\n\r\n");
        var all = Bytes.Cat(prefix, bytes);
        for (int i = 1; i < all.Length; i += 3)
        {
            var seq = Chunk.Split(all, i).Slice(prefix.Length);
            Assert.Equal(expected, Describe(seq, isRequest, maxHead));
        }
    }

    [Fact]
    public void Head_split_into_many_segments_parses_fields()
    {
        var bytes = Bytes.Ascii("HTTP/1.1 206 Partial Content\r\nContent-Range: bytes 0-9/100\r\nContent-Length: 10\r\n\r\n0123456789");
        var seq = Chunk.Split(bytes, 3, 9, 14, 30, 31, 60, 70);
        Assert.Equal(Result.Ok, TryParse(seq, false, MaxHead, out var h, out long consumed));
        Assert.Equal(bytes.Length - 10, consumed);
        Assert.Equal(206, h!.Status);
        Assert.Equal("Partial Content", h.Reason);
        Assert.Equal("bytes 0-9/100", h.Get("Content-Range"));
        Assert.Equal(10, h.ContentLength);
    }

    // ---- helpers used by the readers ----

    [Theory]
    [InlineData("GET", true, true)]
    [InlineData("GET /", true, true)]
    [InlineData("", true, true)]
    [InlineData("", false, true)]
    [InlineData("H", false, true)]
    [InlineData("HTTP/1.1 2", false, true)]
    [InlineData("HTT", false, true)]
    [InlineData("HTX", false, false)]
    [InlineData("GET/", true, false)]
    [InlineData("\u0016\u0003", true, false)]
    [InlineData(" GET", true, false)]
    public void Plausible_start(string s, bool isRequest, bool plausible) =>
        Assert.Equal(plausible, PlausibleStart(Bytes.Ascii(s), isRequest));

    [Fact]
    public void Token_characters()
    {
        foreach (char c in "!#$%&'*+-.^_`|~azAZ09") Assert.True(IsTokenChar((byte)c), c.ToString());
        foreach (char c in "()<>@,;:\\\"/[]?={} \t\u0000\u007f\u0080") Assert.False(IsTokenChar((byte)c), ((int)c).ToString());
    }
}

public class HttpHeadValuesTests
{
    private static HttpHead Parse(string s)
    {
        Assert.Equal(HttpHeadParser.Result.Ok, HttpHeadParser.TryParse(Encoding.ASCII.GetBytes(s), true, 65536, out var head, out _));
        return head!;
    }

    [Fact]
    public void Names_and_values_are_read_once_and_lowered()
    {
        var h = Parse("GET / HTTP/1.1\r\nX-Api-Key: k1\r\nAccept: a\r\n\r\n");
        Assert.Same(h.ValueAt(0), h.ValueAt(0));
        Assert.Equal("x-api-key", h.LowerNameAt(0));
        Assert.Equal("X-Api-Key", h.NameAt(0));
        Assert.Throws<ArgumentOutOfRangeException>(() => h.ValueAt(2));
    }

    [Fact]
    public void Lowered_names_have_one_id_per_name_on_every_thread()
    {
        var longName = "X-" + new string('Q', 60);   // past the inline slot: lowered by the string table, no id
        var h = Parse($"GET / HTTP/1.1\r\nAuthorization: a\r\nx-custom-thing: b\r\nX-CUSTOM-THING: c\r\n{longName}: d\r\n\r\n");
        Assert.Equal(["authorization", "x-custom-thing", "x-custom-thing", longName.ToLowerInvariant()], Enumerable.Range(0, 4).Select(h.LowerNameAt));
        Assert.Same(h.LowerNameAt(1), h.LowerNameAt(2));
        Assert.True(h.NameIdAt(0) > 0);
        Assert.Equal(h.NameIdAt(1), h.NameIdAt(2));
        Assert.NotEqual(h.NameIdAt(0), h.NameIdAt(1));
        Assert.Equal(0, h.NameIdAt(3));
        Assert.Equal(0, h.NameIdAt(9));
        // Another thread lowers with its own tables, to the same ids.
        int[] other = [];
        var thread = new Thread(() => { var o = Parse("GET / HTTP/1.1\r\nX-Custom-Thing: z\r\nauthorization: y\r\n\r\n"); other = [o.NameIdAt(0), o.NameIdAt(1)]; });
        thread.Start();
        thread.Join();
        Assert.Equal([h.NameIdAt(1), h.NameIdAt(0)], other);
    }

    [Fact]
    public void Names_of_every_length_lower_to_themselves_and_never_to_a_near_twin()
    {
        // Twins differ only in the last byte, or only in a middle word: the cache of names as sent must tell them apart.
        var names = new List<string>();
        for (int len = 1; len <= 45; len++)
        {
            var a = new string('A', len).ToCharArray();
            names.Add(new string(a));
            a[^1] = 'B';
            names.Add(new string(a));
            if (len > 12) { a[^1] = 'A'; a[9] = 'C'; names.Add(new string(a)); }
        }
        for (int round = 0; round < 3; round++)
            foreach (var chunk in names.Chunk(20))
            {
                var h = Parse("GET / HTTP/1.1\r\n" + string.Concat(chunk.Select(n => n + ": v\r\n")) + "\r\n");
                Assert.Equal(chunk.Select(n => n.ToLowerInvariant()), Enumerable.Range(0, h.FieldCount).Select(h.LowerNameAt));
            }
    }

    [Fact]
    public void WithValues_replaces_only_the_given_values()
    {
        var h = Parse("GET / HTTP/1.1\r\nA: one\r\nB:  two  \r\nC: three\r\n\r\n");
        var raw = h.RawHeaders;
        var s = Encoding.UTF8.GetString(h.WithValues([(0, "1"), (2, "ü")]));
        Assert.Equal(raw.Replace("A: one", "A: 1").Replace("C: three", "C: ü"), s);
    }

    [Fact]
    public void WithValues_replaces_a_folded_value_with_its_continuation_lines()
    {
        var h = Parse("GET / HTTP/1.1\r\nX-Long: part1\r\n  part2-secret\r\nAccept: a\r\n\r\n");
        int i = Enumerable.Range(0, h.FieldCount).Single(k => h.NameAt(k) == "X-Long");
        var s = Encoding.UTF8.GetString(h.WithValues([(i, "masked")]));
        Assert.DoesNotContain("secret", s);
        Assert.Contains("X-Long: masked\r\nAccept: a", s);
    }
}

public class BodyHashTests
{
    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(55)]
    [InlineData(64)]
    [InlineData(300)]
    [InlineData(100_000)]
    public void Native_sha256_equals_the_framework(int length)
    {
        var data = new byte[length];
        new Random(length).NextBytes(data);
        Assert.Equal(System.Security.Cryptography.SHA256.HashData(data), BodyHash.Sha256(data));
    }
}
