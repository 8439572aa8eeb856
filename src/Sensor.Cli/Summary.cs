using DuckDB.NET.Data;
using Sensor.Host.Replay;

namespace Sensor.Cli;

/// <summary>What a replay found, printed after the run: volumes, hosts, top endpoints, drops and warnings.</summary>
internal static class Summary
{
    /// <summary>The run's rows as stored: totals, hosts and the inventory's top endpoints.</summary>
    public sealed record Stored(object?[] Totals, List<object?[]> Hosts, List<object?[]> Endpoints);

    /// <summary>Reads what <see cref="Print"/> shows about run <paramref name="runId"/> (see <see cref="ReplayRunner.BeforeClose"/>).</summary>
    public static Stored Collect(DuckDBConnection c, int runId) => new(
        Rows(c, $"select count(*), count(distinct coalesce(host, split_part(conn, '-', 2))), count(*) filter (where complete), count(*) filter (where status is null) from http_transactions where run_id = {runId}")[0],
        Rows(c, $"select coalesce(host, split_part(conn, '-', 2)) h, count(*) n from http_transactions where run_id = {runId} group by h order by n desc, h limit 10"),
        Rows(c, "select method, service, path_template, count, status_counts, auth_observed from endpoints order by count desc, path_template limit 10"));

    public static void Print(string? dbPath, ReplayResult r, Stored? stored)
    {
        var o = Console.Out;
        long packets = r.Files.Sum(f => f.Packets);
        long bytes = r.Files.Sum(f => f.Bytes);
        o.WriteLine($"Replayed {r.Files.Count} file(s), {bytes / 1e6:F1} MB, {packets:N0} packets in {r.Elapsed.TotalSeconds:F2} s" + (dbPath == null ? " (nothing stored)" : $" into {dbPath} (run {r.RunId})"));
        o.WriteLine($"HTTP transactions: {r.Transactions:N0}");
        if (dbPath != null && stored != null && r.Transactions > 0)
        {
            var s = stored.Totals;
            o.WriteLine($"  complete: {s[2]}, without response: {s[3]}, hosts: {s[1]}");
            o.WriteLine();
            o.WriteLine("Hosts:");
            foreach (var h in stored.Hosts)
                o.WriteLine($"  {h[1],8}  {h[0]}");
            o.WriteLine();
            o.WriteLine("Top endpoints (inventory, all runs in this database):");
            foreach (var e in stored.Endpoints)
                o.WriteLine($"  {e[3],8}  {e[0],-7} {e[1]}{Trunc(e[2]?.ToString(), 70)}  {e[4]}  auth: {e[5]}");
        }
        var notable = r.Counters.Where(c => c.Value > 0 && IsWarning(c.Name)).ToList();
        o.WriteLine();
        if (notable.Count == 0) o.WriteLine("Drops/warnings: none");
        else
        {
            o.WriteLine("Drops/warnings:");
            foreach (var c in notable) o.WriteLine($"  {c.Stage}.{c.Name} = {c.Value:N0}  ({c.Description})");
        }
        foreach (var f in r.Files.Where(f => f.Fault != null)) o.WriteLine($"  damaged capture: {f.Fault}");
        foreach (var f in r.Files.Where(f => f.FormatError != null)) o.WriteLine($"  not read: {f.Path}: {f.FormatError}");
    }

    private static bool IsWarning(string name) =>
        name.Contains("drop") || name.Contains("gap") || name.Contains("malformed") || name.Contains("timeout") || name.Contains("error")
        || name.Contains("garbage") || name.Contains("non_http") || name.Contains("orphan") || name.Contains("lost") || name.Contains("bomb")
        || name.Contains("too_large") || name.Contains("truncated") || name.Contains("overflow") || name.Contains("conflict") || name.Contains("bad_")
        || name.Contains("invalid") || name.Contains("unsupported") || name.Contains("too_deep") || name.Contains("full");

    private static string Trunc(string? s, int n) => s == null ? "" : s.Length <= n ? s : s[..(n - 1)] + "…";

    private static List<object?[]> Rows(DuckDBConnection c, string sql)
    {
        using var cmd = c.CreateCommand();
        cmd.CommandText = sql;
        using var rd = cmd.ExecuteReader();
        var list = new List<object?[]>();
        while (rd.Read())
        {
            var row = new object?[rd.FieldCount];
            for (int i = 0; i < row.Length; i++) row[i] = rd.IsDBNull(i) ? null : rd.GetValue(i);
            list.Add(row);
        }
        return list;
    }
}
