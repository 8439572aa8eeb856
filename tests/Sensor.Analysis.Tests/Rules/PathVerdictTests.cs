using System.Text;
using Sensor.Analysis.Inventory;
using Sensor.Analysis.Rules;
using Sensor.Core;
using Sensor.Http;

namespace Sensor.Analysis.Tests.Rules;

/// <summary>
/// A path the sensitive-data scan found clean is not read again on that thread (its request entry keeps the
/// verdict); a path that held something is scanned, and reported, every time.
/// </summary>
public class PathVerdictTests
{
    private readonly IHttpAnalyzer _analyzer = new SensitiveDataAnalyzerFactory(new byte[32], new CounterRegistry()).Create(0);

    private static HttpTransaction Get(string target)
    {
        var raw = Encoding.UTF8.GetBytes($"GET {target} HTTP/1.1\r\nHost: api.example.com\r\n\r\n");
        Assert.Equal(HttpHeadParser.Result.Ok, HttpHeadParser.TryParse(raw, true, 65536, out var req, out _));
        var c = IpAddr.Parse("10.0.0.1");
        var s = IpAddr.Parse("10.9.9.9");
        return new HttpTransaction
        {
            Flow = FlowKey.Create(c, 40000, s, 80, out _), ClientIp = c, ClientPort = 40000, ServerIp = s, ServerPort = 80,
            Request = req!, TsRequest = Timestamp.FromUnix(1_700_000_000, 0, 1), RequestComplete = true,
        };
    }

    [Fact]
    public void A_clean_path_is_marked_and_a_path_with_personal_data_is_reported_every_time()
    {
        for (int i = 0; i < 3; i++)
        {
            var t = Get("/users/jane.doe@acmemail.net/orders");
            _analyzer.OnTransaction(t);
            Assert.Contains(t.Sensitive ?? [], tag => tag.Part == "path" && tag.Type == "email");
            Assert.False(ShapeKeys.Request(t, t.Path).PathClean);
            Assert.DoesNotContain("jane.doe", t.StoredPath);
        }
        var clean = Get("/users/42/orders");
        _analyzer.OnTransaction(clean);
        Assert.Null(clean.Sensitive);
        Assert.True(ShapeKeys.Request(clean, clean.Path).PathClean);
        var again = Get("/users/42/orders");
        _analyzer.OnTransaction(again);
        Assert.Null(again.Sensitive);
    }
}
