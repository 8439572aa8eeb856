using System.Text;
using Sensor.Analysis.Findings;
using Sensor.Analysis.Inventory;
using Sensor.Analysis.Specs;
using Sensor.Core;
using Sensor.Http;

namespace Sensor.Analysis.Tests.Specs;

/// <summary>
/// The spec comparison rules, each with a true positive and a near miss. Endpoints are built the way a replay
/// builds them: raw HTTP heads and bodies parsed into transactions, fed through the inventory analyzer, templated
/// by <see cref="EndpointBuilder"/>; specs are small inline YAML documents.
/// </summary>
public class SpecComparerTests
{
    private const string Api = "api.example.com";

    // ---- traffic ----

    /// <summary>Synthetic traffic through the inventory analyzer. Every request carries a User-Agent and an Accept, as clients do.</summary>
    private sealed class Traffic
    {
        private readonly InventoryAnalyzerFactory _factory = new();
        private readonly IHttpAnalyzer _analyzer;
        private readonly string[] _defaults;
        private long _ts = Timestamp.FromUnix(1_700_000_000, 0, 1);
        private ushort _port = 40000;

        /// <param name="defaults">Headers sent on every request besides Host, User-Agent and Accept.</param>
        public Traffic(params string[] defaults)
        {
            _analyzer = _factory.Create(0);
            _defaults = defaults;
        }

        /// <param name="target">Request target: path and query.</param>
        /// <param name="body">Request body (JSON unless <paramref name="requestType"/> says otherwise).</param>
        /// <param name="response">Response body (JSON unless <paramref name="responseType"/> says otherwise).</param>
        public Traffic Call(string method, string target, int status, string? body = null, string? response = null, string host = Api,
            string[]? headers = null, string requestType = "application/json", string responseType = "application/json")
        {
            var reqHeaders = new List<string> { $"Host: {host}", "User-Agent: test-client/1.0", "Accept: application/json" };
            reqHeaders.AddRange(_defaults);
            reqHeaders.AddRange(headers ?? []);
            var request = Raw($"{method} {target} HTTP/1.1", reqHeaders, body, requestType);
            var resp = Raw($"HTTP/1.1 {status} X", ["Server: test"], response, responseType);

            var c = IpAddr.Parse("10.0.0.1");
            var s = IpAddr.Parse("10.0.0.2");
            var (reqHead, reqBody) = Parse(request, true);
            var (respHead, respBody) = Parse(resp, false);
            ushort port = _port++;
            var t = new HttpTransaction
            {
                Flow = FlowKey.Create(c, port, s, 80, out _),
                ClientIp = c, ClientPort = port, ServerIp = s, ServerPort = 80,
                Request = reqHead, Response = respHead,
                TsRequest = _ts, TsResponse = _ts + 1000,
                RequestBody = reqBody, ResponseBody = respBody,
                RequestComplete = true, ResponseComplete = true, ResponseDone = true,
            };
            _ts += Timestamp.TicksPerSecond;
            _analyzer.OnTransaction(t);
            return this;
        }

        /// <summary>The endpoints of every service, as the inventory builds them.</summary>
        public List<Endpoint> Endpoints()
        {
            _analyzer.Complete();
            var shapes = _factory.Shapes().ToLookup(s => s.Service);
            return _factory.Observations().GroupBy(o => o.Service).OrderBy(g => g.Key, StringComparer.Ordinal)
                .SelectMany(g => EndpointBuilder.Build(g.Key, g, shapes[g.Key])).ToList();
        }

        private static byte[] Raw(string startLine, IEnumerable<string> headers, string? body, string contentType)
        {
            var sb = new StringBuilder(startLine).Append("\r\n");
            foreach (var h in headers) sb.Append(h).Append("\r\n");
            if (body != null)
                sb.Append("Content-Type: ").Append(contentType).Append("\r\n").Append("Content-Length: ").Append(Encoding.UTF8.GetByteCount(body)).Append("\r\n");
            else if (startLine.StartsWith("HTTP/", StringComparison.Ordinal))
                sb.Append("Content-Length: 0\r\n");   // a response without a body
            sb.Append("\r\n").Append(body);
            return Encoding.UTF8.GetBytes(sb.ToString());
        }

        private static (HttpHead Head, HttpBody Body) Parse(byte[] raw, bool request)
        {
            Assert.Equal(HttpHeadParser.Result.Ok, HttpHeadParser.TryParse(raw, request, 65536, out var head, out long consumed));
            var content = raw[(int)consumed..];
            var body = content.Length == 0 ? HttpBody.Empty : new HttpBody { Length = content.Length, WireLength = content.Length, Captured = content, CapturedLength = content.Length };
            return (head!, body);
        }
    }

    // ---- specs ----

    private static ApiSpec Spec(string yaml, string name = "api.yaml") => SpecLoader.Parse(Encoding.UTF8.GetBytes(yaml), name);

