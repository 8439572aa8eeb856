using System.Net.Sockets;
using System.Text.Json;

namespace Sensor.Host.Live;

public sealed class RemoteQueryException(string message) : Exception(message);

/// <summary>The CLI's side of <see cref="QueryServer"/>: used when a running service holds the database.</summary>
public static class QueryClient
{
    public static string SocketFor(string database) => database + ".sock";

    /// <summary>True when a service answers on the socket (a stale socket file refuses connections).</summary>
    public static bool Answers(string socketPath)
    {
        if (!File.Exists(socketPath)) return false;
        try
        {
            using var s = Connect(socketPath, TimeSpan.FromSeconds(2));
            return true;
        }
        catch (SocketException) { return false; }
    }

    private static Socket Connect(string socketPath, TimeSpan timeout)
    {
        var s = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified) { ReceiveTimeout = (int)timeout.TotalMilliseconds, SendTimeout = (int)timeout.TotalMilliseconds };
        try { s.Connect(new UnixDomainSocketEndPoint(socketPath)); }
        catch { s.Dispose(); throw; }
        return s;
    }

    private static JsonDocument Ask(string socketPath, object request)
    {
        using var s = Connect(socketPath, TimeSpan.FromMinutes(10));
        using var stream = new NetworkStream(s, ownsSocket: false);
        stream.Write(JsonSerializer.SerializeToUtf8Bytes(request));
        stream.WriteByte((byte)'\n');
        s.Shutdown(SocketShutdown.Send);
        var doc = JsonDocument.Parse(stream);
        if (doc.RootElement.TryGetProperty("error", out var err))
        {
            var message = err.GetString() ?? "error";
            doc.Dispose();
            throw new RemoteQueryException(message);
        }
        return doc;
    }

    /// <summary>Runs a reading query in the service; values come back with the types a direct read gives.</summary>
    public static (string[] Names, List<object?[]> Rows) Query(string socketPath, string sql, IReadOnlyList<object?>? args = null)
    {
        using var doc = Ask(socketPath, new { op = "query", sql, args = args ?? [] });
        var names = doc.RootElement.GetProperty("columns").EnumerateArray().Select(e => e.GetString()!).ToArray();
        var rows = doc.RootElement.GetProperty("rows").EnumerateArray()
            .Select(r => r.EnumerateArray().Select(WireValue.Read).ToArray()).ToList();
        return (names, rows);
    }

    /// <summary>Asks the service for a copy of the database without the per-transaction tables; returns its path.</summary>
    public static string Snapshot(string socketPath)
    {
        using var doc = Ask(socketPath, new { op = "snapshot" });
        return doc.RootElement.GetProperty("path").GetString()!;
    }

    public sealed record RemoteSpec(string Path, string Title, string? Version, string OpenApiVersion, int Operations, int Warnings);

    public sealed record RemoteSpecImport(IReadOnlyList<RemoteSpec> Imported, IReadOnlyList<Sensor.Analysis.Specs.SpecLoadFailure> Failures, Sensor.Storage.SpecEvaluation Evaluation);

    /// <summary>
    /// Sends spec files (read by the caller, named by their full paths) to the service, which stores them and judges
    /// its inventory against every stored spec. Throws <see cref="RemoteQueryException"/> when they do not fit in one request.
    /// </summary>
    public static RemoteSpecImport ImportSpecs(string socketPath, IReadOnlyList<Sensor.Analysis.Specs.SpecFile> files)
    {
        long size = files.Sum(f => (f.Content.Length + 2L) / 3 * 4 + f.Path.Length * 6L + 64);
        if (size > QueryServer.MaxRequestBytes - 1024)
            throw new RemoteQueryException($"the specs are too large to send to the running service ({size >> 20} MiB encoded, at most {QueryServer.MaxRequestBytes >> 20} MiB): import fewer at a time");
        using var doc = Ask(socketPath, new { op = "import-specs", files = files.Select(f => new { path = Path.GetFullPath(f.Path), content = f.Content }) });
        var r = doc.RootElement;
        var imported = r.GetProperty("imported").EnumerateArray()
            .Select(e => new RemoteSpec(e.GetProperty("path").GetString()!, e.GetProperty("title").GetString()!, e.GetProperty("version").GetString(),
                e.GetProperty("openapi").GetString()!, e.GetProperty("operations").GetInt32(), e.GetProperty("warnings").GetInt32())).ToList();
        var failures = r.GetProperty("failures").EnumerateArray()
            .Select(e => new Sensor.Analysis.Specs.SpecLoadFailure(e.GetProperty("path").GetString()!, e.GetProperty("reason").GetString()!)).ToList();
        var ev = r.GetProperty("evaluation");
        var evaluation = new Sensor.Storage.SpecEvaluation(ev.GetProperty("specs").GetInt32(), ev.GetProperty("findings").GetInt32(), ev.GetProperty("new").GetInt32(),
            ev.GetProperty("fixed").GetInt32(), ev.GetProperty("by_category").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetInt32()));
        return new RemoteSpecImport(imported, failures, evaluation);
    }

    public sealed record ServiceStatus(bool Healthy, string Reason, int Run, string Database, IReadOnlyList<Sensor.Core.CounterValue> Counters);

    public static ServiceStatus Status(string socketPath)
    {
        using var doc = Ask(socketPath, new { op = "status" });
        var r = doc.RootElement;
        var counters = r.GetProperty("counters").EnumerateArray()
            .Select(c => new Sensor.Core.CounterValue(c.GetProperty("stage").GetString()!, c.GetProperty("name").GetString()!, c.GetProperty("value").GetInt64(), c.GetProperty("description").GetString()!))
            .ToList();
        return new ServiceStatus(r.GetProperty("healthy").GetBoolean(), r.GetProperty("reason").GetString()!, r.GetProperty("run").GetInt32(), r.GetProperty("database").GetString()!, counters);
    }

}
