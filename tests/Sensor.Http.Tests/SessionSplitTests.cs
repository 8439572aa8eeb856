using static Sensor.Http.Tests.Bytes;

namespace Sensor.Http.Tests;

/// <summary>
/// Complete HTTP exchanges driven through TcpReassembler + HttpSession. Each flight (a run of bytes one
/// side sends) is cut into two TCP segments at every byte offset; every cut must give exactly the same
/// transactions: method, target, status, decoded body lengths and SHA-256 of the known plaintext, flags.
/// </summary>
public class SessionSplitTests
{
    public sealed record Flight(bool FromClient, byte[] Data, bool Fin = false);

    public sealed record Expected(string Method, string Uri, int? Status, byte[] RequestBody, byte[] ResponseBody,
        bool Complete = true, TransactionFlags Flags = TransactionFlags.None, int Interim = 0,
        long? RequestWire = null, long? ResponseWire = null);

    public sealed record Exchange(Flight[] Flights, Expected[] Expect, long TunnelBytes = 0);

    private static Flight C(byte[] data, bool fin = false) => new(true, data, fin);
    private static Flight C(string s, bool fin = false) => new(true, Ascii(s), fin);
    private static Flight S(byte[] data, bool fin = false) => new(false, data, fin);
    private static Flight S(string s, bool fin = false) => new(false, Ascii(s), fin);
    private static readonly byte[] None = [];

    private static readonly Dictionary<string, Exchange> Cases = BuildCases();

    public static TheoryData<string> CaseNames()
    {
        var d = new TheoryData<string>();
        foreach (var k in Cases.Keys) d.Add(k);
        return d;
    }