    /// <summary>A small pets API at https://api.example.com/v1.</summary>
    private const string PetsYaml = """
        openapi: 3.0.3
        info: { title: Pets, version: "1" }
        servers: [ { url: "https://api.example.com/v1" } ]
        paths:
          /pets:
            get:
              parameters:
                - { name: limit, in: query, schema: { type: integer } }
                - { name: status, in: query, schema: { type: string, enum: [available, sold] } }
                - { name: q, in: query, schema: { type: string, maxLength: 8 } }
                - { name: X-Request-ID, in: header, schema: { type: string } }
              responses:
                '200':
                  description: ok
                  content: { application/json: { schema: { type: array, items: { $ref: '#/components/schemas/Pet' } } } }
                '4XX': { description: client error }
            post:
              requestBody:
                required: true
                content: { application/json: { schema: { $ref: '#/components/schemas/NewPet' } } }
              responses:
                '201': { description: created, content: { application/json: { schema: { $ref: '#/components/schemas/Pet' } } } }
                '400': { description: bad request }
          /pets/{petId}:
            parameters: [ { name: petId, in: path, required: true, schema: { type: integer } } ]
            get:
              responses:
                '200': { description: ok, content: { application/json: { schema: { $ref: '#/components/schemas/Pet' } } } }
                default: { description: error }
            delete:
              deprecated: true
              responses:
                '204': { description: deleted }
                '404': { description: not found }
          /stores:
            get:
              responses:
                '200': { description: ok, content: { application/json: { schema: { type: object } } } }
        components:
          schemas:
            Pet:
              type: object
              properties:
                id: { type: integer }
                name: { type: string }
            NewPet:
              type: object
              required: [name]
              properties:
                name: { type: string, maxLength: 10 }
                tag: { type: string }
        """;

    private static List<Finding> Compare(string yaml, Traffic traffic) => SpecComparer.Compare([Spec(yaml)], traffic.Endpoints());

    private static List<Finding> Rule(IEnumerable<Finding> findings, string rule) => findings.Where(f => f.RuleId == rule).ToList();

    private static string Describe(IEnumerable<Finding> findings) =>
        string.Join("\n", findings.Select(f => $"{f.RuleId} {f.Service} {f.Method} {f.PathTemplate} {f.Location} [{f.Severity}] {f.Detail}"));

    /// <summary>The findings of one rule as "METHOD template location" keys, sorted.</summary>
    private static List<string> Keys(IEnumerable<Finding> findings, string rule) =>
        Rule(findings, rule).Select(f => $"{f.Method} {f.PathTemplate}" + (f.Location == null ? "" : " " + f.Location)).Order(StringComparer.Ordinal).ToList();

    /// <summary>Calls every documented operation of <see cref="PetsYaml"/> once, conformingly, so only what a test adds stands out.</summary>
    private static Traffic Conforming(Traffic? traffic = null) => (traffic ?? new Traffic())
        .Call("GET", "/v1/pets?limit=10", 200, response: """[{"id":1,"name":"Rex"}]""")
        .Call("POST", "/v1/pets", 201, body: """{"name":"Rex"}""", response: """{"id":1,"name":"Rex"}""")
        .Call("GET", "/v1/pets/1", 200, response: """{"id":1,"name":"Rex"}""")
        .Call("GET", "/v1/stores", 200, response: """{"open":true}""");

    [Fact]
    public void Conforming_traffic_raises_nothing_but_the_orphan_it_left_out()
    {
        var findings = Compare(PetsYaml, Conforming());
        // The deprecated DELETE was never called: that orphan is the only finding.
        Assert.True(findings.Count == 1, Describe(findings));
        var orphan = Assert.Single(Rule(findings, "orphan-endpoint"));
        Assert.Equal(("DELETE", "/pets/{petId}", Api), (orphan.Method, orphan.PathTemplate, orphan.Service));
        Assert.Contains("(deprecated)", orphan.Detail);
    }

    // ---- shadow ----

    [Fact]
    public void An_undocumented_path_is_a_shadow_endpoint()
    {
        var t = Conforming().Call("GET", "/v1/admin/users", 200, response: """{"users":[]}""");
        var findings = Compare(PetsYaml, t);
        var shadow = Assert.Single(Rule(findings, "shadow-endpoint"));
        Assert.Equal(("GET", "/v1/admin/users", "shadow", Api), (shadow.Method, shadow.PathTemplate, shadow.Category, shadow.Service));
        Assert.Contains("is in no spec", shadow.Detail);
        Assert.Equal(1, shadow.Count);
        Assert.Equal("spec:api.yaml", shadow.Source);
        Assert.Equal("API9:2023", shadow.Owasp);
        Assert.NotNull(shadow.FirstSeen);
        // Answered 2xx without any credential: high.
        Assert.Equal(Severity.High, shadow.Severity);
    }

