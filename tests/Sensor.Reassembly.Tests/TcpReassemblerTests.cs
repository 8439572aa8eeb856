using Sensor.Core;

namespace Sensor.Reassembly.Tests;

public class TcpReassemblerTests
{
    private const uint C = 1000;        // client ISN
    private const uint S = 5_000_000;   // server ISN

    // ---- overlaps ----

    [Fact]
    public void Overlap_with_different_bytes_keeps_the_first_copy_and_counts_a_conflict()
    {
        var d = new TcpDriver();
        var data = TcpDriver.Pattern(20);
        var other = Enumerable.Repeat((byte)'X', 10).ToArray();
        d.Handshake(C, S);
        d.Send(true, C + 11, data.AsSpan(10, 10), ack: S + 1);   // [10, 20) ahead of a hole: buffered
        d.Send(true, C + 11, other, ack: S + 1);                 // same range, different bytes
        Assert.Equal(1, d.Counter("overlap_conflicts"));
        Assert.Equal(10, d.Counter("overlap_bytes"));
        d.Send(true, C + 1, data.AsSpan(0, 10), ack: S + 1);     // fills the hole

        Assert.Equal(data, d.Receiver.Delivered(true));
        Assert.Empty(d.Receiver.Gaps(true));
        Assert.Equal(1, d.Counter("overlap_conflicts"));
    }

    [Fact]
    public void Partial_overlap_with_different_bytes_keeps_old_bytes_and_adds_only_new_ones()
    {
        var d = new TcpDriver();
        var data = TcpDriver.Pattern(30);
        d.Handshake(C, S);
        d.Send(true, C + 11, data.AsSpan(10, 10), ack: S + 1);                 // [10, 20)
        var late = data[15..30].ToArray();
        for (int i = 0; i < 5; i++) late[i] ^= 0xFF;                            // [15, 20) differs, [20, 30) is new
        d.Send(true, C + 16, late, ack: S + 1);
        d.Send(true, C + 1, data.AsSpan(0, 10), ack: S + 1);

        Assert.Equal(data, d.Receiver.Delivered(true));
        Assert.Equal(1, d.Counter("overlap_conflicts"));
        Assert.Equal(5, d.Counter("overlap_bytes"));
    }

    [Fact]
    public void Overlap_with_identical_bytes_is_not_a_conflict()
    {
        var d = new TcpDriver();
        var data = TcpDriver.Pattern(30);
        d.Handshake(C, S);
        d.Send(true, C + 11, data.AsSpan(10, 10), ack: S + 1);
        d.Send(true, C + 6, data.AsSpan(5, 20), ack: S + 1);
        d.Send(true, C + 1, data.AsSpan(0, 30), ack: S + 1);

        Assert.Equal(data, d.Receiver.Delivered(true));
        Assert.Equal(0, d.Counter("overlap_conflicts"));
        Assert.True(d.Counter("overlap_bytes") > 0);
    }

    [Fact]
    public void Retransmission_of_delivered_bytes_is_dropped_and_the_first_copy_stands()
    {
        var d = new TcpDriver();
        var data = TcpDriver.Pattern(20);
        d.Handshake(C, S);
        d.Send(true, C + 1, data.AsSpan(0, 20), ack: S + 1);
        d.Send(true, C + 1, new byte[20], ack: S + 1);              // different bytes, already delivered
        d.Send(true, C + 11, data.AsSpan(10, 10), ack: S + 1);      // plain retransmission

        Assert.Equal(data, d.Receiver.Delivered(true));
        Assert.Equal(2, d.Counter("retransmitted_segments"));
        Assert.Equal(30, d.Counter("overlap_bytes"));
    }

