using System.Diagnostics;
using System.IO.Compression;
using Sensor.Reassembly;
using static Sensor.Http.Tests.Bytes;

namespace Sensor.Http.Tests;

/// <summary>Hostile or odd input: decompression bombs, non-HTTP bytes, absurd chunk sizes, partial captures.</summary>
public class SessionRobustnessTests
{
    private static readonly Lazy<byte[]> GzipOf100MiBZeros = new(() =>
    {
        using var ms = new MemoryStream();
        using (var z = new GZipStream(ms, CompressionLevel.SmallestSize, leaveOpen: true))
        {
            var zeros = new byte[1 << 20];
            for (int i = 0; i < 100; i++) z.Write(zeros);
        }
        return ms.ToArray();
    });

    private static void SendInSegments(HttpHarness h, bool client, byte[] data, int segment)
    {
        for (int i = 0; i < data.Length; i += segment)
        {
            var part = data.AsSpan(i, Math.Min(segment, data.Length - i));
            if (client) h.Client(part); else h.Server(part);
        }
    }

    [Fact]
    public void Gzip_bomb_is_cut_at_the_decoded_cap_in_bounded_time()
    {
        var gz = GzipOf100MiBZeros.Value;
        Assert.True(gz.Length < 1 << 20, $"compressed size {gz.Length}");
        var opt = new HttpOptions();
        var h = new HttpHarness(opt);
        var sw = Stopwatch.StartNew();
        h.Handshake();
        h.Client("GET /bomb HTTP/1.1\r\nHost: h\r\n\r\n");
        h.Server(Ascii($"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: {gz.Length}\r\n\r\n"));
        SendInSegments(h, false, gz, 64 * 1024);
        h.Client("GET /after HTTP/1.1\r\nHost: h\r\n\r\n");
        h.Server("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
        h.Close();
        sw.Stop();

        Assert.True(sw.Elapsed < TimeSpan.FromSeconds(15), $"took {sw.Elapsed}");
        Assert.Equal(2, h.Transactions.Count);
        var t = h.Transactions[0];
        Assert.True(t.Flags.HasFlag(TransactionFlags.Bomb));
        Assert.False(t.Complete);
        Assert.Equal(opt.MaxDecodedBody, t.ResponseBody.Length);
        Assert.Equal(Sha(new byte[opt.MaxDecodedBody]), t.ResponseBody.Sha256Hex);   // the kept prefix
        Assert.Equal(gz.Length, t.ResponseBody.WireLength);
        Assert.Equal(opt.BodyCaptureLimit, t.ResponseBody.CapturedLength);
        Assert.True(t.ResponseBody.CaptureTruncated);
        Assert.Equal(1, h.Http("decompression_bombs"));
        Assert.True(h.Transactions[1].Complete);
        Assert.Equal("/after", h.Transactions[1].Uri);
    }

    [Fact]
    public void Bomb_cut_keeps_the_hash_of_exactly_the_kept_prefix()
    {
        var plain = Enumerable.Repeat((byte)'a', 5000).ToArray();
        foreach (var (enc, data) in new[] { ("gzip", Gzip(plain)), ("deflate", Zlib(plain)), ("br", Brotli(plain)) })
        {
            var h = new HttpHarness(new HttpOptions { MaxDecodedBody = 1000 });
            h.Handshake();
            h.Client("GET / HTTP/1.1\r\n\r\n");
            h.Server(Cat(Ascii($"HTTP/1.1 200 OK\r\nContent-Encoding: {enc}\r\nContent-Length: {data.Length}\r\n\r\n"), data));
            h.Close();
            var t = Assert.Single(h.Transactions);
            Assert.True(t.Flags.HasFlag(TransactionFlags.Bomb), enc);
            Assert.Equal(1000, t.ResponseBody.Length);
            Assert.Equal(Sha(plain[..1000]), t.ResponseBody.Sha256Hex);
        }
    }

    [Fact]
    public void A_large_compressed_body_streams_through_the_decoder_without_being_buffered()
    {
        // 24 MiB of text arriving in 1460-byte segments: decoded piece by piece, fully hashed, only the capture kept.
        var plain = Text(24 << 20, 3);
        var gz = Gzip(plain, System.IO.Compression.CompressionLevel.Fastest);
        var h = new HttpHarness(new HttpOptions { BodyCaptureLimit = 4096 });
        h.Handshake();
        h.Client("GET / HTTP/1.1\r\n\r\n");
        h.Server(Ascii($"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: {gz.Length}\r\n\r\n"));
        for (int off = 0; off < gz.Length; off += 1460) h.Server(gz.AsSpan(off, Math.Min(1460, gz.Length - off)));
        h.Client("GET /2 HTTP/1.1\r\n\r\n");
        h.Server("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
        h.Close();
        Assert.Equal(2, h.Transactions.Count);
        var t = h.Transactions[0];
        Assert.True(t.Complete, t.FlagsText());
        Assert.Equal(plain.Length, t.ResponseBody.Length);
        Assert.Equal(gz.Length, t.ResponseBody.WireLength);
        Assert.Equal(Sha(plain), t.ResponseBody.Sha256Hex);
        Assert.True(h.Transactions[1].Complete);
    }

    [Fact]
    public void A_gzip_body_cut_before_its_end_is_a_decode_error()
    {
        var gz = Gzip(Text(5000, 4));
        var cut = gz[..(gz.Length - 12)];
        var h = new HttpHarness();
        h.Handshake();
        h.Client("GET / HTTP/1.1\r\n\r\n");
        h.Server(Cat(Ascii($"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: {cut.Length}\r\n\r\n"), cut));
        h.Close();
        var t = Assert.Single(h.Transactions);
        Assert.True(t.Flags.HasFlag(TransactionFlags.DecodeError));
        Assert.False(t.Complete);
    }

    [Fact]
    public void Several_gzip_members_in_one_body_decode_as_one()
    {
        var p1 = Text(3000, 5); var p2 = Text(2000, 6);
        var body = Cat(Gzip(p1), Gzip(p2));
        var h = new HttpHarness();
        h.Handshake();
        h.Client("GET / HTTP/1.1\r\n\r\n");
        h.Server(Cat(Ascii($"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: {body.Length}\r\n\r\n"), body));
        h.Close();
        var t = Assert.Single(h.Transactions);
        Assert.Equal(Sha(Cat(p1, p2)), t.ResponseBody.Sha256Hex);
        Assert.True(t.Complete);
    }

    [Fact]
    public void Corrupt_gzip_is_a_decode_error()
    {
        var junk = Text(200, 4);
        var h = new HttpHarness();
        h.Handshake();
        h.Client("GET / HTTP/1.1\r\n\r\n");
        h.Server(Cat(Ascii($"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: {junk.Length}\r\n\r\n"), junk));
        h.Close();
        var t = Assert.Single(h.Transactions);
        Assert.True(t.Flags.HasFlag(TransactionFlags.DecodeError));
        Assert.False(t.Complete);
        Assert.Equal(1, h.Http("decode_errors"));
    }

    [Fact]
    public void Non_http_bytes_produce_no_transaction()
    {
        var rnd = new Random(42);
        var clientJunk = new byte[3000];
        var serverJunk = new byte[5000];
        rnd.NextBytes(clientJunk);
        rnd.NextBytes(serverJunk);
        clientJunk[0] = 0x16; clientJunk[1] = 0x03; clientJunk[2] = 0x01;   // looks like TLS
        serverJunk[0] = 0x16; serverJunk[1] = 0x03; serverJunk[2] = 0x03;
        var h = new HttpHarness(serverPort: 443);
        h.Handshake();
        SendInSegments(h, true, clientJunk, 512);
        SendInSegments(h, false, serverJunk, 1400);
        h.Close();
        Assert.Empty(h.Transactions);
        Assert.Equal(0, h.Http("requests"));
        Assert.Equal(0, h.Http("responses"));
        Assert.True(h.Http("garbage_bytes") > 0);
    }

    [Fact]
    public void Long_non_http_stream_is_given_up()
    {
        var rnd = new Random(7);
        var junk = new byte[200_000];
        rnd.NextBytes(junk);
        for (int i = 0; i < junk.Length; i++) if (junk[i] is >= (byte)'A' and <= (byte)'Z') junk[i] = 0;   // no method-like bytes
        var h = new HttpHarness(new HttpOptions { MaxResyncScan = 10_000 });
        h.Handshake();
        SendInSegments(h, true, junk, 1460);
        SendInSegments(h, false, junk, 1460);
        h.Close();
        Assert.Empty(h.Transactions);
        Assert.Equal(2, h.Http("non_http_streams"));
        Assert.True(h.Http("garbage_bytes") <= 2 * 12_000, $"garbage {h.Http("garbage_bytes")}");
    }

    [Fact]
    public void Garbage_before_a_request_is_skipped()
    {
        var h = new HttpHarness();
        h.Handshake();
        h.Client(Cat([0x00, 0xFF, 0x13, 0x37], Ascii("xx GET nonsense\r\n"), Ascii("GET /real HTTP/1.1\r\nHost: h\r\n\r\n")));
        h.Server(Cat(Ascii("\r\n\r\n junk "), Ascii("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")));
        h.Close();
        var t = Assert.Single(h.Transactions);
        Assert.Equal("/real", t.Uri);
        Assert.Equal(200, t.Status);
        Assert.True(t.Complete);
        Assert.True(h.Http("garbage_bytes") > 0);
    }

    [Theory]
    [InlineData("FFFFFFFFFFFFFFFFFFFF")]
    [InlineData("10000000000000000")]
    [InlineData("7FFFFFFFFFFFFFFF")]
    [InlineData("-1")]
    [InlineData("zz")]
    [InlineData("")]
    [InlineData("0x10")]
    public void Absurd_chunk_size_line_is_rejected_without_allocating(string sizeLine)
    {
        var h = new HttpHarness();
        h.Handshake();
        h.Client("GET /a HTTP/1.1\r\n\r\nGET /b HTTP/1.1\r\n\r\n");
        long before = GC.GetAllocatedBytesForCurrentThread();
        h.Server($"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n{sizeLine}\r\n" + new string('x', 2000) + "\r\n0\r\n\r\n");
        h.Server("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        h.Close();

        Assert.True(allocated < 4 << 20, $"allocated {allocated} bytes");
        Assert.Equal(2, h.Transactions.Count);
        var t = h.Transactions[0];
        Assert.True(t.Flags.HasFlag(TransactionFlags.Truncated));
        Assert.False(t.Complete);
        Assert.Equal(0, t.ResponseBody.Length);
        Assert.Equal(1, h.Http("bad_chunk_framing"));
        Assert.Equal("/b", h.Transactions[1].Uri);
        Assert.True(h.Transactions[1].Complete);
    }

    [Fact]
    public void Largest_accepted_chunk_size_streams_without_buffering()
    {
        // 15 hex digits (2^60 - 1) is accepted as a size; the data streams through the hash, nothing is allocated
        // for it, and the body is truncated when the connection ends. (Small capture buffer: only the
        // bounded capture copy may allocate.)
        var h = new HttpHarness(new HttpOptions { BodyCaptureLimit = 64 * 1024 });
        h.Handshake();
        h.Client("GET /a HTTP/1.1\r\n\r\n");
        h.Server("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nFFFFFFFFFFFFFFF\r\n");
        var block = Text(16 * 1024, 9);
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 256; i++) h.Server(block);       // 4 MiB of chunk data
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        h.Close();
        Assert.True(allocated < 4 << 20, $"allocated {allocated} bytes");
        var t = Assert.Single(h.Transactions);
        Assert.True(t.Flags.HasFlag(TransactionFlags.Truncated));
        Assert.Equal(256L * block.Length, t.ResponseBody.Length);
    }

    [Fact]
    public void Chunk_size_line_that_never_ends_is_rejected()
    {
        var h = new HttpHarness();
        h.Handshake();
        h.Client("GET /a HTTP/1.1\r\n\r\n");
        h.Server("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1" + new string(' ', 5000));
        h.Close();
        var t = Assert.Single(h.Transactions);
        Assert.True(t.Flags.HasFlag(TransactionFlags.Truncated));
        Assert.Equal(1, h.Http("bad_chunk_framing"));
    }

    [Theory]
    [InlineData("0", true, 0L)]
    [InlineData("1a", true, 26L)]
    [InlineData("1A;name=value", true, 26L)]
    [InlineData("10 ; ext", true, 16L)]
    [InlineData("  5\t\r", true, 5L)]
    [InlineData("ff;q=\"a;b\"\r", true, 255L)]
    [InlineData("FFFFFFFFFFFFFFF", true, 0xFFFFFFFFFFFFFFFL)]
    [InlineData("FFFFFFFFFFFFFFFF", false, 0L)]
    [InlineData("FFFFFFFFFFFFFFFFFFFF", false, 0L)]
    [InlineData("", false, 0L)]
    [InlineData(";ext", false, 0L)]
    [InlineData("g", false, 0L)]
    [InlineData("5 x", false, 0L)]
    [InlineData("-5", false, 0L)]
    [InlineData("0x5", false, 0L)]
    public void Chunk_size_parsing(string line, bool ok, long size)
    {
        Assert.Equal(ok, MessageReader.ParseChunkSize(Ascii(line), out long s));
        if (ok) Assert.Equal(size, s);
    }

    // ---- partial captures ----

    [Fact]
    public void Midstream_connection_is_flagged_and_the_client_found_from_content()
    {
        // No handshake, and the client uses the lower port so port order would guess wrong.
        var h = new HttpHarness(clientPort: 80, serverPort: 8080);
        h.Client("GET /mid HTTP/1.1\r\nHost: h\r\n\r\n");
        h.Server("HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nmid");
        h.Close();
        var t = Assert.Single(h.Transactions);
        Assert.Equal("/mid", t.Uri);
        Assert.True(t.Flags.HasFlag(TransactionFlags.Midstream));
        Assert.Equal("10.1.1.1:80-10.2.2.2:8080", t.Conn);
        Assert.Equal(1, h.Tcp("midstream_pickups"));
    }

    [Fact]
    public void Midstream_response_seen_before_its_request_is_held_and_paired()
    {
        var h = new HttpHarness();
        h.Server("HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc");
        Assert.Empty(h.Transactions);
        h.Client("GET /late HTTP/1.1\r\n\r\n");
        h.Close();
        var t = Assert.Single(h.Transactions);
        Assert.Equal("/late", t.Uri);
        Assert.Equal(200, t.Status);
        Assert.Equal(Sha(Ascii("abc")), t.ResponseBody.Sha256Hex);
        Assert.Equal("10.1.1.1:50000-10.2.2.2:80", t.Conn);
    }

    [Fact]
    public void Midstream_pickup_inside_a_body_resynchronises()
    {
        var h = new HttpHarness();
        h.Server(Ascii("rest of a previous body\"}]}"));
        h.Client("GET /next HTTP/1.1\r\n\r\n");
        h.Server("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
        h.Close();
        var t = Assert.Single(h.Transactions);
        Assert.Equal("/next", t.Uri);
        Assert.Equal(200, t.Status);
        Assert.True(t.Complete);
    }

    [Fact]
    public void Only_the_client_direction_captured_is_asymmetric()
    {
        var h = new HttpHarness();
        h.Client("GET /one HTTP/1.1\r\n\r\n");
        h.Client("GET /two HTTP/1.1\r\n\r\n");
        h.Reassembler.FlushAll(h.Ts);
        Assert.Equal(2, h.Transactions.Count);
        foreach (var t in h.Transactions)
        {
            Assert.True(t.Flags.HasFlag(TransactionFlags.NoResponse));
            Assert.True(t.Flags.HasFlag(TransactionFlags.Asymmetric));
            Assert.Null(t.Status);
            Assert.False(t.Complete);
        }
        Assert.Equal(["/one", "/two"], h.Transactions.Select(t => t.Uri));
    }

    [Fact]
    public void Request_without_response_on_a_two_way_connection_is_not_asymmetric()
    {
        var h = new HttpHarness();
        h.Handshake();
        h.Client("GET /one HTTP/1.1\r\n\r\nGET /two HTTP/1.1\r\n\r\n");
        h.Server("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
        h.Close();
        Assert.Equal(2, h.Transactions.Count);
        Assert.True(h.Transactions[0].Complete);
        Assert.Equal(TransactionFlags.NoResponse | TransactionFlags.Pipelined, h.Transactions[1].Flags);
    }

    [Fact]
    public void Response_without_any_request_is_an_orphan()
    {
        var h = new HttpHarness();
        h.Handshake();
        h.Client(default(ReadOnlySpan<byte>), fin: true);
        h.Server("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi");
        h.Close();
        Assert.Empty(h.Transactions);
        Assert.Equal(1, h.Http("orphan_responses"));
    }

    [Fact]
    public void Close_delimited_body_without_a_fin_is_unterminated()
    {
        var h = new HttpHarness();
        h.Handshake();
        h.Client("GET /s HTTP/1.0\r\n\r\n");
        h.Server(Cat(Ascii("HTTP/1.0 200 OK\r\n\r\n"), Text(100)));
        h.Reassembler.FlushAll(h.Ts);    // capture ends, no FIN
        var t = Assert.Single(h.Transactions);
        Assert.True(t.Flags.HasFlag(TransactionFlags.Unterminated));
        Assert.False(t.Complete);
        Assert.Equal(100, t.ResponseBody.Length);
    }

    [Fact]
    public void Oversized_head_is_skipped_and_flagged()
    {
        var h = new HttpHarness(new HttpOptions { MaxHeadBytes = 1024 });
        h.Handshake();
        h.Client("GET /a HTTP/1.1\r\n\r\n");
        h.Server("HTTP/1.1 200 OK\r\nX-Huge: " + new string('x', 3000) + "\r\nContent-Length: 0\r\n\r\n");
        h.Close();
        Assert.Equal(1, h.Http("head_too_large"));
        var t = Assert.Single(h.Transactions);
        Assert.True(t.Flags.HasFlag(TransactionFlags.HeadTooLarge));
        Assert.True(t.Flags.HasFlag(TransactionFlags.NoResponse));
    }

    [Fact]
    public void Too_many_pending_requests_drop_the_oldest()
    {
        var h = new HttpHarness(new HttpOptions { MaxPendingRequests = 4 });
        h.Handshake();
        h.Client(string.Concat(Enumerable.Range(0, 6).Select(i => $"GET /{i} HTTP/1.1\r\n\r\n")));
        Assert.Equal(2, h.Transactions.Count);
        Assert.All(h.Transactions, t => Assert.True(t.Flags.HasFlag(TransactionFlags.NoResponse)));
        Assert.Equal(["/0", "/1"], h.Transactions.Select(t => t.Uri));
        Assert.Equal(2, h.Http("pending_overflow"));
        h.Close();
        Assert.Equal(6, h.Transactions.Count);
    }

    [Fact]
    public void Port_reuse_gives_a_new_session()
    {
        var h = new HttpHarness();
        h.Handshake(1000, 2000);
        h.Client("GET /first HTTP/1.1\r\n\r\n", fin: true);
        h.Server("HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\n1", fin: true);
        h.Client(default(ReadOnlySpan<byte>));
        h.Handshake(500_000, 700_000);
        h.Client("GET /second HTTP/1.1\r\n\r\n");
        h.Server("HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\n2");
        h.Close();
        Assert.Equal(2, h.SessionsCreated);
        Assert.Equal(["/first", "/second"], h.Transactions.Select(t => t.Uri));
        Assert.All(h.Transactions, t => Assert.True(t.Complete));
        Assert.All(h.Transactions, t => Assert.Equal(0, t.Index));
    }

    [Fact]
    public void Timestamps_come_from_packet_time()
    {
        var h = new HttpHarness();
        h.Handshake();
        h.Client("GET / HTTP/1.1\r\n\r\n");
        long tsReq = h.Ts;
        h.Server("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
        long tsResp = h.Ts;
        h.Close();
        var t = Assert.Single(h.Transactions);
        Assert.Equal(tsReq, t.TsRequest);
        Assert.Equal(tsResp, t.TsResponse);
    }

    [Fact]
    public void Session_can_be_driven_directly_without_a_reassembler()
    {
        var key = Sensor.Core.FlowKey.Create(Sensor.Core.IpAddr.Parse("192.0.2.1"), 41000, Sensor.Core.IpAddr.Parse("192.0.2.2"), 80, out bool clientIsA);
        var conn = new TcpConnection(key);
        var emitted = new List<HttpTransaction>();
        var s = new HttpSession(conn, new HttpOptions(), new HttpCounters(new Sensor.Core.CounterRegistry()), emitted.Add);
        s.OnData(clientIsA, "PUT /k HTTP/1.1\r\nContent-Length: 1\r\n\r\nv"u8, 1);
        s.OnData(!clientIsA, "HTTP/1.1 204 No Content\r\n\r\n"u8, 2);
        s.OnEnd(clientIsA, EndReason.Fin, 3);
        s.OnEnd(!clientIsA, EndReason.Fin, 3);
        s.OnClose(4);
        var t = Assert.Single(emitted);
        Assert.Equal("PUT", t.Method);
        Assert.Equal(204, t.Status);
        Assert.True(t.Complete);
        Assert.True(t.Flags.HasFlag(TransactionFlags.Midstream));
    }
}