    [Fact]
    public void A_shadow_endpoint_that_needs_credentials_is_medium()
    {
        var t = Conforming().Call("GET", "/v1/admin/users", 200, response: "{}", headers: ["Authorization: Bearer abc.def"]);
        var shadow = Assert.Single(Rule(Compare(PetsYaml, t), "shadow-endpoint"));
        Assert.Equal(Severity.Medium, shadow.Severity);
    }

    [Fact]
    public void A_documented_path_with_an_undocumented_method_is_a_shadow_endpoint()
    {
        var t = Conforming().Call("PATCH", "/v1/pets/3", 200, body: """{"name":"Max"}""", response: """{"id":3}""");
        var findings = Compare(PetsYaml, t);
        var shadow = Assert.Single(Rule(findings, "shadow-endpoint"));
        Assert.Equal(("PATCH", "/v1/pets/{petId}"), (shadow.Method, shadow.PathTemplate));
        Assert.Equal("PATCH is not documented for /pets/{petId} (called 1 times)", shadow.Detail);
        // The documented GET of the same template stays documented, and nothing else is judged for the shadow.
        Assert.DoesNotContain(findings, f => f.Method == "PATCH" && f.RuleId != "shadow-endpoint");
    }

    [Fact]
    public void Documented_operations_are_not_shadows()
    {
        var findings = Compare(PetsYaml, Conforming().Call("GET", "/v1/pets/2", 200, response: """{"id":2}"""));
        Assert.Empty(Rule(findings, "shadow-endpoint"));
    }

    // ---- zombie ----

    [Fact]
    public void A_deprecated_operation_that_is_called_is_a_zombie_and_not_an_orphan()
    {
        var t = Conforming().Call("DELETE", "/v1/pets/5", 204).Call("DELETE", "/v1/pets/6", 204);
        var findings = Compare(PetsYaml, t);
        var zombie = Assert.Single(Rule(findings, "zombie-endpoint"));
        Assert.Equal(("DELETE", "/v1/pets/{petId}", "zombie", 2L), (zombie.Method, zombie.PathTemplate, zombie.Category, zombie.Count));
        Assert.Equal(Severity.High, zombie.Severity);   // still answered 2xx
        Assert.Contains("DELETE /pets/{petId} is deprecated in api.yaml", zombie.Detail);
        Assert.Empty(Rule(findings, "orphan-endpoint"));
        Assert.Empty(Rule(findings, "shadow-endpoint"));
    }

    [Fact]
    public void A_deprecated_operation_that_only_refuses_is_a_medium_zombie_and_others_are_not_zombies()
    {
        var t = Conforming().Call("DELETE", "/v1/pets/5", 404);
        var findings = Compare(PetsYaml, t);
        var zombie = Assert.Single(Rule(findings, "zombie-endpoint"));
        Assert.Equal(Severity.Medium, zombie.Severity);
        // GET /v1/pets/{petId} shares the path but is not deprecated.
        Assert.DoesNotContain(findings, f => f.RuleId == "zombie-endpoint" && f.Method == "GET");
    }

    [Fact]
    public void X_deprecated_on_a_path_item_makes_its_operations_zombies()
    {
        const string yaml = """
            openapi: 3.0.3
            info: { title: Legacy, version: "1" }
            paths:
              /old/report:
                x-deprecated: true
                get: { responses: { '200': { description: ok } } }
              /new/report:
                get: { responses: { '200': { description: ok } } }
            """;
        var t = new Traffic().Call("GET", "/old/report", 200).Call("GET", "/new/report", 200);
        var findings = Compare(yaml, t);
        Assert.Equal(["GET /old/report"], Keys(findings, "zombie-endpoint"));
    }

    // ---- orphan ----

    [Fact]
    public void A_documented_operation_never_seen_is_an_orphan()
    {
        var t = new Traffic()
            .Call("GET", "/v1/pets", 200, response: "[]")
            .Call("GET", "/v1/pets/1", 200, response: """{"id":1}""");
        var findings = Compare(PetsYaml, t);
        Assert.Equal(["DELETE /pets/{petId}", "GET /stores", "POST /pets"], Keys(findings, "orphan-endpoint"));
        var orphan = Rule(findings, "orphan-endpoint").Single(f => f.PathTemplate == "/stores");
        Assert.Equal((Api, Severity.Info, 0L, "orphan"), (orphan.Service, orphan.Severity, orphan.Count, orphan.Category));
        Assert.Null(orphan.FirstSeen);
        Assert.Null(orphan.LastSeen);
        Assert.Equal("GET /stores is documented in api.yaml and was never seen in traffic", orphan.Detail);
    }