    [Fact]
    public void Segment_straddling_delivered_and_new_bytes_delivers_only_the_new_part()
    {
        var d = new TcpDriver();
        var data = TcpDriver.Pattern(30);
        d.Handshake(C, S);
        d.Send(true, C + 1, data.AsSpan(0, 20), ack: S + 1);
        d.Send(true, C + 11, data.AsSpan(10, 20), ack: S + 1);

        Assert.Equal(data, d.Receiver.Delivered(true));
        Assert.Equal(10, d.Counter("overlap_bytes"));
        Assert.Equal([20, 10], d.Receiver.Events.Where(e => e.Kind == "data").Select(e => e.Data!.Length).ToArray());
    }

    // ---- gaps ----

    [Fact]
    public void Gap_is_declared_when_the_peer_acks_past_a_hole_with_later_data_buffered()
    {
        var d = new TcpDriver();
        var data = TcpDriver.Pattern(30);
        d.Handshake(C, S);
        d.Send(true, C + 1, data.AsSpan(0, 10), ack: S + 1);
        d.Send(true, C + 21, data.AsSpan(20, 10), ack: S + 1);      // [10, 20) never captured
        Assert.Equal(data[..10], d.Receiver.Delivered(true));

        // The server acknowledges only part of the hole: the buffered bytes still wait.
        d.Send(false, S + 1, "a"u8, ack: C + 1 + 15);
        Assert.Empty(d.Receiver.Gaps(true));
        Assert.Equal(10, d.Reassembler.BufferedBytes);

        // Acknowledging past the hole proves the bytes were sent: the hole becomes a gap.
        d.Send(false, S + 2, "b"u8, ack: C + 1 + 30);
        Assert.Equal([(10L, 10L)], d.Receiver.Gaps(true));
        Assert.Equal([.. data[..10], .. data[20..]], d.Receiver.Delivered(true));
        Assert.Equal(1, d.Counter("gaps"));
        Assert.Equal(10, d.Counter("gap_bytes"));
        Assert.Equal(0, d.Reassembler.BufferedBytes);

        // The stream goes on normally after the gap.
        d.Send(true, C + 31, "tail"u8, ack: S + 3);
        Assert.Equal([.. data[..10], .. data[20..], .. "tail"u8.ToArray()], d.Receiver.Delivered(true));
    }

    [Fact]
    public void Ack_past_a_hole_without_buffered_data_declares_nothing()
    {
        var d = new TcpDriver();
        d.Handshake(C, S);
        d.Send(true, C + 1, TcpDriver.Pattern(10), ack: S + 1);
        d.Send(false, S + 1, "x"u8, ack: C + 1 + 100);          // acks bytes never seen, nothing waits
        Assert.Empty(d.Receiver.Gaps(true));
        d.Send(true, C + 101, "late"u8, ack: S + 2);             // next data: buffered behind [10, 100)
        Assert.Empty(d.Receiver.Gaps(true));
        d.Reassembler.FlushAll(d.Ts);
        Assert.Equal([(10L, 90L)], d.Receiver.Gaps(true));
        Assert.EndsWith("late", System.Text.Encoding.ASCII.GetString(d.Receiver.Delivered(true)));
    }

    [Fact]
    public void Holes_become_gaps_at_flush_in_order()
    {
        var d = new TcpDriver();
        var data = TcpDriver.Pattern(50);
        d.Handshake(C, S);
        d.Send(true, C + 1, data.AsSpan(0, 10), ack: S + 1);
        d.Send(true, C + 41, data.AsSpan(40, 10), ack: S + 1);
        d.Send(true, C + 21, data.AsSpan(20, 10), ack: S + 1);
        Assert.Equal(20, d.Reassembler.BufferedBytes);
        Assert.Empty(d.Receiver.Gaps(true));

        d.Reassembler.FlushAll(d.Ts);
        var r = d.Receiver;
        Assert.Equal([(10L, 10L), (30L, 10L)], r.Gaps(true));
        Assert.Equal([.. data[..10], .. data[20..30], .. data[40..]], r.Delivered(true));
        Assert.Equal([EndReason.Flush], r.Ends(true));
        Assert.Equal([EndReason.Flush], r.Ends(false));
        Assert.Equal(1, r.Closes);
        Assert.Equal(0, d.Reassembler.ConnectionCount);
        Assert.Equal(0, d.Reassembler.BufferedBytes);
    }

