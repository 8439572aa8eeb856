using System.Buffers;

namespace Sensor.Http.Tests;

/// <summary>Fixed defects, each pinned by the input that showed it.</summary>
public class RegressionTests
{
    [Fact]
    public void A_response_seen_before_its_request_is_paired_as_soon_as_the_request_arrives()
    {
        var h = new HttpHarness();            // no handshake: roles come from content
        h.Server("HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc");
        long responseTs = h.Ts;
        h.Client("GET /late HTTP/1.1\r\nHost: x\r\n\r\n");
        var t = Assert.Single(h.Transactions);          // emitted now, not at close
        Assert.Equal("/late", t.Uri);
        Assert.Equal(200, t.Status);
        Assert.Equal(responseTs, t.TsResponse);
        h.Client("GET /next HTTP/1.1\r\nHost: x\r\n\r\n");
        h.Server("HTTP/1.1 204 No Content\r\n\r\n");
        Assert.Equal(2, h.Transactions.Count);
        Assert.False(h.Transactions[1].Flags.HasFlag(TransactionFlags.Pipelined));
    }

    [Fact]
    public void Mixed_spaces_and_tabs_around_values_and_folds_are_trimmed()
    {
        var head = Bytes.Ascii("GET / HTTP/1.1\r\nX-A: \t \tvalue \t \r\nX-B: a\r\n \t folded \t \r\n\r\n");
        Assert.Equal(HttpHeadParser.Result.Ok, HttpHeadParser.TryParse(new ReadOnlySequence<byte>(head), true, 65536, out var h, out _));
        Assert.Equal("value", h!.Get("X-A"));
        Assert.Equal("a folded", h.Get("X-B"));
    }

    [Theory]
    [InlineData("0000000000000010", 16)]
    [InlineData("00000000000000000000001f;ext=1", 31)]
    [InlineData("0", 0)]
    public void Zero_padded_chunk_sizes_are_sizes(string line, long expected)
    {
        Assert.True(MessageReader.ParseChunkSize(Bytes.Ascii(line), out long size));
        Assert.Equal(expected, size);
    }

    [Fact]
    public void Sixteen_significant_hex_digits_are_still_rejected()
    {
        Assert.False(MessageReader.ParseChunkSize(Bytes.Ascii("1000000000000000"), out _));
    }

    [Fact]
    public void Conflicting_content_lengths_are_flagged()
    {
        var h = new HttpHarness();
        h.Handshake();
        h.Client("POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 2, 3\r\n\r\nab");
        h.Server("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
        var t = Assert.Single(h.Transactions);
        Assert.True(t.Flags.HasFlag(TransactionFlags.BadHeader));
    }
}
