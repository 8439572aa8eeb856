using Sensor.Analysis.Specs;
using Sensor.TestSupport;

namespace Sensor.Analysis.Tests.Specs;

public class SpecPathMatcherTests
{
    private static readonly SpecPathMatcher Petstore = new(SpecLoader.Load(SpecLoaderTests.Data("swagger2-petstore.yaml")));

    /// <summary>A spec with just these "METHOD /path" operations; the operation id is the key.</summary>
    private static SpecPathMatcher Synthetic(string[] basePaths, params string[] ops) => new(new ApiSpec
    {
        SourcePath = "synthetic",
        Title = "synthetic",
        OpenApiVersion = "3.0.3",
        BasePaths = basePaths,
        Operations = ops.Select(o => o.Split(' ')).Select(p => new SpecOperation { Method = p[0], PathTemplate = p[1], OperationId = p[0] + " " + p[1] }).ToList(),
    });

    private static string? Id(SpecPathMatcher m, string method, string path) => m.Match(method, path).Operation?.OperationId;

    [Theory]
    [InlineData("GET", "/v1/users/me", "getMe")]
    [InlineData("GET", "/v1/users/alice", "getUser")]
    [InlineData("DELETE", "/v1/users/alice", "deleteUser")]
    [InlineData("GET", "/v1/store/inventory", "getInventory")]
    [InlineData("GET", "/v1/store/order/5", "getOrderById")]
    [InlineData("DELETE", "/v1/store/order/5", "deleteOrder")]
    [InlineData("GET", "/v1/pets", "findPets")]
    [InlineData("GET", "/v1/pets/", "findPets")]                     // trailing slash
    [InlineData("GET", "//v1//pets/42//", "getPetById")]             // doubled slashes
    [InlineData("GET", "/v1/pets?limit=3&tags=a", "findPets")]       // query ignored
    [InlineData("get", "/v1/pets/42", "getPetById")]                 // method case
    [InlineData("POST", "/v1/pets/42/uploadImage", "uploadImage")]
    [InlineData("GET", "/pets/42", "getPetById")]                    // base path missing: tried as-is
    public void Concrete_paths_find_their_operation(string method, string path, string operationId) =>
        Assert.Equal(operationId, Id(Petstore, method, path));

    [Theory]
    [InlineData("GET", "/v1/store/order")]
    [InlineData("GET", "/v1/store/inventory/5")]
    [InlineData("GET", "/v1/store")]
    [InlineData("GET", "/v2/pets")]
    [InlineData("GET", "/v1/pets/42/uploadImage/x")]
    [InlineData("GET", "/")]
    public void Paths_outside_the_spec_match_nothing(string method, string path)
    {
        var m = Petstore.Match(method, path);
        Assert.Null(m.Operation);
        Assert.False(m.PathFound);
        Assert.False(m.MethodNotDocumented);
    }

    [Fact]
    public void A_literal_segment_beats_a_template_and_path_values_are_extracted()
    {
        var me = Petstore.Match("GET", "/v1/users/me");
        Assert.Equal("/users/me", me.PathTemplate);
        Assert.Empty(me.PathValues);
        Assert.Equal("/v1", me.BasePath);

        var alice = Petstore.Match("GET", "/v1/users/alice");
        Assert.Equal("/users/{username}", alice.PathTemplate);
        Assert.Equal("alice", alice.PathValues["username"]);
        Assert.Equal("jörg", Petstore.Match("GET", "/v1/users/j%C3%B6rg").PathValues["username"]);   // percent-decoded
    }

    [Fact]
    public void A_method_the_literal_path_lacks_falls_to_the_template_that_has_it()
    {
        // /users/me is GET only; DELETE /users/me is what DELETE /users/{username} serves.
        var m = Petstore.Match("DELETE", "/v1/users/me");
        Assert.Equal("deleteUser", m.Operation?.OperationId);
        Assert.Equal("me", m.PathValues["username"]);
    }

    [Theory]
    [InlineData("PATCH", "/v1/pets/42", "/pets/{petId}")]
    [InlineData("POST", "/v1/users/me", "/users/me")]                 // neither sibling has POST: the literal path is reported
    [InlineData("POST", "/v1/store/inventory", "/store/inventory")]
    [InlineData("HEAD", "/v1/pets", "/pets")]
    public void A_documented_path_with_an_undocumented_method(string method, string path, string template)
    {
        var m = Petstore.Match(method, path);
        Assert.Null(m.Operation);
        Assert.True(m.MethodNotDocumented);
        Assert.Equal(template, m.PathTemplate);
    }

    [Theory]
    [InlineData("GET", "/v1/pets/{id}", "getPetById")]
    [InlineData("GET", "/v1/users/{userId}", "getUser")]                // not /users/me
    [InlineData("DELETE", "/v1/store/order/{orderId}", "deleteOrder")]
    [InlineData("GET", "/v1/pets/{petId}/", "getPetById")]
    public void Observed_templates_match_spec_variables(string method, string path, string operationId)
    {
        var m = Petstore.Match(method, path);
        Assert.Equal(operationId, m.Operation?.OperationId);
        Assert.Empty(m.PathValues);                                    // no concrete value to report
    }

