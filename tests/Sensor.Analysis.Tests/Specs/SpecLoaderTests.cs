using System.Text;
using Sensor.Analysis.Specs;

namespace Sensor.Analysis.Tests.Specs;

public class SpecLoaderTests
{
    internal static string Data(string name) => Path.Combine(AppContext.BaseDirectory, "Specs", "data", name);

    private static SpecOperation Op(ApiSpec spec, string operationId) =>
        spec.Operations.SingleOrDefault(o => o.OperationId == operationId) ?? throw new Xunit.Sdk.XunitException($"no operation {operationId}");

    private static ApiSpec Inline(string yaml) => SpecLoader.Parse(Encoding.UTF8.GetBytes(yaml), "inline.yaml");

    // ---- Swagger 2.0 ----

    [Fact]
    public void Swagger2_document_header_servers_and_operations()
    {
        var spec = SpecLoader.Load(Data("swagger2-petstore.yaml"));
        Assert.Equal("2.0", spec.OpenApiVersion);
        Assert.Equal("Swagger Petstore (fixture)", spec.Title);
        Assert.Equal("1.0.5", spec.Version);
        Assert.Equal(["/v1"], spec.BasePaths);
        Assert.Equal("https://petstore.example.com/v1", Assert.Single(spec.ServerUrls).TrimEnd('/'));
        Assert.Equal(
            ["GET /pets", "POST /pets", "GET /pets/{petId}", "PUT /pets/{petId}", "DELETE /pets/{petId}", "POST /pets/{petId}/uploadImage",
             "GET /users/me", "GET /users/{username}", "DELETE /users/{username}", "GET /store/inventory", "GET /store/order/{orderId}", "DELETE /store/order/{orderId}"],
            spec.Operations.Select(o => o.Key));
        Assert.Empty(spec.Warnings);
    }

    [Fact]
    public void Swagger2_parameters_bodies_and_responses()
    {
        var spec = SpecLoader.Load(Data("swagger2-petstore.yaml"));
        var find = Op(spec, "findPets");
        var limit = find.FindParameter("query", "limit")!;
        Assert.False(limit.Required);
        Assert.Equal(["integer"], limit.Schema!.Types);
        Assert.Equal(1m, limit.Schema.Minimum);
        Assert.Equal(100m, limit.Schema.Maximum);
        Assert.Equal(["string"], find.FindParameter("query", "tags")!.Schema!.Items!.Types);
        Assert.Equal(36, find.FindParameter("header", "x-request-id")!.Schema!.MaxLength);   // header names: case-insensitive

        var pets = find.Responses["200"].Content["application/json"]!;
        Assert.Equal(["array"], pets.Types);
        var pet = pets.Items!;
        Assert.Equal("Pet", pet.Name);
        Assert.Equal(["name"], pet.Required);
        Assert.Equal(40, pet.Properties["name"].MaxLength);
        Assert.Equal(["available", "pending", "sold"], pet.Properties["status"].Enum);
        Assert.True(pet.Properties["tag"].Nullable);                  // x-nullable
        Assert.Contains("null", pet.Properties["tag"].Types);
        Assert.Same(find.Responses["default"], find.FindResponse(500));
        Assert.Equal(["code"], find.Responses["default"].Content["application/json"]!.Required);

        var add = Op(spec, "addPet");
        Assert.True(add.RequestBody!.Required);
        Assert.Same(pet, add.RequestBody.Content["application/json"]);   // one instance per component
        Assert.Empty(add.Parameters);                                     // the body parameter became the request body

        var upload = Op(spec, "uploadImage");
        var form = upload.RequestBody!.Content["application/x-www-form-urlencoded"]!;
        Assert.Equal(50, form.Properties["additionalMetadata"].MaxLength);
        Assert.Contains("caption", form.Required);
        Assert.Equal(["petId"], upload.Parameters.Select(p => p.Name));

        var inventory = Op(spec, "getInventory").Responses["200"].Content["application/json"]!;
        Assert.Equal(["integer"], inventory.AdditionalProperties!.Types);
        Assert.True(inventory.AdditionalPropertiesAllowed);
    }