    [Fact]
    public void A_spec_that_matches_no_service_is_all_orphans_under_its_server_authority()
    {
        const string billing = """
            openapi: 3.0.3
            info: { title: Billing, version: "1" }
            servers: [ { url: "https://billing.example.com:8443/api" } ]
            paths:
              /invoices: { get: { responses: { '200': { description: ok } } } }
              /invoices/{id}: { get: { parameters: [ { name: id, in: path, required: true, schema: { type: string } } ], responses: { '200': { description: ok } } } }
            """;
        var findings = Compare(billing, Conforming());
        Assert.True(findings.All(f => f.RuleId == "orphan-endpoint"), Describe(findings));
        Assert.Equal(["GET /invoices", "GET /invoices/{id}"], Keys(findings, "orphan-endpoint"));
        Assert.All(findings, f => Assert.Equal("billing.example.com:8443", f.Service));
        // The traffic of api.example.com is no business of this spec: no shadows there.
        Assert.DoesNotContain(findings, f => f.Service == Api);
    }

    [Fact]
    public void Two_specs_documenting_the_same_operation_do_not_make_it_an_orphan()
    {
        // A shared "common" document beside the main one (both describe GET /health): the call is seen by both.
        const string main = """
            openapi: 3.0.3
            info: { title: Main, version: "1" }
            paths:
              /health: { get: { responses: { '200': { description: ok } } } }
              /things: { get: { responses: { '200': { description: ok } } } }
            """;
        const string common = """
            openapi: 3.0.3
            info: { title: Common, version: "1" }
            paths:
              /health: { get: { responses: { '200': { description: ok } } } }
              /metrics: { get: { responses: { '200': { description: ok } } } }
            """;
        var t = new Traffic().Call("GET", "/health", 200).Call("GET", "/things", 200).Call("GET", "/metrics", 200);
        var findings = SpecComparer.Compare([Spec(main, "main.yaml"), Spec(common, "common.yaml")], t.Endpoints());
        Assert.True(findings.Count == 0, Describe(findings));
    }

    // ---- parameters ----

    [Fact]
    public void An_undocumented_query_parameter_is_reported_and_documented_ones_are_not()
    {
        var t = Conforming()
            .Call("GET", "/v1/pets?limit=5&status=sold&debug=1", 200, response: "[]")
            .Call("GET", "/v1/pets?limit=5&email=a%40b.example", 200, response: "[]");
        var findings = Compare(PetsYaml, t);
        Assert.Equal(["GET /v1/pets query:debug", "GET /v1/pets query:email"], Keys(findings, "undocumented-parameter"));
        var debug = Rule(findings, "undocumented-parameter").Single(f => f.Location == "query:debug");
        Assert.Equal((Severity.Low, 1L, "conformance"), (debug.Severity, debug.Count, debug.Category));
        Assert.Equal("query parameter 'debug' is sent but not documented for GET /pets (in 1 requests)", debug.Detail);
        // A name that may carry personal data weighs more.
        Assert.Equal(Severity.Medium, Rule(findings, "undocumented-parameter").Single(f => f.Location == "query:email").Severity);
    }

    [Fact]
    public void An_undocumented_header_is_reported_but_standard_and_credential_headers_are_not()
    {
        // Standard headers every client sends everywhere, and credentials (which are security schemes, not parameters).
        var t = Conforming(new Traffic("Accept-Encoding: gzip", "Accept-Language: en", "Cache-Control: no-cache",
                "Traceparent: 00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", "Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2ln"))
            .Call("GET", "/v1/pets", 200, response: "[]", headers: ["X-Debug-Mode: on", "x-request-id: 7f3c", "X-API-Key: k-123", "Cookie: sessionid=abc"])
            .Call("GET", "/v1/pets?api_key=secret", 200, response: "[]");
        var findings = Compare(PetsYaml, t);
        Assert.Equal(["GET /v1/pets header:x-debug-mode"], Keys(findings, "undocumented-parameter"));
        Assert.DoesNotContain(findings, f => f.RuleId == "request-schema-violation");
    }

    // ---- statuses ----

    [Fact]
    public void An_undocumented_status_is_reported_unless_a_range_or_default_covers_it()
    {
        var t = Conforming()
            .Call("GET", "/v1/pets?limit=1", 404)            // 4XX documented
            .Call("GET", "/v1/pets?limit=2", 503)            // not documented: 5xx is medium
            .Call("GET", "/v1/pets/9", 500)                  // default documented
            .Call("GET", "/v1/stores", 404);                 // only 200 documented
        var findings = Compare(PetsYaml, t);
        Assert.Equal(["GET /v1/pets status:503", "GET /v1/stores status:404"], Keys(findings, "undocumented-status"));
        var s503 = Rule(findings, "undocumented-status").Single(f => f.Location == "status:503");
        Assert.Equal((Severity.Medium, 1L), (s503.Severity, s503.Count));
        Assert.Equal("GET /pets answered 503 1 times; the spec does not document it", s503.Detail);
        Assert.Equal(Severity.Low, Rule(findings, "undocumented-status").Single(f => f.Location == "status:404").Severity);
    }

    // ---- content types ----