    private static Dictionary<string, Exchange> BuildCases()
    {
        var cases = new Dictionary<string, Exchange>();

        // Content-Length bodies both ways, then a zero-length response on the same connection.
        {
            var req = Text(57, 1);
            var resp = Text(300, 2);
            cases["content-length"] = new(
            [
                C(Cat(Ascii($"POST /api/items?id=7 HTTP/1.1\r\nHost: api.example.com\r\nContent-Type: application/json\r\nContent-Length: {req.Length}\r\n\r\n"), req)),
                S(Cat(Ascii($"HTTP/1.1 201 Created\r\nContent-Type: application/json\r\nContent-Length: {resp.Length}\r\n\r\n"), resp)),
                C("GET /api/items/7 HTTP/1.1\r\nHost: api.example.com\r\n\r\n"),
                S("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"),
            ],
            [
                new("POST", "/api/items?id=7", 201, req, resp),
                new("GET", "/api/items/7", 200, None, None),
            ]);
        }

        // Chunked with extensions (incl. a quoted ';'), upper-case and zero-padded sizes, trailers.
        {
            var reqPlain = Ascii("Wikipedia in\r\n\r\nchunks.");
            var reqWire = Chunked([(Ascii("Wiki"), ";foo=bar"), (Ascii("pedia"), ""), (Ascii(" in\r\n\r\nchunks."), ";q=\"a;b\";x")], "X-Req-Trailer: 1");
            var resp = Text(100, 3);
            var respWire = Cat(
                Ascii("1A; name=\"va;lue\"\r\n"), resp[..26], Ascii("\r\n"),
                Ascii("010;ext\r\n"), resp[26..42], Ascii("\r\n"),
                Ascii($"{resp.Length - 42:X} \t\r\n"), resp[42..], Ascii("\r\n"),
                Ascii("0\r\nX-Checksum: abc\r\nX-Other: 1\r\n\r\n"));
            cases["chunked-extensions-trailers"] = new(
            [
                C(Cat(Ascii("POST /chunked HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"), reqWire)),
                S(Cat(Ascii("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTrailer: X-Checksum\r\n\r\n"), respWire)),
                C("GET /after HTTP/1.1\r\nHost: h\r\n\r\n"),
                S("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nafter"),
            ],
            [
                new("POST", "/chunked", 200, reqPlain, resp, RequestWire: reqPlain.Length, ResponseWire: resp.Length),
                new("GET", "/after", 200, None, Ascii("after")),
            ]);
        }

        // Chunked wins over Content-Length in a request.
        {
            var plain = Text(40, 9);
            cases["chunked-overrides-content-length"] = new(
            [
                C(Cat(Ascii("POST /both HTTP/1.1\r\nHost: h\r\nContent-Length: 999\r\nTransfer-Encoding: chunked\r\n\r\n"), Chunked(plain, 7))),
                S("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"),
                C("GET /next HTTP/1.1\r\n\r\n"),
                S("HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nn"),
            ],
            [
                new("POST", "/both", 200, plain, Ascii("ok")),
                new("GET", "/next", 200, None, Ascii("n")),
            ]);
        }

        // gzip both ways (request body too).
        {
            var reqPlain = Cat(Ascii("{\"items\":["), Text(400, 5), Ascii("]}"));
            var reqGz = Gzip(reqPlain);
            var plain = Cat(Enumerable.Range(0, 40).Select(i => Ascii($"{{\"id\":{i},\"name\":\"item {i}\",\"tags\":[\"a\",\"b\"]}},")).ToArray());
            var gz = Gzip(plain);
            cases["gzip"] = new(
            [
                C(Cat(Ascii($"POST /gz HTTP/1.1\r\nHost: h\r\nContent-Encoding: gzip\r\nContent-Length: {reqGz.Length}\r\n\r\n"), reqGz)),
                S(Cat(Ascii($"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Encoding: gzip\r\nContent-Length: {gz.Length}\r\n\r\n"), gz)),
            ],
            [
                new("POST", "/gz", 200, reqPlain, plain, RequestWire: reqGz.Length, ResponseWire: gz.Length),
            ]);
        }

        // x-gzip inside chunked transfer coding.
        {
            var plain = Text(1500, 6);
            var gz = Gzip(plain);
            cases["gzip-chunked"] = new(
            [
                C("GET /x HTTP/1.1\r\nAccept-Encoding: gzip\r\n\r\n"),
                S(Cat(Ascii("HTTP/1.1 200 OK\r\nContent-Encoding: x-gzip\r\nTransfer-Encoding: chunked\r\n\r\n"), Chunked(gz, 100))),
            ],
            [
                new("GET", "/x", 200, None, plain, ResponseWire: gz.Length),
            ]);
        }

        // deflate as zlib (RFC 1950) and as raw deflate (RFC 1951, sent by some servers under "deflate").
        foreach (var (name, enc) in new (string, Func<byte[], byte[]>)[] { ("deflate-zlib", Zlib), ("deflate-raw", RawDeflate) })
        {
            var plain = Cat(Ascii("<html>"), Text(900, 7), Ascii("</html>"));
            var z = enc(plain);
            cases[name] = new(
            [
                C("GET /page HTTP/1.1\r\nHost: h\r\n\r\n"),
                S(Cat(Ascii($"HTTP/1.1 200 OK\r\nContent-Encoding: deflate\r\nContent-Length: {z.Length}\r\n\r\n"), z)),
                C("GET /2 HTTP/1.1\r\nHost: h\r\n\r\n"),
                S("HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nbye"),
            ],
            [
                new("GET", "/page", 200, None, plain, ResponseWire: z.Length),
                new("GET", "/2", 200, None, Ascii("bye")),
            ]);
        }

        // Brotli, chunked.
        {
            var plain = Cat(Enumerable.Repeat(Text(120, 8), 10).ToArray());
            var br = Brotli(plain);
            cases["brotli"] = new(
            [
                C("GET /br HTTP/1.1\r\nAccept-Encoding: br\r\n\r\n"),
                S(Cat(Ascii("HTTP/1.1 200 OK\r\nContent-Encoding: br\r\nTransfer-Encoding: chunked\r\n\r\n"), Chunked(br, 13))),
            ],
            [
                new("GET", "/br", 200, None, plain, ResponseWire: br.Length),
            ]);
        }

        // HEAD responses carry no body whatever their headers say.
        cases["head"] = new(
        [
            C("HEAD /file.bin HTTP/1.1\r\nHost: h\r\n\r\n"),
            S("HTTP/1.1 200 OK\r\nContent-Length: 1234\r\nContent-Type: application/octet-stream\r\n\r\n"),
            C("HEAD /chunked HTTP/1.1\r\nHost: h\r\n\r\n"),
            S("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"),
            C("GET /next HTTP/1.1\r\nHost: h\r\n\r\n"),
            S("HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nnext"),
        ],
        [
            new("HEAD", "/file.bin", 200, None, None),
            new("HEAD", "/chunked", 200, None, None),
            new("GET", "/next", 200, None, Ascii("next")),
        ]);

        // 204 and 304 have no body (304 with a Content-Length of the representation).
        cases["204-304"] = new(
        [
            C("DELETE /items/1 HTTP/1.1\r\nHost: h\r\n\r\n"),
            S("HTTP/1.1 204 No Content\r\nServer: x\r\n\r\n"),
            C("GET /items HTTP/1.1\r\nHost: h\r\nIf-None-Match: \"v1\"\r\n\r\n"),
            S("HTTP/1.1 304 Not Modified\r\nETag: \"v1\"\r\nContent-Length: 500\r\n\r\n"),
            C("GET /c HTTP/1.1\r\nHost: h\r\n\r\n"),
            S("HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\ndone"),
        ],
        [
            new("DELETE", "/items/1", 204, None, None),
            new("GET", "/items", 304, None, None),
            new("GET", "/c", 200, None, Ascii("done")),
        ]);

        // Expect: 100-continue, the body sent after the interim response.
        {
            var body = Text(200, 10);
            cases["100-continue"] = new(
            [
                C($"POST /upload HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: {body.Length}\r\n\r\n"),
                S("HTTP/1.1 100 Continue\r\n\r\n"),
                C(body),
                S("HTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok"),
            ],
            [
                new("POST", "/upload", 201, body, Ascii("ok"), Flags: TransactionFlags.Interim, Interim: 1),
            ]);
        }

        // Two 103 Early Hints before the final response.
        {
            var html = Ascii("<!doctype html><html><head><link rel=stylesheet href=/style.css></head><body>hi</body></html>");
            cases["103-early-hints"] = new(
            [
                C("GET /page HTTP/1.1\r\nHost: h\r\n\r\n"),
                S(Cat(Ascii("HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload; as=style\r\n\r\n" +
                            "HTTP/1.1 103 Early Hints\r\nLink: </app.js>; rel=preload; as=script\r\n\r\n" +
                            $"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: {html.Length}\r\n\r\n"), html)),
            ],
            [
                new("GET", "/page", 200, None, html, Flags: TransactionFlags.Interim, Interim: 2),
            ]);
        }

        // Three pipelined requests in one flight, three responses in one flight.
        cases["pipelined-3"] = new(
        [
            C("GET /1 HTTP/1.1\r\nHost: h\r\n\r\nPOST /2 HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\nabcGET /3 HTTP/1.1\r\nHost: h\r\n\r\n"),
            S("HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\none" +
              "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\ntwo\r\n0\r\n\r\n" +
              "HTTP/1.1 404 Not Found\r\nContent-Length: 6\r\n\r\nthree!"),
        ],
        [
            new("GET", "/1", 200, None, Ascii("one")),
            new("POST", "/2", 200, Ascii("abc"), Ascii("two"), Flags: TransactionFlags.Pipelined),
            new("GET", "/3", 404, None, Ascii("three!"), Flags: TransactionFlags.Pipelined),
        ]);

        // 101 Switching Protocols: what follows is not HTTP even when it looks like it.
        {
            var serverAfter = Ascii("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n\u0081\u0005hello");
            var clientAfter = Ascii("GET /smuggled HTTP/1.1\r\nHost: h\r\n\r\n");
            var serverLater = Ascii("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nno");
            cases["upgrade-101"] = new(
            [
                C("GET /chat HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"),
                S(Cat(Ascii("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n"), serverAfter)),
                C(clientAfter),
                S(serverLater),
            ],
            [
                new("GET", "/chat", 101, None, None, Flags: TransactionFlags.Upgrade),
            ],
            TunnelBytes: serverAfter.Length + clientAfter.Length + serverLater.Length);
        }

        // An Upgrade the server declines: HTTP goes on.
        cases["upgrade-declined"] = new(
        [
            C("GET /h2 HTTP/1.1\r\nHost: h\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\n\r\n"),
            S("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nplain"),
            C("GET /next HTTP/1.1\r\nHost: h\r\n\r\n"),
            S("HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nn"),
        ],
        [
            new("GET", "/h2", 200, None, Ascii("plain")),
            new("GET", "/next", 200, None, Ascii("n")),
        ]);

        // CONNECT: after the 2xx both directions are an opaque tunnel.
        {
            var c2 = Cat(Ascii("GET /secret HTTP/1.1\r\nHost: api.example.com\r\n\r\n"), [0x16, 0x03, 0x01, 0x00, 0x05, 1, 2, 3, 4, 5]);
            var s2 = Ascii("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi");
            cases["connect-tunnel"] = new(
            [
                C("CONNECT api.example.com:443 HTTP/1.1\r\nHost: api.example.com:443\r\nProxy-Authorization: Basic YTpi\r\n\r\n"),
                S("HTTP/1.1 200 Connection established\r\n\r\n"),
                C(c2),
                S(s2),
            ],
            [
                new("CONNECT", "api.example.com:443", 200, None, None, Flags: TransactionFlags.Tunnel),
            ],
            TunnelBytes: c2.Length + s2.Length);
        }

        // A refused CONNECT leaves the connection in HTTP.
        cases["connect-refused"] = new(
        [
            C("CONNECT api.example.com:443 HTTP/1.1\r\nHost: api.example.com:443\r\n\r\n"),
            S("HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm=\"p\"\r\nContent-Length: 6\r\n\r\ndenied"),
            C("GET http://plain.example.com/x?y=1 HTTP/1.1\r\nHost: plain.example.com\r\n\r\n"),
            S("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nplain"),
        ],
        [
            new("CONNECT", "api.example.com:443", 407, None, Ascii("denied")),
            new("GET", "http://plain.example.com/x?y=1", 200, None, Ascii("plain")),
        ]);

        // No length, no chunking: the body runs until the server's FIN.
        {
            var body = Text(500, 11);
            cases["close-delimited"] = new(
            [
                C("GET /stream HTTP/1.0\r\nHost: h\r\n\r\n"),
                S(Cat(Ascii("HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\n"), body), fin: true),
            ],
            [
                new("GET", "/stream", 200, None, body),
            ]);
        }

        // Folded and malformed header lines: flagged, but the message is still framed correctly.
        cases["bad-headers"] = new(
        [
            C("GET /bad HTTP/1.1\r\nHost: h\r\nBroken header line\r\n\r\n"),
            S("HTTP/1.1 200 OK\r\nX-Folded: a\r\n b\r\nContent-Length: 3\r\nNo Colon\r\n\r\nabc"),
            C("GET /good HTTP/1.1\r\nHost: h\r\n\r\n"),
            S("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"),
        ],
        [
            new("GET", "/bad", 200, None, Ascii("abc"), Flags: TransactionFlags.BadHeader),
            new("GET", "/good", 200, None, None),
        ]);

        // Unknown content coding: kept as sent and flagged.
        {
            var body = Text(64, 12);
            cases["unknown-encoding"] = new(
            [
                C("GET /z HTTP/1.1\r\n\r\n"),
                S(Cat(Ascii($"HTTP/1.1 200 OK\r\nContent-Encoding: zstd\r\nContent-Length: {body.Length}\r\n\r\n"), body)),
            ],
            [
                new("GET", "/z", 200, None, body, Flags: TransactionFlags.UnknownEncoding),
            ]);
        }

        return cases;
    }

