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
    private readonly string? _connectionString;   // read-only databases; writable ones share the instance
    public string Path { get; }

    private SensorDatabase(string path, string? cs, DuckDBConnection conn) { Path = path; _connectionString = cs; _conn = conn; }

    /// <summary>
    /// DuckDB's own memory (buffer pool) is capped so the sensor's footprint stays bounded. Automatic
    /// checkpoints are deferred (threshold 1 GB of WAL): checkpointing every few commits re-compressed the
    /// same partly filled row groups again and again (measured ~25% slower replays).
    /// </summary>
    public const string DefaultMemoryLimit = "128MB";

    /// <summary>
    /// Rows per row group of the file. A commit of at least a row group is written straight to the file,
    /// compressed by the committing worker; a smaller one goes through the WAL and is compressed again, on one
    /// thread, at the next checkpoint (at the latest when the database closes). DuckDB's default (122,880) is more
    /// than a worker's share of most replays, so those paid the slow path. 20,480 (10 vectors) measured ~5% faster
    /// replays than the default, and 10,240 another ~8% (same CPU, ~15% less peak memory: the workers' commits are
    /// shorter, and the partial row groups left for the close are smaller) for a ~10% larger file.
    /// </summary>
    public const int RowGroupSize = 10_240;

    /// <summary>
    /// The oldest DuckDB able to read the files we write. Storing is the throughput wall, and the newer formats
    /// store cheaper: 1.2 brings ZSTD for long strings (the header columns, see <see cref="Schema.HttpTransactions"/>),
    /// 1.3 dictionary+FSST for the others. Storing the API-mix capture's 230k rows on one thread (bench/storage-formats)
    /// took 1.35× the CPU and a 1.6× larger file with DuckDB's defaults (0.10 format, FSST headers), 1.32× the CPU at 1.2.
    /// Files written before keep the format they have.
    /// </summary>
    public const string StorageVersion = "v1.3.0";

    /// <summary>Catalog name of the database file inside the sensor's DuckDB instance.</summary>
    private const string Catalog = "sensor";

    public static SensorDatabase Open(string path, bool readOnly = false, string memoryLimit = DefaultMemoryLimit)
    {
        if (readOnly)
        {
            var cs = $"Data Source={path};ACCESS_MODE=READ_ONLY";
            var ro = new DuckDBConnection(cs);
            ro.Open();
            return new SensorDatabase(path, cs, ro);
        }
        // The row group size and storage version are options of ATTACH only: an in-memory instance attaches the file and makes it the default.
        var conn = new DuckDBConnection($"Data Source=:memory:;memory_limit={memoryLimit};checkpoint_threshold=1GB");
        conn.Open();
        try
        {
            using (var cmd = conn.CreateCommand())
            {
                cmd.CommandText = $"attach '{path.Replace("'", "''")}' as {Catalog} (ROW_GROUP_SIZE {RowGroupSize}, STORAGE_VERSION '{StorageVersion}'); use {Catalog}";
                cmd.ExecuteNonQuery();
            }
        }
        catch
        {
            conn.Dispose();
            throw;
        }
        var db = new SensorDatabase(path, null, conn);
        foreach (var ddl in Schema.All) db.Execute(ddl);
        return db;
    }

    public DuckDBConnection Connection => _conn;

    /// <summary>Another connection to the same database, for another thread.</summary>
    public DuckDBConnection NewConnection()
    {
        if (_connectionString != null)
        {
            // Connections to the same file within one process share one database instance.
            var c = new DuckDBConnection(_connectionString);
            c.Open();
            return c;
        }
        var d = _conn.Duplicate();
        if (d.State != System.Data.ConnectionState.Open) d.Open();
        using (var cmd = d.CreateCommand())
        {
            cmd.CommandText = $"use {Catalog}";
            cmd.ExecuteNonQuery();
        }
        return d;
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

    /// <summary>
    /// Writes what the WAL holds into the file now (compressing the row groups the last commits left there), on a
    /// connection of its own, so that the end of a run can do other work meanwhile instead of waiting at close.
    /// </summary>
    public void Checkpoint()
    {
        using var c = NewConnection();
        using var cmd = c.CreateCommand();
        cmd.CommandText = $"checkpoint {Catalog}";
        cmd.ExecuteNonQuery();
    }

    public void Dispose() => _conn.Dispose();
}
