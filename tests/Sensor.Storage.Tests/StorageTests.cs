using System.Buffers;
using DuckDB.NET.Data;
using Sensor.Core;
using Sensor.Http;

namespace Sensor.Storage.Tests;

public class StorageTests : IDisposable
{
    private readonly DirectoryInfo _dir = Directory.CreateTempSubdirectory("sensor-storage-");
    private string Db => Path.Combine(_dir.FullName, "s.duckdb");
    public void Dispose() => _dir.Delete(true);

    private static HttpHead Head(string text, bool request)
    {
        var r = HttpHeadParser.TryParse(new ReadOnlySequence<byte>(System.Text.Encoding.UTF8.GetBytes(text)), request, 65536, out var h, out _);
        Assert.Equal(HttpHeadParser.Result.Ok, r);
        return h!;
    }

    private static HttpTransaction Txn(string client, ushort cport, string server, ushort sport, string requestHead, string? responseHead)
    {
        var c = IpAddr.Parse(client); var s = IpAddr.Parse(server);
        var t = new HttpTransaction
        {
            Flow = FlowKey.Create(c, cport, s, sport, out _),
            Request = Head(requestHead, true),
            Response = responseHead == null ? null : Head(responseHead, false),
            ClientIp = c, ClientPort = cport, ServerIp = s, ServerPort = sport,
            TsRequest = Timestamp.FromUnix(1700000000, 250, 1000),
            RequestComplete = true,
        };
        t.Conn = $"{c.WithPort(cport)}-{s.WithPort(sport)}";
        if (responseHead != null)
        {
            t.TsResponse = t.TsRequest + Timestamp.TicksPerSecond;
            t.ResponseDone = t.ResponseComplete = true;
            t.ResponseBody = new HttpBody { Length = 5, Sha256 = System.Security.Cryptography.SHA256.HashData("hello"u8) };
        }
        else t.Flags |= TransactionFlags.NoResponse | TransactionFlags.Asymmetric;
        return t;
    }

    private List<object?[]> Query(string sql)
    {
        using var c = new DuckDBConnection($"Data Source={Db};ACCESS_MODE=READ_ONLY");
        c.Open();
        using var cmd = c.CreateCommand();
        cmd.CommandText = sql;
        using var rd = cmd.ExecuteReader();
        var rows = new List<object?[]>();
        while (rd.Read()) rows.Add(Enumerable.Range(0, rd.FieldCount).Select(i => rd.IsDBNull(i) ? null : rd.GetValue(i)).ToArray());
        return rows;
    }

    [Fact]
    public void Rows_keep_every_column_and_nulls_where_nothing_was_seen()
    {
        var counters = new CounterRegistry();
        using (var db = SensorDatabase.Open(Db))
        using (var sink = new DuckDbTransactionSink(db.NewConnection(), 7, counters))
        {
            sink.Append(Txn("10.0.0.1", 40000, "10.0.0.2", 80,
                "GET /a/b?x=1&y=2 HTTP/1.1\r\nHost: api.test\r\nAccept: */*\r\n\r\n",
                "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\n"));
            sink.Append(Txn("2001:db8::1", 50000, "2001:db8::2", 8080, "POST http://api.test/p HTTP/1.1\r\nContent-Type: application/json\r\n\r\n", null));
        }
        var rows = Query("select conn, ts_request, method, host, uri, path, query, status, req_headers, resp_content_type, resp_body_len, resp_body_sha256, complete, flags, run_id from http_transactions order by conn");
        Assert.Equal(2, rows.Count);
        var a = rows[0];
        Assert.Equal("10.0.0.1:40000-10.0.0.2:80", a[0]);
        Assert.Equal(new DateTime(2023, 11, 14, 22, 13, 20, 250, DateTimeKind.Utc), a[1]);
        Assert.Equal(["GET", "api.test", "/a/b?x=1&y=2", "/a/b", "x=1&y=2", 200], a[2..8]);
        Assert.Equal("Host: api.test\r\nAccept: */*\r\n", a[8]);
        Assert.Equal("text/plain", a[9]);
        Assert.Equal(5L, a[10]);
        Assert.Equal("2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824", a[11]);
        Assert.Equal(true, a[12]);
        Assert.Null(a[13]);
        Assert.Equal(7, a[14]);
        var b = rows[1];
        Assert.Equal("[2001:db8::1]:50000-[2001:db8::2]:8080", b[0]);
        Assert.Null(b[3]);                      // no Host header
        Assert.Equal("/p", b[5]);               // absolute-form target
        Assert.Null(b[7]);                      // no response
        Assert.Null(b[11]);
        Assert.Equal(false, b[12]);
        Assert.Equal("asymmetric,no_response", b[13]);
        Assert.Equal(2, counters.Get("storage", "rows"));
    }

    [Fact]
    public void The_ext_view_splits_conn_for_both_address_families()
    {
        using (var db = SensorDatabase.Open(Db))
        using (var sink = new DuckDbTransactionSink(db.NewConnection(), 1, new CounterRegistry()))
        {
            sink.Append(Txn("2001:db8::1", 50000, "2001:db8::2", 8080, "GET / HTTP/1.1\r\n\r\n", null));
            sink.Append(Txn("192.168.0.9", 1234, "10.9.8.7", 443, "GET / HTTP/1.1\r\n\r\n", null));
        }
        var rows = Query("select client_ip, client_port, server_ip, server_port from http_transactions_ext order by client_port");
        Assert.Equal(["192.168.0.9", 1234, "10.9.8.7", 443], rows[0]);
        Assert.Equal(["2001:db8::1", 50000, "2001:db8::2", 8080], rows[1]);
    }