    private static HttpHarness Run(Exchange ex, int split, HttpOptions? opt = null)
    {
        var h = new HttpHarness(opt);
        h.Handshake();
        foreach (var f in ex.Flights)
        {
            if (split <= 0 || split >= f.Data.Length)
            {
                Send(h, f.FromClient, f.Data, f.Fin);
            }
            else
            {
                Send(h, f.FromClient, f.Data[..split], false);
                Send(h, f.FromClient, f.Data[split..], f.Fin);
            }
        }
        h.Close();
        return h;

        static void Send(HttpHarness h, bool client, byte[] data, bool fin)
        {
            if (client) h.Client(data, fin); else h.Server(data, fin);
        }
    }

    private static void Check(Exchange ex, HttpHarness h, string what)
    {
        Assert.True(ex.Expect.Length == h.Transactions.Count,
            $"{what}: {h.Transactions.Count} transactions: " + string.Join(" | ", h.Transactions.Select(t => $"{t.Method} {t.Uri} {t.Status} {t.FlagsText()}")));
        Assert.Equal(1, h.SessionsCreated);
        for (int i = 0; i < ex.Expect.Length; i++)
        {
            var e = ex.Expect[i];
            var t = h.Transactions[i];
            string at = $"{what}, transaction {i}";
            Assert.True(e.Method == t.Method, $"{at}: method {t.Method}");
            Assert.True(e.Uri == t.Uri, $"{at}: uri {t.Uri}");
            Assert.True(e.Status == t.Status, $"{at}: status {t.Status}");
            Assert.True(e.Flags == t.Flags, $"{at}: flags {t.Flags}");
            Assert.True(e.Complete == t.Complete, $"{at}: complete {t.Complete} ({t.FlagsText()})");
            Assert.True(e.Interim == t.InterimResponses, $"{at}: interim {t.InterimResponses}");
            Assert.True(i == t.Index, $"{at}: index {t.Index}");
            Assert.True(e.RequestBody.Length == t.RequestBody.Length, $"{at}: request body length {t.RequestBody.Length}");
            Assert.True(e.ResponseBody.Length == t.ResponseBody.Length, $"{at}: response body length {t.ResponseBody.Length}");
            Assert.True((e.RequestBody.Length == 0 ? null : Sha(e.RequestBody)) == t.RequestBody.Sha256Hex, $"{at}: request sha");
            Assert.True((e.ResponseBody.Length == 0 ? null : Sha(e.ResponseBody)) == t.ResponseBody.Sha256Hex, $"{at}: response sha");
            Assert.True(t.RequestBody.Content.SequenceEqual(e.RequestBody), $"{at}: request captured content");
            Assert.True(t.ResponseBody.Content.SequenceEqual(e.ResponseBody), $"{at}: response captured content");
            Assert.True((e.RequestWire ?? e.RequestBody.Length) == t.RequestBody.WireLength, $"{at}: request wire {t.RequestBody.WireLength}");
            Assert.True((e.ResponseWire ?? e.ResponseBody.Length) == t.ResponseBody.WireLength, $"{at}: response wire {t.ResponseBody.WireLength}");
            Assert.True(t.TsResponse >= t.TsRequest, $"{at}: timestamps");
            Assert.Equal("10.1.1.1:50000-10.2.2.2:80", t.Conn);
        }
        Assert.True(h.Http("tunnel_bytes") == ex.TunnelBytes, $"{what}: tunnel bytes {h.Http("tunnel_bytes")}");
        Assert.True(h.Http("garbage_bytes") == 0, $"{what}: garbage bytes {h.Http("garbage_bytes")}");
        Assert.Equal(0, h.Http("orphan_responses"));
        Assert.Equal(0, h.Http("lost_heads"));
        Assert.Equal(0, h.Http("bad_chunk_framing"));
        Assert.Equal(0, h.Http("decode_errors"));
        Assert.Equal(0, h.Tcp("gaps"));
        Assert.Equal(ex.Expect.Length, h.Http("transactions"));
    }