    [Fact]
    public void Missing_bytes_before_a_seen_fin_become_a_gap_at_flush()
    {
        var d = new TcpDriver();
        d.Handshake(C, S);
        d.Send(true, C + 1, TcpDriver.Pattern(10), ack: S + 1);
        d.Send(true, C + 31, default, ack: S + 1, fin: true);   // FIN at offset 30: [10, 30) never seen
        Assert.Empty(d.Receiver.Ends(true));
        d.Reassembler.FlushAll(d.Ts);
        Assert.Equal([(10L, 20L)], d.Receiver.Gaps(true));
    }

    [Fact]
    public void Snaplen_cut_bytes_are_reported_as_a_gap_in_place()
    {
        var d = new TcpDriver();
        var data = TcpDriver.Pattern(30);
        d.Handshake(C, S);
        d.Send(true, C + 1, data.AsSpan(0, 10), ack: S + 1, missing: 5);      // 15-byte segment, 5 cut
        d.Send(true, C + 16, data.AsSpan(15, 15), ack: S + 1);
        Assert.Equal([(10L, 5L)], d.Receiver.Gaps(true));
        Assert.Equal([.. data[..10], .. data[15..]], d.Receiver.Delivered(true));

        // The same out of order: the cut-marker waits in the buffer and is delivered in place.
        var d2 = new TcpDriver();
        d2.Handshake(C, S);
        d2.Send(true, C + 16, data.AsSpan(15, 15), ack: S + 1);
        d2.Send(true, C + 1, data.AsSpan(0, 10), ack: S + 1, missing: 5);
        Assert.Equal([(10L, 5L)], d2.Receiver.Gaps(true));
        Assert.Equal([.. data[..10], .. data[15..]], d2.Receiver.Delivered(true));
    }

    [Fact]
    public void Sequence_numbers_wrap_at_2_pow_32()
    {
        const uint isn = 0xFFFF_FFFA;   // data starts at 0xFFFFFFFB and wraps after 5 bytes
        var d = new TcpDriver();
        var data = TcpDriver.Pattern(30);
        d.Handshake(isn, S);
        d.Send(true, unchecked(isn + 1 + 20), data.AsSpan(20, 10), ack: S + 1, fin: true);
        d.Send(true, unchecked(isn + 1 + 3), data.AsSpan(3, 10), ack: S + 1);    // crosses 2^32
        d.Send(true, isn + 1, data.AsSpan(0, 3), ack: S + 1);
        Assert.Equal(data[..13], d.Receiver.Delivered(true));
        // The server acks everything: the [13, 20) hole becomes a gap, then the FIN ends the stream.
        d.Send(false, S + 1, "r"u8, ack: unchecked(isn + 1 + 31));
        Assert.Equal([(13L, 7L)], d.Receiver.Gaps(true));
        Assert.Equal([.. data[..13], .. data[20..]], d.Receiver.Delivered(true));
        Assert.True(Seq.Lt(0xFFFF_FFFF, 0));
        Assert.True(Seq.Gt(5, 0xFFFF_FFF0));
    }

    [Fact]
    public void Server_isn_near_wrap_works_for_the_response_direction()
    {
        const uint sIsn = 0xFFFF_FFFF;  // first data byte at sequence 0
        var d = new TcpDriver();
        var data = TcpDriver.Pattern(20);
        d.Handshake(C, sIsn);
        d.Send(false, 10, data.AsSpan(10, 10), ack: C + 1);
        d.Send(false, 0, data.AsSpan(0, 10), ack: C + 1);
        Assert.Equal(data, d.Receiver.Delivered(false));
        Assert.Empty(d.Receiver.Gaps(false));
    }

