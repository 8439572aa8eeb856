using static Sensor.Http.Tests.Bytes;

namespace Sensor.Http.Tests;

/// <summary>Bytes missing from the capture: the damaged message is flagged, the next one parses.</summary>
public class SessionGapTests
{
    private static void AssertIntact(HttpTransaction t, string method, string uri, int status, byte[] respBody)
    {
        Assert.Equal(method, t.Method);
        Assert.Equal(uri, t.Uri);
        Assert.Equal(status, t.Status);
        Assert.True(t.Complete, t.FlagsText());
        Assert.Equal(respBody.Length, t.ResponseBody.Length);
        Assert.Equal(respBody.Length == 0 ? null : Sha(respBody), t.ResponseBody.Sha256Hex);
    }

    [Fact]
    public void Hole_in_a_content_length_response_body_found_by_the_clients_ack()
    {
        var body = Text(100, 1);
        var body2 = Text(30, 2);
        var h = new HttpHarness();
        h.Handshake();
        h.Client("GET /a HTTP/1.1\r\nHost: h\r\n\r\n");
        h.Server(Cat(Ascii("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n"), body[..40]));
        h.DropServer(20);                       // body[40..60] never captured
        h.Server(body[60..]);                   // waits behind the hole
        Assert.Empty(h.Transactions);
        h.Client("GET /b HTTP/1.1\r\nHost: h\r\n\r\n");   // acks past the hole: the gap is declared
        var t0 = Assert.Single(h.Transactions);
        h.Server(Cat(Ascii($"HTTP/1.1 200 OK\r\nContent-Length: {body2.Length}\r\n\r\n"), body2));
        h.Close();

        Assert.Equal(2, h.Transactions.Count);
        Assert.Equal("/a", t0.Uri);
        Assert.Equal(200, t0.Status);
        Assert.False(t0.Complete);
        Assert.False(t0.ResponseComplete);
        Assert.True(t0.RequestComplete);
        Assert.True(t0.ResponseDone);
        Assert.True(t0.Flags.HasFlag(TransactionFlags.Gap));
        Assert.Equal(80, t0.ResponseBody.Length);
        Assert.Equal(Sha(Cat(body[..40], body[60..])), t0.ResponseBody.Sha256Hex);

        var t1 = h.Transactions[1];
        AssertIntact(t1, "GET", "/b", 200, body2);
        Assert.False(t1.Flags.HasFlag(TransactionFlags.Gap));
        Assert.Equal(1, h.Tcp("gaps"));
        Assert.Equal(20, h.Tcp("gap_bytes"));
        Assert.Equal(0, h.Http("gap_resyncs"));
        Assert.Equal(0, h.Http("garbage_bytes"));
    }

    [Fact]
    public void Snaplen_cut_inside_a_content_length_body_then_next_exchange_parses()
    {
        var body = Text(100, 3);
        var h = new HttpHarness();
        h.Handshake();
        h.Client("GET /a HTTP/1.1\r\nHost: h\r\n\r\n");
        h.Server(Cat(Ascii("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n"), body[..40]), missing: 20);
        h.Server(body[60..]);
        h.Client("GET /b HTTP/1.1\r\nHost: h\r\n\r\n");
        h.Server("HTTP/1.1 404 Not Found\r\nContent-Length: 4\r\n\r\nnope");
        h.Close();

        Assert.Equal(2, h.Transactions.Count);
        var t0 = h.Transactions[0];
        Assert.False(t0.Complete);
        Assert.Equal(TransactionFlags.Gap, t0.Flags);
        Assert.Equal(80, t0.ResponseBody.Length);
        AssertIntact(h.Transactions[1], "GET", "/b", 404, Ascii("nope"));
        Assert.Equal(TransactionFlags.None, h.Transactions[1].Flags);
    }

