using System.CommandLine;
using DuckDB.NET.Data;
using Sensor.Host.Live;

namespace Sensor.Cli;

internal sealed class QueryFailedException(string message) : Exception(message);

/// <summary>
/// Reads for the CLI: through the running service's socket when one answers beside the database (the
/// service holds the file), else from the file, read-only. Both give the same names, rows and value types.
/// </summary>
internal static class DbReader
{
    /// <summary>The database of commands without --db: $SENSOR_Database (as the service), else sensor.duckdb.</summary>
    public static string DefaultPath => Environment.GetEnvironmentVariable("SENSOR_Database") is { Length: > 0 } p ? p : "sensor.duckdb";

    public static Option<string> DbOption(string description = "DuckDB file (a running service is queried through its socket)") =>
        new("--db") { Description = description, DefaultValueFactory = _ => DefaultPath };

    public static bool Exists(string path) => File.Exists(path) || QueryClient.Answers(QueryClient.SocketFor(path));

    public static (string[] Names, List<object?[]> Rows) Query(string path, string sql, IReadOnlyList<object?>? args = null)
    {
        var socket = QueryClient.SocketFor(path);
        if (File.Exists(socket))
        {
            try { return QueryClient.Query(socket, sql, args); }
            catch (RemoteQueryException e) { throw new QueryFailedException(e.Message); }
            catch (System.Net.Sockets.SocketException) { /* stale socket: no service; read the file */ }
        }
        try
        {
            using var c = new DuckDBConnection($"Data Source={path};ACCESS_MODE=READ_ONLY");
            c.Open();
            using var cmd = c.CreateCommand();
            cmd.CommandText = sql;
            foreach (var a in args ?? []) cmd.Parameters.Add(new DuckDBParameter(a ?? DBNull.Value));
            using var rd = cmd.ExecuteReader();
            return QueryCommand.ReadAll(rd);
        }
        catch (DuckDBException e)
        {
            var msg = e.Message.Split('\n')[0];
            if (msg.Contains("lock", StringComparison.OrdinalIgnoreCase))
                msg += " (another process writes this database; a running `sensor run` answers queries through " + socket + ")";
            throw new QueryFailedException(msg);
        }
    }
}
