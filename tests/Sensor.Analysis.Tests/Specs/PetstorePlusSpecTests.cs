using System.Text.Json.Nodes;
using Sensor.Analysis.Specs;
using Sensor.TestSupport;

namespace Sensor.Analysis.Tests.Specs;

/// <summary>The spec-recon dev spec (OAS 3.0.3, 19 operations) against the facts its truth.json states about it.</summary>
public class PetstorePlusSpecTests
{
    private static readonly string Dir = Path.Combine(SharedData.Shared, "spec-recon-dev");
    private static ApiSpec Load() => SpecLoader.Load(Path.Combine(Dir, "petstore-plus.yaml"));

    [Fact]
    public void Header_servers_and_schemes()
    {
        var spec = Load();
        Assert.Equal("3.0.3", spec.OpenApiVersion);
        Assert.Equal("Petstore Plus (spec-recon eval fixture)", spec.Title);
        Assert.Equal(["http://127.0.0.1:4010"], spec.ServerUrls);
        Assert.Equal([""], spec.BasePaths);
        Assert.Equal(19, spec.Operations.Count);
        Assert.Equal(19, spec.Operations.Select(o => o.Key).Distinct().Count());
        Assert.Empty(spec.Warnings);
        Assert.Equal(new SpecSecurityScheme("bearerAuth", "http", "bearer", null, null), spec.SecuritySchemes["bearerAuth"]);
        Assert.Equal(new SpecSecurityScheme("apiKeyAuth", "apiKey", null, "header", "X-API-Key"), spec.SecuritySchemes["apiKeyAuth"]);
        Assert.Equal(new SpecSecurityScheme("basicAuth", "http", "basic", null, null), spec.SecuritySchemes["basicAuth"]);
        Assert.DoesNotContain(spec.Operations, o => o.Deprecated);
    }

    [Fact]
    public void A_few_details()
    {
        var spec = Load();
        var getPet = spec.Operations.Single(o => o.OperationId == "getPet");
        var petId = Assert.Single(getPet.Parameters);                     // from the path item, through a $ref
        Assert.Equal(("petId", "path", true), (petId.Name, petId.In, petId.Required));
        Assert.Equal((1m, 99999m, "int64"), (petId.Schema!.Minimum, petId.Schema.Maximum, petId.Schema.Format));

        var pet = getPet.Responses["200"].Content["application/json"]!;   // allOf [inline, $ref NewPet]
        Assert.Equal(["birthDate", "id", "microchip", "name", "ownerSlug", "species", "status", "tags", "vaccinated", "weightKg"],
            pet.Properties.Keys.Order(StringComparer.Ordinal));
        Assert.Equal(["id", "name", "species"], pet.Required.Order(StringComparer.Ordinal));
        Assert.Equal(30, pet.Properties["name"].MaxLength);
        Assert.Equal(3, pet.Properties["tags"].MaxItems);
        Assert.Equal(["friendly", "trained", "senior", "puppy", "hypoallergenic"], pet.Properties["tags"].Items!.Properties["name"].Enum);
        Assert.Equal("^[0-9]{15}$", pet.Properties["microchip"].Properties["code"].Pattern);
        Assert.Same(pet, spec.Operations.Single(o => o.OperationId == "createPet").Responses["201"].Content["application/json"]);
        Assert.Same(getPet.Responses["404"].Content["application/json"], getPet.FindResponse(404)!.Content["application/json"]);
        Assert.Null(getPet.FindResponse(500));

        var listPets = spec.Operations.Single(o => o.OperationId == "listPets");
        Assert.Equal("uuid", listPets.FindParameter("header", "x-request-id")!.Schema!.Format);
        Assert.Equal(["available", "pending", "sold"], listPets.FindParameter("query", "status")!.Schema!.Enum);

        var login = spec.Operations.Single(o => o.Key == "POST /users/login");
        Assert.Equal(["application/x-www-form-urlencoded"], login.RequestBody!.Content.Keys);
        Assert.Empty(login.Security);
        Assert.Equal([["basicAuth"]], spec.Operations.Single(o => o.OperationId == "dailyReport").Security);
    }

    [Fact]
    public void Every_operation_agrees_with_the_truth_file()
    {
        var spec = Load();
        var truth = JsonNode.Parse(File.ReadAllText(Path.Combine(Dir, "truth.json")))!["operations"]!.AsArray();
        Assert.Equal(truth.Count, spec.Operations.Count);
        foreach (var t in truth)
        {
            string key = (string)t!["method"]! + " " + (string)t["specPath"]!;
            var op = spec.Operations.SingleOrDefault(o => o.Key == key);
            Assert.True(op != null, "missing " + key);
            Assert.Equal((string?)t["operationId"], op.OperationId);

            foreach (var loc in new[] { "path", "query", "header", "cookie" })
                Assert.Equal(Strings(t["params"]![loc]),
                    op.Parameters.Where(p => p.In == loc).Select(p => loc == "header" ? p.Name.ToLowerInvariant() : p.Name).Order(StringComparer.Ordinal));
            Assert.Equal(Strings(t["responses"]), op.Responses.Keys.Where(k => k != "default").Order(StringComparer.Ordinal));
            Assert.Equal(Strings(t["requestContentTypes"]), (op.RequestBody?.Content.Keys ?? []).Order(StringComparer.Ordinal));
            Assert.Equal(Strings(t["security"]), op.Security.SelectMany(a => a).Select(n => Label(spec.SecuritySchemes[n])).Distinct().Order(StringComparer.Ordinal));

            Assert.Equal(Strings(t["requestProps"]), PropertyPaths(op.RequestBody?.Content.Values ?? []));
            Assert.Equal(Strings(t["responseProps"]),
                PropertyPaths(op.Responses.Where(r => r.Key.StartsWith('2')).SelectMany(r => r.Value.Content.Values)));
        }
    }

    private static string[] Strings(JsonNode? n) => n!.AsArray().Select(x => (string)x!).Order(StringComparer.Ordinal).ToArray();

    /// <summary>The truth file's scheme labels.</summary>
    private static string Label(SpecSecurityScheme s) => s.Type switch
    {
        "http" => "http-" + s.Scheme,
        "apiKey" => $"apiKey-{s.In}-{s.ParameterName!.ToLowerInvariant()}",
        _ => "http-bearer",
    };

    /// <summary>Dotted property paths, arrays see-through, as the truth file lists them; a visited set stops at cycles.</summary>
    internal static string[] PropertyPaths(IEnumerable<SpecSchema?> roots)
    {
        var acc = new HashSet<string>(StringComparer.Ordinal);
        var onPath = new HashSet<SpecSchema>(ReferenceEqualityComparer.Instance);
        void Walk(SpecSchema? s, string prefix)
        {
            if (s == null || !onPath.Add(s)) return;
            foreach (var (name, p) in s.Properties)
            {
                acc.Add(prefix + name);
                Walk(p, prefix + name + ".");
            }
            Walk(s.Items, prefix);
            foreach (var alt in s.OneOf.Concat(s.AnyOf)) Walk(alt, prefix);
            onPath.Remove(s);
        }
        foreach (var r in roots) Walk(r, "");
        return acc.Order(StringComparer.Ordinal).ToArray();
    }
}