    [Fact]
    public void Swagger2_path_level_parameters_are_merged_and_overridden_by_name_and_location()
    {
        var spec = SpecLoader.Load(Data("swagger2-petstore.yaml"));
        var get = Op(spec, "getPetById");
        Assert.Equal(["path:petId", "header:X-Trace"], get.Parameters.Select(p => p.In + ":" + p.Name));
        Assert.Equal(["integer"], get.FindParameter("path", "petId")!.Schema!.Types);
        Assert.True(get.FindParameter("path", "petId")!.Required);

        var put = Op(spec, "updatePet");
        Assert.Equal(["path:petId", "header:X-Trace"], put.Parameters.Select(p => p.In + ":" + p.Name));
        var petId = put.FindParameter("path", "petId")!;
        Assert.Equal(["string"], petId.Schema!.Types);
        Assert.Equal(12, petId.Schema.MaxLength);
    }

    [Fact]
    public void Swagger2_security_document_level_opt_out_and_alternatives()
    {
        var spec = SpecLoader.Load(Data("swagger2-petstore.yaml"));
        Assert.Equal(new SpecSecurityScheme("basicAuth", "http", "basic", null, null), spec.SecuritySchemes["basicAuth"]);
        Assert.Equal(new SpecSecurityScheme("apiKey", "apiKey", null, "header", "X-API-Key"), spec.SecuritySchemes["apiKey"]);
        Assert.Equal("oauth2", spec.SecuritySchemes["petstore_auth"].Type);

        Assert.Equal([["apiKey"]], Op(spec, "getPetById").Security);      // inherited from the document
        Assert.Empty(Op(spec, "addPet").Security);                        // security: []
        Assert.Equal([["basicAuth"], ["petstore_auth"]], Op(spec, "deletePet").Security);
    }

    [Fact]
    public void Deprecated_operations_are_flagged()
    {
        var swagger = SpecLoader.Load(Data("swagger2-petstore.yaml"));
        Assert.Equal(["deletePet"], swagger.Operations.Where(o => o.Deprecated).Select(o => o.OperationId));
        var shop = SpecLoader.Load(Data("oas30-shop.json"));
        Assert.Equal(["deleteProduct"], shop.Operations.Where(o => o.Deprecated).Select(o => o.OperationId));
    }

    [Fact]
    public void X_deprecated_on_a_path_item_marks_all_its_operations()
    {
        var spec = Inline("""
            openapi: 3.0.3
            info: { title: t, version: "1" }
            paths:
              /old:
                x-deprecated: true
                get: { responses: { "200": { description: ok } } }
                put: { responses: { "200": { description: ok } } }
              /new:
                get: { responses: { "200": { description: ok } } }
            """);
        Assert.Equal(["GET /old", "PUT /old"], spec.Operations.Where(o => o.Deprecated).Select(o => o.Key));
    }

    // ---- OpenAPI 3.0 (JSON) ----

    [Fact]
    public void Oas30_servers_with_variables_give_base_paths()
    {
        var spec = SpecLoader.Load(Data("oas30-shop.json"));
        Assert.Equal("3.0.3", spec.OpenApiVersion);
        Assert.Equal(["https://prod.shop.example/api/v2/", "http://localhost:8080"], spec.ServerUrls);
        Assert.Equal(["/api/v2", ""], spec.BasePaths);
        Assert.Equal(8, spec.Operations.Count);
        Assert.Empty(spec.Warnings);
    }

    [Fact]
    public void Oas30_allOf_is_merged_into_properties_and_required()
    {
        var spec = SpecLoader.Load(Data("oas30-shop.json"));
        var product = Op(spec, "getProduct").Responses["200"].Content["application/json"]!;
        Assert.Equal(["category", "createdAt", "id", "name", "price"], product.Properties.Keys.Order(StringComparer.Ordinal));
        Assert.Equal(["id", "name", "price"], product.Required.Order(StringComparer.Ordinal));
        Assert.Equal(["object"], product.Types);
        Assert.False(product.AdditionalPropertiesAllowed);               // from Entity
        Assert.Equal(80, product.Properties["name"].MaxLength);
        Assert.Equal(0m, product.Properties["price"].ExclusiveMinimum);    // 3.0 boolean exclusiveMinimum
        Assert.Same(product, Op(spec, "createProduct").RequestBody!.Content["application/json"]);
    }

    [Fact]
    public void Oas30_recursive_schemas_share_instances_and_allOf_nullable_wrappers_keep_null()
    {
        var spec = SpecLoader.Load(Data("oas30-shop.json"));
        var category = Op(spec, "getCategory").Responses["200"].Content["application/json"]!;
        Assert.Equal("Category", category.Name);
        Assert.False(category.Nullable);
        Assert.Same(category, category.Properties["children"].Items);      // the cycle is the same instance

        var parent = category.Properties["parent"];                        // allOf: [$ref Category], nullable: true
        Assert.True(parent.Nullable);
        Assert.Equal(["null", "object"], parent.Types.Order(StringComparer.Ordinal));
        Assert.Equal(["children", "name", "parent"], parent.Properties.Keys.Order(StringComparer.Ordinal));
        Assert.Same(category, parent.Properties["children"].Items);
        Assert.Same(parent, parent.Properties["parent"]);

        var productCategory = Op(spec, "getProduct").Responses["200"].Content["application/json"]!.Properties["category"];
        Assert.True(productCategory.Nullable);
        Assert.Equal(["name"], productCategory.Required);
    }

