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
