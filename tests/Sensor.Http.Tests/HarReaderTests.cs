using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Sensor.Core;
using Sensor.Http.Har;

namespace Sensor.Http.Tests;

public sealed class HarReaderTests : IDisposable
{
    private readonly DirectoryInfo _dir = Directory.CreateTempSubdirectory("sensor-har-");
    private readonly CounterRegistry _registry = new();
    private readonly HarCounters _counters;

    public HarReaderTests() => _counters = new HarCounters(_registry);

    public void Dispose() => _dir.Delete(true);

    private static JsonArray Headers(params (string Name, string Value)[] hs) =>
        new([.. hs.Select(h => (JsonNode)new JsonObject { ["name"] = h.Name, ["value"] = h.Value })]);

    private static JsonObject Entry(string method, string url, JsonArray? reqHeaders = null, int status = 200, JsonArray? respHeaders = null,
        string? respText = "", string? encoding = null, string? postText = null, string started = "2024-05-01T12:00:00.000Z",
        double time = 12.5, string? server = "10.1.2.3", string? connection = null, string httpVersion = "HTTP/1.1")
    {
        var request = new JsonObject
        {
            ["method"] = method, ["url"] = url, ["httpVersion"] = httpVersion, ["cookies"] = new JsonArray(),
            ["headers"] = reqHeaders ?? Headers(), ["queryString"] = new JsonArray(), ["headersSize"] = -1,
            ["bodySize"] = postText == null ? 0 : Encoding.UTF8.GetByteCount(postText),
        };
        if (postText != null) request["postData"] = new JsonObject { ["mimeType"] = "application/json", ["text"] = postText };
        var content = new JsonObject { ["size"] = respText?.Length ?? 0, ["mimeType"] = "application/json" };
        if (respText != null) content["text"] = respText;
        if (encoding != null) content["encoding"] = encoding;   // after "text", as browsers write it
        var entry = new JsonObject
        {
            ["startedDateTime"] = started, ["time"] = time, ["request"] = request,
            ["response"] = new JsonObject
            {
                ["status"] = status, ["statusText"] = status == 200 ? "OK" : "", ["httpVersion"] = httpVersion, ["cookies"] = new JsonArray(),
                ["headers"] = respHeaders ?? Headers(), ["content"] = content, ["redirectURL"] = "", ["headersSize"] = -1, ["bodySize"] = -1,
            },
            ["cache"] = new JsonObject(), ["timings"] = new JsonObject { ["send"] = 0, ["wait"] = time, ["receive"] = 0 },
        };
        if (server != null) entry["serverIPAddress"] = server;
        if (connection != null) entry["connection"] = connection;
        return entry;
    }

    private static string Har(params JsonObject[] entries) => new JsonObject
    {
        ["log"] = new JsonObject
        {
            ["version"] = "1.2", ["creator"] = new JsonObject { ["name"] = "test", ["version"] = "1" }, ["pages"] = new JsonArray(),
            ["entries"] = new JsonArray([.. entries]),
        },
    }.ToJsonString(new JsonSerializerOptions { WriteIndented = true });

    private string Write(string text, string name = "t.har") => Write(Encoding.UTF8.GetBytes(text), name);

    private string Write(byte[] data, string name = "t.har")
    {
        var path = Path.Combine(_dir.FullName, name);
        File.WriteAllBytes(path, data);
        return path;
    }

    private (List<HttpTransaction> Txns, HarReader Reader) ReadAll(string path, int captureLimit = 1 << 20)
    {
        var reader = HarReader.Open(path, new HttpOptions { BodyCaptureLimit = captureLimit }, _counters);
        var list = reader.ReadAll().ToList();
        reader.Dispose();
        return (list, reader);
    }

    private long Count(string name) => _registry.Get("har", name);

    private static string Sha(byte[] b) => Convert.ToHexStringLower(SHA256.HashData(b));

