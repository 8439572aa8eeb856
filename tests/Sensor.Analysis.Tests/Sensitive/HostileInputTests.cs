using System.Diagnostics;
using System.Text;
using Sensor.Analysis.Sensitive;
using Sensor.Http;
using Xunit.Abstractions;
using static Sensor.Analysis.Tests.Sensitive.SensitiveTestSupport;

namespace Sensor.Analysis.Tests.Sensitive;

/// <summary>Hostile bodies finish in bounded time and memory, and the hit cap holds.</summary>
public class HostileInputTests(ITestOutputHelper output)
{
    // Generous: the machine is shared and tests run in parallel; a quadratic scan would take minutes.
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(10);

    private List<SensitiveHit> Timed(string what, HttpTransaction t)
    {
        var hits = new List<SensitiveHit>();
        var sw = Stopwatch.StartNew();
        TransactionScanner.Scan(t, hits);
        sw.Stop();
        output.WriteLine($"{what}: {sw.ElapsedMilliseconds} ms, {hits.Count} hits");
        Assert.True(sw.Elapsed < Bound, $"{what} took {sw.Elapsed}");
        return hits;
    }

    private static HttpTransaction Body(string body, string contentType) =>
        Build(new Req("POST", "/x") { Body = body, ContentType = contentType }, captureLimit: 16 << 20);

    [Theory]
    [InlineData("text/plain")]
    [InlineData("application/json")]
    [InlineData("application/x-www-form-urlencoded")]
    [InlineData("multipart/form-data; boundary=x")]
    public void Ten_megabytes_of_digits(string contentType)
    {
        var digits = new StringBuilder(10 << 20);
        var rnd = new Random(1);
        while (digits.Length < 10 << 20) digits.Append((char)('0' + rnd.Next(10)));
        Timed("digits " + contentType, Body(digits.ToString(), contentType));
        // Digits in phone-sized groups: every group is a candidate, the parse budget bounds libphonenumber.
        var groups = new StringBuilder(4 << 20);
        while (groups.Length < 4 << 20) groups.Append("call +1 ").Append(rnd.Next(200, 999)).Append(' ').Append(rnd.Next(200, 999)).Append(' ').Append(rnd.Next(1000, 9999)).Append(", ");
        Timed("phone-like groups " + contentType, Body(groups.ToString(), contentType));
    }

    [Fact]
    public void Random_bytes_and_random_text()
    {
        var rnd = new Random(2);
        var bytes = new byte[4 << 20];
        rnd.NextBytes(bytes);
        var text = Encoding.Latin1.GetString(bytes);
        foreach (var ct in new[] { "application/json", "text/plain", "application/octet-stream", "multipart/form-data; boundary=a" })
            Timed("random " + ct, Body(text, ct));
        // Printable noise built from the characters detectors look for.
        const string alphabet = "@.-_+=:/%eyJghp_AKIAxoxbSK0123456789 ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz\n{}[]\",";
        var sb = new StringBuilder(4 << 20);
        while (sb.Length < 4 << 20) sb.Append(alphabet[rnd.Next(alphabet.Length)]);
        var noise = Timed("noise text", Body(sb.ToString(), "text/plain"));
        output.WriteLine(string.Join(", ", noise.GroupBy(h => h.Type).Select(g => $"{g.Key} {g.Count()}")));
    }

    [Theory]
    [InlineData("@")]
    [InlineData("a@b.")]
    [InlineData("eyJ.")]
    [InlineData("ghp_")]
    [InlineData("http://")]
    [InlineData("x=")]
    [InlineData("-----BEGIN ")]
    [InlineData("1-")]
    [InlineData("GB82 ")]
    [InlineData("a.")]
    public void Repeated_trigger_fragments(string fragment)
    {
        var sb = new StringBuilder(4 << 20);
        while (sb.Length < 2 << 20) sb.Append(fragment);
        Timed("repeated " + fragment, Body(sb.ToString(), "text/plain"));
        Timed("repeated in a JSON string " + fragment, Body("{\"note\":\"" + sb.ToString().Replace("\"", "", StringComparison.Ordinal).Replace("\n", "", StringComparison.Ordinal) + "\"}", "application/json"));
    }

    [Fact]
    public void Deeply_nested_json()
    {
        const int depth = 100_000;
        var arrays = new string('[', depth) + "\"ana@correo.es\"" + new string(']', depth);
        Timed("nested arrays", Body(arrays, "application/json"));
        var objects = new StringBuilder();
        for (int i = 0; i < depth; i++) objects.Append("{\"a\":");
        objects.Append("\"ana@correo.es\"").Append('}', depth);
        var hits = Timed("nested objects", Body(objects.ToString(), "application/json"));
        Assert.Contains(hits, h => h.Type == SensitiveTypes.Email);   // scanned as text once too deep to walk
        // Within the depth limit, paths are exact.
        var ok = new StringBuilder();
        for (int i = 0; i < 50; i++) ok.Append("{\"a\":");
        ok.Append("{\"email\":\"ana@correo.es\"}").Append('}', 50);
        var deep = Timed("50 levels", Body(ok.ToString(), "application/json"));
        Assert.Equal("$" + string.Concat(Enumerable.Repeat(".a", 50)) + ".email", Assert.Single(deep).Location);
    }

    [Fact]
    public void Huge_values_and_many_keys()
    {
        var big = new string('A', 6 << 20);
        Timed("6 MB string value", Body("{\"blob\":\"" + big + "\",\"email\":\"ana@correo.es\"}", "application/json"));
        var many = new StringBuilder("{");
        for (int i = 0; i < 200_000; i++) many.Append("\"k").Append(i).Append("\":\"v\",");
        many.Append("\"z\":1}");
        Timed("200k keys", Body(many.ToString(), "application/json"));
    }

    [Fact]
    public void Hits_are_capped_per_transaction()
    {
        var sb = new StringBuilder("[");
        for (int i = 0; i < 20_000; i++) sb.Append("\"user").Append(i).Append("@correo.es\",");
        sb.Append("\"x\"]");
        var hits = Timed("20k emails", Body(sb.ToString(), "application/json"));
        Assert.Equal(SensitiveScanOptions.Default.MaxHits, hits.Count);
    }

    [Fact]
    public void A_long_path_query_and_headers()
    {
        // Within the parser's limits (16 KiB start line, 64 KiB head): 400 segments, 250 parameters, a 12 KB header, 800 cookies.
        var seg = string.Concat(Enumerable.Repeat("/ana%40correo.es", 400));
        var query = "?" + string.Join('&', Enumerable.Range(0, 250).Select(i => $"k{i}=eyJhbGciOiJIUzI1NiJ9.e30.x{i}"));
        var t = Build(new Req("GET", seg + query) { Headers = [("X-Api-Key", new string('k', 12_000)), ("Cookie", string.Join("; ", Enumerable.Range(0, 800).Select(i => $"c{i}=v")))] });
        Timed("long target and headers", t);
    }
}