    [Fact]
    public void An_undocumented_response_content_type_is_reported_and_charset_parameters_do_not_matter()
    {
        var t = Conforming()
            .Call("GET", "/v1/pets/2", 200, response: """{"id":2}""", responseType: "application/json; charset=utf-8")
            .Call("GET", "/v1/pets/3", 200, response: "<html>pet</html>", responseType: "text/html")
            .Call("DELETE", "/v1/pets/3", 404, response: """{"error":"no such pet"}""");             // 404 documents no body
        var findings = Compare(PetsYaml, t);
        Assert.Equal(["DELETE /v1/pets/{petId} response:404:application/json", "GET /v1/pets/{petId} response:200:text/html"],
            Keys(findings, "undocumented-content-type"));
        Assert.Contains("the spec documents application/json", Rule(findings, "undocumented-content-type").Single(f => f.Method == "GET").Detail);
        Assert.Contains("the spec documents no body", Rule(findings, "undocumented-content-type").Single(f => f.Method == "DELETE").Detail);
    }

    // ---- response properties ----

    private const string OrdersYaml = """
        openapi: 3.1.0
        info: { title: Orders, version: "1" }
        paths:
          /orders:
            get:
              responses:
                '200':
                  description: ok
                  content:
                    application/json:
                      schema:
                        type: object
                        properties:
                          items:
                            type: array
                            items: { type: object, properties: { id: { type: integer } } }
                          owner:
                            type: object
                            properties: { name: { type: string } }
                          meta: { type: object }
                          labels: { type: object, properties: { colour: { type: string } }, additionalProperties: { type: string } }
                          extra: {}
          /orders/{id}:
            get:
              parameters: [ { name: id, in: path, required: true, schema: { type: integer } } ]
              responses:
                '200':
                  description: ok
                  content:
                    application/json:
                      schema:
                        oneOf:
                          - { type: object, properties: { kind: { const: card }, last4: { type: string } } }
                          - { type: object, properties: { kind: { const: bank }, iban: { type: string } } }
          /refunds/{id}:
            get:
              parameters: [ { name: id, in: path, required: true, schema: { type: integer } } ]
              responses:
                '200':
                  description: ok
                  content:
                    application/json:
                      schema:
                        allOf:
                          - { $ref: '#/components/schemas/Base' }
                          - { type: object, properties: { amount: { type: number } } }
        components:
          schemas:
            Base: { type: object, properties: { id: { type: integer }, created: { type: string } } }
        """;

    [Fact]
    public void Undocumented_response_properties_are_found_nested_and_inside_arrays()
    {
        var t = new Traffic()
            .Call("GET", "/orders", 200, response: """{"items":[{"id":1,"x":2}],"owner":{"name":"Ann","email":"ann@example.com"}}""")
            .Call("GET", "/orders/1", 200, response: """{"kind":"card","last4":"4242"}""")
            .Call("GET", "/refunds/1", 200, response: """{"id":1,"amount":2.5}""");
        var findings = Compare(OrdersYaml, t);
        Assert.Equal(["GET /orders response:200:application/json:$.items[].x", "GET /orders response:200:application/json:$.owner.email"],
            Keys(findings, "undocumented-response-property"));
        var email = Rule(findings, "undocumented-response-property").Single(f => f.Location!.EndsWith("$.owner.email"));
        Assert.Equal(Severity.Medium, email.Severity);   // a name that may carry personal data
        Assert.Equal("200 application/json responses contain $.owner.email, which the spec does not document", email.Detail);
        Assert.Equal(Severity.Low, Rule(findings, "undocumented-response-property").Single(f => f.Location!.EndsWith("$.items[].x")).Severity);
    }

    [Fact]
    public void Free_form_objects_maps_and_unconstrained_schemas_document_whatever_they_hold()
    {
        var t = new Traffic()
            .Call("GET", "/orders", 200,
                response: """{"items":[{"id":1}],"owner":{"name":"Ann"},"meta":{"page":1,"next":"abc"},"labels":{"colour":"red","size":"L"},"extra":{"a":{"b":1}}}""")
            .Call("GET", "/orders/1", 200, response: """{"kind":"card","last4":"4242"}""")
            .Call("GET", "/refunds/1", 200, response: """{"id":1,"amount":2.5}""");
        var findings = Compare(OrdersYaml, t);
        Assert.True(findings.Count == 0, Describe(findings));
    }

    [Fact]
    public void Properties_of_oneOf_and_allOf_parts_are_documented_and_others_are_not()
    {
        var t = new Traffic()
            .Call("GET", "/orders/1", 200, response: """{"kind":"card","last4":"4242"}""")
            .Call("GET", "/orders/2", 200, response: """{"kind":"bank","iban":"NL00BANK0123456789"}""")
            .Call("GET", "/orders/3", 200, response: """{"kind":"card","last4":"4242","note":"in no alternative"}""")
            .Call("GET", "/refunds/1", 200, response: """{"id":1,"created":"2024-01-01","amount":2.5}""")
            .Call("GET", "/refunds/2", 200, response: """{"id":2,"amount":1,"reason":"damaged"}""")
            .Call("GET", "/orders", 200, response: """{"items":[]}""");
        var findings = Compare(OrdersYaml, t);
        Assert.Empty(Rule(findings, "orphan-endpoint"));   // the spec was applied
        Assert.Equal(["GET /orders/{orderId} response:200:application/json:$.note", "GET /refunds/{refundId} response:200:application/json:$.reason"],
            Keys(findings, "undocumented-response-property"));
    }

