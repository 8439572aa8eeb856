using System.Globalization;
using Microsoft.Extensions.Logging;
using Sensor.Core;
using Sensor.Storage;

namespace Sensor.Host.Live;

/// <summary>
/// Bounds what a long-running sensor keeps in DuckDB: transactions (and their sensitive items and the
/// periodic statistics) older than the window, or beyond the row limit, are written to Parquet files in the
/// archive directory and deleted. The inventory and findings are aggregates and stay. Export and delete run in one
/// transaction, so a row is either archived and gone or still in the database.
/// </summary>
public sealed class Retention
{
    private readonly RetentionSettings _s;
    private readonly SensorDatabase _db;
    private readonly ILogger _log;
    private readonly Counter _archived, _deleted, _files, _errors;
    private DateTime _next = DateTime.MinValue;

    public Retention(RetentionSettings s, SensorDatabase db, CounterRegistry counters, ILogger log)
    {
        _s = s; _db = db; _log = log;
        _archived = counters.Create("retention", "rows_archived", "transaction, sensitive-item and statistics rows exported to Parquet before deletion");
        _deleted = counters.Create("retention", "rows_deleted", "transaction, sensitive-item and statistics rows deleted by retention");
        _files = counters.Create("retention", "archive_files", "Parquet files written by retention");
        _errors = counters.Create("retention", "errors", "retention sweeps that failed (nothing deleted; retried at the next sweep)");
    }

    public void MaybeSweep(DateTime now)
    {
        if (now < _next) return;
        _next = now + TimeSpan.FromMinutes(Math.Max(0.1, _s.CheckMinutes));
        try { Sweep(now); }
        catch (Exception e)
        {
            _errors.Inc();
            _log.LogError(e, "retention sweep failed; nothing was deleted");
        }
    }

    /// <summary>Archives and deletes what is out of the window; returns the transactions removed.</summary>
    public long Sweep(DateTime now)
    {
        DateTime? cutoff = _s.Hours > 0 ? now - TimeSpan.FromHours(_s.Hours) : null;
        if (_s.MaxRows > 0)
        {
            long count = Convert.ToInt64(_db.Scalar("select count(*) from http_transactions"));
            if (count > _s.MaxRows)
            {
                // The oldest rows beyond the limit go: the cutoff is the timestamp of the first row kept.
                var keepFrom = (DateTime)_db.Scalar("select ts_request from http_transactions order by ts_request nulls first limit 1 offset ?", count - _s.MaxRows)!;
                if (cutoff == null || keepFrom > cutoff) cutoff = keepFrom;
            }
        }
        if (cutoff is not { } cut) return 0;
        var lit = "timestamp '" + cut.ToString("yyyy-MM-dd HH:mm:ss.ffffff", CultureInfo.InvariantCulture) + "'";
        long txns = Convert.ToInt64(_db.Scalar($"select count(*) from http_transactions where ts_request < {lit} or ts_request is null"));
        long items = Convert.ToInt64(_db.Scalar($"select count(*) from sensitive_items where ts < {lit}"));
        // Statistics written every few seconds by a service that runs for weeks grow too; the same window applies.
        long stats = Convert.ToInt64(_db.Scalar($"select count(*) from capture_stats where recorded_at < {lit}"));
        if (txns == 0 && items == 0 && stats == 0) return 0;
        using var tx = _db.Connection.BeginTransaction();
        if (!string.IsNullOrEmpty(_s.ArchiveDirectory))
        {
            Directory.CreateDirectory(_s.ArchiveDirectory);
            string stamp = cut.ToString("yyyyMMdd'T'HHmmss", CultureInfo.InvariantCulture);
            if (txns > 0) Export($"select * from http_transactions where ts_request < {lit} or ts_request is null", "http_transactions", stamp, txns);
            if (items > 0) Export($"select * from sensitive_items where ts < {lit}", "sensitive_items", stamp, items);
            if (stats > 0) Export($"select * from capture_stats where recorded_at < {lit}", "capture_stats", stamp, stats);
        }
        _db.Execute($"delete from http_transactions where ts_request < {lit} or ts_request is null");
        _db.Execute($"delete from sensitive_items where ts < {lit}");
        _db.Execute($"delete from capture_stats where recorded_at < {lit}");
        tx.Commit();
        _deleted.Add(txns + items + stats);
        _log.LogInformation("retention: {Transactions} transactions and {Items} sensitive items before {Cutoff:u} {Where}",
            txns, items, cut, string.IsNullOrEmpty(_s.ArchiveDirectory) ? "deleted" : "archived to " + _s.ArchiveDirectory);
        return txns;
    }

    private void Export(string select, string table, string stamp, long rows)
    {
        // One file per table and sweep, named by the cutoff; a second sweep with the same cutoff gets a suffix.
        var path = Path.Combine(_s.ArchiveDirectory!, $"{table}-before-{stamp}.parquet");
        for (int i = 1; File.Exists(path); i++) path = Path.Combine(_s.ArchiveDirectory!, $"{table}-before-{stamp}-{i}.parquet");
        _db.Execute($"copy ({select}) to '{path.Replace("'", "''")}' (format parquet, compression zstd)");
        _archived.Add(rows);
        _files.Inc();
    }
}
