using System.Text;
using System.Text.Json;
using Sensor.Analysis.Sensitive;
using Sensor.Core;
using Sensor.Http;
using Sensor.Http.Har;

namespace Sensor.Analysis.Tests.Sensitive;

/// <summary>Builds one transaction through the HAR reader (so heads and bodies are as the pipeline makes them) and scans it.</summary>
internal static class SensitiveTestSupport
{
    public sealed record Req(string Method, string Url)
    {
        public (string, string)[] Headers { get; init; } = [];
        public string? Body { get; init; }
        public string? ContentType { get; init; }
        public (string, string)[] RespHeaders { get; init; } = [];
        public string? RespBody { get; init; }
        public string RespContentType { get; init; } = "application/json";
    }

    public static HttpTransaction Build(Req r, int captureLimit = 1 << 20)
    {
        var reqHeaders = new List<object> { new { name = "Host", value = "api.test" } };
        reqHeaders.AddRange(r.Headers.Select(h => new { name = h.Item1, value = h.Item2 }));
        if (r.Body != null) reqHeaders.Add(new { name = "Content-Type", value = r.ContentType ?? "application/json" });
        var respHeaders = r.RespHeaders.Select(h => (object)new { name = h.Item1, value = h.Item2 }).ToList();
        if (r.RespBody != null) respHeaders.Add(new { name = "Content-Type", value = r.RespContentType });
        var entry = new Dictionary<string, object?>
        {
            ["startedDateTime"] = "2024-11-04T08:00:00.000Z",
            ["time"] = 1,
            ["request"] = new Dictionary<string, object?>
            {
                ["method"] = r.Method, ["url"] = "http://api.test" + r.Url, ["httpVersion"] = "HTTP/1.1", ["headers"] = reqHeaders,
                ["queryString"] = Array.Empty<object>(), ["cookies"] = Array.Empty<object>(), ["headersSize"] = -1, ["bodySize"] = -1,
                ["postData"] = r.Body == null ? null : new { mimeType = r.ContentType ?? "application/json", text = r.Body },
            },
            ["response"] = new Dictionary<string, object?>
            {
                ["status"] = 200, ["statusText"] = "OK", ["httpVersion"] = "HTTP/1.1", ["headers"] = respHeaders, ["cookies"] = Array.Empty<object>(),
                ["content"] = new { size = r.RespBody?.Length ?? 0, mimeType = r.RespContentType, text = r.RespBody ?? "" },
                ["redirectURL"] = "", ["headersSize"] = -1, ["bodySize"] = -1,
            },
            ["cache"] = new { },
            ["timings"] = new { send = 0, wait = 1, receive = 0 },
        };
        if (r.Body == null) ((Dictionary<string, object?>)entry["request"]!).Remove("postData");
        var har = JsonSerializer.SerializeToUtf8Bytes(new { log = new { version = "1.2", creator = new { name = "test", version = "1" }, entries = new[] { entry } } });
        using var reader = new HarReader(new MemoryStream(har), "t.har", new HttpOptions { BodyCaptureLimit = captureLimit }, new HarCounters(new CounterRegistry()), har.Length);
        var all = reader.ReadAll().ToList();
        Assert.True(all.Count == 1, "the HAR reader skipped the entry: " + string.Join("; ", reader.Problems));
        return all[0];
    }

    public static List<SensitiveHit> Scan(Req r, SensitiveScanOptions? options = null)
    {
        var hits = new List<SensitiveHit>();
        TransactionScanner.Scan(Build(r), hits, options ?? SensitiveScanOptions.Default);
        return hits;
    }

    public static List<SensitiveHit> ResponseJson(string json) => Scan(new Req("GET", "/x") { RespBody = json });
    public static List<SensitiveHit> RequestJson(string json) => Scan(new Req("POST", "/x") { Body = json });
    public static List<SensitiveHit> Header(string name, string value) => Scan(new Req("GET", "/x") { Headers = [(name, value)] });

    public static string Show(IEnumerable<SensitiveHit> hits) =>
        string.Join("; ", hits.Select(h => $"{h.Part} {h.Location} {h.Type}"));

    public static void Has(List<SensitiveHit> hits, string part, string location, string type) =>
        Assert.True(hits.Any(h => h.Part == part && h.Location == location && h.Type == type), $"expected {part} {location} {type}; got: {Show(hits)}");

    /// <summary>No live finding (documented examples may be reported as <see cref="SensitiveTypes.Example"/>).</summary>
    public static void None(List<SensitiveHit> hits) =>
        Assert.True(hits.All(h => h.Type == SensitiveTypes.Example), $"expected nothing; got: {Show(hits)}");

    public static void NoneAt(List<SensitiveHit> hits, string location) =>
        Assert.True(hits.All(h => h.Location != location || h.Type == SensitiveTypes.Example), $"expected nothing at {location}; got: {Show(hits)}");

    public static string Utf8(byte[] b) => Encoding.UTF8.GetString(b);
}
