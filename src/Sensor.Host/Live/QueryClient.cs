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