    [Fact]
    public void Per_stream_buffer_limit_forces_a_gap()
    {
        var d = new TcpDriver(new ReassemblyOptions { MaxBufferedPerStream = 100 });
        var data = TcpDriver.Pattern(200);
        d.Handshake(C, S);
        d.Send(true, C + 1, data.AsSpan(0, 10), ack: S + 1);
        d.Send(true, C + 21, data.AsSpan(20, 60), ack: S + 1);      // 60 buffered
        Assert.Equal(0, d.Counter("buffer_limit_gaps"));
        Assert.Empty(d.Receiver.Gaps(true));
        d.Send(true, C + 81, data.AsSpan(80, 50), ack: S + 1);      // 110 > 100
        Assert.Equal(1, d.Counter("buffer_limit_gaps"));
        Assert.Equal([(10L, 10L)], d.Receiver.Gaps(true));
        Assert.Equal([.. data[..10], .. data[20..130]], d.Receiver.Delivered(true));
        Assert.Equal(0, d.Reassembler.BufferedBytes);

        d.Send(true, C + 131, data.AsSpan(130, 70), ack: S + 1);
        Assert.Equal([.. data[..10], .. data[20..]], d.Receiver.Delivered(true));
    }

    [Fact]
    public void Buffer_limit_skips_only_until_below_half_the_limit()
    {
        var d = new TcpDriver(new ReassemblyOptions { MaxBufferedPerStream = 100 });
        var data = TcpDriver.Pattern(300);
        d.Handshake(C, S);
        d.Send(true, C + 1, data.AsSpan(0, 10), ack: S + 1);
        d.Send(true, C + 21, data.AsSpan(20, 40), ack: S + 1);      // [20, 60)
        d.Send(true, C + 101, data.AsSpan(100, 40), ack: S + 1);    // [100, 140)
        d.Send(true, C + 201, data.AsSpan(200, 40), ack: S + 1);    // [200, 240): 120 buffered
        Assert.Equal(1, d.Counter("buffer_limit_gaps"));
        // First skip [10,20) delivers [20,60) (80 left > 50), second skip [60,100) delivers [100,140) (40 left).
        Assert.Equal([(10L, 10L), (60L, 40L)], d.Receiver.Gaps(true));
        Assert.Equal(40, d.Reassembler.BufferedBytes);
        d.Reassembler.FlushAll(d.Ts);
        Assert.Equal([(10L, 10L), (60L, 40L), (140L, 60L)], d.Receiver.Gaps(true));
    }

    [Fact]
    public void Global_buffer_limit_forces_a_gap_across_connections()
    {
        var opt = new ReassemblyOptions { MaxBufferedTotal = 100 };
        var counters = new CounterRegistry();
        var receivers = new List<RecordingReceiver>();
        var reasm = new TcpReassembler(counters, opt, c => { var r = new RecordingReceiver(c); receivers.Add(r); return r; });
        var k1 = FlowKey.Create(IpAddr.Parse("10.0.0.1"), 1111, IpAddr.Parse("10.0.0.2"), 80, out bool a1);
        var k2 = FlowKey.Create(IpAddr.Parse("10.0.0.1"), 2222, IpAddr.Parse("10.0.0.2"), 80, out bool a2);
        long ts = TcpDriver.T0;
        reasm.Process(k1, a1, new SegmentInfo(100, 0, false, true, false, false, 0), TcpDriver.Pattern(10), ts);
        reasm.Process(k1, a1, new SegmentInfo(120, 0, false, true, false, false, 0), TcpDriver.Pattern(60), ts);
        reasm.Process(k2, a2, new SegmentInfo(100, 0, false, true, false, false, 0), TcpDriver.Pattern(10), ts);
        Assert.Equal(0, counters.Get("tcp", "buffer_limit_gaps"));
        reasm.Process(k2, a2, new SegmentInfo(120, 0, false, true, false, false, 0), TcpDriver.Pattern(60), ts);
        Assert.Equal(1, counters.Get("tcp", "buffer_limit_gaps"));
        Assert.Equal([(10L, 10L)], receivers[1].Gaps(a2));
        Assert.Equal(60, reasm.BufferedBytes);
    }

