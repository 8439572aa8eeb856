using DuckDB.NET.Data;
using Sensor.Host.Pipeline;
using Sensor.Host.Replay;
using Sensor.TestSupport;

namespace Sensor.Host.Tests;

public class InventoryTests
{
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

    [Fact]
    public async Task A_second_replay_extends_the_inventory_instead_of_starting_over()
    {
        var dir = Directory.CreateTempSubdirectory("sensor-inv-");
        try
        {
            var db = Path.Combine(dir.FullName, "s.duckdb");
            var spec = Path.Combine(SharedData.Shared, "spec-recon-dev", "traffic.pcap");
            await new ReplayRunner(new PipelineOptions()).RunAsync([spec], db);
            var first = Query(db, "select count(*), cast(sum(count) as bigint) from endpoints")[0];
            Assert.Equal(19L, first[0]);
            Assert.Equal(228L, Convert.ToInt64(first[1]));

            await new ReplayRunner(new PipelineOptions()).RunAsync([spec], db);
            var second = Query(db, "select count(*), cast(sum(count) as bigint) from endpoints")[0];
            Assert.Equal(19L, second[0]);                            // same endpoints
            Assert.Equal(456L, Convert.ToInt64(second[1]));          // twice the calls

            await new ReplayRunner(new PipelineOptions()).RunAsync([Path.Combine(SharedData.Captures, "rest-api.pcap")], db);
            var services = Query(db, "select distinct service from endpoints order by 1").Select(r => (string)r[0]!).ToList();
            Assert.Equal(["127.0.0.1:36255", "127.0.0.1:8080"], services);
            Assert.Equal(19L, Query(db, "select count(*) from endpoints where service = '127.0.0.1:36255'")[0][0]);

            var auth = Query(db, "select auth_observed from endpoints where method = 'GET' and path_template like '/reports/daily/%'")[0][0];
            Assert.Equal("http-basic", auth);
            var open = Query(db, "select unauthenticated_2xx from endpoints where method = 'GET' and path_template = '/health'")[0][0];
            Assert.Equal(24L, open);
        }
        finally { dir.Delete(true); }
    }

    [Fact]
    public async Task Stored_endpoint_models_read_back_as_the_endpoints_rebuilt_from_every_path()
    {
        var dir = Directory.CreateTempSubdirectory("sensor-inv-");
        try
        {
            var db = Path.Combine(dir.FullName, "s.duckdb");
            await new ReplayRunner(new PipelineOptions()).RunAsync([Path.Combine(SharedData.Shared, "spec-recon-dev", "traffic.pcap")], db);
            await new ReplayRunner(new PipelineOptions()).RunAsync([Path.Combine(SharedData.Captures, "rest-api.pcap")], db);
            using var store = Sensor.Storage.SensorDatabase.Open(db);
            var stored = Sensor.Storage.InventoryStore.LoadEndpoints(store.Connection).Select(Describe).ToList();
            Assert.Equal(19 + Query(db, "select count(*) from endpoints where service = '127.0.0.1:8080'").Select(r => Convert.ToInt32(r[0])).Single(), stored.Count);
            // Without the models (a database saved before they existed) every path is templated again: the same endpoints.
            store.Execute("delete from endpoint_models where service = ?", "127.0.0.1:36255");
            var mixed = Sensor.Storage.InventoryStore.LoadEndpoints(store.Connection).Select(Describe).ToList();
            store.Execute("drop table endpoint_models");
            var rebuilt = Sensor.Storage.InventoryStore.LoadEndpoints(store.Connection).Select(Describe).ToList();
            Assert.Equal(rebuilt, stored);
            Assert.Equal(rebuilt, mixed);
        }
        finally { dir.Delete(true); }

        static string Describe(Sensor.Analysis.Inventory.Endpoint e) =>
            $"{e.Service} {e.Method} {e.Template} [{string.Join(",", e.PathParams)}] n={e.Observed.Count} {e.Observed.FirstSeen}-{e.Observed.LastSeen} " +
            $"{string.Join(",", e.Observed.Statuses.OrderBy(kv => kv.Key))} cred={e.Observed.WithCredentials} open={e.Observed.Unauthenticated2xx} " +
            $"{string.Join(",", e.Observed.AuthSchemes.Order())} paths={e.DistinctPaths} {Sensor.Analysis.Inventory.ShapeJson.Serialize(e.Shape)}";
    }
}
