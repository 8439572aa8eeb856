namespace Sensor.Reassembly.Tests;

public class RegressionTests
{
    [Fact]
    public void A_fin_reached_through_a_gap_the_peer_caused_ends_the_stream_as_fin()
    {
        var d = new TcpDriver();
        d.Handshake(1000, 5000);
        d.Send(true, 1001, TcpDriver.Pattern(10), ack: 5001);
        d.Send(true, 1021, TcpDriver.Pattern(10, 3), ack: 5001, fin: true);   // 1011..1020 never seen
        d.Send(false, 5001, "x"u8, ack: 1032, fin: true);                   // server acks past the hole
        Assert.Equal([(10L, 10L)], d.Receiver.Gaps(true));
        Assert.Equal([EndReason.Fin], d.Receiver.Ends(true));
    }

    [Fact]
    public void A_fin_reached_through_a_buffer_limit_gap_ends_the_stream_as_fin()
    {
        var d = new TcpDriver(new ReassemblyOptions { MaxBufferedPerStream = 10 });
        d.Handshake(1000, 5000);
        d.Send(true, 1001, TcpDriver.Pattern(10), ack: 5001);
        d.Send(true, 1021, TcpDriver.Pattern(20, 5), ack: 5001, fin: true);
        Assert.Equal([EndReason.Fin], d.Receiver.Ends(true));
        Assert.Equal(1, d.Counter("buffer_limit_gaps"));
    }
}

public class FloodTests
{
    [Fact]
    public void A_syn_flood_into_a_full_table_does_not_sweep_the_table_per_packet()
    {
        var counters = new Sensor.Core.CounterRegistry();
        var reasm = new TcpReassembler(counters, new ReassemblyOptions { MaxConnections = 1000 }, c => new RecordingReceiver(c));
        var server = Sensor.Core.IpAddr.Parse("10.0.0.2");
        long t = TcpDriver.T0;
        var syn = new SegmentInfo(1, 0, true, false, false, false, 0);
        for (int i = 0; i < 50_000; i++)
        {
            var key = Sensor.Core.FlowKey.Create(Sensor.Core.IpAddr.Parse($"10.{i >> 16}.{(i >> 8) & 255}.{i & 255}"), 1000, server, 80, out bool a);
            reasm.Process(key, a, syn, default, t + i * 10L);   // 50k SYNs, one per microsecond: 50 ms of packet time
        }
        Assert.Equal(1000, reasm.ConnectionCount);
        Assert.Equal(49_000, counters.Get("tcp", "table_full_drops"));
        Assert.Equal(1, counters.Get("tcp", "table_full_sweeps"));
    }
}
