using System.CommandLine;

namespace Sensor.Cli;

internal static class InventoryCommand
{
    public static Command Create()
    {
        var db = DbReader.DbOption();
        var format = new Option<string>("--format") { Description = "table, csv or json", DefaultValueFactory = _ => "table" };
        format.AcceptOnlyFromAmong("table", "csv", "json");
        var cmd = new Command("inventory", "List the API endpoints learned from traffic") { db, format };
        // Endpoint risk is the highest risk of its open findings.
        cmd.SetAction(pr => QueryCommand.Run(pr.GetValue(db)!, """
            select e.service, e.method, e.path_template as template, e.count as calls, e.status_counts as statuses,
                   e.auth_observed as auth, e.unauthenticated_2xx, coalesce(r.risk, 0) as risk, e.last_seen
            from endpoints e
            left join (select service, method, path_template, max(risk_score) as risk from findings where status <> 'fixed' group by all) r
              using (service, method, path_template)
            order by e.service, e.path_template, e.method
            """, pr.GetValue(format)!));
        return cmd;
    }
}