    [Fact]
    public void Oas30_operation_parameters_override_path_level_ones_header_names_case_insensitively()
    {
        var spec = SpecLoader.Load(Data("oas30-shop.json"));
        var get = Op(spec, "getProduct");
        var header = Assert.Single(get.Parameters, p => p.In == "header");
        Assert.Equal("x-tenant", header.Name);
        Assert.True(header.Required);
        Assert.Equal(8, header.Schema!.MaxLength);
        Assert.Equal(["integer"], get.FindParameter("path", "productId")!.Schema!.Types);

        var delete = Op(spec, "deleteProduct");
        Assert.False(delete.FindParameter("header", "X-Tenant")!.Required);   // the path-level one

        var sort = Op(spec, "listProducts").FindParameter("query", "sort")!;
        Assert.True(sort.Required);
        Assert.Equal(["name", "price"], sort.Schema!.Enum);
    }

    [Fact]
    public void Oas30_responses_by_code_range_and_default_and_content_types()
    {
        var list = Op(SpecLoader.Load(Data("oas30-shop.json")), "listProducts");
        Assert.Equal(["200", "4XX", "default"], list.Responses.Keys.Order(StringComparer.Ordinal));
        Assert.Same(list.Responses["200"], list.FindResponse(200));
        Assert.Same(list.Responses["4XX"], list.FindResponse(404));
        Assert.Same(list.Responses["default"], list.FindResponse(503));
        var ok = list.Responses["200"];
        Assert.Null(ok.Content["text/csv"]);
        Assert.Equal("application/json", ok.MatchContentType("Application/JSON; charset=utf-8"));
        Assert.Null(ok.MatchContentType("application/xml"));
        Assert.Empty(list.Responses["default"].Content);
        Assert.Equal(["status", "title"], list.Responses["4XX"].Content["application/problem+json"]!.Properties.Keys.Order(StringComparer.Ordinal));

        var file = Op(SpecLoader.Load(Data("oas30-shop.json")), "getFile");
        Assert.Null(file.FindResponse(404));
    }

    [Fact]
    public void Oas30_oneOf_alternatives_are_kept()
    {
        var pay = Op(SpecLoader.Load(Data("oas30-shop.json")), "pay");
        Assert.False(pay.RequestBody!.Required);
        var payment = pay.RequestBody.Content["application/json"]!;
        Assert.Empty(payment.Properties);
        Assert.Equal(["Card", "Transfer"], payment.OneOf.Select(s => s.Name));
        Assert.Equal("^[0-9]{16}$", payment.OneOf[0].Properties["number"].Pattern);
        Assert.Equal(["transfer"], payment.OneOf[1].Properties["kind"].Enum);
    }

    [Fact]
    public void Oas30_security_alternatives_opt_out_and_schemes()
    {
        var spec = SpecLoader.Load(Data("oas30-shop.json"));
        Assert.Equal([["bearerAuth"], ["apiKeyQuery"]], Op(spec, "getProduct").Security);
        Assert.Empty(Op(spec, "deleteProduct").Security);
        Assert.Empty(Op(spec, "health").Security);
        Assert.Equal(new SpecSecurityScheme("bearerAuth", "http", "bearer", null, null), spec.SecuritySchemes["bearerAuth"]);
        Assert.Equal(new SpecSecurityScheme("apiKeyQuery", "apiKey", null, "query", "api_key"), spec.SecuritySchemes["apiKeyQuery"]);
        Assert.Equal("openIdConnect", spec.SecuritySchemes["oidc"].Type);
    }

    // ---- OpenAPI 3.1 (YAML) ----

