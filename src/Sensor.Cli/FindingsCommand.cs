using System.CommandLine;
using System.Text;
using System.Text.Json;
using Sensor.Storage;

namespace Sensor.Cli;

internal static class FindingsCommand
{
    public static Command Create()
    {
        var filter = new Argument<string[]>("filter") { Arity = ArgumentArity.ZeroOrMore, Description = "e.g. severity:high and owasp:API2 and path:/users*   |   not status:fixed   |   risk>=60" };
        var db = DbReader.DbOption();
        var format = new Option<string>("--format") { Description = "table, json, jsonl, csv, or eval (one line per sensitive item, for the labelled-set scorer)", DefaultValueFactory = _ => "table" };
        format.AcceptOnlyFromAmong("table", "json", "jsonl", "csv", "eval");
        var cmd = new Command("findings", "List findings, highest risk first") { filter, db, format };
        cmd.SetAction(pr => Run(pr.GetValue(db)!, string.Join(' ', pr.GetValue(filter) ?? []), pr.GetValue(format)!));
        return cmd;
    }

    internal static int Run(string path, string filter, string format)
    {
        if (!DbReader.Exists(path)) { Console.Error.WriteLine($"sensor: {path}: no such database"); return 2; }
        try
        {
            return format == "eval" ? Eval(path) : List(path, filter, format);
        }
        catch (QueryFailedException e)
        {
            Console.Error.WriteLine($"sensor: query failed: {e.Message}");
            return 2;
        }
    }

    private static int List(string path, string filter, string format)
    {
        string where;
        List<object> args;
        try { (where, args) = FindingsFilter.ToSql(filter); }
        catch (FilterSyntaxException e) { Console.Error.WriteLine($"sensor: filter: {e.Message}"); return 2; }
        var (names, rows) = DbReader.Query(path, $"""
            select risk_score as risk, severity, status, rule_id, owasp, cwe, service, method, path_template, location, detail,
                   evidence, count, first_seen, last_seen, title, category, source, finding_id
            from findings where {where}
            order by risk_score desc, last_seen desc nulls last, rule_id, service, path_template
            """, args);
        var o = Console.Out;
        switch (format)
        {
            case "json": QueryCommand.WriteJson(o, names, rows); break;
            case "csv": QueryCommand.WriteCsv(o, names, rows); break;
            case "jsonl":
                foreach (var r in rows)
                {
                    using var ms = new MemoryStream();
                    using (var w = new Utf8JsonWriter(ms))
                    {
                        w.WriteStartObject();
                        for (int i = 0; i < names.Length; i++)
                        {
                            w.WritePropertyName(names[i]);
                            JsonSerializer.Serialize(w, r[i] is DateTime d ? d.ToString("yyyy-MM-ddTHH:mm:ss.ffffffZ") : r[i]);
                        }
                        w.WriteEndObject();
                    }
                    o.WriteLine(Encoding.UTF8.GetString(ms.ToArray()));
                }
                break;
            default:
                // The table shows what an analyst scans first; json/csv carry every column.
                var keep = new[] { "risk", "severity", "status", "rule_id", "owasp", "service", "method", "path_template", "location", "count", "last_seen" };
                var idx = keep.Select(k => Array.IndexOf(names, k)).ToArray();
                QueryCommand.WriteTable(o, keep, rows.Select(r => idx.Select(i => r[i]).ToArray()).ToList());
                break;
        }
        return 0;
    }

    /// <summary>One JSON line per detected sensitive item: {"conn","part","location","type"}, as the labelled set's scorer reads them.</summary>
    private static int Eval(string path)
    {
        var (_, rows) = DbReader.Query(path, "select distinct conn, part, location, type from sensitive_items order by conn, part, location, type");
        var o = Console.Out;
        foreach (var r in rows)
            o.WriteLine(JsonSerializer.Serialize(new { conn = (string?)r[0], part = (string?)r[1], location = (string?)r[2], type = (string?)r[3] }));
        return 0;
    }
}
