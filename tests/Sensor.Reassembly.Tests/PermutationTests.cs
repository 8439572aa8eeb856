namespace Sensor.Reassembly.Tests;

/// <summary>
/// Five segments of one client stream (with an overlap and a retransmission) delivered in every one of
/// the 5! = 120 arrival orders must always produce the original byte stream, and a gap only where
/// bytes were really never sent.
/// </summary>
public class PermutationTests
{
    private const int StreamLength = 40;
    private const uint ServerIsn = 7_000_000;

    // (offset, length) inside the 40-byte stream; the last byte of segment 3 carries FIN.
    private static readonly (int Off, int Len)[] Complete =
    [
        (0, 10),    // s0
        (10, 15),   // s1
        (5, 13),    // s2 overlaps s0 and s1
        (25, 15),   // s3 (FIN)
        (10, 15),   // s4 retransmission of s1
    ];

    // Bytes [10, 12) are never sent.
    private static readonly (int Off, int Len)[] WithHole =
    [
        (0, 10),    // s0
        (16, 9),    // s1
        (12, 10),   // s2 overlaps s1
        (25, 15),   // s3 (FIN)
        (16, 9),    // s4 retransmission of s1
    ];

    public static IEnumerable<object[]> Permutations()
    {
        foreach (uint isn in new uint[] { 1000, 0xFFFF_FFF0 })   // the second one wraps at 2^32 inside the data
            foreach (var p in Permute([0, 1, 2, 3, 4]))
                yield return [isn, string.Join(",", p)];
    }

    private static IEnumerable<int[]> Permute(int[] items)
    {
        if (items.Length <= 1) { yield return items; yield break; }
        for (int i = 0; i < items.Length; i++)
        {
            var rest = items.Where((_, j) => j != i).ToArray();
            foreach (var p in Permute(rest)) yield return [items[i], .. p];
        }
    }

    private static int[] Order(string order) => order.Split(',').Select(int.Parse).ToArray();

    private static void SendSegments(TcpDriver d, uint isn, byte[] data, (int Off, int Len)[] segs, int[] order)
    {
        foreach (int i in order)
        {
            var (off, len) = segs[i];
            bool fin = i == 3;
            d.Send(true, isn + 1 + (uint)off, data.AsSpan(off, len), ack: ServerIsn + 1, fin: fin);
        }
    }

    [Fact]
    public void There_are_120_orders_per_isn()
    {
        Assert.Equal(240, Permutations().Count());
        Assert.Equal(240, Permutations().Select(p => $"{p[0]}/{p[1]}").Distinct().Count());
    }

    [Theory]
    [MemberData(nameof(Permutations))]
    public void Every_arrival_order_delivers_the_original_stream(uint isn, string order)
    {
        var d = new TcpDriver();
        var data = TcpDriver.Pattern(StreamLength);
        d.Handshake(isn, ServerIsn);
        SendSegments(d, isn, data, Complete, Order(order));

        var r = Assert.Single(d.Receivers);
        // Everything is contiguous once all five arrived: delivered without waiting for a flush.
        Assert.Equal(data, r.Delivered(true));
        Assert.Empty(r.Gaps(true));
        Assert.Equal([EndReason.Fin], r.Ends(true));
        Assert.Equal(0, d.Reassembler.BufferedBytes);
        Assert.Equal(0, d.Counter("overlap_conflicts"));

        d.Reassembler.FlushAll(d.Ts);
        Assert.Equal(data, r.Delivered(true));
        Assert.Empty(r.Gaps(true));
        Assert.Equal(0, d.Counter("gaps"));
        Assert.Equal(0, d.Counter("gap_bytes"));
        Assert.Equal([EndReason.Fin], r.Ends(true));
        Assert.Equal(1, r.Closes);
        Assert.Empty(r.Delivered(false));
    }

    [Theory]
    [MemberData(nameof(Permutations))]
    public void Every_arrival_order_reports_exactly_the_missing_bytes_at_flush(uint isn, string order)
    {
        var d = new TcpDriver();
        var data = TcpDriver.Pattern(StreamLength);
        d.Handshake(isn, ServerIsn);
        SendSegments(d, isn, data, WithHole, Order(order));

        var r = Assert.Single(d.Receivers);
        Assert.Empty(r.Gaps(true));                                   // nobody said the bytes are lost yet
        Assert.Equal(data[..10], r.Delivered(true));
        Assert.Equal(28, d.Reassembler.BufferedBytes);                // [12, 40) waits behind the hole

        d.Reassembler.FlushAll(d.Ts);
        Assert.Equal([.. data[..10], .. data[12..]], r.Delivered(true));
        Assert.Equal([(10L, 2L)], r.Gaps(true));
        Assert.Equal(1, d.Counter("gaps"));
        Assert.Equal(2, d.Counter("gap_bytes"));
        Assert.Equal(0, d.Reassembler.BufferedBytes);
        Assert.Single(r.Ends(true));
        Assert.Equal(1, r.Closes);
    }

    [Theory]
    [MemberData(nameof(Permutations))]
    public void Every_arrival_order_reports_the_hole_when_the_server_acks_past_it(uint isn, string order)
    {
        var d = new TcpDriver();
        var data = TcpDriver.Pattern(StreamLength);
        d.Handshake(isn, ServerIsn);
        SendSegments(d, isn, data, WithHole, Order(order));
        // The server answers with data, acknowledging the whole client stream (incl. FIN).
        d.Send(false, ServerIsn + 1, "ok"u8, ack: isn + 1 + StreamLength + 1);

        var r = Assert.Single(d.Receivers);
        Assert.Equal([.. data[..10], .. data[12..]], r.Delivered(true));
        Assert.Equal([(10L, 2L)], r.Gaps(true));
        Assert.Equal("ok"u8.ToArray(), r.Delivered(false));
        Assert.Equal(0, d.Reassembler.BufferedBytes);
    }
}