    [Fact]
    public void Entries_become_transactions_whose_heads_parse_as_on_the_wire()
    {
        var path = Write(Har(
            Entry("POST", "https://api.example.com:8443/v1/pets?limit=5#frag",
                Headers(("Host", "api.example.com:8443"), ("Content-Type", "application/json"), ("Authorization", "Bearer abc")),
                201, Headers(("Content-Type", "application/json; charset=utf-8"), ("Content-Encoding", "gzip"), ("X-Multi", "a\r\nInjected: yes")),
                respText: "{\"id\":1,\"name\":\"Rex \u00e9\u00e8 \\\"q\\\"\\n\"}", postText: "{\"name\":\"Rex\"}", time: 250),
            Entry("GET", "http://example.org/", started: "2024-05-01T14:00:01.5+02:00")));
        var (txns, reader) = ReadAll(path);
        Assert.Null(reader.Fault);
        Assert.Equal(2, txns.Count);

        var t = txns[0];
        Assert.Equal("POST", t.Method);
        Assert.Equal("/v1/pets?limit=5", t.Uri);
        Assert.Equal("/v1/pets", t.Path);
        Assert.Equal("limit=5", t.Query);
        Assert.Equal("HTTP/1.1", t.Request.Version);
        Assert.Equal("api.example.com:8443", t.Host);
        Assert.Equal("application/json", t.Request.ContentType);
        Assert.Equal("Bearer abc", t.Request.Get("authorization"));
        Assert.Equal("Host: api.example.com:8443\r\nContent-Type: application/json\r\nAuthorization: Bearer abc\r\n", t.Request.RawHeaders);
        Assert.Equal(3, t.Request.Headers.Count);
        Assert.Equal(201, t.Status);
        Assert.Equal("application/json; charset=utf-8", t.Response!.ContentType);
        // Content-Encoding stays header text: HAR text is decoded already and must not be decoded again.
        Assert.Equal("gzip", t.Response.ContentEncoding);
        Assert.Null(t.ResponseBody.Encoding);
        // A value cannot forge a header line.
        Assert.Equal("a  Injected: yes", t.Response.Get("X-Multi"));
        Assert.Null(t.Response.Get("Injected"));
        var respBody = Encoding.UTF8.GetBytes("{\"id\":1,\"name\":\"Rex \u00e9\u00e8 \\\"q\\\"\\n\"}");
        Assert.Equal(respBody, t.ResponseBody.Content.ToArray());
        Assert.Equal(respBody.Length, t.ResponseBody.Length);
        Assert.Equal(Sha(respBody), t.ResponseBody.Sha256Hex);
        Assert.False(t.ResponseBody.CaptureTruncated);
        Assert.Equal("{\"name\":\"Rex\"}"u8.ToArray(), t.RequestBody.Content.ToArray());
        Assert.True(t.Complete);
        Assert.Equal(TransactionFlags.None, t.Flags);
        var start = Timestamp.FromDateTime(new DateTime(2024, 5, 1, 12, 0, 0, DateTimeKind.Utc));
        Assert.Equal(start, t.TsRequest);
        Assert.Equal(start + 250 * TimeSpan.TicksPerMillisecond, t.TsResponse);
        Assert.Equal(IpAddr.Parse("10.1.2.3"), t.ServerIp);
        Assert.Equal(8443, t.ServerPort);
        Assert.Equal("0.0.0.0:1-10.1.2.3:8443", t.Conn);
        Assert.Equal(0, t.Index);

        var g = txns[1];
        Assert.Equal("/", g.Uri);
        Assert.Equal("example.org", g.Host);                       // from the URL: no Host header in the entry
        Assert.Equal("example.org", g.Request.Get("Host"));
        Assert.Equal(80, g.ServerPort);
        Assert.Equal("0.0.0.0:2-10.1.2.3:80", g.Conn);
        Assert.Equal(Timestamp.FromDateTime(new DateTime(2024, 5, 1, 12, 0, 1, 500, DateTimeKind.Utc)), g.TsRequest);
        Assert.Same(HttpBody.Empty, g.ResponseBody);
        Assert.True(g.Complete);
        Assert.Equal(2, Count("entries"));
        foreach (var x in txns) x.ReleaseBodies();
    }

    [Fact]
    public void Base64_bodies_are_decoded_once()
    {
        var binary = Enumerable.Range(0, 3000).Select(i => (byte)(i * 7)).ToArray();
        var b64 = Convert.ToBase64String(binary);
        var wrapped = string.Join("\r\n", b64.Chunk(76).Select(c => new string(c)));   // MIME line breaks are allowed
        var path = Write(Har(
            Entry("GET", "http://x.test/img", respText: b64, encoding: "base64"),
            Entry("GET", "http://x.test/img2", respText: wrapped, encoding: "base64"),
            Entry("GET", "http://x.test/bad", respText: "not base64 at all!", encoding: "base64")));
        var (txns, _) = ReadAll(path);
        Assert.Equal(binary, txns[0].ResponseBody.Content.ToArray());
        Assert.Equal(Sha(binary), txns[0].ResponseBody.Sha256Hex);
        Assert.Equal(binary.Length, txns[0].ResponseBody.Length);
        Assert.True(txns[0].Complete);
        Assert.Equal(binary, txns[1].ResponseBody.Content.ToArray());
        // Text that is not base64 is kept as it is and flagged.
        Assert.Equal("not base64 at all!"u8.ToArray(), txns[2].ResponseBody.Content.ToArray());
        Assert.True(txns[2].Flags.HasFlag(TransactionFlags.DecodeError));
        Assert.False(txns[2].Complete);
        Assert.Equal(1, Count("bad_base64"));
    }

