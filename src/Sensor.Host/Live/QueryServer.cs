using System.Net.Sockets;
using System.Numerics;
using System.Text;
using System.Text.Json;
using DuckDB.NET.Data;
using Microsoft.Extensions.Logging;
using Sensor.Analysis.Specs;
using Sensor.Storage;

namespace Sensor.Host.Live;

/// <summary>
/// Analysts' way into the database while the service writes it (DuckDB lets one process open the file):
/// a Unix socket beside the database (mode 0660, so the service's group may query). One JSON request line
/// per connection — <c>{"op":"query","sql":...,"args":[...]}</c>, <c>{"op":"status"}</c>, <c>{"op":"snapshot"}</c>
/// or <c>{"op":"import-specs","files":[{"path":...,"content":base64}]}</c> — answered with one JSON document.
/// Queries run on their own connection inside a transaction that is always rolled back, and only statements
/// that read (select, with, from, describe, show, summarize, explain, pivot) are taken. Specs are the one write
/// taken: the client reads the files (with its own permissions) and sends them; the service stores and judges them.
/// </summary>
public sealed class QueryServer : IDisposable
{
    public const int MaxRows = 1_000_000;
    /// <summary>Bounds one request (and so the memory of one connection): specs are sent whole.</summary>
    public const int MaxRequestBytes = 32 << 20;
    private const int MaxConcurrent = 4;
    private readonly string _path;
    private readonly SensorDatabase _db;
    private readonly LiveRunner? _runner;
    private readonly ILogger _log;
    private readonly Socket _listener;
    private readonly SemaphoreSlim _slots = new(MaxConcurrent);
    private readonly CancellationTokenSource _stop = new();
    private Task? _accept;

