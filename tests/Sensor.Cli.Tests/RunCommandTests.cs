namespace Sensor.Cli.Tests;

/// <summary>`sensor run` refuses what it cannot capture from with one clear line and writes nothing.</summary>
public class RunCommandTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("sensor-run-").FullName;
    public void Dispose() => Directory.Delete(_dir, true);

    [Theory]
    [InlineData("pcap", "no interface named sensor-nosuch0")]
    [InlineData("afpacket", "sensor-nosuch0")]
    public void An_unknown_interface_is_one_line_and_no_database(string backend, string message)
    {
        var db = Path.Combine(_dir, "x.duckdb");
        var r = SensorProcess.Run("run", "-i", "sensor-nosuch0", "--backend", backend, "--db", db);
        Assert.Equal(2, r.ExitCode);
        Assert.Contains(message, r.Stderr);
        Assert.DoesNotContain("   at ", r.Stderr + r.Stdout);
        Assert.False(File.Exists(db));
    }

    [Fact]
    public void No_interface_and_a_missing_config_file_are_refused()
    {
        var none = SensorProcess.Run("run", "--db", Path.Combine(_dir, "x.duckdb"));
        Assert.Equal(2, none.ExitCode);
        Assert.Contains("no interface to capture from", none.Stderr);
        var missing = SensorProcess.Run("run", "--config", Path.Combine(_dir, "nope.json"));
        Assert.Equal(2, missing.ExitCode);
        Assert.Contains("no such configuration file", missing.Stderr);
    }

    [Fact]
    public void An_unknown_backend_is_named()
    {
        var r = SensorProcess.Run("run", "-i", "lo", "--backend", "dpdk", "--db", Path.Combine(_dir, "x.duckdb"));
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("\"dpdk\" is not one of pcap, afpacket", r.Stderr);
    }
}
