using System.Text;
using Sensor.Analysis.Inventory;
using Sensor.Core;
using Sensor.Http;

namespace Sensor.Analysis.Tests.Inventory;

public class ShapeKeysTests
{
    private static HttpTransaction Get(string target, string host = "h")
    {
        Assert.Equal(HttpHeadParser.Result.Ok, HttpHeadParser.TryParse(Encoding.ASCII.GetBytes($"GET {target} HTTP/1.1\r\nHost: {host}\r\n\r\n"), true, 65536, out var head, out _));
        var c = IpAddr.Parse("10.0.0.1");
        var s = IpAddr.Parse("10.0.0.2");
        return new HttpTransaction { Flow = FlowKey.Create(c, 40000, s, 80, out _), ClientIp = c, ServerIp = s, ClientPort = 40000, ServerPort = 80, Request = head! };
    }

    [Fact]
    public void Analyzers_asking_for_the_same_path_of_a_transaction_share_one_endpoint()
    {
        var t = Get("/users/12345/orders?x=1");
        var first = ShapeKeys.Of(t, t.Path);
        var second = ShapeKeys.Of(t, t.StoredPath);   // not redacted: the same path
        Assert.Same(first, second);
        Assert.Equal(EndpointShape.ShapeKey("/users/12345/orders"), first.Key);
        Assert.Equal([1], first.Positions);
        Assert.Equal(("h", "GET", "/users/{}/orders"), (first.Service, first.Method, first.Key));
    }

    [Fact]
    public void A_different_path_of_the_same_transaction_gets_its_own_endpoint()
    {
        var t = Get("/users/12345/orders");
        var raw = ShapeKeys.Of(t, t.Path);
        t.RedactedTarget = "/users/j***@example.com/profile";
        var stored = ShapeKeys.Of(t, t.StoredPath);
        Assert.Equal(EndpointShape.ShapeKey("/users/j***@example.com/profile"), stored.Key);
        Assert.NotEqual(raw.Key, stored.Key);
        // Asking for the first path again works it out again rather than handing back the other's endpoint.
        Assert.Same(raw, ShapeKeys.Of(t, t.Path));
    }

    [Fact]
    public void Transactions_of_one_endpoint_share_one_reference_and_other_services_or_methods_do_not()
    {
        var a = ShapeKeys.Of(Get("/users/1"), "/users/1");
        Assert.Same(a, ShapeKeys.Of(Get("/users/2"), "/users/2"));   // ids fold: the same shape
        Assert.NotSame(a, ShapeKeys.Of(Get("/users/2", "other"), "/users/2"));
        Assert.Equal("other", ShapeKeys.Of(Get("/users/2", "OTHER"), "/users/2").Service);
    }

    [Fact]
    public void The_inventory_counts_a_request_in_the_table_of_its_own_generation()
    {
        // The request's slot remembers the observation it was counted in; a hand-over starts a new table.
        var f = new InventoryAnalyzerFactory();
        var a = f.Create(0);
        var other = new InventoryAnalyzerFactory().Create(0);   // a second inventory on the same thread keeps its own count
        for (int i = 0; i < 3; i++) { a.OnTransaction(Get("/users/7")); other.OnTransaction(Get("/users/7")); }
        a.Checkpoint();
        var (handed, _) = f.TakeCheckpoint();
        Assert.Equal(3, Assert.Single(handed).Count);
        for (int i = 0; i < 2; i++) a.OnTransaction(Get("/users/7"));
        Assert.Equal(2, Assert.Single(f.Observations()).Count);
        Assert.Equal(3, handed.Single().Count);   // what was handed over is not counted into again
    }

