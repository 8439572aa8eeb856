// Storage formats: the CPU DuckDB.NET's Appender spends storing a replay's real http_transactions rows on one thread
// (appends, commits of a row group each, final checkpoint), under the sensor's schema and storage version beside
// DuckDB's defaults, as ratios to the first variant measured in the same run; medians of ROUNDS alternated rounds.
//   usage: dotnet run -c Release --project bench/storage-formats -- DB [ROUNDS]   (DB: a database `sensor replay` wrote)
using System.Diagnostics;
using DuckDB.NET.Data;
using Sensor.Storage;

if (args.Length < 1) { Console.Error.WriteLine("usage: storage-formats DB [ROUNDS]"); return 2; }
int rounds = args.Length > 1 ? int.Parse(args[1]) : 3;
var rows = new List<object?[]>();
using (var c = new DuckDBConnection($"Data Source={args[0]};ACCESS_MODE=READ_ONLY"))
{
    c.Open();
    using var cmd = c.CreateCommand();
    cmd.CommandText = "select * from http_transactions";
    using var r = cmd.ExecuteReader();
    while (r.Read())
    {
        var row = new object?[r.FieldCount];
        for (int i = 0; i < row.Length; i++) row[i] = r.IsDBNull(i) ? null : r.GetValue(i);
        rows.Add(row);
    }
}
Console.WriteLine($"{rows.Count:N0} rows from {args[0]}");
string plain = Schema.HttpTransactions.Replace(" using compression zstd", "");
(string Name, string Ddl, string? Version)[] variants =
[
    ($"sensor ({SensorDatabase.StorageVersion}, ZSTD headers)", Schema.HttpTransactions, SensorDatabase.StorageVersion),
    ("v1.2.0, ZSTD headers", Schema.HttpTransactions, "v1.2.0"),
    ("DuckDB defaults", plain, null),
];
var cpu = variants.Select(_ => new List<double>()).ToArray();
var size = new long[variants.Length];
var dir = Directory.CreateTempSubdirectory("storage-formats-");
try
{
    for (int round = 0; round < rounds; round++)
        for (int v = 0; v < variants.Length; v++)
            cpu[v].Add(Store(variants[v].Ddl, variants[v].Version, out size[v]));
}
finally { dir.Delete(true); }
double baseline = Median(cpu[0]);
for (int v = 0; v < variants.Length; v++)
    Console.WriteLine($"{variants[v].Name,-32} CPU {Median(cpu[v]),6:F2} s  x {Median(cpu[v]) / baseline,5:F2}  file {size[v] / 1e6,6:F1} MB");
return 0;

double Store(string ddl, string? version, out long bytes)
{
    var path = Path.Combine(dir.FullName, "s.duckdb");
    File.Delete(path);
    File.Delete(path + ".wal");
    // One DuckDB thread, so the process's CPU time is the appender's and DuckDB's work for this thread.
    using var c = new DuckDBConnection("Data Source=:memory:;threads=1;memory_limit=" + SensorDatabase.DefaultMemoryLimit);
    c.Open();
    Exec(c, $"attach '{path}' as s (ROW_GROUP_SIZE {SensorDatabase.RowGroupSize}{(version == null ? "" : $", STORAGE_VERSION '{version}'")}); use s; {ddl}");
    var t0 = Process.GetCurrentProcess().TotalProcessorTime;
    for (int i = 0; i < rows.Count; i += SensorDatabase.RowGroupSize)
    {
        using var app = c.CreateAppender("http_transactions");
        for (int j = i; j < Math.Min(rows.Count, i + SensorDatabase.RowGroupSize); j++)
        {
            var row = app.CreateRow();
            foreach (var x in rows[j])
            {
                _ = x switch
                {
                    null => row.AppendNullValue(),
                    string s => row.AppendValue(s),
                    DateTime d => row.AppendValue(d),
                    int n => row.AppendValue(n),
                    long l => row.AppendValue(l),
                    bool b => row.AppendValue(b),
                    _ => throw new InvalidOperationException($"unexpected column type {x.GetType().Name}"),
                };
            }
            row.EndRow();
        }
    }
    Exec(c, "checkpoint s");
    double seconds = (Process.GetCurrentProcess().TotalProcessorTime - t0).TotalSeconds;
    c.Close();
    bytes = new FileInfo(path).Length;
    return seconds;
}

static void Exec(DuckDBConnection c, string sql)
{
    using var cmd = c.CreateCommand();
    cmd.CommandText = sql;
    cmd.ExecuteNonQuery();
}

static double Median(List<double> xs)
{
    var s = xs.Order().ToArray();
    return s.Length % 2 == 1 ? s[s.Length / 2] : (s[s.Length / 2 - 1] + s[s.Length / 2]) / 2;
}