    [Theory]
    [MemberData(nameof(CaseNames))]
    public void Unsplit_exchange_gives_the_expected_transactions(string name)
    {
        var ex = Cases[name];
        Check(ex, Run(ex, 0), name);
    }

    [Theory]
    [MemberData(nameof(CaseNames))]
    public void Every_split_offset_gives_the_same_transactions(string name)
    {
        var ex = Cases[name];
        int max = ex.Flights.Max(f => f.Data.Length);
        for (int split = 1; split < max; split++) Check(ex, Run(ex, split), $"{name}, split at {split}");
    }

    [Theory]
    [MemberData(nameof(CaseNames))]
    public void One_byte_segments_give_the_same_transactions(string name)
    {
        var ex = Cases[name];
        var h = new HttpHarness();
        h.Handshake();
        foreach (var f in ex.Flights)
        {
            for (int i = 0; i < f.Data.Length; i++)
            {
                bool fin = f.Fin && i == f.Data.Length - 1;
                if (f.FromClient) h.Client(f.Data.AsSpan(i, 1), fin); else h.Server(f.Data.AsSpan(i, 1), fin);
            }
        }
        h.Close();
        Check(ex, h, name + ", one byte per segment");
    }

    [Theory]
    [MemberData(nameof(CaseNames))]
    public void Client_flights_sent_all_at_once_before_the_responses_give_the_same_transactions(string name)
    {
        // Requests all captured before any response (e.g. a client that pipelines everything): same result,
        // except that later requests are then pipelined. Exchanges whose later requests depend on the
        // response (tunnels, 100-continue) are skipped.
        var ex = Cases[name];
        if (ex.TunnelBytes > 0 || name == "100-continue") return;
        var h = new HttpHarness();
        h.Handshake();
        foreach (var f in ex.Flights.Where(f => f.FromClient)) h.Client(f.Data, f.Fin);
        foreach (var f in ex.Flights.Where(f => !f.FromClient)) h.Server(f.Data, f.Fin);
        h.Close();
        var pipelined = ex with
        {
            Expect = ex.Expect.Select((e, i) => i == 0 ? e : e with { Flags = e.Flags | TransactionFlags.Pipelined }).ToArray(),
        };
        Check(pipelined, h, name + ", requests first");
    }
}