    [Fact]
    public void Path_observations_hold_one_status_and_two_schemes_inline_and_tables_past_that()
    {
        var o = new PathObservation { Service = "s", Method = "GET", Path = "/p" };
        o.CountStatus(200);
        o.CountStatus(200);
        o.AddSchemes(["http-bearer"]);
        o.AddSchemes(["http-bearer", "apiKey-cookie-sid"]);
        Assert.Equal(new Dictionary<int, long> { [200] = 2 }, o.Statuses);
        Assert.Equal(["apiKey-cookie-sid", "http-bearer"], o.AuthSchemes.Order());
        o.CountStatus(404);
        o.AddSchemes(["http-basic"]);
        Assert.Equal(new Dictionary<int, long> { [200] = 2, [404] = 1 }, o.Statuses);
        Assert.Equal(["apiKey-cookie-sid", "http-basic", "http-bearer"], o.AuthSchemes.Order());

        var fresh = new PathObservation { Service = "s", Method = "GET", Path = "/p" };
        fresh.CountStatus(500);
        fresh.AddSchemes(["http-bearer", "x", "y"]);
        o.Merge(fresh);
        Assert.Equal(new Dictionary<int, long> { [200] = 2, [404] = 1, [500] = 1 }, o.Statuses);
        Assert.Equal(5, o.AuthSchemes.Count);
        Assert.Equal((2, 1), o.Outcomes());
        Assert.Equal("apiKey-cookie-sid,http-basic,http-bearer,x,y", o.SchemesText());
    }

    [Fact]
    public void Inline_observations_merge_count_and_print_without_tables()
    {
        var a = new PathObservation { Service = "s", Method = "GET", Path = "/p" };
        var b = new PathObservation { Service = "s", Method = "GET", Path = "/p" };
        a.AddStatus(404, 3);
        a.AddScheme("http-bearer");
        b.AddStatus(404, 2);
        b.AddScheme("apiKey-cookie-sid");
        a.Merge(b);
        Assert.Equal([(404, 5L)], a.StatusCounts());
        Assert.Equal((0, 5), a.Outcomes());
        Assert.Equal("apiKey-cookie-sid,http-bearer", a.SchemesText());
        Assert.Equal("", new PathObservation { Service = "s", Method = "GET", Path = "/p" }.SchemesText());
        a.AddStatus(201, 1);
        a.AddStatus(302, 1);
        Assert.Equal([(201, 1L), (302, 1L), (404, 5L)], a.StatusCounts());
        Assert.Equal((2, 5), a.Outcomes());
    }

    [Fact]
    public void Scheme_sets_keep_the_order_found_and_no_repeats_however_many()
    {
        var set = new SchemeSet();
        foreach (var s in (string[])["b", "a", "b", "c"]) set.Add(s);
        Assert.Equal(["b", "a", "c"], set);
        set.Clear();
        for (int round = 0; round < 2; round++)
            for (int i = 0; i < 20; i++) set.Add("s" + i);
        Assert.Equal(Enumerable.Range(0, 20).Select(i => "s" + i), set);
    }

    [Fact]
    public void Scheme_counts_kept_in_runs_reach_the_tables_whenever_read()
    {
        var shape = new EndpointShape();
        string[] seen = ["http-bearer", "apiKey-cookie-sid", "http-bearer", "http-basic", "apiKey-cookie-sid", "http-bearer"];
        bool[] accepted = [true, true, false, true, true, true];
        for (int i = 0; i < seen.Length; i++)
        {
            shape.CountScheme(seen[i], accepted[i]);
            if (i == 2) Assert.Equal(2, shape.Schemes["http-bearer"]);   // read mid-run, then counted on
        }
        Assert.Equal(new Dictionary<string, long> { ["http-bearer"] = 3, ["apiKey-cookie-sid"] = 2, ["http-basic"] = 1 }, shape.Schemes);
        Assert.Equal(new Dictionary<string, long> { ["http-bearer"] = 2, ["apiKey-cookie-sid"] = 2, ["http-basic"] = 1 }, shape.SchemesAccepted);
        var copy = ShapeJson.Deserialize(ShapeJson.Serialize(shape));
        Assert.Equal(shape.Schemes, copy.Schemes);
    }

    [Fact]
    public void Responses_by_status_follow_a_replaced_table()
    {
        var shape = new EndpointShape();
        shape.Response(200).Count++;
        shape.Response(200).Count++;
        shape.Responses = new Dictionary<int, ResponseStats> { [200] = new() { Count = 10 } };
        shape.Response(200).Count++;
        Assert.Equal(11, shape.Responses[200].Count);
    }
}
