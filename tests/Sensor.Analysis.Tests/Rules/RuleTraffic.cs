using System.Text;
using Sensor.Analysis.Findings;
using Sensor.Analysis.Inventory;
using Sensor.Analysis.Rules;
using Sensor.Core;
using Sensor.Http;

namespace Sensor.Analysis.Tests.Rules;

/// <summary>
/// Synthetic traffic through the inventory and security analyzers, then the traffic rules, as a replay
/// runs them: raw heads parsed by the HTTP parser, endpoints templated by the inventory.
/// </summary>
internal sealed class RuleTraffic
{
    private readonly InventoryAnalyzerFactory _inventory = new();
    private readonly SecurityAnalyzerFactory _security = new();
    private readonly IHttpAnalyzer _inv, _sec;
    private long _ts = Timestamp.FromUnix(1_700_000_000, 0, 1);
    private ushort _port = 40000;
    public readonly List<SensitiveAggregate> Sensitive = [];

    public RuleTraffic()
    {
        _inv = _inventory.Create(0);
        _sec = _security.Create(0);
    }

    /// <summary>Moves packet time on (e.g. to spread requests over minutes).</summary>
    public RuleTraffic Wait(TimeSpan t) { _ts += t.Ticks; return this; }

    public RuleTraffic Call(string method, string target, int status, string[]? headers = null, string[]? responseHeaders = null,
        string? responseBody = null, string host = "api.example.com", string client = "10.0.0.1", string responseType = "application/json",
        TimeSpan? gap = null)
    {
        var req = new StringBuilder($"{method} {target} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: t/1\r\n");
        foreach (var h in headers ?? []) req.Append(h).Append("\r\n");
        req.Append("\r\n");
        var resp = new StringBuilder($"HTTP/1.1 {status} X\r\n");
        foreach (var h in responseHeaders ?? []) resp.Append(h).Append("\r\n");
        if (responseBody != null) resp.Append($"Content-Type: {responseType}\r\nContent-Length: {Encoding.UTF8.GetByteCount(responseBody)}\r\n");
        else resp.Append("Content-Length: 0\r\n");
        resp.Append("\r\n");
        Assert.Equal(HttpHeadParser.Result.Ok, HttpHeadParser.TryParse(Encoding.UTF8.GetBytes(req.ToString()), true, 65536, out var rh, out _));
        Assert.Equal(HttpHeadParser.Result.Ok, HttpHeadParser.TryParse(Encoding.UTF8.GetBytes(resp.ToString()), false, 65536, out var sh, out _));
        var body = responseBody == null ? HttpBody.Empty : Body(responseBody);
        var c = IpAddr.Parse(client);
        var s = IpAddr.Parse("10.9.9.9");
        ushort port = _port++;
        var t = new HttpTransaction
        {
            Flow = FlowKey.Create(c, port, s, 80, out _), ClientIp = c, ClientPort = port, ServerIp = s, ServerPort = 80,
            Request = rh!, Response = sh!, TsRequest = _ts, TsResponse = _ts + 10_000, ResponseBody = body,
            RequestComplete = true, ResponseComplete = true, ResponseDone = true,
        };
        _ts += (gap ?? TimeSpan.FromSeconds(1)).Ticks;
        _inv.OnTransaction(t);
        _sec.OnTransaction(t);
        return this;
    }

    private static HttpBody Body(string s)
    {
        var b = Encoding.UTF8.GetBytes(s);
        return new HttpBody { Length = b.Length, WireLength = b.Length, Captured = b, CapturedLength = b.Length };
    }

    public RuleTraffic Repeat(int n, Action<RuleTraffic, int> call)
    {
        for (int i = 0; i < n; i++) call(this, i);
        return this;
    }

    public List<Finding> Findings(RuleOptions? options = null)
    {
        _inv.Complete();
        _sec.Complete();
        var shapes = _inventory.Shapes().ToLookup(s => s.Service);
        var map = new Dictionary<(string, string, string), string>();
        var endpoints = new List<Endpoint>();
        foreach (var g in _inventory.Observations().GroupBy(o => o.Service))
        {
            var m = new Dictionary<(string Method, string Path), string>();
            endpoints.AddRange(EndpointBuilder.Build(g.Key, g, shapes[g.Key], m));
            foreach (var ((method, path), t) in m) map[(g.Key, method, path)] = t;
        }
        return TrafficRules.Evaluate(endpoints, _security.Evidence(), Sensitive, (s, m, p) => map.GetValueOrDefault((s, m, p)), options ?? new RuleOptions());
    }
}