    [Fact]
    public void Http2_entries_drop_pseudo_headers_and_take_the_host_from_authority()
    {
        var path = Write(Har(Entry("GET", "https://api.example.com/v1/items/7?x=1",
            Headers((":method", "GET"), (":authority", "api.example.com"), (":scheme", "https"), (":path", "/v1/items/7?x=1"), ("accept", "application/json"), ("x-api-key", "k")),
            200, Headers((":status", "200"), ("content-type", "application/json")), respText: "{}", httpVersion: "h2", server: "[2001:db8::1]")));
        var (txns, _) = ReadAll(path);
        var t = Assert.Single(txns);
        Assert.Equal("HTTP/2.0", t.Request.Version);
        Assert.Equal("/v1/items/7?x=1", t.Uri);
        Assert.Equal("api.example.com", t.Host);
        Assert.Equal("api.example.com", t.Request.Get("host"));
        Assert.DoesNotContain(t.Request.Headers, h => h.Name.StartsWith(':'));
        Assert.DoesNotContain(t.Response!.Headers, h => h.Name.StartsWith(':'));
        Assert.Equal("k", t.Request.Get("X-API-Key"));
        Assert.Equal(new[] { "x-api-key" }, t.Request.FieldNamesContaining("api-key"));
        Assert.Equal("application/json", t.Response.ContentType);
        Assert.Equal(200, t.Status);
        Assert.Equal(443, t.ServerPort);
        Assert.Equal("[::]:1-[2001:db8::1]:443", t.Conn);
        Assert.True(t.Complete);
    }

    [Fact]
    public void A_request_without_a_response_has_no_response_and_the_flag()
    {
        var failed = Entry("GET", "http://x.test/a", status: 0, respText: null);
        failed["response"]!["_error"] = "net::ERR_CONNECTION_REFUSED";
        var noMember = Entry("GET", "http://x.test/b");
        noMember.Remove("response");
        var path = Write(Har(failed, noMember, Entry("GET", "http://x.test/c")));
        var (txns, _) = ReadAll(path);
        Assert.Equal(3, txns.Count);
        foreach (var t in txns.Take(2))
        {
            Assert.Null(t.Response);
            Assert.Null(t.Status);
            Assert.Null(t.TsResponse);
            Assert.True(t.Flags.HasFlag(TransactionFlags.NoResponse));
            Assert.False(t.Complete);
        }
        Assert.Equal(200, txns[2].Status);
        Assert.Equal(2, Count("no_response"));
    }

    [Fact]
    public void Connection_ids_group_entries_into_one_pseudo_connection()
    {
        var path = Write(Har(
            Entry("GET", "http://x.test/1", connection: "4711"),
            Entry("GET", "http://x.test/2", connection: "4712"),
            Entry("GET", "http://x.test/3", connection: "4711"),
            Entry("GET", "http://x.test/4")));
        var (t, _) = ReadAll(path);
        Assert.Same(t[0].Conn, t[2].Conn);
        Assert.Equal(new[] { 0, 0, 1, 0 }, t.Select(x => x.Index));
        Assert.Equal(3, t.Select(x => x.Conn).Distinct().Count());
        Assert.Equal(t[0].Flow, t[2].Flow);
    }