    [Fact]
    public void Oas31_type_arrays_const_bounds_and_webhooks_ignored()
    {
        var spec = SpecLoader.Load(Data("nested/oas31-events.yaml"));
        Assert.Equal("3.1.0", spec.OpenApiVersion);
        Assert.Equal(["/v1"], spec.BasePaths);
        Assert.Equal(["listEvents", "getEvent"], spec.Operations.Select(o => o.OperationId));   // not the webhook

        var since = Op(spec, "listEvents").FindParameter("query", "since")!.Schema!;
        Assert.Equal(["null", "string"], since.Types.Order(StringComparer.Ordinal));
        Assert.True(since.Nullable);

        var evt = Op(spec, "getEvent").Responses["200"].Content["application/json"]!;
        Assert.True(evt.Properties["id"].Nullable);
        Assert.Equal(["created", "1", "true", "null"], evt.Properties["kind"].Enum);
        Assert.Empty(evt.Properties["kind"].Types);
        Assert.Equal(["3"], evt.Properties["level"].Enum);
        Assert.Equal(0m, evt.Properties["score"].ExclusiveMinimum);
        Assert.Equal(10m, evt.Properties["score"].ExclusiveMaximum);
        Assert.Empty(spec.Warnings);
    }

    [Fact]
    public void Oas31_ref_with_siblings()
    {
        var spec = SpecLoader.Load(Data("nested/oas31-events.yaml"));
        var evt = Op(spec, "getEvent").Responses["200"].Content["application/json"]!;
        // A description beside $ref changes nothing that is checked: still the shared component instance.
        Assert.Same(evt, Op(spec, "listEvents").Responses["200"].Content["application/json"]!.Items);
        Assert.Equal(["string"], evt.Properties["meta"].AdditionalProperties!.Types);

        // maxLength beside $ref overrides the target's, the rest comes from the target.
        var shortCode = evt.Properties["shortCode"];
        var code = evt.Properties["code"];
        Assert.Equal(4, shortCode.MaxLength);
        Assert.Equal("^[A-Z0-9]+$", shortCode.Pattern);
        Assert.Equal(["string"], shortCode.Types);
        Assert.Equal(8, code.MaxLength);
        Assert.NotSame(code, shortCode);
    }

    // ---- what goes wrong ----

    [Theory]
    [InlineData("not-openapi.yaml", "not an OpenAPI document")]
    [InlineData("broken.json", "invalid JSON")]
    public void A_file_that_is_not_a_readable_OpenAPI_document_throws_with_its_name_and_the_reason(string file, string reason)
    {
        var e = Assert.Throws<SpecFormatException>(() => SpecLoader.Load(Data(file)));
        Assert.Contains(file, e.Message);
        Assert.Contains(reason, e.Reason);
        Assert.Equal(Data(file), e.SourcePath);
    }

    [Theory]
    [InlineData("openapi: 4.0.0\ninfo: {title: t, version: '1'}\npaths: {}\n", "unsupported OpenAPI version 4.0.0")]
    [InlineData("openapi: 3.0.0\ninfo: {title: t\npaths: [\n", "invalid YAML")]
    [InlineData("- just\n- a list\n", "not an OpenAPI document")]
    [InlineData("   \n", "empty")]
    public void Unreadable_inline_documents_throw(string text, string reason)
    {
        var e = Assert.Throws<SpecFormatException>(() => Inline(text));
        Assert.Contains(reason, e.Reason);
        Assert.StartsWith("inline.yaml: ", e.Message);
    }

    [Fact]
    public void Directory_load_recurses_and_reports_files_that_are_not_specs()
    {
        var (files, unread) = SpecLoader.ReadFiles(Path.Combine(AppContext.BaseDirectory, "Specs", "data"));
        Assert.Empty(unread);
        var (specs, failures) = SpecLoader.ParseAll(files);
        Assert.Equal(["Events (fixture)", "Shop (fixture)", "Swagger Petstore (fixture)"], specs.Select(s => s.Spec.Title));
        Assert.Equal(["broken.json", "not-openapi.yaml"], failures.Select(f => Path.GetFileName(f.Path)));
        Assert.All(failures, f => Assert.False(string.IsNullOrWhiteSpace(f.Reason)));
    }

    [Fact]
    public void Reader_diagnostics_become_warnings_and_the_rest_still_loads()
    {
        var spec = Inline("""
            openapi: 3.0.3
            paths:
              /a:
                get:
                  parameters:
                    - { name: q, in: nowhere, schema: { type: string } }
                    - { name: ok, in: query, schema: { type: string } }
                  responses: { "200": { description: ok } }
            """);
        Assert.Equal("inline.yaml", spec.Title);                          // no info.title
        Assert.Contains(spec.Warnings, w => w.StartsWith("error: ") && w.Contains("'title'"));
        Assert.Contains(spec.Warnings, w => w.Contains("nowhere"));
        Assert.Equal(["ok"], Assert.Single(spec.Operations).Parameters.Select(p => p.Name));
    }

