using System.Threading.Channels;
using DuckDB.NET.Data;
using Sensor.Core;

namespace Sensor.Storage;

/// <summary>
/// Bulk-loads transaction rows with DuckDB's Appender on its own connection and thread. The appender is
/// closed and reopened every <see cref="RowsPerCommit"/> rows so data becomes durable in bounded steps
/// and memory does not grow with the capture.
/// </summary>
public sealed class TransactionWriter
{
    public int RowsPerCommit { get; init; } = 20_000;
    private readonly DuckDBConnection _conn;
    private readonly int _runId;
    private readonly Counter _rows, _batches;

    public TransactionWriter(DuckDBConnection conn, int runId, CounterRegistry counters)
    {
        _conn = conn;
        _runId = runId;
        _rows = counters.Create("storage", "rows", "transaction rows stored");
        _batches = counters.Create("storage", "commits", "appender commits");
    }

    public long Rows => _rows.Value;

    public async Task RunAsync(ChannelReader<TransactionRow[]> input, CancellationToken ct = default)
    {
        DuckDBAppender? app = null;
        int sinceCommit = 0;
        try
        {
            while (await input.WaitToReadAsync(ct).ConfigureAwait(false))
            {
                while (input.TryRead(out var batch))
                {
                    app ??= _conn.CreateAppender("http_transactions");
                    foreach (var r in batch)
                    {
                        Append(app, r);
                    }
                    _rows.Add(batch.Length);
                    sinceCommit += batch.Length;
                    if (sinceCommit >= RowsPerCommit)
                    {
                        app.Dispose(); app = null; sinceCommit = 0; _batches.Inc();
                    }
                }
            }
        }
        finally
        {
            if (app != null) { app.Dispose(); _batches.Inc(); }
        }
    }

    private void Append(DuckDBAppender app, TransactionRow r)
    {
        app.CreateRow()
            .AppendValue(r.Conn).AppendValue(r.TsRequest).AppendValue(r.TsResponse)
            .AppendValue(r.Method).AppendValue(r.Host).AppendValue(r.Uri).AppendValue(r.Path).AppendValue(r.Query)
            .AppendValue(r.Status).AppendValue(r.ReqHeaders).AppendValue(r.RespHeaders)
            .AppendValue(r.ReqContentType).AppendValue(r.RespContentType)
            .AppendValue(r.ReqBodyLen).AppendValue(r.RespBodyLen)
            .AppendValue(r.ReqBodySha256).AppendValue(r.RespBodySha256)
            .AppendValue(r.Complete).AppendValue(r.Flags)
            .AppendValue(r.ClientIp).AppendValue(r.ClientPort).AppendValue(r.ServerIp).AppendValue(r.ServerPort)
            .AppendValue(r.HttpVersion).AppendValue(_runId)
            .EndRow();
    }
}
