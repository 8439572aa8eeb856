namespace Sensor.Core.Tests;

public class FlowKeyTests
{
    [Fact]
    public void Both_directions_give_the_same_key_and_opposite_sides()
    {
        var a = IpAddr.Parse("10.0.0.1");
        var b = IpAddr.Parse("2001:db8::1");
        var k1 = FlowKey.Create(a, 40000, b, 80, out bool fromA1);
        var k2 = FlowKey.Create(b, 80, a, 40000, out bool fromA2);
        Assert.Equal(k1, k2);
        Assert.NotEqual(fromA1, fromA2);
        Assert.Equal(k1.ShardHash(), k2.ShardHash());
    }

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    public void Loopback_flows_with_even_client_ports_spread_over_workers(int workers)
    {
        // Linux gives connect() even ports; every flow below shares both addresses and the server port.
        var lo = IpAddr.Parse("127.0.0.1");
        var counts = new int[workers];
        for (int p = 40000; p < 42000; p += 2) counts[FlowKey.Create(lo, (ushort)p, lo, 8080, out _).ShardHash() % workers]++;
        Assert.All(counts, c => Assert.InRange(c, 1000 / workers * 0.8, 1000 / workers * 1.2));
    }

    [Fact]
    public void Conn_text_brackets_ipv6()
    {
        Assert.Equal("[2001:db8::1]:443", IpAddr.Parse("2001:db8::1").WithPort(443));
        Assert.Equal("192.168.1.2:80", IpAddr.Parse("192.168.1.2").WithPort(80));
    }

    [Fact]
    public void Timestamps_convert_both_ways()
    {
        long ts = Timestamp.FromUnix(1700000000, 123456, 1_000_000);
        Assert.Equal(new DateTime(2023, 11, 14, 22, 13, 20, DateTimeKind.Utc).AddTicks(1234560), Timestamp.ToDateTime(ts));
        Assert.Equal(ts, Timestamp.FromDateTime(Timestamp.ToDateTime(ts)));
        Assert.Equal(Timestamp.FromUnix(1, 5, 1_000_000_000), Timestamp.FromUnix(1, 0, 1));
    }
}
