namespace Sensor.Cli.Tests;

public class MalformedInputTests
{
    [Fact]
    public void Missing_file_is_one_line_and_exit_2()
    {
        var r = SensorProcess.Run("replay", "/nonexistent/x.pcap", "--db", Path.Combine(Path.GetTempPath(), $"m-{Guid.NewGuid():N}.duckdb"), "--quiet");
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("x.pcap", r.Stderr);
        Assert.DoesNotContain("   at ", r.Stderr);
    }

    [Fact]
    public void Truncated_capture_with_strict_exits_2_but_keeps_transactions()
    {
        var dir = Directory.CreateTempSubdirectory("sensor-strict-");
        try
        {
            var db = Path.Combine(dir.FullName, "t.duckdb");
            var r = SensorProcess.Run("replay", Sensor.TestSupport.SharedData.CorpusFile("malformed_truncated.pcap"), "--db", db, "--quiet", "--strict");
            Assert.Equal(2, r.ExitCode);
            Assert.Matches("offset [0-9]+", r.Stderr);
            var q = SensorProcess.Run("query", "select count(*) as n from http_transactions", "--db", db, "--format", "csv");
            Assert.Equal("n\n5", q.Stdout.Trim().Replace("\r", ""));
        }
        finally { dir.Delete(true); }
    }

    [Fact]
    public void Bad_sql_is_a_clear_error()
    {
        var dir = Directory.CreateTempSubdirectory("sensor-sql-");
        try
        {
            var db = Path.Combine(dir.FullName, "t.duckdb");
            Assert.Equal(0, SensorProcess.Run("replay", Sensor.TestSupport.SharedData.CorpusFile("http_keepalive.pcap"), "--db", db, "--quiet").ExitCode);
            var q = SensorProcess.Run("query", "select nope from http_transactions", "--db", db);
            Assert.Equal(2, q.ExitCode);
            Assert.StartsWith("sensor: query failed", q.Stderr);
        }
        finally { dir.Delete(true); }
    }
}