    // ---- connection life cycle ----

    [Fact]
    public void Midstream_pickup_without_syn_delivers_data()
    {
        var d = new TcpDriver();
        d.Send(true, 123_456, "GET / HTTP/1.1\r\n"u8, ack: 999);
        d.Send(false, 777_000, "HTTP/1.1 200 OK\r\n"u8, ack: 123_456 + 16);
        var r = Assert.Single(d.Receivers);
        Assert.Null(r.Connection.ClientIsA);
        Assert.Equal("GET / HTTP/1.1\r\n"u8.ToArray(), r.Delivered(true));
        Assert.Equal("HTTP/1.1 200 OK\r\n"u8.ToArray(), r.Delivered(false));
        Assert.Equal(1, d.Counter("midstream_pickups"));
        Assert.False(r.Connection.A.SawSyn);
    }

    [Fact]
    public void Bare_ack_of_an_unknown_connection_is_ignored()
    {
        var d = new TcpDriver();
        d.Send(true, 1, default, ack: 2);
        Assert.Empty(d.Receivers);
        Assert.Equal(0, d.Reassembler.ConnectionCount);
        Assert.Equal(1, d.Counter("ignored_segments"));
    }

    [Fact]
    public void Handshake_sets_the_client_side()
    {
        var d = new TcpDriver(clientIp: "10.9.9.9", serverIp: "10.0.0.1");   // client is endpoint B
        Assert.False(d.ClientIsA);
        d.Handshake(C, S);
        Assert.False(d.Receiver.Connection.ClientIsA);
        d.Send(true, C + 1, "hi"u8, ack: S + 1);
        Assert.Equal("hi"u8.ToArray(), d.Receiver.Delivered(false));

        // Picked up at the SYN-ACK: the sender of the SYN-ACK is the server.
        var d2 = new TcpDriver();
        d2.Send(false, S, default, ack: C + 1, syn: true);
        Assert.Equal(true, d2.Receiver.Connection.ClientIsA);
    }

    [Fact]
    public void Fin_in_both_directions_ends_and_closes()
    {
        var d = new TcpDriver();
        d.Handshake(C, S);
        d.Send(true, C + 1, "req"u8, ack: S + 1, fin: true);
        d.Send(false, S + 1, "resp"u8, ack: C + 5, fin: true);
        d.Send(true, C + 5, default, ack: S + 6);
        var r = d.Receiver;
        Assert.Equal([EndReason.Fin], r.Ends(true));
        Assert.Equal([EndReason.Fin], r.Ends(false));
        Assert.Equal(1, r.Closes);
        Assert.True(r.Connection.Closed);
        // Late retransmission after the close is only counted.
        d.Send(false, S + 1, "resp"u8, ack: C + 5);
        Assert.Equal(1, d.Counter("data_after_close"));
        Assert.Equal("resp"u8.ToArray(), r.Delivered(false));
    }

