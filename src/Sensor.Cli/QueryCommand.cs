using System.CommandLine;
using System.Globalization;
using System.Text;
using System.Text.Json;
using DuckDB.NET.Data;

namespace Sensor.Cli;

internal static class QueryCommand
{
    public static Command Create()
    {
        var sql = new Argument<string>("sql") { Description = "SQL to run (DuckDB dialect)" };
        var db = DbReader.DbOption();
        var format = new Option<string>("--format") { Description = "table, csv or json", DefaultValueFactory = _ => "table" };
        format.AcceptOnlyFromAmong("table", "csv", "json");
        var cmd = new Command("query", "Run SQL against a sensor database and print the result") { sql, db, format };
        cmd.SetAction(pr => Run(pr.GetValue(db)!, pr.GetValue(sql)!, pr.GetValue(format)!));
        return cmd;
    }

    /// <summary>Runs SQL read-only against a sensor database and prints it; exit code 0, or 2 with one line.</summary>
    internal static int Run(string path, string sql, string format)
    {
        if (!DbReader.Exists(path)) { Console.Error.WriteLine($"sensor: {path}: no such database"); return 2; }
        try
        {
            var (names, rows) = DbReader.Query(path, sql);
            var o = Console.Out;
            switch (format)
            {
                case "json": WriteJson(o, names, rows); break;
                case "csv": WriteCsv(o, names, rows); break;
                default: WriteTable(o, names, rows); break;
            }
            return 0;
        }
        catch (QueryFailedException e)
        {
            Console.Error.WriteLine($"sensor: query failed: {e.Message}");
            return 2;
        }
    }

    /// <summary>Column names and every row of a result (nulls as null).</summary>
    internal static (string[] Names, List<object?[]> Rows) ReadAll(System.Data.Common.DbDataReader rd)
    {
        var names = Enumerable.Range(0, rd.FieldCount).Select(rd.GetName).ToArray();
        var rows = new List<object?[]>();
        while (rd.Read())
        {
            var row = new object?[rd.FieldCount];
            for (int i = 0; i < row.Length; i++) row[i] = rd.IsDBNull(i) ? null : rd.GetValue(i);
            rows.Add(row);
        }
        return (names, rows);
    }

    internal static void WriteJson(TextWriter o, string[] names, List<object?[]> rows)
    {
        using var ms = new MemoryStream();
        using (var w = new Utf8JsonWriter(ms, new JsonWriterOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            w.WriteStartArray();
            foreach (var r in rows)
            {
                w.WriteStartObject();
                for (int i = 0; i < names.Length; i++)
                {
                    w.WritePropertyName(names[i]);
                    WriteValue(w, r[i]);
                }
                w.WriteEndObject();
            }
            w.WriteEndArray();
        }
        o.WriteLine(Encoding.UTF8.GetString(ms.ToArray()));
    }

    private static void WriteValue(Utf8JsonWriter w, object? v)
    {
        switch (v)
        {
            case null: w.WriteNullValue(); break;
            case bool b: w.WriteBooleanValue(b); break;
            case sbyte or byte or short or ushort or int or uint or long: w.WriteNumberValue(Convert.ToInt64(v)); break;
            case ulong ul: w.WriteNumberValue(ul); break;
            case System.Numerics.BigInteger bi: w.WriteRawValue(bi.ToString(CultureInfo.InvariantCulture)); break;
            case float or double: w.WriteNumberValue(Convert.ToDouble(v)); break;
            case decimal d: w.WriteNumberValue(d); break;
            case DateTime dt: w.WriteStringValue(dt.ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff", CultureInfo.InvariantCulture)); break;
            default: w.WriteStringValue(Format(v)); break;
        }
    }

    internal static string Format(object? v) => v switch
    {
        null => "",
        DateTime dt => dt.ToString("yyyy-MM-dd HH:mm:ss.ffffff", CultureInfo.InvariantCulture),
        bool b => b ? "true" : "false",
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        System.Collections.IEnumerable e and not string => "[" + string.Join(", ", e.Cast<object?>().Select(Format)) + "]",
        _ => v.ToString() ?? "",
    };

    internal static void WriteCsv(TextWriter o, string[] names, List<object?[]> rows)
    {
        o.WriteLine(string.Join(",", names.Select(Csv)));
        foreach (var r in rows) o.WriteLine(string.Join(",", r.Select(v => v == null ? "" : Csv(Format(v)))));
    }

    private static string Csv(string s) => s.IndexOfAny([',', '"', '\n', '\r']) >= 0 ? "\"" + s.Replace("\"", "\"\"") + "\"" : s;

    internal static void WriteTable(TextWriter o, string[] names, List<object?[]> rows)
    {
        const int max = 60;
        var cells = rows.Select(r => r.Select(v => Clip(v == null ? "NULL" : Format(v), max)).ToArray()).ToList();
        var widths = names.Select((n, i) => Math.Max(n.Length, cells.Count == 0 ? 0 : cells.Max(c => c[i].Length))).ToArray();
        o.WriteLine(string.Join("  ", names.Select((n, i) => n.PadRight(widths[i]))).TrimEnd());
        o.WriteLine(string.Join("  ", widths.Select(w => new string('-', w))));
        foreach (var c in cells) o.WriteLine(string.Join("  ", c.Select((v, i) => v.PadRight(widths[i]))).TrimEnd());
        o.WriteLine($"({rows.Count} row{(rows.Count == 1 ? "" : "s")})");
    }

    private static string Clip(string s, int n)
    {
        s = s.Replace("\r", "\\r").Replace("\n", "\\n");
        return s.Length <= n ? s : s[..(n - 1)] + "…";
    }
}
