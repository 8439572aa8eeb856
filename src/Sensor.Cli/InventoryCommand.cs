using System.CommandLine;

namespace Sensor.Cli;

internal static class InventoryCommand
{
    public static Command Create()
    {
        var db = new Option<string>("--db") { Description = "DuckDB file", DefaultValueFactory = _ => "sensor.duckdb" };
        var format = new Option<string>("--format") { Description = "table, csv or json", DefaultValueFactory = _ => "table" };
        format.AcceptOnlyFromAmong("table", "csv", "json");
        var cmd = new Command("inventory", "List the API endpoints learned from traffic") { db, format };
        cmd.SetAction(pr => QueryCommand.Run(pr.GetValue(db)!, """
            select service, method, path_template as template, count as calls, status_counts as statuses,
                   auth_observed as auth, unauthenticated_2xx, last_seen
            from endpoints order by service, path_template, method
            """, pr.GetValue(format)!));
        return cmd;
    }
}