    [Fact]
    public void Rst_ends_both_directions_and_flushes_holes()
    {
        var d = new TcpDriver();
        var data = TcpDriver.Pattern(30);
        d.Handshake(C, S);
        d.Send(true, C + 1, data.AsSpan(0, 10), ack: S + 1);
        d.Send(true, C + 21, data.AsSpan(20, 10), ack: S + 1);
        d.Send(false, S + 1, "partial"u8, ack: C + 11);
        d.Send(false, S + 8, default, ack: C + 11, rst: true);

        var r = d.Receiver;
        Assert.Equal([(10L, 10L)], r.Gaps(true));
        Assert.Equal([.. data[..10], .. data[20..]], r.Delivered(true));
        Assert.Equal([EndReason.Reset], r.Ends(true));
        Assert.Equal([EndReason.Reset], r.Ends(false));
        Assert.Equal(1, r.Closes);
        Assert.Equal("close", r.Events[^1].Kind);

        // Closed connections linger to absorb late segments, then disappear.
        d.Send(true, C + 31, "late"u8, ack: S + 8);
        Assert.Equal(1, d.Counter("data_after_close"));
        Assert.Equal(1, d.Reassembler.ConnectionCount);
        d.Reassembler.Sweep(d.Ts + 11 * Timestamp.TicksPerSecond, force: false);
        Assert.Equal(0, d.Reassembler.ConnectionCount);
        Assert.Equal(0, d.Counter("idle_timeouts"));
        Assert.Equal(1, r.Closes);
    }

    [Fact]
    public void Idle_timeout_by_packet_time_closes_the_connection()
    {
        var d = new TcpDriver();
        d.Handshake(C, S);
        d.Send(true, C + 1, "abc"u8, ack: S + 1);
        long last = d.Ts;
        d.Reassembler.Sweep(last + 119 * Timestamp.TicksPerSecond, force: false);
        Assert.Equal(1, d.Reassembler.ConnectionCount);
        Assert.Empty(d.Receiver.Ends(true));

        d.Reassembler.Sweep(last + 121 * Timestamp.TicksPerSecond, force: false);
        var r = d.Receiver;
        Assert.Equal(0, d.Reassembler.ConnectionCount);
        Assert.Equal([EndReason.Timeout], r.Ends(true));
        Assert.Equal([EndReason.Timeout], r.Ends(false));
        Assert.Equal(1, r.Closes);
        Assert.Equal(1, d.Counter("idle_timeouts"));
    }

    [Fact]
    public void Idle_timeout_is_driven_by_tick_and_by_other_connections_packets()
    {
        var d = new TcpDriver(new ReassemblyOptions { IdleTimeoutTicks = 5 * Timestamp.TicksPerSecond });
        d.Handshake(C, S);
        long last = d.Ts;
        d.Reassembler.Tick(last + 3 * Timestamp.TicksPerSecond);
        Assert.Equal(1, d.Reassembler.ConnectionCount);
        d.Reassembler.Tick(last + 6 * Timestamp.TicksPerSecond);
        Assert.Equal(0, d.Reassembler.ConnectionCount);
        Assert.Equal([EndReason.Timeout], d.Receivers[0].Ends(true));

        // A packet of another flow advancing the clock sweeps too.
        var d2 = new TcpDriver(new ReassemblyOptions { IdleTimeoutTicks = 5 * Timestamp.TicksPerSecond });
        d2.Handshake(C, S);
        var other = FlowKey.Create(IpAddr.Parse("192.168.1.1"), 1234, IpAddr.Parse("192.168.1.2"), 443, out bool fromA);
        d2.Reassembler.Process(other, fromA, new SegmentInfo(1, 0, true, false, false, false, 0), default, d2.Ts + 10 * Timestamp.TicksPerSecond);
        Assert.Equal(1, d2.Reassembler.ConnectionCount);    // only the new one
        Assert.Equal([EndReason.Timeout], d2.Receivers[0].Ends(true));
    }