    public QueryServer(string path, SensorDatabase db, LiveRunner? runner, ILogger log)
    {
        _path = path; _db = db; _runner = runner; _log = log;
        if (File.Exists(path))
        {
            // A socket left by a service that died: nobody answers it. One that answers is another sensor.
            if (QueryClient.Answers(path)) throw new InvalidOperationException($"{path}: another sensor service is answering on this socket");
            File.Delete(path);
        }
        _listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        _listener.Bind(new UnixDomainSocketEndPoint(path));
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.GroupWrite);
        _listener.Listen(16);
    }

    public void Start() => _accept = Task.Run(() => AcceptLoop.Run(_listener, Serve, _log, "query socket", _stop.Token));

    private async Task Serve(Socket s)
    {
        using var _ = s;
        await using var stream = new NetworkStream(s, ownsSocket: false);
        byte[] answer;
        if (!await _slots.WaitAsync(TimeSpan.FromSeconds(30)).ConfigureAwait(false))
            answer = Error("busy: too many queries at once");
        else
        {
            try
            {
                var line = await ReadLine(stream).ConfigureAwait(false);
                answer = line == null ? Error("request too long or empty") : Handle(line);
            }
            catch (Exception e) { answer = Error(e.Message); }
            finally { _slots.Release(); }
        }
        try { await stream.WriteAsync(answer).ConfigureAwait(false); }
        catch (IOException) { }
    }

    private static async Task<byte[]?> ReadLine(Stream stream)
    {
        var buf = new MemoryStream();
        var chunk = new byte[8192];
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        while (buf.Length <= MaxRequestBytes)
        {
            int n = await stream.ReadAsync(chunk, timeout.Token).ConfigureAwait(false);
            if (n == 0) break;
            int nl = Array.IndexOf(chunk, (byte)'\n', 0, n);
            buf.Write(chunk, 0, nl >= 0 ? nl : n);
            if (nl >= 0) return buf.ToArray();
        }
        return buf.Length is > 0 and <= MaxRequestBytes ? buf.ToArray() : null;
    }

    private byte[] Handle(byte[] line)
    {
        using var req = JsonDocument.Parse(line);
        var op = req.RootElement.TryGetProperty("op", out var o) ? o.GetString() : "query";
        return op switch
        {
            "query" => Query(req.RootElement.GetProperty("sql").GetString() ?? "",
                req.RootElement.TryGetProperty("args", out var a) ? a.EnumerateArray().Select(Arg).ToList() : []),
            "status" => Status(),
            "snapshot" => Snapshot(),
            "import-specs" => ImportSpecs(req.RootElement.GetProperty("files").EnumerateArray()
                .Select(f => new SpecFile(f.GetProperty("path").GetString()!, f.GetProperty("content").GetBytesFromBase64())).ToList()),
            _ => Error($"unknown op \"{op}\""),
        };
    }

    private static object? Arg(JsonElement e) => e.ValueKind switch
    {
        JsonValueKind.Number => e.TryGetInt64(out var l) ? (object)l : e.GetDouble(),
        JsonValueKind.True => true,
        JsonValueKind.False => false,
        JsonValueKind.Null => null,
        _ => e.GetString(),
    };

    private static readonly string[] Readers = ["select", "with", "from", "describe", "show", "summarize", "explain", "pivot", "unpivot", "table", "values", "("];

    /// <summary>Only one statement, and one that reads.</summary>
    public static string? Refusal(string sql)
    {
        var text = SqlText.StripComments(sql).Trim().TrimEnd(';').Trim();
        if (text.Length == 0) return "empty query";
        if (SqlText.HasSecondStatement(text)) return "one statement per query";
        var first = text.Split((char[])[' ', '\t', '\r', '\n', '('], 2)[0].ToLowerInvariant();
        if (text.StartsWith('(')) first = "(";
        return Readers.Contains(first) ? null : $"the running service answers only reading statements (not \"{first}\")";
    }

    private byte[] Query(string sql, List<object?> args)
    {
        if (Refusal(sql) is { } why) return Error(why);
        using var conn = _db.NewConnection();
        using var tx = conn.BeginTransaction();
        using var cmd = conn.CreateCommand();
        cmd.CommandText = sql;
        foreach (var a in args) cmd.Parameters.Add(new DuckDBParameter(a ?? DBNull.Value));
        try
        {
            using var rd = cmd.ExecuteReader();
            var ms = new MemoryStream();
            using (var w = new Utf8JsonWriter(ms))
            {
                w.WriteStartObject();
                w.WriteStartArray("columns");
                for (int i = 0; i < rd.FieldCount; i++) w.WriteStringValue(rd.GetName(i));
                w.WriteEndArray();
                w.WriteStartArray("rows");
                long n = 0;
                while (rd.Read())
                {
                    if (++n > MaxRows) return Error($"more than {MaxRows} rows: add a limit or aggregate");
                    w.WriteStartArray();
                    for (int i = 0; i < rd.FieldCount; i++) WireValue.Write(w, rd.IsDBNull(i) ? null : rd.GetValue(i));
                    w.WriteEndArray();
                }
                w.WriteEndArray();
                w.WriteEndObject();
            }
            return ms.ToArray();
        }
        catch (DuckDBException e) { return Error(e.Message.Split('\n')[0]); }
        finally { tx.Rollback(); }
    }

    private byte[] ImportSpecs(List<SpecFile> files)
    {
        // Not a path on the service's side: a spec is named by where the client read it.
        if (files.FirstOrDefault(f => !System.IO.Path.IsPathFullyQualified(f.Path)) is { } relative) return Error($"{relative.Path}: not a full path");
        if (_runner == null) return Error("no running service to import into");
        var (imp, ev) = _runner.ImportSpecs(files);
        return JsonSerializer.SerializeToUtf8Bytes(new
        {
            imported = imp.Imported.Select(sp => new
            {
                path = sp.SourcePath, title = sp.Title, version = sp.Version, openapi = sp.OpenApiVersion,
                operations = sp.Operations.Count, warnings = sp.Warnings.Count,
            }),
            failures = imp.Failures.Select(f => new { path = f.Path, reason = f.Reason }),
            evaluation = new { specs = ev.Specs, findings = ev.Findings, @new = ev.New, @fixed = ev.Fixed, by_category = ev.ByCategory },
        });
    }

    private readonly object _snapshotLock = new();

    /// <summary>
    /// Tools that need a database file of their own (the OpenAPI export) get a consistent copy of everything
    /// but the per-transaction tables, beside the database; it replaces the previous copy atomically.
    /// </summary>
    private byte[] Snapshot()
    {
        var target = _db.Path + ".snapshot.duckdb";
        var tmp = target + ".tmp";
        lock (_snapshotLock)
        {
            foreach (var f in (string[])[tmp, tmp + ".wal"]) File.Delete(f);
            using var conn = _db.NewConnection();
            void Exec(string sql) { using var c = conn.CreateCommand(); c.CommandText = sql; c.ExecuteNonQuery(); }
            var tables = new List<string>();
            using (var c = conn.CreateCommand())
            {
                c.CommandText = "select table_name from duckdb_tables() where database_name = current_database() and schema_name = 'main' order by 1";
                using var r = c.ExecuteReader();
                while (r.Read()) tables.Add(r.GetString(0));
            }
            Exec($"attach '{tmp.Replace("'", "''")}' as sensor_snapshot");
            try
            {
                Exec("begin transaction");
                foreach (var t in tables.Where(t => t is not ("http_transactions" or "sensitive_items")))
                    Exec($"create table sensor_snapshot.main.\"{t}\" as select * from \"{t}\"");
                Exec("commit");
            }
            finally { Exec("detach sensor_snapshot"); }
            File.Move(tmp, target, overwrite: true);
        }
        return JsonSerializer.SerializeToUtf8Bytes(new Dictionary<string, string> { ["path"] = target });
    }

    private byte[] Status()
    {
        var ms = new MemoryStream();
        using (var w = new Utf8JsonWriter(ms))
        {
            w.WriteStartObject();
            var (ok, reason) = _runner?.Health() ?? (true, "ok");
            w.WriteBoolean("healthy", ok);
            w.WriteString("reason", reason);
            w.WriteNumber("run", _runner?.RunId ?? 0);
            w.WriteString("database", _db.Path);
            w.WriteStartArray("counters");
            foreach (var c in _runner?.Snapshot() ?? [])
            {
                w.WriteStartObject();
                w.WriteString("stage", c.Stage); w.WriteString("name", c.Name); w.WriteNumber("value", c.Value); w.WriteString("description", c.Description);
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteEndObject();
        }
        return ms.ToArray();
    }

    private static byte[] Error(string message) => JsonSerializer.SerializeToUtf8Bytes(new Dictionary<string, string> { ["error"] = message });

    public void Dispose()
    {
        _stop.Cancel();
        _listener.Dispose();
        try { _accept?.Wait(TimeSpan.FromSeconds(5)); } catch (AggregateException) { }
        try { File.Delete(_path); } catch (IOException) { }
    }
}

/// <summary>Result values on the wire: JSON numbers, booleans and strings, with timestamps and big integers tagged so the client gets back the same types.</summary>
public static class WireValue
{
    public static void Write(Utf8JsonWriter w, object? v)
    {
        switch (v)
        {
            case null: w.WriteNullValue(); break;
            case bool b: w.WriteBooleanValue(b); break;
            case sbyte or byte or short or ushort or int or uint or long: w.WriteNumberValue(Convert.ToInt64(v)); break;
            case ulong ul: w.WriteNumberValue(ul); break;
            case float or double: w.WriteNumberValue(Convert.ToDouble(v)); break;
            case decimal d: w.WriteNumberValue(d); break;
            case DateTime dt: w.WriteStartObject(); w.WriteNumber("$ts", dt.Ticks); w.WriteEndObject(); break;
            case BigInteger bi: w.WriteStartObject(); w.WriteString("$big", bi.ToString()); w.WriteEndObject(); break;
            case string s: w.WriteStringValue(s); break;
            case System.Collections.IEnumerable e:
                w.WriteStartArray();
                foreach (var x in e) Write(w, x);
                w.WriteEndArray();
                break;
            default: w.WriteStringValue(Convert.ToString(v, System.Globalization.CultureInfo.InvariantCulture)); break;
        }
    }

    public static object? Read(JsonElement e) => e.ValueKind switch
    {
        JsonValueKind.Null or JsonValueKind.Undefined => null,
        JsonValueKind.True => true,
        JsonValueKind.False => false,
        JsonValueKind.Number => e.TryGetInt64(out var l) ? (object)l : e.GetDouble(),
        JsonValueKind.String => e.GetString(),
        JsonValueKind.Array => e.EnumerateArray().Select(Read).ToList(),
        JsonValueKind.Object when e.TryGetProperty("$ts", out var t) => new DateTime(t.GetInt64(), DateTimeKind.Unspecified),
        JsonValueKind.Object when e.TryGetProperty("$big", out var b) => BigInteger.Parse(b.GetString()!),
        _ => e.GetRawText(),
    };
}

/// <summary>Comment stripping and statement splitting that respect quotes, for checking queries from the socket.</summary>
internal static class SqlText
{
    public static string StripComments(string sql)
    {
        var sb = new StringBuilder(sql.Length);
        for (int i = 0; i < sql.Length; i++)
        {
            char c = sql[i];
            if (c is '\'' or '"')
            {
                int j = QuoteEnd(sql, i);
                sb.Append(sql, i, Math.Min(j + 1, sql.Length) - i);
                i = j;
            }
            else if (c == '-' && i + 1 < sql.Length && sql[i + 1] == '-')
            {
                while (i < sql.Length && sql[i] != '\n') i++;
                sb.Append('\n');
            }
            else if (c == '/' && i + 1 < sql.Length && sql[i + 1] == '*')
            {
                int end = sql.IndexOf("*/", i + 2, StringComparison.Ordinal);
                i = end < 0 ? sql.Length : end + 1;
                sb.Append(' ');
            }
            else sb.Append(c);
        }
        return sb.ToString();
    }

    /// <summary>Index of the quote closing the string or identifier opened at <paramref name="open"/> (doubled quotes escape), or the end.</summary>
    private static int QuoteEnd(string sql, int open)
    {
        char q = sql[open];
        int j = open + 1;
        while (j < sql.Length && !(sql[j] == q && (j + 1 >= sql.Length || sql[j + 1] != q))) j += sql[j] == q ? 2 : 1;
        return j;
    }

    public static bool HasSecondStatement(string sql)
    {
        for (int i = 0; i < sql.Length; i++)
        {
            char c = sql[i];
            if (c is '\'' or '"')
            {
                i = QuoteEnd(sql, i);
            }
            else if (c == ';' && sql.AsSpan(i + 1).Trim().Length > 0) return true;
        }
        return false;
    }
}