    // ---- requests that break the documented schema ----

    [Fact]
    public void A_query_value_of_the_wrong_type_breaks_the_schema_and_a_right_one_does_not()
    {
        var ok = Compare(PetsYaml, Conforming().Call("GET", "/v1/pets?limit=10", 200, response: "[]"));
        Assert.Empty(Rule(ok, "request-schema-violation"));

        var bad = Compare(PetsYaml, Conforming().Call("GET", "/v1/pets?limit=abc", 200, response: "[]"));
        var v = Assert.Single(Rule(bad, "request-schema-violation"));
        Assert.Equal(("GET", "/v1/pets", "query:limit", "API8:2023", "CWE-20"), (v.Method, v.PathTemplate, v.Location, v.Owasp, v.Cwe));
        Assert.Equal("query parameter 'limit': expected integer, 1 of 2 values were not", v.Detail);
    }

    [Fact]
    public void A_query_value_outside_the_enum_breaks_the_schema_and_one_inside_does_not()
    {
        var ok = Compare(PetsYaml, Conforming().Call("GET", "/v1/pets?status=sold", 200, response: "[]").Call("GET", "/v1/pets?status=available", 200, response: "[]"));
        Assert.Empty(Rule(ok, "request-schema-violation"));

        var bad = Compare(PetsYaml, Conforming().Call("GET", "/v1/pets?status=sold", 200, response: "[]").Call("GET", "/v1/pets?status=lost", 200, response: "[]"));
        var v = Assert.Single(Rule(bad, "request-schema-violation"));
        Assert.Equal("query:status", v.Location);
        Assert.Contains("1 values outside the documented enum", v.Detail);
    }

    [Fact]
    public void A_query_value_longer_than_maxLength_breaks_the_schema()
    {
        var ok = Compare(PetsYaml, Conforming().Call("GET", "/v1/pets?q=short", 200, response: "[]"));
        Assert.Empty(Rule(ok, "request-schema-violation"));

        var bad = Compare(PetsYaml, Conforming().Call("GET", "/v1/pets?q=far-too-long-a-query", 200, response: "[]"));
        var v = Assert.Single(Rule(bad, "request-schema-violation"));
        Assert.Equal(("query:q", "query parameter 'q': values up to 20 characters, maxLength 8"), (v.Location, v.Detail));
    }

    private const string SearchYaml = """
        openapi: 3.0.3
        info: { title: Search, version: "1" }
        paths:
          /search:
            get:
              parameters:
                - { name: q, in: query, required: true, schema: { type: string, minLength: 1 } }
                - { name: X-Tenant, in: header, required: true, schema: { type: string } }
              responses: { '200': { description: ok }, '400': { description: bad } }
        """;

    [Fact]
    public void A_missing_required_query_or_header_parameter_breaks_the_schema()
    {
        var ok = Compare(SearchYaml, new Traffic().Call("GET", "/search?q=cats", 200, headers: ["X-Tenant: t1"]).Call("GET", "/search?q=dogs", 200, headers: ["X-Tenant: t1"]));
        Assert.True(ok.Count == 0, Describe(ok));

        var bad = Compare(SearchYaml, new Traffic().Call("GET", "/search?q=cats", 200, headers: ["X-Tenant: t1"]).Call("GET", "/search", 400));
        Assert.Equal(["GET /search header:X-Tenant", "GET /search query:q"], Keys(bad, "request-schema-violation"));
        var q = Rule(bad, "request-schema-violation").Single(f => f.Location == "query:q");
        Assert.Equal(("required query parameter 'q' was missing in 1 of 2 requests", 1L), (q.Detail, q.Count));
    }

    [Fact]
    public void A_parameter_both_missing_and_too_short_is_one_finding()
    {
        var bad = Compare(SearchYaml, new Traffic()
            .Call("GET", "/search?q=cats", 200, headers: ["X-Tenant: t1"])
            .Call("GET", "/search?q=", 200, headers: ["X-Tenant: t1"])
            .Call("GET", "/search", 200, headers: ["X-Tenant: t1"]));
        var v = Assert.Single(Rule(bad, "request-schema-violation"));
        Assert.Equal("query:q", v.Location);
        Assert.Equal("query parameter 'q': values as short as 0 characters, minLength 1; required query parameter 'q' was missing in 1 of 3 requests", v.Detail);
        Assert.Equal(2, v.Count);
    }

