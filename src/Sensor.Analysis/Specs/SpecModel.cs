namespace Sensor.Analysis.Specs;

/// <summary>
/// One user-provided OpenAPI document (2.0, 3.0 or 3.1) reduced to what the inventory comparison needs:
/// operations with resolved parameters, bodies, responses and effective security. Library types do not leak.
/// </summary>
public sealed class ApiSpec
{
    public required string SourcePath { get; init; }
    public required string Title { get; init; }
    public string? Version { get; init; }
    /// <summary>The document's own version string: "2.0", "3.0.3", "3.1.0".</summary>
    public required string OpenApiVersion { get; init; }
    /// <summary>Server URLs with server variables replaced by their defaults (OAS 2: scheme://host/basePath).</summary>
    public IReadOnlyList<string> ServerUrls { get; init; } = [];
    /// <summary>Path part of each server URL (OAS 2: basePath): leading slash, no trailing slash, "" for the root.</summary>
    public IReadOnlyList<string> BasePaths { get; init; } = [""];
    public IReadOnlyList<SpecOperation> Operations { get; init; } = [];
    public IReadOnlyDictionary<string, SpecSecurityScheme> SecuritySchemes { get; init; } = new Dictionary<string, SpecSecurityScheme>();
    /// <summary>Reader diagnostics and what the loader could not resolve (unresolved $ref, cycles cut).</summary>
    public IReadOnlyList<string> Warnings { get; init; } = [];

    public override string ToString() => $"{Title} {Version} ({OpenApiVersion}, {Operations.Count} operations) from {SourcePath}";
}

public sealed class SpecOperation
{
    /// <summary>Upper case: GET, POST, ...</summary>
    public required string Method { get; init; }
    /// <summary>As written in the spec, without the base path: /pets/{petId}.</summary>
    public required string PathTemplate { get; init; }
    public string? OperationId { get; init; }
    /// <summary>deprecated: true on the operation (or x-deprecated: true on it or its path item).</summary>
    public bool Deprecated { get; init; }
    /// <summary>Path-item and operation parameters merged; the operation's win by name + location.</summary>
    public IReadOnlyList<SpecParameter> Parameters { get; init; } = [];
    public SpecBody? RequestBody { get; init; }
    /// <summary>Keyed "200", "4XX" (ranges upper case) or "default".</summary>
    public IReadOnlyDictionary<string, SpecResponse> Responses { get; init; } = new Dictionary<string, SpecResponse>();
    /// <summary>
    /// Effective security requirements (operation-level, else document-level): alternatives, each a list of scheme names
    /// that must all be present. Empty list: no authentication. An empty alternative: anonymous access allowed.
    /// </summary>
    public IReadOnlyList<IReadOnlyList<string>> Security { get; init; } = [];

    public string Key => Method + " " + PathTemplate;

    /// <summary>A parameter by location and name; header names compare case-insensitively.</summary>
    public SpecParameter? FindParameter(string @in, string name) =>
        Parameters.FirstOrDefault(p => p.In == @in && string.Equals(p.Name, name, @in == SpecParameter.Header ? StringComparison.OrdinalIgnoreCase : StringComparison.Ordinal));

    /// <summary>The response documented for a status: exact code, then its range (4XX), then "default"; null if undocumented.</summary>
    public SpecResponse? FindResponse(int status)
    {
        if (Responses.TryGetValue(status.ToString(System.Globalization.CultureInfo.InvariantCulture), out var r)) return r;
        if (status is >= 100 and <= 599 && Responses.TryGetValue((status / 100) + "XX", out r)) return r;
        return Responses.GetValueOrDefault("default");
    }

    public override string ToString() => Key;
}

public sealed class SpecParameter
{
    public const string Path = "path", Query = "query", Header = "header", Cookie = "cookie";

    public required string Name { get; init; }
    /// <summary>path, query, header or cookie (querystring for OAS 3.2).</summary>
    public required string In { get; init; }
    public bool Required { get; init; }
    public bool Deprecated { get; init; }
    /// <summary>The parameter's schema, or that of its first content entry (OAS 3 content-typed parameters).</summary>
    public SpecSchema? Schema { get; init; }

    public override string ToString() => $"{In}:{Name}{(Required ? " (required)" : "")}";
}

public sealed class SpecBody
{
    public bool Required { get; init; }
    /// <summary>Content type (as written, compared case-insensitively) → schema (null when none is given).</summary>
    public IReadOnlyDictionary<string, SpecSchema?> Content { get; init; } = new Dictionary<string, SpecSchema?>(StringComparer.OrdinalIgnoreCase);

    /// <summary>The documented content type an observed Content-Type falls under (exact, type/*, */*), or null.</summary>
    public string? MatchContentType(string observed) => SpecContent.Match(Content, observed);
}

public sealed class SpecResponse
{
    /// <summary>Content type (compared case-insensitively) → schema; empty for a response without a body.</summary>
    public IReadOnlyDictionary<string, SpecSchema?> Content { get; init; } = new Dictionary<string, SpecSchema?>(StringComparer.OrdinalIgnoreCase);

    /// <summary>The documented content type an observed Content-Type falls under (exact, type/*, */*), or null.</summary>
    public string? MatchContentType(string observed) => SpecContent.Match(Content, observed);
}