    [Fact]
    public void A_recorded_connection_names_the_transaction_as_a_capture_would()
    {
        var a = Entry("GET", "http://x.test/1");
        a["_conn"] = "10.1.2.3:40001-10.9.8.7:8080";
        var b = Entry("GET", "http://x.test/2");
        b["_conn"] = "10.1.2.3:40001-10.9.8.7:8080";
        var v6 = Entry("GET", "http://x.test/3");
        v6["_conn"] = "[2001:db8::1]:50000-[2001:db8::2]:443";
        var bad = Entry("GET", "http://x.test/4");
        bad["_conn"] = "not a connection";                 // near miss: falls back to a pseudo-connection
        var (t, _) = ReadAll(Write(Har(a, b, v6, bad)));
        Assert.Equal("10.1.2.3:40001-10.9.8.7:8080", t[0].Conn);
        Assert.Same(t[0].Conn, t[1].Conn);
        Assert.Equal(new[] { 0, 1 }, t.Take(2).Select(x => x.Index));
        Assert.Equal(8080, t[0].ServerPort);
        Assert.Equal("[2001:db8::1]:50000-[2001:db8::2]:443", t[2].Conn);
        Assert.StartsWith("0.0.0.0:", t[3].Conn);
    }

    [Fact]
    public void Entries_that_cannot_be_requests_are_skipped_and_counted()
    {
        var noUrl = Entry("GET", "http://x.test/a");
        ((JsonObject)noUrl["request"]!).Remove("url");
        var badMethod = Entry("GE T\r\n", "http://x.test/b");
        var path = Write(Har(noUrl, badMethod, Entry("GET", "http://x.test/ok path")));
        var (txns, reader) = ReadAll(path);
        var t = Assert.Single(txns);
        Assert.Equal("/ok%20path", t.Uri);
        Assert.Equal(2, reader.Skipped);
        Assert.Equal(2, Count("entries_skipped"));
        Assert.Contains(reader.Problems, p => p.Contains("entry 0") && p.Contains("url"));
    }

    [Fact]
    public void A_truncated_file_keeps_the_entries_before_and_reports_where_it_ends()
    {
        var entries = Enumerable.Range(0, 3000).Select(i => Entry("GET", $"http://x.test/items/{i}", respText: $"{{\"id\":{i}}}")).ToArray();
        var full = Encoding.UTF8.GetBytes(Har(entries));
        // Cut inside entry 2000 (the file is larger than the read buffer, so this also crosses refills).
        int cut = IndexOf(full, "/items/2000\"") + 5;
        var path = Write(full[..cut]);
        var (txns, reader) = ReadAll(path);
        Assert.Equal(2000, txns.Count);
        Assert.Equal("/items/1999", txns[^1].Uri);
        Assert.NotNull(reader.Fault);
        Assert.Equal(cut, reader.Fault!.Offset);
        Assert.Equal(2000, reader.Fault.EntriesBefore);
        Assert.Contains("ends", reader.Fault.Reason);
        Assert.Contains("entry 2000", reader.Fault.Reason);
        Assert.Equal(1, Count("faults"));

        // Damage instead of an end: the offset points at it.
        var damaged = full.ToArray();
        int at = IndexOf(damaged, "\"http://x.test/items/2500\"");
        damaged[at - 2] = (byte)'}';
        var (txns2, reader2) = ReadAll(Write(damaged, "d.har"));
        Assert.Equal(2500, txns2.Count);
        Assert.Contains("invalid JSON", reader2.Fault!.Reason);
        Assert.InRange(reader2.Fault.Offset, at - 200, at);
    }

    [Fact]
    public void Damage_after_the_entries_loses_nothing_but_is_reported()
    {
        var full = Har(Entry("GET", "http://x.test/a"), Entry("GET", "http://x.test/b"));
        var (txns, reader) = ReadAll(Write(full.TrimEnd()[..^3]));
        Assert.Equal(2, txns.Count);
        Assert.NotNull(reader.Fault);
        Assert.Equal(2, reader.Fault!.EntriesBefore);
    }

    [Theory]
    [InlineData("{\"foo\": 1}", "no top-level \"log\"")]
    [InlineData("{\"log\": {\"version\": \"1.2\"}}", "no \"entries\"")]
    [InlineData("{\"log\": []}", "\"log\" is not an object")]
    [InlineData("{ this is not json", "not valid JSON")]
    [InlineData("[1, 2]", "not an object")]
    [InlineData("", "not valid JSON")]
    public void Json_that_is_not_a_HAR_is_a_format_error(string text, string why)
    {
        var path = Write(text);
        var e = Assert.Throws<HarFormatException>(() => HarReader.Open(path, new HttpOptions(), _counters));
        Assert.Contains("not a HAR", e.Reason);
        Assert.Contains(why, e.Reason);
        Assert.Equal(1, Count("not_har"));
    }