    [Fact]
    public void An_empty_query_value_is_shorter_than_minLength()
    {
        var bad = Compare(SearchYaml, new Traffic().Call("GET", "/search?q=cats", 200, headers: ["X-Tenant: t1"]).Call("GET", "/search?q=", 200, headers: ["X-Tenant: t1"]));
        var v = Assert.Single(Rule(bad, "request-schema-violation"));
        Assert.Equal("query:q", v.Location);
        Assert.Contains("minLength 1", v.Detail);
    }

    [Fact]
    public void Required_parameters_that_traffic_carries_as_transport_or_credentials_are_not_reported_missing()
    {
        // Documented as parameters (as many converted Swagger 2 documents do), but the learner keeps Host and
        // Content-Type as transport and api_key / session cookies as credentials, never as parameters.
        const string yaml = """
            openapi: 3.0.3
            info: { title: Upload, version: "1" }
            paths:
              /upload:
                post:
                  parameters:
                    - { name: Host, in: header, required: true, schema: { type: string } }
                    - { name: Content-Type, in: header, required: true, schema: { type: string } }
                    - { name: X-Auth-Token, in: header, required: true, schema: { type: string } }
                    - { name: api_key, in: query, required: true, schema: { type: string } }
                    - { name: JSESSIONID, in: cookie, required: true, schema: { type: string } }
                  requestBody: { content: { application/json: { schema: { type: object } } } }
                  responses: { '200': { description: ok } }
            """;
        var t = new Traffic().Call("POST", "/upload?api_key=k1", 200, body: """{"a":1}""", headers: ["X-Auth-Token: t", "Cookie: JSESSIONID=abc"]);
        var findings = Compare(yaml, t);
        Assert.True(findings.Count == 0, Describe(findings));
    }

    private const string BodyYaml = """
        openapi: 3.0.3
        info: { title: Users, version: "1" }
        paths:
          /users:
            post:
              requestBody:
                required: true
                content:
                  application/json:
                    schema:
                      type: object
                      required: [name, role]
                      additionalProperties: false
                      properties:
                        name: { type: string, maxLength: 10 }
                        role: { type: string, enum: [admin, member] }
                        age: { type: integer }
              responses: { '201': { description: created }, '400': { description: bad }, '422': { description: invalid } }
        """;

    [Fact]
    public void A_conforming_request_body_breaks_nothing()
    {
        var findings = Compare(BodyYaml, new Traffic()
            .Call("POST", "/users", 201, body: """{"name":"ann","role":"admin","age":30}""")
            .Call("POST", "/users", 201, body: """{"name":"bob","role":"member"}"""));
        Assert.True(findings.Count == 0, Describe(findings));
    }

    [Fact]
    public void Request_bodies_that_break_the_schema_are_medium_when_accepted()
    {
        var findings = Compare(BodyYaml, new Traffic()
            .Call("POST", "/users", 201, body: """{"name":"ann","role":"admin"}""")
            .Call("POST", "/users", 201, body: """{"name":"a-name-far-too-long","role":"owner","age":"old","nick":"x"}""")
            .Call("POST", "/users", 201, body: """{"role":"member"}"""));
        var v = Rule(findings, "request-schema-violation");
        Assert.Equal(
            ["POST /users request:application/json:$.age", "POST /users request:application/json:$.name",
             "POST /users request:application/json:$.nick", "POST /users request:application/json:$.role"],
            Keys(findings, "request-schema-violation"));
        Assert.All(v, f => Assert.Equal(Severity.Medium, f.Severity));
        Assert.All(v, f => Assert.EndsWith("(accepted by the server)", f.Detail));
        // Two problems at one place are one finding (one id, one stored row) that tells both.
        Assert.Contains(v, f => f.Detail == "$.name: required property missing in 1 of 3 bodies (accepted by the server); "
            + "$.name: values up to 19 characters, maxLength 10 (accepted by the server)");
        Assert.Contains(v, f => f.Detail == "$.role: 1 values outside the documented enum (accepted by the server)");
        Assert.Contains(v, f => f.Detail == "$.age: expected integer, 1 of 1 values were not (accepted by the server)");
        Assert.Contains(v, f => f.Detail == "$.nick: property not allowed (additionalProperties: false) (accepted by the server)");
    }

    [Fact]
    public void Request_bodies_the_server_refused_are_low()
    {
        var findings = Compare(BodyYaml, new Traffic()
            .Call("POST", "/users", 201, body: """{"name":"ann","role":"admin"}""")
            .Call("POST", "/users", 422, body: """{"role":"member"}"""));
        var v = Assert.Single(Rule(findings, "request-schema-violation"));
        Assert.Equal(("request:application/json:$.name", Severity.Low), (v.Location, v.Severity));
        Assert.Equal("$.name: required property missing in 1 of 1 bodies (refused with 4xx)", v.Detail);
    }

