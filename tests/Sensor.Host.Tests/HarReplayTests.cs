using DuckDB.NET.Data;
using Sensor.Host.Pipeline;
using Sensor.Host.Replay;
using Sensor.TestSupport;

namespace Sensor.Host.Tests;

public class HarReplayTests
{
    private static string Dev(string name) => Path.Combine(SharedData.Shared, "spec-recon-dev", name);

    private static List<object?[]> Query(string db, string sql)
    {
        using var c = new DuckDBConnection($"Data Source={db};ACCESS_MODE=READ_ONLY");
        c.Open();
        using var cmd = c.CreateCommand();
        cmd.CommandText = sql;
        using var r = cmd.ExecuteReader();
        var rows = new List<object?[]>();
        while (r.Read()) rows.Add(Enumerable.Range(0, r.FieldCount).Select(i => r.IsDBNull(i) ? null : r.GetValue(i)).ToArray());
        return rows;
    }

    private static List<string> Rows(string db, string sql) =>
        Query(db, sql).Select(r => string.Join(" | ", r.Select(v => v?.ToString() ?? "null"))).Order(StringComparer.Ordinal).ToList();

    [Fact]
    public async Task A_HAR_replay_stores_the_same_traffic_and_inventory_as_the_pcap_of_it()
    {
        var dir = Directory.CreateTempSubdirectory("sensor-har-");
        try
        {
            var harDb = Path.Combine(dir.FullName, "har.duckdb");
            var pcapDb = Path.Combine(dir.FullName, "pcap.duckdb");
            var har = await new ReplayRunner(new PipelineOptions { Workers = 2 }).RunAsync([Dev("traffic.har")], harDb);
            var pcap = await new ReplayRunner(new PipelineOptions { Workers = 2 }).RunAsync([Dev("traffic.pcap")], pcapDb);

            Assert.Equal(228, har.Transactions);
            Assert.Equal(228L, Query(harDb, "select count(*) from http_transactions")[0][0]);
            Assert.Equal(228L, Query(harDb, "select transactions from runs")[0][0]);
            var file = Assert.Single(har.Files);
            Assert.Equal("har", file.Format);
            Assert.Null(file.Fault);
            Assert.Equal(["har | 0 | null | null"], Rows(harDb, "select format, packets, fault_offset, fault from capture_files"));

            const string calls = "select method, path, status, count(*) from http_transactions group by all";
            var fromHar = Rows(harDb, calls);
            Assert.Equal(Rows(pcapDb, calls), fromHar);
            Assert.Equal(228L, Query(harDb, "select count(*) from http_transactions where complete and host = '127.0.0.1:36255'")[0][0]);
            // Bodies and heads too: HAR text is what the wire carried, so lengths and hashes agree.
            const string detail = "select method, uri, host, status, req_content_type, resp_content_type, req_body_len, resp_body_len, req_body_sha256, resp_body_sha256, complete, flags from http_transactions";
            Assert.Equal(Rows(pcapDb, detail), Rows(harDb, detail));

            const string endpoints = "select distinct method, path_template from endpoints";
            var harEndpoints = Rows(harDb, endpoints);
            Assert.Equal(19, harEndpoints.Count);
            Assert.Equal(Rows(pcapDb, endpoints), harEndpoints);
        }
        finally { dir.Delete(true); }
    }

    [Fact]
    public async Task HAR_and_pcap_files_mix_in_one_replay_and_damaged_or_foreign_files_are_recorded()
    {
        var dir = Directory.CreateTempSubdirectory("sensor-har-");
        try
        {
            var bytes = await File.ReadAllBytesAsync(Dev("traffic.har"));
            // Cut at the start of an entry half-way through: that entry is lost, those before it are kept.
            int cut = bytes.AsSpan(bytes.Length / 2).IndexOf("\"startedDateTime\""u8) + bytes.Length / 2;
            var truncated = Path.Combine(dir.FullName, "cut.json");    // the extension does not matter
            await File.WriteAllBytesAsync(truncated, bytes[..cut]);
            var notHar = Path.Combine(dir.FullName, "other.har");
            await File.WriteAllTextAsync(notHar, "{\"openapi\": \"3.0.3\"}");

            var db = Path.Combine(dir.FullName, "mix.duckdb");
            var result = await new ReplayRunner(new PipelineOptions { Workers = 2 }).RunAsync([Dev("traffic.pcap"), truncated, notHar, Dev("traffic.har")], db);

            var damaged = result.Files[1];
            Assert.Equal("har", damaged.Format);
            Assert.NotNull(damaged.Fault);
            Assert.Equal(cut, damaged.Fault!.Offset);
            long kept = damaged.Fault.PacketsBefore;
            Assert.InRange(kept, 100, 127);
            Assert.Contains("not a HAR", result.Files[2].FormatError);
            Assert.Equal(228 + kept + 228, result.Transactions);
            Assert.Equal(228 + kept + 228, (long)Query(db, "select count(*) from http_transactions")[0][0]!);
            Assert.Equal(228 + kept + 228, (long)Query(db, "select transactions from runs")[0][0]!);
            var files = Rows(db, "select format, packets > 0, fault_offset is not null from capture_files");
            Assert.Equal(["har | False | False", "har | False | True", "not a capture | False | False", "pcap | True | False"], files);
            Assert.Equal(kept, result.Counters.Single(c => c.Stage == "har" && c.Name == "entries").Value - 228);
            Assert.Equal(0, result.Counters.Where(c => c.Stage == "http" && c.Name == "buffered_bytes").Sum(c => c.Value));
        }
        finally { dir.Delete(true); }
    }
}
