using DuckDB.NET.Data;
using Sensor.Core;

namespace Sensor.Storage;

public sealed record CaptureFileInfo(string Path, string Format, long Bytes, long Packets, string LinkTypes, long? FaultOffset, string? Fault);

/// <summary>
/// The sensor's DuckDB file. One connection per thread: the writer owns its own connection, metadata
/// (runs, stats) goes through this one.
/// </summary>
public sealed class SensorDatabase : IDisposable
{
    private readonly DuckDBConnection _conn;
    private readonly string _connectionString;
    public string Path { get; }

    private SensorDatabase(string path, string cs, DuckDBConnection conn) { Path = path; _connectionString = cs; _conn = conn; }

    /// <summary>
    /// DuckDB's own memory (buffer pool) is capped so the sensor's footprint stays bounded. Automatic
    /// checkpoints are deferred (threshold 1 GB of WAL): checkpointing every few commits re-compressed the
    /// same partly filled row groups again and again (measured ~25% slower replays).
    /// </summary>
    public const string DefaultMemoryLimit = "128MB";

    public static SensorDatabase Open(string path, bool readOnly = false, string memoryLimit = DefaultMemoryLimit)
    {
        var cs = readOnly ? $"Data Source={path};ACCESS_MODE=READ_ONLY" : $"Data Source={path};memory_limit={memoryLimit};checkpoint_threshold=1GB";
        var conn = new DuckDBConnection(cs);
        conn.Open();
        var db = new SensorDatabase(path, cs, conn);
        if (!readOnly) foreach (var ddl in Schema.All) db.Execute(ddl);
        return db;
    }

    public DuckDBConnection Connection => _conn;

    /// <summary>Another connection to the same database, for another thread.</summary>
    public DuckDBConnection NewConnection()
    {
        // Connections to the same file within one process share one database instance.
        var c = new DuckDBConnection(_connectionString);
        c.Open();
        return c;
    }

    public void Execute(string sql, params object?[] args)
    {
        using var cmd = _conn.CreateCommand();
        cmd.CommandText = sql;
        foreach (var a in args) cmd.Parameters.Add(new DuckDBParameter(a ?? DBNull.Value));
        cmd.ExecuteNonQuery();
    }

    public object? Scalar(string sql, params object?[] args)
    {
        using var cmd = _conn.CreateCommand();
        cmd.CommandText = sql;
        foreach (var a in args) cmd.Parameters.Add(new DuckDBParameter(a ?? DBNull.Value));
        var v = cmd.ExecuteScalar();
        return v is DBNull ? null : v;
    }

    public int BeginRun(string mode, string sources, DateTime startedAt, string version)
    {
        int id = Convert.ToInt32(Scalar("select coalesce(max(run_id), 0) + 1 from runs"));
        Execute("insert into runs(run_id, started_at, mode, sources, sensor_version) values (?, ?, ?, ?, ?)", id, startedAt, mode, sources, version);
        return id;
    }

    public void EndRun(int runId, DateTime finishedAt, long transactions) =>
        Execute("update runs set finished_at = ?, transactions = ? where run_id = ?", finishedAt, transactions, runId);

    public void WriteStats(int runId, DateTime at, IEnumerable<CounterValue> counters)
    {
        using var app = _conn.CreateAppender("capture_stats");
        foreach (var c in counters)
            app.CreateRow().AppendValue(runId).AppendValue(at).AppendValue(c.Stage).AppendValue(c.Name).AppendValue(c.Value).AppendValue(c.Description).EndRow();
    }

    public void WriteFiles(int runId, IEnumerable<CaptureFileInfo> files)
    {
        using var app = _conn.CreateAppender("capture_files");
        foreach (var f in files)
            app.CreateRow().AppendValue(runId).AppendValue(f.Path).AppendValue(f.Format).AppendValue(f.Bytes).AppendValue(f.Packets)
                .AppendValue(f.LinkTypes).AppendValue(f.FaultOffset).AppendValue(f.Fault).EndRow();
    }

    public void Dispose() => _conn.Dispose();
}