    [Fact]
    public void Connection_table_full_evicts_idle_connections_or_drops()
    {
        var opt = new ReassemblyOptions { MaxConnections = 2, IdleTimeoutTicks = 40 * Timestamp.TicksPerSecond };
        var counters = new CounterRegistry();
        var receivers = new List<RecordingReceiver>();
        var reasm = new TcpReassembler(counters, opt, c => { var r = new RecordingReceiver(c); receivers.Add(r); return r; });
        FlowKey Key(ushort port, out bool a) => FlowKey.Create(IpAddr.Parse("10.0.0.1"), port, IpAddr.Parse("10.0.0.2"), 80, out a);
        long t = TcpDriver.T0;
        var syn = new SegmentInfo(1, 0, true, false, false, false, 0);
        reasm.Process(Key(1, out bool a), a, syn, default, t);
        reasm.Process(Key(2, out a), a, syn, default, t + 20 * Timestamp.TicksPerSecond);
        // Table full; connection 1 is idle for 20.5 s > 40/4 s: it is evicted.
        reasm.Process(Key(3, out a), a, syn, default, t + 20 * Timestamp.TicksPerSecond + Timestamp.TicksPerSecond / 2);
        Assert.Equal([EndReason.Evicted], receivers[0].Ends(true));
        Assert.Equal(2, reasm.ConnectionCount);
        // Nothing idle enough: the new connection is dropped and counted.
        reasm.Process(Key(4, out a), a, syn, default, t + 20 * Timestamp.TicksPerSecond + Timestamp.TicksPerSecond);
        Assert.Equal(1, counters.Get("tcp", "table_full_drops"));
        Assert.Equal(3, receivers.Count);
    }

    [Fact]
    public void New_syn_after_fin_on_the_same_ports_creates_a_new_connection()
    {
        var d = new TcpDriver();
        d.Handshake(C, S);
        d.Send(true, C + 1, "first"u8, ack: S + 1, fin: true);
        d.Send(false, S + 1, "one"u8, ack: C + 7, fin: true);
        d.Send(true, C + 7, default, ack: S + 5);
        Assert.Single(d.Receivers);
        Assert.True(d.Receivers[0].Connection.Closed);

        const uint c2 = 9_000_000, s2 = 3_000;
        d.Handshake(c2, s2);
        d.Send(true, c2 + 1, "second"u8, ack: s2 + 1);
        d.Send(false, s2 + 1, "two"u8, ack: c2 + 7);

        Assert.Equal(2, d.Receivers.Count);
        Assert.Equal(1, d.Counter("port_reuse"));
        Assert.Equal("first"u8.ToArray(), d.Receivers[0].Delivered(true));
        Assert.Equal("one"u8.ToArray(), d.Receivers[0].Delivered(false));
        Assert.Equal(1, d.Receivers[0].Closes);
        Assert.Equal("second"u8.ToArray(), d.Receivers[1].Delivered(true));
        Assert.Equal("two"u8.ToArray(), d.Receivers[1].Delivered(false));
        Assert.Equal(true, d.Receivers[1].Connection.ClientIsA);
        Assert.Equal(2, d.Counter("connections"));
    }

    [Fact]
    public void Port_reuse_while_the_old_connection_is_still_open_flushes_it()
    {
        var d = new TcpDriver();
        d.Handshake(C, S);
        d.Send(true, C + 1, "abc"u8, ack: S + 1);
        d.Send(true, C + 11, "zzz"u8, ack: S + 1);              // buffered behind a hole
        d.Handshake(80_000, 90_000);                             // new ISN after data: new connection
        Assert.Equal(2, d.Receivers.Count);
        var old = d.Receivers[0];
        Assert.Equal([(3L, 7L)], old.Gaps(true));
        Assert.Equal([EndReason.Flush], old.Ends(true));
        Assert.Equal(1, old.Closes);
        Assert.Equal(1, d.Reassembler.ConnectionCount);
    }

    [Fact]
    public void Retransmitted_syn_does_not_create_a_new_connection()
    {
        var d = new TcpDriver();
        d.Handshake(C, S);
        d.Send(true, C, default, ackFlag: false, syn: true);
        d.Send(true, C + 1, "data"u8, ack: S + 1);
        d.Send(true, C, default, ackFlag: false, syn: true);
        Assert.Single(d.Receivers);
        Assert.Equal(0, d.Counter("port_reuse"));
        Assert.Equal("data"u8.ToArray(), d.Receiver.Delivered(true));
    }
}
