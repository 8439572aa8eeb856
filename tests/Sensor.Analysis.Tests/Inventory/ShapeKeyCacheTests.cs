using System.Text;
using Sensor.Analysis.Inventory;
using Sensor.Core;
using Sensor.Http;

namespace Sensor.Analysis.Tests.Inventory;

public class ShapeKeyCacheTests
{
    private static HttpTransaction Get(string target)
    {
        Assert.Equal(HttpHeadParser.Result.Ok, HttpHeadParser.TryParse(Encoding.ASCII.GetBytes($"GET {target} HTTP/1.1\r\nHost: h\r\n\r\n"), true, 65536, out var head, out _));
        var c = IpAddr.Parse("10.0.0.1");
        var s = IpAddr.Parse("10.0.0.2");
        return new HttpTransaction { Flow = FlowKey.Create(c, 40000, s, 80, out _), ClientIp = c, ServerIp = s, ClientPort = 40000, ServerPort = 80, Request = head! };
    }

    [Fact]
    public void Analyzers_asking_for_the_same_path_of_a_transaction_share_one_key()
    {
        var t = Get("/users/12345/orders?x=1");
        var first = new ShapeKeyCache().Get(t, t.Path);
        var second = new ShapeKeyCache().Get(t, t.StoredPath);   // not redacted: the same path
        Assert.Same(first.Key, second.Key);
        Assert.Same(first.Positions, second.Positions);
        Assert.Equal(EndpointShape.ShapeKey("/users/12345/orders"), first.Key);
    }

    [Fact]
    public void A_different_path_of_the_same_transaction_gets_its_own_key()
    {
        var t = Get("/users/12345/orders");
        var raw = new ShapeKeyCache().Get(t, t.Path);
        t.RedactedTarget = "/users/j***@example.com/profile";
        var stored = new ShapeKeyCache().Get(t, t.StoredPath);
        Assert.Equal(EndpointShape.ShapeKey("/users/j***@example.com/profile"), stored.Key);
        Assert.NotEqual(raw.Key, stored.Key);
        // Asking for the first path again works it out again rather than handing back the other's key.
        Assert.Equal(raw.Key, new ShapeKeyCache().Get(t, t.Path).Key);
    }
}