    [Fact]
    public void Commits_happen_every_n_rows_so_data_is_durable_in_steps()
    {
        var counters = new CounterRegistry();
        using (var db = SensorDatabase.Open(Db))
        using (var sink = new DuckDbTransactionSink(db.NewConnection(), 1, counters) { RowsPerCommit = 10 })
        {
            for (int i = 0; i < 25; i++) sink.Append(Txn("10.0.0.1", (ushort)(1000 + i), "10.0.0.2", 80, $"GET /{i} HTTP/1.1\r\n\r\n", null));
            Assert.Equal(2, counters.Get("storage", "commits"));
        }
        Assert.Equal(3, counters.Get("storage", "commits"));
        Assert.Equal(25L, Query("select count(*) from http_transactions")[0][0]);
    }

    [Fact]
    public void A_checkpoint_moves_what_the_wal_holds_into_the_file()
    {
        using var db = SensorDatabase.Open(Db);
        using (var sink = new DuckDbTransactionSink(db.NewConnection(), 1, new CounterRegistry()))
        {
            for (int i = 0; i < 100; i++) sink.Append(Txn("10.0.0.1", (ushort)(1000 + i), "10.0.0.2", 80, $"GET /{i} HTTP/1.1\r\n\r\n", null));
            sink.Commit();
        }
        var wal = new FileInfo(Db + ".wal");
        Assert.True(wal.Exists && wal.Length > 0, "a commit smaller than a row group goes through the WAL");
        db.Checkpoint();
        wal.Refresh();
        Assert.True(!wal.Exists || wal.Length == 0, "the WAL still holds data");
        Assert.Equal(100L, db.Scalar("select count(*) from http_transactions"));
    }

    [Fact]
    public void Header_columns_are_stored_with_zstd_and_read_back_whole()
    {
        using (var db = SensorDatabase.Open(Db))
        using (var sink = new DuckDbTransactionSink(db.NewConnection(), 1, new CounterRegistry()))
        {
            for (int i = 0; i < 3000; i++)
                sink.Append(Txn("10.0.0.1", (ushort)(1000 + i % 50), "10.0.0.2", 80,
                    $"GET /items/{i} HTTP/1.1\r\nHost: api.test\r\nUser-Agent: client/{i % 7}\r\nX-Request-Id: {i * 7919}\r\n\r\n",
                    $"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nETag: \"{i:x}\"\r\n\r\n"));
        }
        var methods = Query("""
            select distinct column_name, compression from pragma_storage_info('http_transactions')
            where column_name in ('req_headers', 'resp_headers') and segment_type = 'VARCHAR' order by 1
            """).Select(r => $"{r[0]}={r[1]}").ToArray();
        Assert.Equal(["req_headers=ZSTD", "resp_headers=ZSTD"], methods);
        var back = Query("select req_headers, resp_headers from http_transactions where uri = '/items/2999'")[0];
        Assert.Equal("Host: api.test\r\nUser-Agent: client/3\r\nX-Request-Id: 23749081\r\n", back[0]);
        Assert.Equal("Content-Type: application/json\r\nETag: \"bb7\"\r\n", back[1]);
    }

    [Fact]
    public void A_database_written_in_the_older_format_is_extended_in_place()
    {
        // As an earlier sensor wrote it: DuckDB's default storage format, headers without a compression choice.
        using (var c = new DuckDBConnection($"Data Source={Db}"))
        {
            c.Open();
            using var cmd = c.CreateCommand();
            cmd.CommandText = Schema.HttpTransactions.Replace(" using compression zstd", "");
            cmd.ExecuteNonQuery();
            cmd.CommandText = "insert into http_transactions(conn, method, uri, req_headers) values ('a:1-b:2', 'GET', '/old', 'Host: a')";
            cmd.ExecuteNonQuery();
        }
        using (var db = SensorDatabase.Open(Db))
        using (var sink = new DuckDbTransactionSink(db.NewConnection(), 1, new CounterRegistry()))
            sink.Append(Txn("10.0.0.1", 1000, "10.0.0.2", 80, "GET /new HTTP/1.1\r\nHost: b\r\n\r\n", null));
        Assert.Equal(["/new", "/old"], Query("select uri from http_transactions order by uri").Select(r => (string)r[0]!));
    }

    [Fact]
    public void Opening_twice_keeps_the_schema_and_numbers_runs()
    {
        using (var db = SensorDatabase.Open(Db)) Assert.Equal(1, db.BeginRun("replay", "a.pcap", DateTime.UnixEpoch, "1"));
        using (var db = SensorDatabase.Open(Db)) Assert.Equal(2, db.BeginRun("replay", "b.pcap", DateTime.UnixEpoch, "1"));
        Assert.Equal(2L, Query("select count(*) from runs")[0][0]);
    }
}
