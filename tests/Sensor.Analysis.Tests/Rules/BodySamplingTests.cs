using System.Text;
using Sensor.Analysis.Rules;
using Sensor.Core;
using Sensor.Http;

namespace Sensor.Analysis.Tests.Rules;

/// <summary>
/// The sensitive-data analyzer scans every body of an endpoint's first requests, then a sample, and again in
/// full after a body showed a new kind of item at a new place.
/// </summary>
public class BodySamplingTests
{
    private readonly CounterRegistry _counters = new();
    private readonly IHttpAnalyzer _analyzer;
    private long _ts = Timestamp.FromUnix(1_700_000_000, 0, 1);

    public BodySamplingTests() => _analyzer = new SensitiveDataAnalyzerFactory(new byte[32], _counters).Create(0);

    private long SampledOut => _counters.Get("sensitive", "bodies_sampled_out");

    private HttpTransaction Call(string body)
    {
        var raw = Encoding.UTF8.GetBytes("GET /users HTTP/1.1\r\nHost: api.example.com\r\n\r\n");
        Assert.Equal(HttpHeadParser.Result.Ok, HttpHeadParser.TryParse(raw, true, 65536, out var req, out _));
        var b = Encoding.UTF8.GetBytes(body);
        var rawResp = Encoding.UTF8.GetBytes($"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {b.Length}\r\n\r\n");
        Assert.Equal(HttpHeadParser.Result.Ok, HttpHeadParser.TryParse(rawResp, false, 65536, out var resp, out _));
        var c = IpAddr.Parse("10.0.0.1");
        var s = IpAddr.Parse("10.9.9.9");
        var t = new HttpTransaction
        {
            Flow = FlowKey.Create(c, 40000, s, 80, out _), ClientIp = c, ClientPort = 40000, ServerIp = s, ServerPort = 80,
            Request = req!, Response = resp!, TsRequest = _ts, TsResponse = _ts + 10_000,
            ResponseBody = new HttpBody { Length = b.Length, WireLength = b.Length, Captured = b, CapturedLength = b.Length },
            RequestComplete = true, ResponseComplete = true, ResponseDone = true,
        };
        _ts += TimeSpan.FromSeconds(1).Ticks;
        _analyzer.OnTransaction(t);
        return t;
    }

    private static string Users(int n, int seed, string extra = "") =>
        "{\"data\":[" + string.Join(",", Enumerable.Range(0, n).Select(i => $"{{\"id\":{i},\"email\":\"user{seed}x{i}@corp-mail.org\"{extra}}}")) + "]}";

    [Fact]
    public void A_longer_list_is_not_a_new_place()
    {
        for (int i = 0; i < 64; i++) Call(Users(1, i));
        Assert.Equal(0, SampledOut);
        // Lists grow one item at a time: $.data[1].email, $.data[2].email … are the place $.data[].email seen
        // from the start, so sampling goes on (one body in 16).
        for (int i = 0; i < 320; i++) Call(Users(1 + i / 16, 100 + i));
        Assert.InRange(SampledOut, 320 - 320 / 16 - 2, 320);
    }

    [Fact]
    public void A_new_kind_of_item_at_a_new_place_is_scanned_in_full_again()
    {
        for (int i = 0; i < 64 + 160; i++) Call(Users(2, i));
        long before = SampledOut;
        Assert.True(before > 100);
        // The next scanned body shows a card number in a field not seen before: the following 64 bodies are scanned.
        for (int i = 0; i < 16; i++) Call(Users(2, 1000 + i, ",\"card\":\"4111 1111 1111 1111\""));
        long atNovelty = SampledOut;
        for (int i = 0; i < 64; i++)
        {
            var t = Call(Users(2, 2000 + i, ",\"card\":\"4111 1111 1111 1111\""));
            Assert.Contains(t.Sensitive!, s => s.Location == "$.data[1].card");
        }
        Assert.Equal(atNovelty, SampledOut);
    }
}
