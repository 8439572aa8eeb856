using System.CommandLine;
using Sensor.Core;
using Sensor.Host.Live;

namespace Sensor.Cli;

internal static class StatusCommand
{
    public static Command Create()
    {
        var db = DbReader.DbOption("DuckDB file of the service (its socket is beside it)");
        var metrics = new Option<string?>("--metrics") { Description = "metrics address of the service for --health when its socket is not reachable (default: $SENSOR_Metrics__Listen or 127.0.0.1:9464)" };
        var health = new Option<bool>("--health") { Description = "exit 0 when the service is healthy, 1 otherwise (for container health checks)" };
        var all = new Option<bool>("--all") { Description = "every counter, also those at zero" };
        var cmd = new Command("status", "Capture statistics of the running service (or the last run stored in the database)") { db, metrics, health, all };
        cmd.SetAction(pr => Run(pr.GetValue(db)!, pr.GetValue(metrics), pr.GetValue(health), pr.GetValue(all)));
        return cmd;
    }

    private static int Run(string db, string? metrics, bool healthOnly, bool all)
    {
        var socket = QueryClient.SocketFor(db);
        QueryClient.ServiceStatus? live = null;
        try { if (File.Exists(socket)) live = QueryClient.Status(socket); }
        catch (Exception e) when (e is System.Net.Sockets.SocketException or RemoteQueryException or IOException) { }
        if (healthOnly)
        {
            if (live != null) { Console.WriteLine(live.Healthy ? "healthy" : "unhealthy: " + live.Reason); return live.Healthy ? 0 : 1; }
            return HttpHealth(metrics ?? Environment.GetEnvironmentVariable("SENSOR_Metrics__Listen") ?? "127.0.0.1:9464");
        }
        if (live != null)
        {
            Console.WriteLine($"service: {(live.Healthy ? "healthy" : "UNHEALTHY: " + live.Reason)}; run {live.Run}; database {live.Database}");
            Print(live.Counters, all);
            return live.Healthy ? 0 : 1;
        }
        if (!File.Exists(db)) { Console.Error.WriteLine($"sensor: {db}: no such database and no running service"); return 2; }
        try
        {
            var (_, rows) = DbReader.Query(db, """
                select r.run_id, r.mode, r.started_at, r.finished_at, s.recorded_at, s.stage, s.counter, s.value, s.description
                from capture_stats s join runs r using (run_id)
                where s.run_id = (select max(run_id) from runs)
                  and s.recorded_at = (select max(recorded_at) from capture_stats where run_id = s.run_id)
                order by s.stage, s.counter
                """);
            if (rows.Count == 0) { Console.WriteLine("no statistics stored yet"); return 0; }
            var r0 = rows[0];
            Console.WriteLine($"not running; last run {r0[0]} ({r0[1]}) started {QueryCommand.Format(r0[2])}, {(r0[3] == null ? "did not finish cleanly" : "finished " + QueryCommand.Format(r0[3]))}; statistics of {QueryCommand.Format(r0[4])}");
            Print(rows.Select(r => new CounterValue((string)r[5]!, (string)r[6]!, Convert.ToInt64(r[7]), (string)r[8]!)).ToList(), all);
            return 0;
        }
        catch (QueryFailedException e) { Console.Error.WriteLine($"sensor: {e.Message}"); return 2; }
    }

    private static void Print(IReadOnlyList<CounterValue> counters, bool all)
    {
        var shown = counters.Where(c => all || c.Value != 0).ToList();
        int w = shown.Count == 0 ? 0 : shown.Max(c => c.Stage.Length + c.Name.Length + 1);
        foreach (var c in shown) Console.WriteLine($"  {(c.Stage + "." + c.Name).PadRight(w)}  {c.Value,14:N0}  {c.Description}");
    }

    private static int HttpHealth(string listen)
    {
        try
        {
            using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
            var resp = http.GetAsync($"http://{listen}/healthz").GetAwaiter().GetResult();
            var text = resp.Content.ReadAsStringAsync().GetAwaiter().GetResult().Trim();
            Console.WriteLine(resp.IsSuccessStatusCode ? "healthy" : "unhealthy: " + text);
            return resp.IsSuccessStatusCode ? 0 : 1;
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
        {
            Console.WriteLine($"unhealthy: no service answers at {listen} ({e.GetBaseException().Message})");
            return 1;
        }
    }
}