public static class SpecContent
{
    /// <summary>Parameters (charset, boundary) are ignored; an exact key beats type/* which beats */*.</summary>
    public static string? Match(IReadOnlyDictionary<string, SpecSchema?> content, string observed)
    {
        int semi = observed.IndexOf(';');
        string media = (semi >= 0 ? observed[..semi] : observed).Trim();
        string? typeWildcard = null, any = null;
        int slash = media.IndexOf('/');
        foreach (var key in content.Keys)
        {
            int ks = key.IndexOf(';');
            var k = (ks >= 0 ? key[..ks] : key).AsSpan().Trim();
            if (k.Equals(media, StringComparison.OrdinalIgnoreCase)) return key;
            if (k is "*/*") any ??= key;
            else if (slash > 0 && k.EndsWith("/*") && k[..^2].Equals(media.AsSpan(0, slash), StringComparison.OrdinalIgnoreCase)) typeWildcard ??= key;
        }
        return typeWildcard ?? any;
    }
}

/// <summary>A security scheme as declared (components.securitySchemes / securityDefinitions).</summary>
/// <param name="Type">http, apiKey, oauth2, openIdConnect or mutualTLS (OAS 2 basic becomes http + basic).</param>
/// <param name="Scheme">For http: lower case, e.g. bearer or basic.</param>
/// <param name="In">For apiKey: header, query or cookie.</param>
/// <param name="ParameterName">For apiKey: the header, query parameter or cookie name.</param>
public sealed record SpecSecurityScheme(string Name, string Type, string? Scheme, string? In, string? ParameterName);

/// <summary>
/// A resolved JSON schema: $ref followed, allOf merged into this schema, oneOf/anyOf kept as alternatives.
/// Recursive schemas are graphs: a component referenced from inside itself is the same instance, so walk with a visited set.
/// </summary>
public sealed class SpecSchema
{
    private static readonly IReadOnlySet<string> NoStrings = new HashSet<string>();

    /// <summary>Component name when this is a referenced schema (Pet), for reports.</summary>
    public string? Name { get; internal set; }
    /// <summary>JSON types allowed; empty means any. OAS 3.1 type arrays and OAS 3.0 nullable / x-nullable add "null".</summary>
    public IReadOnlySet<string> Types { get; internal set; } = NoStrings;
    public string? Format { get; internal set; }
    /// <summary>
    /// Allowed values (enum, or a 3.1 const) as strings: a JSON string as its text (dog), anything else as JSON (1, true, null).
    /// Null when unrestricted.
    /// </summary>
    public IReadOnlyList<string>? Enum { get; internal set; }
    public int? MaxLength { get; internal set; }
    public int? MinLength { get; internal set; }
    public string? Pattern { get; internal set; }
    public decimal? Minimum { get; internal set; }
    public decimal? Maximum { get; internal set; }
    /// <summary>Exclusive bounds (OAS 3.0's boolean exclusiveMinimum is turned into this form by the reader).</summary>
    public decimal? ExclusiveMinimum { get; internal set; }
    public decimal? ExclusiveMaximum { get; internal set; }
    public int? MinItems { get; internal set; }
    public int? MaxItems { get; internal set; }
    public IReadOnlyDictionary<string, SpecSchema> Properties => _properties;
    public IReadOnlySet<string> Required => _required;
    /// <summary>False only for additionalProperties: false (after allOf merging: false if any part says so).</summary>
    public bool AdditionalPropertiesAllowed { get; internal set; } = true;
    /// <summary>The schema of additional properties when additionalProperties is a schema (maps).</summary>
    public SpecSchema? AdditionalProperties { get; internal set; }
    public SpecSchema? Items { get; internal set; }
    public IReadOnlyList<SpecSchema> OneOf { get; internal set; } = [];
    public IReadOnlyList<SpecSchema> AnyOf { get; internal set; } = [];

    /// <summary>null is allowed. Also true for an untyped OAS 3.0 nullable schema, whose Types stay empty (any) and whose oneOf may not list null.</summary>
    public bool Nullable { get; internal set; }
    /// <summary>No type, no constraints, no structure: anything validates.</summary>
    public bool IsUnconstrained => Types.Count == 0 && Enum == null && _properties.Count == 0 && Items == null && OneOf.Count == 0 && AnyOf.Count == 0
        && Format == null && Pattern == null && MaxLength == null && MinLength == null && Minimum == null && Maximum == null
        && ExclusiveMinimum == null && ExclusiveMaximum == null && MinItems == null && MaxItems == null && AdditionalPropertiesAllowed && AdditionalProperties == null;

    internal readonly Dictionary<string, SpecSchema> _properties = new(StringComparer.Ordinal);
    internal readonly HashSet<string> _required = new(StringComparer.Ordinal);

    public override string ToString() => Name ?? (Types.Count == 0 ? "any" : string.Join("|", Types.Order(StringComparer.Ordinal)));
}

/// <summary>The JSON type names used in <see cref="SpecSchema.Types"/>.</summary>
public static class JsonType
{
    public const string String = "string", Number = "number", Integer = "integer", Boolean = "boolean", Object = "object", Array = "array", Null = "null";
}

/// <summary>A file that is not an OpenAPI document, or one the reader could not make sense of.</summary>
public sealed class SpecFormatException(string path, string reason, Exception? inner = null)
    : Exception($"{path}: {reason}", inner)
{
    public string SourcePath { get; } = path;
    public string Reason { get; } = reason;
}

/// <summary>A spec file as read; stored under its full path.</summary>
public sealed record SpecFile(string Path, byte[] Content);

public sealed record SpecLoadFailure(string Path, string Reason);