    [Fact]
    public void Gap_covering_the_rest_of_a_body_exactly_then_next_exchange_parses()
    {
        var h = new HttpHarness();
        h.Handshake();
        h.Client("GET /a HTTP/1.1\r\n\r\n");
        h.Server(Cat(Ascii("HTTP/1.1 200 OK\r\nContent-Length: 50\r\n\r\n"), Text(10)), missing: 40);
        h.Client("GET /b HTTP/1.1\r\n\r\n");
        h.Server("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
        h.Close();
        Assert.Equal(2, h.Transactions.Count);
        Assert.True(h.Transactions[0].Flags.HasFlag(TransactionFlags.Gap));
        AssertIntact(h.Transactions[1], "GET", "/b", 200, Ascii("ok"));
    }

    [Fact]
    public void Hole_in_a_content_length_request_body_then_next_request_parses()
    {
        var body = Text(100, 4);
        var h = new HttpHarness();
        h.Handshake();
        h.Client(Cat(Ascii("POST /upload HTTP/1.1\r\nHost: h\r\nContent-Length: 100\r\n\r\n"), body[..30]));
        h.DropClient(40);
        h.Client(body[70..]);
        // The server's response acknowledges the whole upload: the hole becomes a gap.
        h.Server("HTTP/1.1 200 OK\r\nContent-Length: 7\r\n\r\nstored!");
        h.Client("GET /list HTTP/1.1\r\nHost: h\r\n\r\n");
        h.Server("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n[]");
        h.Close();

        Assert.Equal(2, h.Transactions.Count);
        var t0 = h.Transactions[0];
        Assert.Equal("POST", t0.Method);
        Assert.False(t0.RequestComplete);
        Assert.True(t0.ResponseComplete);
        Assert.False(t0.Complete);
        Assert.True(t0.Flags.HasFlag(TransactionFlags.Gap));
        Assert.Equal(60, t0.RequestBody.Length);
        Assert.Equal(Sha(Cat(body[..30], body[70..])), t0.RequestBody.Sha256Hex);
        Assert.Equal(Sha(Ascii("stored!")), t0.ResponseBody.Sha256Hex);
        AssertIntact(h.Transactions[1], "GET", "/list", 200, Ascii("[]"));
    }

    [Fact]
    public void Hole_at_a_chunk_boundary_resynchronises_at_the_next_response()
    {
        var h = new HttpHarness();
        h.Handshake();
        h.Client("GET /a HTTP/1.1\r\nHost: h\r\n\r\nGET /b HTTP/1.1\r\nHost: h\r\n\r\n");
        h.Server("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n10\r\n0123456789abcdef\r\n");
        h.DropServer("10\r\nLOST-LOST-LOST-!\r\n".Length);
        h.Server("0\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nsecond");
        h.Client(default(ReadOnlySpan<byte>), fin: true);     // acks everything: the hole becomes a gap
        h.Close();

        Assert.Equal(2, h.Transactions.Count);
        var t0 = h.Transactions[0];
        Assert.Equal("/a", t0.Uri);
        Assert.False(t0.Complete);
        Assert.True(t0.Flags.HasFlag(TransactionFlags.Gap));
        Assert.Equal(Sha(Ascii("0123456789abcdef")), t0.ResponseBody.Sha256Hex);
        AssertIntact(h.Transactions[1], "GET", "/b", 200, Ascii("second"));
        Assert.True(h.Transactions[1].Flags.HasFlag(TransactionFlags.Pipelined));
        Assert.Equal(1, h.Http("gap_resyncs"));
        Assert.Equal(5, h.Http("garbage_bytes"));     // the "0\r\n\r\n" left of the lost message
    }

    [Fact]
    public void Hole_inside_chunk_data_resynchronises_at_the_next_response()
    {
        var chunk = Text(300, 5);
        var h = new HttpHarness();
        h.Handshake();
        h.Client("GET /a HTTP/1.1\r\n\r\n");
        h.Server(Cat(Ascii("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n12c\r\n"), chunk[..100]));
        h.DropServer(100);
        h.Server(Cat(chunk[200..], Ascii("\r\n40\r\n"), Text(64, 6), Ascii("\r\n0\r\n\r\n")));
        h.Client("GET /b HTTP/1.1\r\n\r\n");            // acks past the hole
        h.Server("HTTP/1.1 201 Created\r\nContent-Length: 3\r\n\r\nnew");
        h.Close();

        Assert.Equal(2, h.Transactions.Count);
        var t0 = h.Transactions[0];
        Assert.False(t0.Complete);
        Assert.True(t0.Flags.HasFlag(TransactionFlags.Gap));
        Assert.Equal(100, t0.ResponseBody.Length);     // what arrived before the hole
        AssertIntact(h.Transactions[1], "GET", "/b", 201, Ascii("new"));
        Assert.True(h.Http("garbage_bytes") > 0);
    }

    [Fact]
    public void Hole_in_a_request_head_resynchronises_at_the_next_request()
    {
        var h = new HttpHarness();
        h.Handshake();
        h.Client("GET /first HTTP/1.1\r\nHo");
        h.DropClient(10);
        h.Client("ntent: lost\r\n\r\nGET /second HTTP/1.1\r\nHost: h\r\n\r\n");
        h.Server("HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc");   // acks past the hole
        h.Close();

        // The first request is lost (its head was cut); the response pairs with the second one.
        var t = Assert.Single(h.Transactions);
        Assert.Equal("/second", t.Uri);
        Assert.Equal(1, h.Http("lost_heads"));
        Assert.Equal(1, h.Http("gap_resyncs"));
    }

    [Fact]
    public void Hole_in_a_close_delimited_body_flags_the_gap()
    {
        var body = Text(300, 7);
        var h = new HttpHarness();
        h.Handshake();
        h.Client("GET /s HTTP/1.0\r\n\r\n");
        h.Server(Cat(Ascii("HTTP/1.0 200 OK\r\n\r\n"), body[..100]), missing: 100);
        h.Server(body[200..], fin: true);
        h.Close();
        var t = Assert.Single(h.Transactions);
        Assert.False(t.Complete);
        Assert.True(t.Flags.HasFlag(TransactionFlags.Gap));
        Assert.Equal(200, t.ResponseBody.Length);
    }

    [Fact]
    public void Gap_before_anything_was_parsed_is_ignored()
    {
        var h = new HttpHarness();
        h.Handshake();
        h.Client(default(ReadOnlySpan<byte>), missing: 100);   // the first 100 bytes were cut from the capture
        h.Client("GET /x HTTP/1.1\r\n\r\n");
        h.Server("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
        h.Close();
        var t = Assert.Single(h.Transactions);
        Assert.Equal("/x", t.Uri);
        Assert.True(t.Complete);
        Assert.Equal(1, h.Tcp("gaps"));
        Assert.Equal(0, h.Http("gap_resyncs"));
    }

    [Fact]
    public void Gap_declared_while_a_response_waits_for_its_request()
    {
        var h = new HttpHarness();
        h.Handshake();
        h.DropClient(100);
        h.Client("GET /x HTTP/1.1\r\n\r\n");                        // buffered behind the hole
        h.Server("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");  // held until a request shows up; acks past the hole
        h.Close();
        var t = Assert.Single(h.Transactions);
        Assert.Equal("/x", t.Uri);
        Assert.Equal(200, t.Status);
        Assert.Equal(Sha(Ascii("ok")), t.ResponseBody.Sha256Hex);
        Assert.True(t.Complete);
        Assert.Equal(0, h.Http("orphan_responses"));
    }

    [Fact]
    public void Rst_in_the_middle_of_a_body_truncates_it()
    {
        var h = new HttpHarness();
        h.Handshake();
        h.Client("GET /big HTTP/1.1\r\n\r\n");
        h.Server(Cat(Ascii("HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n"), Text(300)));
        h.Reassembler.Process(h.Key, !h.ClientIsA, new Sensor.Reassembly.SegmentInfo(h.ServerSeq, h.ClientSeq, false, true, false, true, 0), default, h.Ts + 1);
        var t = Assert.Single(h.Transactions);
        Assert.False(t.Complete);
        Assert.True(t.Flags.HasFlag(TransactionFlags.Truncated));
        Assert.Equal(300, t.ResponseBody.Length);
        Assert.Equal(1, h.Http("truncated_bodies"));
    }
}