    [Theory]
    [InlineData("/v1/store/{name}")]                                   // only literals at that position
    [InlineData("/v1/{collection}/42")]
    public void An_observed_template_variable_does_not_match_a_literal_segment(string path) =>
        Assert.False(Petstore.Match("GET", path).PathFound);

    [Fact]
    public void Base_path_can_be_required()
    {
        var strict = new SpecPathMatcher(Petstore.Spec, requireBasePath: true);
        Assert.Null(strict.Match("GET", "/pets/42").Operation);
        Assert.Equal("getPetById", strict.Match("GET", "/v1/pets/42").Operation?.OperationId);
        Assert.Equal("", Petstore.Match("GET", "/pets/42").BasePath);
    }

    [Fact]
    public void Several_base_paths_longest_first()
    {
        var shop = new SpecPathMatcher(SpecLoader.Load(SpecLoaderTests.Data("oas30-shop.json")));   // /api/v2 and the root
        var a = shop.Match("GET", "/api/v2/products/7");
        Assert.Equal(("getProduct", "/api/v2"), (a.Operation?.OperationId, a.BasePath));
        Assert.Equal("7", a.PathValues["productId"]);
        var b = shop.Match("GET", "/products/7");
        Assert.Equal(("getProduct", ""), (b.Operation?.OperationId, b.BasePath));
        Assert.Equal("/products/{productId}", shop.MatchPath("/api/v2/products/7?x=1"));
    }

    [Fact]
    public void Segments_mixing_literals_and_variables()
    {
        var shop = new SpecPathMatcher(SpecLoader.Load(SpecLoaderTests.Data("oas30-shop.json")));
        var m = shop.Match("GET", "/files/report.final.pdf");
        Assert.Equal("getFile", m.Operation?.OperationId);
        Assert.Equal("report", m.PathValues["name"]);
        Assert.Equal("final.pdf", m.PathValues["ext"]);
        Assert.False(shop.Match("GET", "/files/readme").PathFound);     // no dot: the segment does not fit
        Assert.False(shop.Match("GET", "/files/{file}").PathFound);     // an observed variable fits whole-segment variables only
    }

    [Theory]
    [InlineData("/a/latest", "GET /a/latest")]
    [InlineData("/a/7.json", "GET /a/{n}.json")]
    [InlineData("/a/7", "GET /a/{x}")]
    [InlineData("/a/v7.json", "GET /a/v{n}.json")]                        // the longer literal part wins among mixed segments
    [InlineData("/a/latest/comments", "GET /a/{x}/comments")]            // backtracks out of the literal branch
    [InlineData("/a/7.json/raw", "GET /a/{n}.json/raw")]
    [InlineData("/a/7.json/comments", "GET /a/{x}/comments")]
    [InlineData("/", "GET /")]
    [InlineData("", "GET /")]
    [InlineData("/reports/daily/2015-02-13", "GET /reports/daily/{date}")]
    [InlineData("/reports/2015-02-13", "GET /reports/{date}")]
    public void Priority_literal_then_mixed_then_variable(string path, string expected)
    {
        var m = Synthetic([""], "GET /", "GET /a/latest", "GET /a/{x}", "GET /a/{n}.json", "GET /a/v{n}.json", "GET /a/{x}/comments",
            "GET /a/{n}.json/raw", "GET /reports/daily/{date}", "GET /reports/{date}");
        Assert.Equal(expected, Id(m, "GET", path));
    }

    [Fact]
    public void Spec_paths_with_trailing_slashes_match_too()
    {
        var m = Synthetic(["/api"], "GET /things/", "POST /things/{id}/");
        Assert.Equal("GET /things/", Id(m, "GET", "/api/things"));
        Assert.Equal("POST /things/{id}/", Id(m, "POST", "/api/things/3/"));
        Assert.Equal("/things/", m.MatchPath("/api/things/"));
    }

    [Theory]
    [InlineData("GET", "/users/login", "getUser")]                       // /users/login is POST only
    [InlineData("POST", "/users/login", "login")]
    [InlineData("GET", "/store/inventory", "getInventory")]
    [InlineData("GET", "/store/orders/3fa85f64-5717-4562-b3fc-2c963f66afa6", "getOrder")]
    [InlineData("GET", "/pets/17/photos/3fa85f64-5717-4562-b3fc-2c963f66afa6", "getPhoto")]
    [InlineData("GET", "/reports/daily/2015-02-13?format=full", "dailyReport")]
    [InlineData("GET", "/owners/jane-doe/pets", "listOwnerPets")]
    public void Petstore_plus(string method, string path, string operationId)
    {
        var m = new SpecPathMatcher(SpecLoader.Load(Path.Combine(SharedData.Shared, "spec-recon-dev", "petstore-plus.yaml")));
        Assert.Equal(operationId, Id(m, method, path));
        Assert.True(m.Match("GET", "/store/orders").MethodNotDocumented);
        Assert.Equal("/users/{username}", m.Match("POST", "/users/bob").PathTemplate);
        Assert.True(m.Match("POST", "/users/bob").MethodNotDocumented);
    }
}