/// <summary>Bodies larger than the capture buffer: the hash must still cover every decoded byte.</summary>
public class CaptureLimitSplitTests
{
    private const int CaptureLimit = 100;

    public static TheoryData<string> Encodings => new() { "identity", "gzip", "br", "chunked" };

    private static (byte[] Head, byte[] Body, byte[] Plain) Response(string enc)
    {
        var plain = Bytes.Text(700, 21);
        return enc switch
        {
            "gzip" => Make(Bytes.Gzip(plain), "Content-Encoding: gzip\r\n", plain),
            "br" => Make(Bytes.Brotli(plain), "Content-Encoding: br\r\n", plain),
            "chunked" => (Bytes.Ascii("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"), Bytes.Chunked(plain, 33), plain),
            _ => Make(plain, "", plain),
        };

        static (byte[], byte[], byte[]) Make(byte[] wire, string extra, byte[] plain) =>
            (Bytes.Ascii($"HTTP/1.1 200 OK\r\n{extra}Content-Length: {wire.Length}\r\n\r\n"), wire, plain);
    }

    [Theory]
    [MemberData(nameof(Encodings))]
    public void Body_over_the_capture_limit_is_hashed_whole_at_every_split(string enc)
    {
        var (head, body, plain) = Response(enc);
        var resp = Bytes.Cat(head, body);
        string sha = Bytes.Sha(plain);
        for (int split = 0; split < resp.Length; split++)
        {
            var h = new HttpHarness(new HttpOptions { BodyCaptureLimit = CaptureLimit });
            h.Handshake();
            h.Client("GET /big HTTP/1.1\r\n\r\n");
            if (split == 0) h.Server(resp);
            else { h.Server(resp.AsSpan(0, split)); h.Server(resp.AsSpan(split)); }
            h.Close();
            var t = Assert.Single(h.Transactions);
            Assert.True(t.Complete, $"{enc} split {split}: {t.FlagsText()}");
            Assert.Equal(plain.Length, t.ResponseBody.Length);
            Assert.True(sha == t.ResponseBody.Sha256Hex, $"{enc} split {split}: sha");
            Assert.Equal(CaptureLimit, t.ResponseBody.CapturedLength);
            Assert.True(t.ResponseBody.CaptureTruncated);
            Assert.True(t.ResponseBody.Content.SequenceEqual(plain.AsSpan(0, CaptureLimit)), $"{enc} split {split}: content");
        }
    }