    [Fact]
    public void Unresolved_refs_become_warnings_and_unconstrained_schemas()
    {
        var spec = Inline("""
            openapi: 3.0.3
            info: { title: t, version: "1" }
            paths:
              /a:
                get:
                  responses:
                    "200":
                      description: ok
                      content:
                        application/json:
                          schema:
                            type: object
                            properties:
                              ghost: { $ref: '#/components/schemas/Missing' }
                              real: { type: string }
                              remote: { $ref: 'https://schemas.example.invalid/pet.yaml#/Pet' }
                              local: { $ref: 'pet.yaml#/Pet' }
            components: { schemas: {} }
            """);
        var body = spec.Operations[0].Responses["200"].Content["application/json"]!;
        Assert.True(body.Properties["ghost"].IsUnconstrained);   // still a documented property
        Assert.False(body.Properties["real"].IsUnconstrained);
        Assert.Contains(spec.Warnings, w => w.Contains("Missing"));
        // External references are not fetched or read.
        Assert.True(body.Properties["remote"].IsUnconstrained);
        Assert.True(body.Properties["local"].IsUnconstrained);
        Assert.Contains(spec.Warnings, w => w.Contains("pet.yaml"));
    }

    [Fact]
    public void Cycles_through_allOf_terminate_and_merge_both_ways()
    {
        var spec = Inline("""
            openapi: 3.0.3
            info: { title: t, version: "1" }
            paths:
              /a:
                get:
                  responses:
                    "200": { description: ok, content: { application/json: { schema: { $ref: '#/components/schemas/A' } } } }
              /b:
                get:
                  responses:
                    "200": { description: ok, content: { application/json: { schema: { $ref: '#/components/schemas/B' } } } }
            components:
              schemas:
                A: { allOf: [ { $ref: '#/components/schemas/B' } ], type: object, required: [a], properties: { a: { type: string } } }
                B: { allOf: [ { $ref: '#/components/schemas/A' } ], type: object, required: [b], properties: { b: { type: integer }, next: { $ref: '#/components/schemas/A' } } }
            """);
        var a = spec.Operations[0].Responses["200"].Content["application/json"]!;
        var b = spec.Operations[1].Responses["200"].Content["application/json"]!;
        Assert.Equal(["a", "b", "next"], a.Properties.Keys.Order(StringComparer.Ordinal));
        Assert.Equal(["a", "b"], a.Required.Order(StringComparer.Ordinal));
        Assert.Equal(["a", "b", "next"], b.Properties.Keys.Order(StringComparer.Ordinal));
        Assert.Same(a, b.Properties["next"]);
    }

    [Fact]
    public void A_conflicting_property_in_allOf_is_merged_into_a_copy_leaving_the_component_alone()
    {
        var spec = Inline("""
            openapi: 3.0.3
            info: { title: t, version: "1" }
            paths:
              /a:
                get:
                  responses:
                    "200": { description: ok, content: { application/json: { schema: { $ref: '#/components/schemas/Tight' } } } }
              /b:
                get:
                  responses:
                    "200": { description: ok, content: { application/json: { schema: { $ref: '#/components/schemas/Base' } } } }
            components:
              schemas:
                Base: { type: object, properties: { name: { type: string } } }
                Tight:
                  allOf:
                    - $ref: '#/components/schemas/Base'
                    - { type: object, properties: { name: { maxLength: 5 } } }
            """);
        var tight = spec.Operations[0].Responses["200"].Content["application/json"]!;
        var baseSchema = spec.Operations[1].Responses["200"].Content["application/json"]!;
        Assert.Equal(5, tight.Properties["name"].MaxLength);
        Assert.Equal(["string"], tight.Properties["name"].Types);
        Assert.Null(baseSchema.Properties["name"].MaxLength);
    }

    [Fact]
    public void Untyped_nullable_in_30_allows_anything_including_null()
    {
        var spec = Inline("""
            openapi: 3.0.3
            info: { title: t, version: "1" }
            paths:
              /a:
                get:
                  parameters: [ { name: q, in: query, schema: { nullable: true } } ]
                  responses: { "200": { description: ok } }
            """);
        var q = spec.Operations[0].Parameters[0].Schema!;
        Assert.True(q.Nullable);
        Assert.Empty(q.Types);
        Assert.Empty(spec.Operations[0].Security);
        Assert.Equal([""], spec.BasePaths);
        Assert.Empty(spec.ServerUrls);
    }
}