    [Fact]
    public void The_same_problem_accepted_and_refused_is_one_finding_of_the_accepted_severity()
    {
        var findings = Compare(BodyYaml, new Traffic()
            .Call("POST", "/users", 201, body: """{"name":"ann","role":"admin"}""")
            .Call("POST", "/users", 201, body: """{"name":"bob","role":"owner"}""")
            .Call("POST", "/users", 422, body: """{"name":"eve","role":"root"}"""));
        var v = Assert.Single(Rule(findings, "request-schema-violation"));
        Assert.Equal(("request:application/json:$.role", Severity.Medium), (v.Location, v.Severity));
        Assert.Equal("$.role: 1 values outside the documented enum (accepted by the server); $.role: 1 values outside the documented enum (refused with 4xx)", v.Detail);
        Assert.Equal(findings.Count, findings.Select(f => f.Id).Distinct().Count());
    }

    [Fact]
    public void A_request_content_type_the_spec_does_not_accept_is_reported()
    {
        var findings = Compare(BodyYaml, new Traffic()
            .Call("POST", "/users", 201, body: """{"name":"ann","role":"admin"}""")
            .Call("POST", "/users", 201, body: "name=bob&role=admin", requestType: "application/x-www-form-urlencoded"));
        Assert.Equal(["POST /users request:application/x-www-form-urlencoded"], Keys(findings, "undocumented-content-type"));
        Assert.Empty(Rule(findings, "request-schema-violation"));
    }

    // ---- which services a spec describes ----

    [Fact]
    public void A_spec_whose_server_names_a_host_applies_to_that_host_only()
    {
        var t = Conforming()
            .Call("GET", "/v1/admin", 200)
            .Call("GET", "/v1/pets", 200, response: "[]", host: "other.example.com")
            .Call("GET", "/v1/pets/1", 200, response: """{"id":1}""", host: "other.example.com")
            .Call("GET", "/v1/secret", 200, host: "other.example.com");
        var findings = Compare(PetsYaml, t);
        Assert.DoesNotContain(findings, f => f.Service == "other.example.com");
        Assert.Equal(["GET /v1/admin"], Keys(findings, "shadow-endpoint"));
        Assert.All(findings, f => Assert.Equal(Api, f.Service));
    }

    [Fact]
    public void A_host_header_with_the_default_port_still_names_the_server()
    {
        var t = new Traffic()
            .Call("GET", "/v1/pets", 200, response: "[]", host: "API.example.com:443")
            .Call("GET", "/v1/admin", 200, host: "API.example.com:443");
        var findings = Compare(PetsYaml, t);
        Assert.Equal(["GET /v1/admin"], Keys(findings, "shadow-endpoint"));
        Assert.All(findings, f => Assert.Equal("api.example.com:443", f.Service));
    }

    [Fact]
    public void A_spec_without_servers_applies_where_its_operations_match()
    {
        const string yaml = """
            openapi: 3.0.3
            info: { title: Inventory, version: "1" }
            paths:
              /items: { get: { responses: { '200': { description: ok } } } }
              /items/{id}: { get: { parameters: [ { name: id, in: path, required: true, schema: { type: integer } } ], responses: { '200': { description: ok } } } }
              /items/{id}/stock: { get: { parameters: [ { name: id, in: path, required: true, schema: { type: integer } } ], responses: { '200': { description: ok } } } }
            """;
        var t = new Traffic()
            .Call("GET", "/items", 200, host: "inventory.internal")
            .Call("GET", "/items/42", 200, host: "inventory.internal")
            .Call("GET", "/items/42/history", 200, host: "inventory.internal")
            .Call("GET", "/items", 200, host: "catalog.internal")            // one operation only: not this API
            .Call("GET", "/products", 200, host: "catalog.internal")
            .Call("GET", "/users", 200, host: "users.internal");
        var findings = Compare(yaml, t);
        Assert.All(findings, f => Assert.Equal("inventory.internal", f.Service));
        Assert.Equal(["GET /items/{itemId}/history"], Keys(findings, "shadow-endpoint"));
        Assert.Equal(["GET /items/{id}/stock"], Keys(findings, "orphan-endpoint"));
    }

    [Fact]
    public void The_server_base_path_is_stripped_before_matching()
    {
        var t = Conforming()
            .Call("GET", "/v2/pets", 200, response: "[]")
            .Call("GET", "/v1/v1/pets", 200, response: "[]");
        var findings = Compare(PetsYaml, t);
        Assert.Equal(["GET /v1/v1/pets", "GET /v2/pets"], Keys(findings, "shadow-endpoint"));
    }

    [Fact]
    public void Finding_ids_are_stable_across_comparisons_and_differ_by_location()
    {
        Traffic Make() => Conforming().Call("GET", "/v1/pets?debug=1&trace=2", 200, response: "[]").Call("GET", "/v1/admin", 200);
        var a = Compare(PetsYaml, Make());
        var b = Compare(PetsYaml, Make());
        Assert.Equal(a.Select(f => f.Id).Order(), b.Select(f => f.Id).Order());
        Assert.Equal(a.Count, a.Select(f => f.Id).Distinct().Count());
    }
}