    [Fact]
    public void Json_is_recognised_by_content()
    {
        Assert.True(HarReader.LooksLikeJson(Write("\uFEFF \r\n {\"log\":{}}", "a.pcap")));
        Assert.False(HarReader.LooksLikeJson(Write([0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0], "b.har")));
        Assert.False(HarReader.LooksLikeJson(Write("   ", "c.har")));
        // A byte order mark is accepted by the reader too.
        var (txns, _) = ReadAll(Write("\uFEFF" + Har(Entry("GET", "http://x.test/a")), "bom.har"));
        Assert.Single(txns);
    }

    [Fact]
    public void Bodies_over_the_capture_limit_are_cut_with_the_length_and_hash_of_the_whole()
    {
        var text = string.Concat(Enumerable.Range(0, 500).Select(i => $"line {i}\n"));
        var path = Write(Har(Entry("POST", "http://x.test/upload", postText: text, respText: text)));
        var (txns, _) = ReadAll(path, captureLimit: 1000);
        var t = Assert.Single(txns);
        var bytes = Encoding.UTF8.GetBytes(text);
        foreach (var b in new[] { t.RequestBody, t.ResponseBody })
        {
            Assert.Equal(bytes.Length, b.Length);
            Assert.Equal(1000, b.CapturedLength);
            Assert.True(b.CaptureTruncated);
            Assert.Equal(bytes[..1000], b.Content.ToArray());
            Assert.Equal(Sha(bytes), b.Sha256Hex);
        }
        Assert.True(t.Complete);
        Assert.Equal(2, Count("bodies_cut"));
        t.ReleaseBodies();
        Assert.Null(t.ResponseBody.Captured);
    }

    [Fact]
    public void Bodies_larger_than_the_read_buffer_stream_through_without_being_held()
    {
        // Past the 1 MB token buffer (capture limit 1000): decoded on the fly, escapes and all.
        var sb = new StringBuilder();
        for (int i = 0; sb.Length < 3_000_000; i++) sb.Append("caf\u00e9 \"q\" \\ \U0001F600 tab\t").Append(i).Append('\n');
        var text = sb.ToString();
        var binary = RandomNumberGenerator.GetBytes(2_500_000);
        var path = Write(Har(
            Entry("POST", "http://x.test/big", postText: text, respText: Convert.ToBase64String(binary), encoding: "base64"),
            Entry("GET", "http://x.test/after", respText: "{\"ok\":true}")) + "   ");
        var (txns, reader) = ReadAll(path, captureLimit: 1000);
        Assert.Null(reader.Fault);
        Assert.Equal(2, txns.Count);
        var req = Encoding.UTF8.GetBytes(text);
        Assert.Equal(req.Length, txns[0].RequestBody.Length);
        Assert.Equal(Sha(req), txns[0].RequestBody.Sha256Hex);
        Assert.Equal(req[..1000], txns[0].RequestBody.Content.ToArray());
        Assert.Equal(binary.Length, txns[0].ResponseBody.Length);
        Assert.Equal(Sha(binary), txns[0].ResponseBody.Sha256Hex);
        Assert.Equal(binary[..1000], txns[0].ResponseBody.Content.ToArray());
        Assert.True(txns[0].Complete);
        Assert.Equal("/after", txns[1].Uri);
        Assert.Equal("{\"ok\":true}"u8.ToArray(), txns[1].ResponseBody.Content.ToArray());

        // Offsets after a streamed body still point into the file.
        var full = File.ReadAllBytes(path);
        int at = IndexOf(full, "\"http://x.test/after\"");
        full[at - 2] = (byte)'}';
        var (_, damaged) = ReadAll(Write(full, "d.har"), captureLimit: 1000);
        Assert.InRange(damaged.Fault!.Offset, at - 200, at);
        Assert.Equal(1, damaged.Fault.EntriesBefore);
    }

    [Fact]
    public void A_header_longer_than_the_read_buffer_skips_its_entry_only()
    {
        var huge = Entry("GET", "http://x.test/huge", Headers(("X-Big", new string('a', 2_000_000))));
        var path = Write(Har(huge, Entry("GET", "http://x.test/next")));
        var (txns, reader) = ReadAll(path, captureLimit: 1000);
        Assert.Equal("/next", Assert.Single(txns).Uri);
        Assert.Equal(1, reader.Skipped);
        Assert.Equal(1, Count("head_too_large"));
    }

    private static int IndexOf(byte[] hay, string needle) => hay.AsSpan().IndexOf(Encoding.UTF8.GetBytes(needle));
}
