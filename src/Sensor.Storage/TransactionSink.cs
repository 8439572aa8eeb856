using DuckDB.NET.Data;
using Sensor.Core;
using Sensor.Http;

namespace Sensor.Storage;

/// <summary>Where a flow worker puts finished transactions. One instance per worker thread.</summary>
public interface ITransactionSink : IDisposable
{
    void Append(HttpTransaction t);
    /// <summary>Makes everything appended so far durable and visible to readers.</summary>
    void Commit();
}

internal static class AppenderText
{
    /// <summary>
    /// Appends text that is already UTF-8 (as captured) without a round trip through a .NET string;
    /// bytes that are not valid UTF-8 go through the string path, which substitutes what cannot be decoded.
    /// </summary>
    public static IDuckDBAppenderRow Text(this IDuckDBAppenderRow row, byte[]? utf8, HttpHead? head)
    {
        if (utf8 == null || head == null) return row.AppendNullValue();
        return System.Text.Unicode.Utf8.IsValid(utf8) ? row.AppendValue(utf8.AsSpan()) : row.AppendValue(head.RawHeaders);
    }
}

/// <summary>Counts transactions and stores nothing (replay --no-store, tests).</summary>
public sealed class CountingSink(Counter rows) : ITransactionSink
{
    public void Append(HttpTransaction t) => rows.Inc();
    public void Commit() { }
    public void Dispose() { }
}

/// <summary>
/// Bulk-loads http_transactions through a DuckDB Appender on the worker's own connection. Every flow
/// worker has one, so storing, the throughput wall, runs in parallel instead of on one storage thread;
/// DuckDB serialises only the short commits. The appender is closed and reopened every
/// <see cref="RowsPerCommit"/> rows so data becomes durable in bounded steps and memory stays flat; a commit
/// of a whole row group is compressed and written by this worker (see <see cref="SensorDatabase.RowGroupSize"/>).
/// </summary>
public sealed class DuckDbTransactionSink : ITransactionSink
{
    public int RowsPerCommit { get; init; } = SensorDatabase.RowGroupSize;
    private readonly DuckDBConnection _conn;
    private readonly int _runId;
    private readonly Counter _rows, _commits;
    private DuckDBAppender? _app, _sensitive;
    private int _sinceCommit;

    public DuckDbTransactionSink(DuckDBConnection conn, int runId, CounterRegistry counters)
    {
        _conn = conn;
        _runId = runId;
        _rows = counters.Create("storage", "rows", "transaction rows stored");
        _commits = counters.Create("storage", "commits", "appender commits");
    }

    public void Append(HttpTransaction t)
    {
        _app ??= _conn.CreateAppender("http_transactions");
        var resp = t.Response;
        string flags = t.FlagsText();
        _app.CreateRow()
            .AppendValue(t.Conn)
            .AppendValue(Timestamp.ToDateTime(t.TsRequest))
            .AppendValue(t.TsResponse is long r ? Timestamp.ToDateTime(r) : (DateTime?)null)
            .AppendValue(t.Request.Method).AppendValue(t.Request.Host).AppendValue(t.RedactedTarget ?? t.Request.Target)
            .AppendValue(t.StoredPath)
            .AppendValue(t.RedactedTarget == null ? t.Query : UriParts.Split(t.RedactedTarget, t.Request.Method).Query)
            .AppendValue(resp?.Status)
            .Text(t.RedactedRequestHeaders ?? t.Request.RawHeaderBytes, t.Request).Text(t.RedactedResponseHeaders ?? resp?.RawHeaderBytes, resp)
            .AppendValue(t.Request.ContentType).AppendValue(resp?.ContentType)
            .AppendValue(t.RequestBody.Length).AppendValue(t.ResponseBody.Length)
            .AppendValue(t.RequestBody.Sha256Hex).AppendValue(t.ResponseBody.Sha256Hex)
            .AppendValue(t.Complete).AppendValue(flags.Length == 0 ? null : flags)
            .AppendValue(_runId)
            .EndRow();
        if (t.Sensitive is { Count: > 0 } tags)
        {
            _sensitive ??= _conn.CreateAppender("sensitive_items");
            var ts = Timestamp.ToDateTime(t.TsRequest);
            foreach (var tag in tags)
                _sensitive.CreateRow().AppendValue(_runId).AppendValue(t.Conn).AppendValue(ts).AppendValue(t.Service).AppendValue(t.Request.Method)
                    .AppendValue(t.StoredPath).AppendValue(resp?.Status).AppendValue(tag.Part).AppendValue(tag.Location).AppendValue(tag.Type)
                    .AppendValue(tag.Preview).AppendValue(tag.ValueHmac).EndRow();
        }
        _rows.Inc();
        if (++_sinceCommit >= RowsPerCommit) Commit();
    }

    public void Commit()
    {
        _sensitive?.Dispose();
        _sensitive = null;
        if (_app == null) return;
        _app.Dispose();
        _app = null;
        _sinceCommit = 0;
        _commits.Inc();
    }

    public void Dispose()
    {
        Commit();
        _conn.Dispose();
    }
}
