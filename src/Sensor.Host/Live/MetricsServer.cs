using System.Net;
using System.Net.Sockets;
using System.Text;
using Microsoft.Extensions.Logging;
using Sensor.Core;

namespace Sensor.Host.Live;

/// <summary>
/// Prometheus text exposition (<c>GET /metrics</c>) and a health probe (<c>GET /healthz</c>: 200 "ok" or
/// 503 with the reason) on a small HTTP/1.1 listener, localhost by default. Our own exposition keeps the
/// service free of a web framework; every pipeline counter is exported, summed over workers.
/// </summary>
public sealed class MetricsServer : IDisposable
{
    private readonly TcpListener _listener;
    private readonly LiveRunner _runner;
    private readonly ILogger _log;
    private readonly CancellationTokenSource _stop = new();
    private Task? _accept;

    public IPEndPoint Endpoint => (IPEndPoint)_listener.LocalEndpoint;

    public MetricsServer(string listen, LiveRunner runner, ILogger log)
    {
        _runner = runner; _log = log;
        if (!IPEndPoint.TryParse(listen, out var ep) || ep.Port == 0 && !listen.EndsWith(":0", StringComparison.Ordinal))
            throw new ArgumentException($"Metrics.Listen \"{listen}\" is not an address:port (e.g. 127.0.0.1:9464)");
        _listener = new TcpListener(ep);
        try { _listener.Start(); }
        catch (SocketException e) { throw new InvalidOperationException($"metrics: cannot listen on {listen}: {e.Message}", e); }
    }

    public void Start() => _accept = Task.Run(() => AcceptLoop.Run(_listener.Server, Serve, _log, "metrics", _stop.Token));

    private async Task Serve(Socket c)
    {
        using var _ = c;
        try
        {
            await using var stream = new NetworkStream(c, ownsSocket: false);
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            var head = new StringBuilder();
            var buf = new byte[4096];
            while (head.Length < 16384 && !head.ToString().Contains("\r\n\r\n", StringComparison.Ordinal))
            {
                int n = await stream.ReadAsync(buf, timeout.Token).ConfigureAwait(false);
                if (n == 0) break;
                head.Append(Encoding.ASCII.GetString(buf, 0, n));
            }
            var requestLine = head.ToString().Split("\r\n", 2)[0].Split(' ');
            (int status, string type, string body) = requestLine is [var method, var target, ..] && method is "GET" or "HEAD"
                ? Route(target.Split('?')[0])
                : (405, "text/plain", "method not allowed\n");
            var payload = Encoding.UTF8.GetBytes(body);
            var reason = status switch { 200 => "OK", 404 => "Not Found", 405 => "Method Not Allowed", _ => "Service Unavailable" };
            var response = Encoding.ASCII.GetBytes($"HTTP/1.1 {status} {reason}\r\nContent-Type: {type}\r\nContent-Length: {payload.Length}\r\nConnection: close\r\n\r\n");
            await stream.WriteAsync(response, timeout.Token).ConfigureAwait(false);
            if (requestLine[0] != "HEAD") await stream.WriteAsync(payload, timeout.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or OperationCanceledException or SocketException) { }
    }

    private (int, string, string) Route(string path)
    {
        if (path is not ("/metrics" or "/healthz")) return (404, "text/plain", "not found: try /metrics or /healthz\n");
        var (healthy, reason) = _runner.Health();
        if (path == "/metrics") return (200, "text/plain; version=0.0.4; charset=utf-8", Exposition(_runner.Snapshot(), healthy));
        return healthy ? (200, "text/plain", "ok\n") : (503, "text/plain", reason + "\n");
    }

    /// <summary>Counters as Prometheus metrics: <c>sensor_{stage}_{name}_total</c>, gauges without the suffix.</summary>
    public static string Exposition(IReadOnlyList<CounterValue> counters, bool healthy)
    {
        var sb = new StringBuilder();
        sb.Append("# HELP sensor_healthy 1 while capturing normally (see /healthz)\n# TYPE sensor_healthy gauge\n");
        sb.Append("sensor_healthy ").Append(healthy ? 1 : 0).Append('\n');
        foreach (var c in counters)
        {
            bool gauge = c.Stage == "rates" || c.Description.Contains("(gauge)", StringComparison.Ordinal);
            var name = "sensor_" + Sanitize(c.Stage) + "_" + Sanitize(c.Name) + (gauge ? "" : "_total");
            sb.Append("# HELP ").Append(name).Append(' ').Append(c.Description.Replace("\\", "\\\\").Replace("\n", " ")).Append('\n');
            sb.Append("# TYPE ").Append(name).Append(gauge ? " gauge\n" : " counter\n");
            sb.Append(name).Append(' ').Append(c.Value).Append('\n');
        }
        return sb.ToString();
    }

    private static string Sanitize(string s)
    {
        var chars = s.Select(ch => char.IsAsciiLetterOrDigit(ch) ? char.ToLowerInvariant(ch) : '_').ToArray();
        return new string(chars);
    }

    public void Dispose()
    {
        _stop.Cancel();
        _listener.Stop();
        try { _accept?.Wait(TimeSpan.FromSeconds(5)); } catch (AggregateException) { }
    }
}