    [Fact]
    public void Body_exactly_at_the_capture_limit_is_not_truncated()
    {
        var plain = Bytes.Text(CaptureLimit, 22);
        foreach (var extra in new[] { 0, 1 })
        {
            var body = Bytes.Cat(plain, Bytes.Text(extra, 23));
            var h = new HttpHarness(new HttpOptions { BodyCaptureLimit = CaptureLimit });
            h.Handshake();
            h.Client("GET / HTTP/1.1\r\n\r\n");
            h.Server(Bytes.Cat(Bytes.Ascii($"HTTP/1.1 200 OK\r\nContent-Length: {body.Length}\r\n\r\n"), body));
            h.Close();
            var t = Assert.Single(h.Transactions);
            Assert.Equal(Bytes.Sha(body), t.ResponseBody.Sha256Hex);
            Assert.Equal(extra > 0, t.ResponseBody.CaptureTruncated);
            Assert.Equal(CaptureLimit, t.ResponseBody.CapturedLength);
        }
    }

    [Fact]
    public void Successive_bodies_on_one_connection_are_hashed_independently()
    {
        var big = Bytes.Text(1000, 24);
        var small = Bytes.Text(10, 25);
        var h = new HttpHarness(new HttpOptions { BodyCaptureLimit = CaptureLimit });
        h.Handshake();
        foreach (var body in new[] { big, small, big, Array.Empty<byte>(), small })
        {
            h.Client("GET / HTTP/1.1\r\n\r\n");
            h.Server(Bytes.Cat(Bytes.Ascii($"HTTP/1.1 200 OK\r\nContent-Length: {body.Length}\r\n\r\n"), body));
        }
        h.Close();
        Assert.Equal(
            new[] { Bytes.Sha(big), Bytes.Sha(small), Bytes.Sha(big), null, Bytes.Sha(small) },
            h.Transactions.Select(t => t.ResponseBody.Sha256Hex).ToArray());
    }
}
