namespace Sensor.Storage;

/// <summary>The DuckDB schema. Column names of http_transactions are a contract (analysts and checks query them).</summary>
public static class Schema
{
    /// <summary>
    /// Transactions. The header columns, most of what a row weighs, are ZSTD-compressed: left to itself DuckDB
    /// analyses them for dictionary and FSST compression and picks FSST; ZSTD costs less CPU and makes a smaller
    /// file (measured in <see cref="SensorDatabase.StorageVersion"/>).
    /// </summary>
    public const string HttpTransactions = """
        create table if not exists http_transactions(
          conn varchar not null,
          ts_request timestamp,
          ts_response timestamp,
          method varchar,
          host varchar,
          uri varchar,
          path varchar,
          query varchar,
          status integer,
          req_headers varchar using compression zstd,
          resp_headers varchar using compression zstd,
          req_content_type varchar,
          resp_content_type varchar,
          req_body_len bigint,
          resp_body_len bigint,
          req_body_sha256 varchar,
          resp_body_sha256 varchar,
          complete boolean,
          flags varchar,
          run_id integer
        )
        """;

    /// <summary>Client and server split out of conn, for analysts; derived rather than stored (storing is the wall).</summary>
    public const string HttpTransactionsView = """
        create or replace view http_transactions_ext as
        select *,
          regexp_extract(split_part(conn, '-', 1), '^\[?(.*?)\]?:[0-9]+$', 1) as client_ip,
          cast(regexp_extract(split_part(conn, '-', 1), ':([0-9]+)$', 1) as integer) as client_port,
          regexp_extract(split_part(conn, '-', 2), '^\[?(.*?)\]?:[0-9]+$', 1) as server_ip,
          cast(regexp_extract(split_part(conn, '-', 2), ':([0-9]+)$', 1) as integer) as server_port
        from http_transactions
        """;

    public const string Runs = """
        create table if not exists runs(
          run_id integer primary key,
          started_at timestamp,
          finished_at timestamp,
          mode varchar,
          sources varchar,
          transactions bigint,
          sensor_version varchar
        )
        """;

    public const string CaptureStats = """
        create table if not exists capture_stats(
          run_id integer,
          recorded_at timestamp,
          stage varchar,
          counter varchar,
          value bigint,
          description varchar
        )
        """;

    public const string CaptureFiles = """
        create table if not exists capture_files(
          run_id integer,
          path varchar,
          format varchar,
          bytes bigint,
          packets bigint,
          link_types varchar,
          fault_offset bigint,
          fault varchar
        )
        """;

    /// <summary>Sensitive items found in transactions: where, what type, a masked preview and a keyed hash; never the value.</summary>
    public const string SensitiveItems = """
        create table if not exists sensitive_items(
          run_id integer, conn varchar, ts timestamp, service varchar, method varchar, path varchar, status integer,
          part varchar, location varchar, type varchar, preview varchar, value_hmac varchar)
        """;

    public static readonly string[] All = [HttpTransactions, HttpTransactionsView, Runs, CaptureStats, CaptureFiles, InventoryStore.Observations, InventoryStore.Endpoints, InventoryStore.Shapes, InventoryStore.Params, InventoryStore.Models,
        FindingsStore.Table, FindingsStore.Events, SpecStore.Table, SensitiveItems];
}
