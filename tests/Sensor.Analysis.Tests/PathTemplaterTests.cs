using Sensor.Analysis.Inventory;

namespace Sensor.Analysis.Tests;

public class PathTemplaterTests
{
    private static PathTemplater Learn(params (string Method, string Path, int Status)[] calls)
    {
        var t = new PathTemplater();
        foreach (var (m, p, s) in calls) t.Observe(p, m, s);
        return t;
    }

    private static string[] Templates(PathTemplater t) => t.Templates.Select(x => x.Template).Order(StringComparer.Ordinal).ToArray();

    [Theory]
    [InlineData("7", SegmentKind.Numeric)]
    [InlineData("3fa85f64-5717-4562-b3fc-2c963f66afa6", SegmentKind.Uuid)]
    [InlineData("5f2b9c1e8a7d4e3f", SegmentKind.Hex)]
    [InlineData("cus_9Xk2Lm3NpQ", SegmentKind.PrefixedId)]
    [InlineData("2015-02-13", SegmentKind.Date)]
    [InlineData("jane@example.com", SegmentKind.Email)]
    [InlineData("v2", SegmentKind.Version)]
    [InlineData("inventory", SegmentKind.Word)]
    [InlineData("jane-doe", SegmentKind.Word)]
    [InlineData("order-7788", SegmentKind.Mixed)]
    [InlineData("A12345", SegmentKind.Numeric)]
    [InlineData("dGhpcyBpcyBhIHRva2VuMTIz", SegmentKind.Token)]
    // Edges of the hand-written matchers (what they reject falls through to the general rules)
    [InlineData("v12.345", SegmentKind.Version)]
    [InlineData("1.0", SegmentKind.Version)]
    [InlineData("v1.2.3", SegmentKind.Numeric)]
    [InlineData("2015-02-13T10:20:30.5Z", SegmentKind.Date)]
    [InlineData("2015-02-13 10:20", SegmentKind.Date)]
    [InlineData("2015-02-13T", SegmentKind.Numeric)]
    [InlineData("20150213", SegmentKind.Numeric)]
    [InlineData("3fa85f64-5717-4562-b3fc-2c963f66afaZ", SegmentKind.Token)]
    [InlineData("cus_9Xk2L", SegmentKind.Mixed)]
    [InlineData("customers_9Xk2Lm3NpQ", SegmentKind.Token)]
    [InlineData("a.b@mail.example.co", SegmentKind.Email)]
    [InlineData("jane@example.c0m", SegmentKind.Mixed)]
    [InlineData("jane@@example.com", SegmentKind.Word)]
    public void Segments_are_classified_by_shape(string segment, SegmentKind kind) =>
        Assert.Equal(kind, SegmentClassifier.Classify(segment));

    [Fact]
    public void Ids_are_templated_even_when_only_one_value_was_seen()
    {
        var t = Learn(("GET", "/pets/17", 200), ("GET", "/customers/cus_9Xk2Lm3NpQ/invoices", 200), ("GET", "/orders/order-7788", 200));
        Assert.Equal(["/customers/{customerId}/invoices", "/orders/{orderId}", "/pets/{petId}"], Templates(t));
    }

    [Fact]
    public void Static_siblings_stay_beside_the_id_template()
    {
        var t = Learn(("GET", "/users/me", 200), ("GET", "/users/12", 200), ("GET", "/users/13", 200), ("DELETE", "/users/14", 204));
        Assert.Equal(["/users/me", "/users/{userId}"], Templates(t));
        Assert.Equal("/users/{userId}", t.Resolve("/users/99")!.Template);
        Assert.Equal("/users/me", t.Resolve("/users/me")!.Template);
    }

    [Fact]
    public void A_few_plain_words_under_one_parent_are_not_merged()
    {
        var t = Learn(("GET", "/store/inventory", 200), ("POST", "/store/orders", 200), ("GET", "/store/orders/5", 200));
        Assert.Equal(["/store/inventory", "/store/orders", "/store/orders/{orderId}"], Templates(t));
    }

    [Fact]
    public void Many_interchangeable_slugs_become_one_parameter()
    {
        var names = new[] { "jane-doe", "li-smith", "bob-ray", "ann-lee", "tom-wu", "eva-ng", "max-oh", "kim-po", "sam-yu" };
        var calls = names.SelectMany(n => new[] { ("GET", $"/owners/{n}", 200), ("GET", $"/owners/{n}/pets", 200) }).ToArray();
        var t = Learn(calls);
        Assert.Equal(["/owners/{ownerName}", "/owners/{ownerName}/pets"], Templates(t));
    }

    [Fact]
    public void A_word_with_its_own_methods_stays_static_among_slugs()
    {
        var users = Enumerable.Range(0, 10).Select(i => ("GET", $"/users/user{(char)('a' + i)}x", 200)).ToList();
        users.Add(("POST", "/users/login", 200));
        var t = Learn(users.ToArray());
        Assert.Equal(["/users/login", "/users/{userName}"], Templates(t));
    }

    [Fact]
    public void Probes_that_only_drew_client_errors_join_the_id_template()
    {
        var t = Learn(("GET", "/pets/1", 200), ("GET", "/pets/2", 200), ("GET", "/pets/abc", 422), ("GET", "/pets/inventory", 200));
        Assert.Equal(["/pets/inventory", "/pets/{petId}"], Templates(t));
    }

    [Fact]
    public void No_variable_in_the_first_segment_or_after_api_and_versions()
    {
        var t = Learn(("GET", "/123/status", 200), ("GET", "/api/2024", 200), ("GET", "/v1/777", 200), ("GET", "/api/v2/items/5", 200));
        Assert.Equal(["/123/status", "/api/2024", "/api/v2/items/{itemId}", "/v1/777"], Templates(t));
    }

    [Fact]
    public void Dates_and_nested_ids_get_distinct_names()
    {
        var t = Learn(("GET", "/reports/daily/2015-02-13", 200), ("GET", "/categories/4/products/9", 200));
        Assert.Equal(["/categories/{categoryId}/products/{productId}", "/reports/daily/{dailyDate}"], Templates(t));
        var p = t.Resolve("/categories/1/products/2")!;
        Assert.Equal(["categoryId", "productId"], p.Params.Select(x => x.Name));
        Assert.Equal([1, 3], p.Params.Select(x => x.Position));
    }

    [Theory]
    [InlineData("pets", "pet")]
    [InlineData("categories", "category")]
    [InlineData("addresses", "address")]
    [InlineData("people", "person")]
    [InlineData("status", "status")]
    [InlineData("boxes", "box")]
    public void Singular_nouns_name_the_parameter(string plural, string singular) =>
        Assert.Equal(singular, PathTemplater.Singular(plural));
}
