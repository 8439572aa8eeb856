using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.OpenApi;
using Microsoft.OpenApi.Reader;
using Microsoft.OpenApi.YamlReader;
using SharpYaml.Serialization;

namespace Sensor.Analysis.Specs;

/// <summary>
/// Reads OpenAPI 2.0 / 3.0 / 3.1 documents (YAML or JSON) with Microsoft.OpenApi 3.x and reduces them to <see cref="ApiSpec"/>.
/// External $refs are not followed (a passive sensor makes no requests and reads no other files): they become warnings.
/// </summary>
public static partial class SpecLoader
{
    private static readonly string[] SpecExtensions = [".yaml", ".yml", ".json"];

    // OAS 3.0 drops `nullable: true` on a schema without `type` (the Swashbuckle/NSwag idiom `allOf: [$ref], nullable: true`),
    // so it is carried through the reader under this extension name.
    private const string NullableMarker = "x-sensor-nullable";

    /// <summary>Loads one document. Throws <see cref="SpecFormatException"/> when it cannot be read or is not OpenAPI.</summary>
    public static ApiSpec Load(string path) => Parse(Read(path), path);

    private static byte[] Read(string path)
    {
        try { return File.ReadAllBytes(path); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { throw new SpecFormatException(path, "cannot read the file: " + e.Message, e); }
    }

    /// <summary>Loads a document from memory; <paramref name="sourcePath"/> names it in the result and in errors.</summary>
    public static ApiSpec Parse(byte[] content, string sourcePath)
    {
        var root = ToJson(content, sourcePath);
        if (root is not JsonObject obj) throw new SpecFormatException(sourcePath, "not an OpenAPI document: the top level is not a mapping");
        string version = DeclaredVersion(obj, sourcePath);
        if (version.StartsWith("3.0", StringComparison.Ordinal)) MarkUntypedNullables(obj);

        var settings = new OpenApiReaderSettings();
        ReadResult result;
        try
        {
            result = new OpenApiJsonReader().Read(obj, new Uri(Path.GetFullPath(sourcePath)), settings);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            throw new SpecFormatException(sourcePath, "the OpenAPI reader failed: " + e.Message, e);
        }
        var errors = result.Diagnostic?.Errors ?? [];
        if (result.Document is not { } doc)
            throw new SpecFormatException(sourcePath, errors.Count > 0 ? string.Join("; ", errors.Select(Describe)) : "the OpenAPI reader returned no document");

        var warnings = new List<string>();
        warnings.AddRange(errors.Select(e => "error: " + Describe(e)));
        warnings.AddRange((result.Diagnostic?.Warnings ?? []).Select(e => "warning: " + Describe(e)));
        return new Builder(doc, sourcePath, version, warnings).Build();
    }

    /// <summary>
    /// The spec files of a directory (every *.yaml, *.yml and *.json below it, in path order) or one file, read but
    /// not parsed: what an import stores, and what the CLI sends to a running service, which holds the database.
    /// What cannot be read is a failure, not a stop.
    /// </summary>
    public static (List<SpecFile> Files, List<SpecLoadFailure> Failures) ReadFiles(string path)
    {
        var files = new List<SpecFile>();
        var failures = new List<SpecLoadFailure>();
        List<string> paths;
        try
        {
            if (Directory.Exists(path))
                paths = Directory.EnumerateFiles(path, "*", new EnumerationOptions { RecurseSubdirectories = true, IgnoreInaccessible = true })
                    .Where(f => SpecExtensions.Contains(Path.GetExtension(f), StringComparer.OrdinalIgnoreCase))
                    .Order(StringComparer.Ordinal).ToList();
            else if (File.Exists(path)) paths = [path];
            else { failures.Add(new SpecLoadFailure(path, "no such file or directory")); return (files, failures); }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            failures.Add(new SpecLoadFailure(path, "cannot read the directory: " + e.Message));
            return (files, failures);
        }
        foreach (var p in paths)
        {
            try { files.Add(new SpecFile(p, Read(p))); }
            catch (SpecFormatException e) { failures.Add(new SpecLoadFailure(p, e.Reason)); }
        }
        return (files, failures);
    }

    /// <summary>Parses each file; one that is not a readable OpenAPI document is a failure, not a stop.</summary>
    public static (List<(ApiSpec Spec, SpecFile File)> Specs, List<SpecLoadFailure> Failures) ParseAll(IEnumerable<SpecFile> files)
    {
        var specs = new List<(ApiSpec, SpecFile)>();
        var failures = new List<SpecLoadFailure>();
        foreach (var f in files)
        {
            // A file the reader chokes on in a way it does not report as a SpecFormatException (YAML anchors that form a
            // cycle raise the YAML converter's OpenApiReaderException) is still just an unreadable spec: a failure to
            // report (exit 2), not a crash of the command.
            try { specs.Add((Parse(f.Content, f.Path), f)); }
            catch (SpecFormatException e) { failures.Add(new SpecLoadFailure(f.Path, e.Reason)); }
            catch (Exception e) when (e is not (OutOfMemoryException or OperationCanceledException))
            {
                failures.Add(new SpecLoadFailure(f.Path, "not a readable OpenAPI document: " + e.Message.Split('\n')[0].TrimEnd()));
            }
        }
        return (specs, failures);
    }

    private static string Describe(OpenApiError e) => string.IsNullOrEmpty(e.Pointer) ? e.Message : $"{e.Message} (at {e.Pointer})";

    /// <summary>YAML or JSON to a JSON tree (YAML is a superset, but JSON errors read better from the JSON parser).</summary>
    private static JsonNode? ToJson(byte[] content, string path)
    {
        var span = content.AsSpan();
        if (span.StartsWith((ReadOnlySpan<byte>)[0xEF, 0xBB, 0xBF])) span = span[3..];
        int first = span.IndexOfAnyExcept(" \t\r\n"u8);
        if (first < 0) throw new SpecFormatException(path, "not an OpenAPI document: the file is empty");
        if (span[first] is (byte)'{' or (byte)'[')
        {
            try
            {
                return JsonNode.Parse(span, documentOptions: new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
            }
            catch (JsonException e) { throw new SpecFormatException(path, "invalid JSON: " + e.Message, e); }
        }
        try
        {
            var yaml = new YamlStream();
            using (var reader = new StringReader(Encoding.UTF8.GetString(span))) yaml.Load(reader);
            if (yaml.Documents.Count == 0) throw new SpecFormatException(path, "not an OpenAPI document: no YAML document in the file");
            return YamlConverter.ToJsonNode(yaml.Documents[0]);
        }
        catch (Exception e) when (e is SharpYaml.YamlException or Microsoft.OpenApi.OpenApiReaderException or InvalidOperationException or ArgumentException or FormatException)
        {
            throw new SpecFormatException(path, "invalid YAML: " + e.Message, e);
        }
    }

    private static string DeclaredVersion(JsonObject root, string path)
    {
        if (Scalar(root["openapi"]) is { } oas)
        {
            if (!oas.StartsWith("3.", StringComparison.Ordinal)) throw new SpecFormatException(path, $"unsupported OpenAPI version {oas}");
            return oas;
        }
        if (Scalar(root["swagger"]) is { } swagger)
        {
            if (!swagger.StartsWith('2')) throw new SpecFormatException(path, $"unsupported Swagger version {swagger}");
            return swagger.Contains('.') ? swagger : swagger + ".0";
        }
        throw new SpecFormatException(path, "not an OpenAPI document: no top-level 'openapi' or 'swagger' field");
    }

    private static string? Scalar(JsonNode? n) => n is JsonValue v
        ? (v.TryGetValue<string>(out var s) ? s : v.ToJsonString())
        : null;

    private static void MarkUntypedNullables(JsonNode? n)
    {
        if (n is JsonObject o)
        {
            if (o["nullable"] is JsonValue v && v.TryGetValue<bool>(out var b) && b && !o.ContainsKey("type") && !o.ContainsKey(NullableMarker))
                o[NullableMarker] = true;
            foreach (var (_, child) in o.ToList()) MarkUntypedNullables(child);
        }
        else if (n is JsonArray a)
        {
            foreach (var child in a) MarkUntypedNullables(child);
        }
    }

    [GeneratedRegex(@"\{([^{}]+)\}")]
    private static partial Regex ServerVariableRx();

    /// <summary>Turns the library's document into the model; one per load (holds the schema memo tables).</summary>
    private sealed class Builder(OpenApiDocument doc, string path, string version, List<string> warnings)
    {
        // Inline nesting bound; $ref cycles are cut by the memo tables long before this.
        private const int MaxDepth = 64;
        private const int MaxMergePasses = 16;

        private readonly Dictionary<string, SpecSchema> _byRef = new(StringComparer.Ordinal);
        private readonly Dictionary<IOpenApiSchema, SpecSchema> _byObject = new(ReferenceEqualityComparer.Instance);
        private readonly List<SpecSchema> _all = [];
        private readonly List<(SpecSchema Target, SpecSchema Part)> _merges = [];
        private readonly Dictionary<(SpecSchema, SpecSchema), SpecSchema> _mergedPairs = [];
        private readonly HashSet<SpecSchema> _mergedCopies = new(ReferenceEqualityComparer.Instance);
        private readonly HashSet<(SpecSchema, SpecSchema)> _merging = [];
        private readonly HashSet<string> _warned = new(StringComparer.Ordinal);

        public ApiSpec Build()
        {
            var schemes = SecuritySchemes();
            var docSecurity = doc.Security is { } ds ? Security(ds, schemes) : null;
            var ops = new List<SpecOperation>();
            if (doc.Paths is { } paths)
            {
                foreach (var (template, item) in paths)
                {
                    if (item == null) continue;
                    bool itemDeprecated = XDeprecated(item.Extensions);
                    foreach (var (method, op) in item.Operations ?? [])
                        ops.Add(Operation(template, item, method.Method.ToUpperInvariant(), op, itemDeprecated, docSecurity, schemes));
                }
            }
            SettleMerges();
            var (urls, bases) = Servers();
            return new ApiSpec
            {
                SourcePath = path,
                Title = string.IsNullOrWhiteSpace(doc.Info?.Title) ? Path.GetFileName(path) : doc.Info.Title,
                Version = doc.Info?.Version,
                OpenApiVersion = version,
                ServerUrls = urls,
                BasePaths = bases,
                Operations = ops,
                SecuritySchemes = schemes,
                Warnings = warnings,
            };
        }

        private void Warn(string message)
        {
            if (_warned.Add(message)) warnings.Add(message);
        }

        private SpecOperation Operation(string template, IOpenApiPathItem item, string method, OpenApiOperation op, bool itemDeprecated,
            IReadOnlyList<IReadOnlyList<string>>? docSecurity, IReadOnlyDictionary<string, SpecSecurityScheme> schemes)
        {
            var ps = new List<SpecParameter>();
            foreach (var p in item.Parameters ?? []) AddParameter(ps, p, method, template);
            foreach (var p in op.Parameters ?? []) AddParameter(ps, p, method, template);

            var responses = new Dictionary<string, SpecResponse>(StringComparer.Ordinal);
            foreach (var (code, resp) in op.Responses ?? [])
                responses[StatusKey(code)] = new SpecResponse { Content = Content(resp?.Content) };

            return new SpecOperation
            {
                Method = method,
                PathTemplate = template,
                OperationId = op.OperationId,
                Deprecated = op.Deprecated || itemDeprecated || XDeprecated(op.Extensions),
                Parameters = ps,
                RequestBody = op.RequestBody is { } rb ? new SpecBody { Required = rb.Required, Content = Content(rb.Content) } : null,
                Responses = responses,
                // An explicit `security: []` on the operation is an empty list, not null: it switches document security off.
                Security = op.Security is { } os ? Security(os, schemes) : docSecurity ?? [],
            };
        }

        private void AddParameter(List<SpecParameter> ps, IOpenApiParameter p, string method, string template)
        {
            if (string.IsNullOrEmpty(p.Name) || p.In is not { } loc)
            {
                Warn(p is OpenApiParameterReference r
                    ? $"unresolved parameter $ref {r.Reference.Id} ({method} {template})"
                    : $"parameter without name or location ignored ({method} {template})");
                return;
            }
            string @in = loc switch
            {
                ParameterLocation.Path => SpecParameter.Path,
                ParameterLocation.Query => SpecParameter.Query,
                ParameterLocation.Header => SpecParameter.Header,
                ParameterLocation.Cookie => SpecParameter.Cookie,
                _ => loc.ToString().ToLowerInvariant(),
            };
            var cmp = @in == SpecParameter.Header ? StringComparison.OrdinalIgnoreCase : StringComparison.Ordinal;
            var param = new SpecParameter
            {
                Name = p.Name,
                In = @in,
                Required = p.Required || @in == SpecParameter.Path,
                Deprecated = p.Deprecated,
                Schema = Schema(p.Schema ?? p.Content?.Values.FirstOrDefault()?.Schema),
            };
            int i = ps.FindIndex(x => x.In == @in && string.Equals(x.Name, p.Name, cmp));
            if (i >= 0) ps[i] = param; else ps.Add(param);
        }

        private static string StatusKey(string code) =>
            code.Equals("default", StringComparison.OrdinalIgnoreCase) ? "default" : code.Trim().ToUpperInvariant();

        private static bool XDeprecated(IDictionary<string, IOpenApiExtension>? ext) =>
            ext != null && ext.TryGetValue("x-deprecated", out var v) && v is JsonNodeExtension { Node: JsonValue jv } && jv.TryGetValue<bool>(out var b) && b;

        private Dictionary<string, SpecSchema?> Content(IDictionary<string, IOpenApiMediaType>? content)
        {
            var d = new Dictionary<string, SpecSchema?>(StringComparer.OrdinalIgnoreCase);
            foreach (var (type, media) in content ?? new Dictionary<string, IOpenApiMediaType>()) d[type] = Schema(media?.Schema);
            return d;
        }

        private List<IReadOnlyList<string>> Security(IList<OpenApiSecurityRequirement> reqs, IReadOnlyDictionary<string, SpecSecurityScheme> schemes)
        {
            var alternatives = new List<IReadOnlyList<string>>();
            foreach (var req in reqs)
            {
                var names = new List<string>();
                foreach (var key in req.Keys)
                {
                    string? name = key.Reference?.Id;
                    if (name == null) continue;
                    if (!schemes.ContainsKey(name)) Warn($"security requirement names undeclared scheme {name}");
                    names.Add(name);
                }
                alternatives.Add(names);
            }
            return alternatives;
        }

        private Dictionary<string, SpecSecurityScheme> SecuritySchemes()
        {
            var d = new Dictionary<string, SpecSecurityScheme>(StringComparer.Ordinal);
            foreach (var (name, s) in doc.Components?.SecuritySchemes ?? new Dictionary<string, IOpenApiSecurityScheme>())
            {
                if (s == null) continue;
                string type = s.Type switch
                {
                    SecuritySchemeType.ApiKey => "apiKey",
                    SecuritySchemeType.Http => "http",
                    SecuritySchemeType.OAuth2 => "oauth2",
                    SecuritySchemeType.OpenIdConnect => "openIdConnect",
                    SecuritySchemeType.MutualTLS => "mutualTLS",
                    _ => "unknown",
                };
                d[name] = new SpecSecurityScheme(name, type, s.Scheme?.ToLowerInvariant(), s.In?.ToString().ToLowerInvariant(), s.Name);
            }
            return d;
        }

        private (List<string> Urls, List<string> Bases) Servers()
        {
            var urls = new List<string>();
            var bases = new List<string>();
            foreach (var s in doc.Servers ?? [])
            {
                if (string.IsNullOrWhiteSpace(s?.Url)) continue;
                var vars = s.Variables;
                string url = ServerVariableRx().Replace(s.Url.Trim(), m =>
                    vars != null && vars.TryGetValue(m.Groups[1].Value, out var v) && v?.Default != null ? v.Default : m.Value);
                urls.Add(url);
                string b = BasePathOf(url);
                if (!bases.Contains(b)) bases.Add(b);
            }
            if (bases.Count == 0) bases.Add("");
            return (urls, bases);
        }

        private static string BasePathOf(string url)
        {
            string p;
            int scheme = url.IndexOf("://", StringComparison.Ordinal);
            if (scheme >= 0 || url.StartsWith("//", StringComparison.Ordinal))
            {
                int hostStart = scheme >= 0 ? scheme + 3 : 2;
                int slash = url.IndexOf('/', hostStart);
                p = slash < 0 ? "" : url[slash..];
            }
            else p = url;   // relative server URL: a path
            int q = p.IndexOfAny(['?', '#']);
            if (q >= 0) p = p[..q];
            p = p.Trim('/');
            return p.Length == 0 ? "" : "/" + Uri.UnescapeDataString(p);
        }

        // ---- schemas ----

        private SpecSchema? Schema(IOpenApiSchema? s, int depth = 0)
        {
            if (s == null) return null;
            if (_byObject.TryGetValue(s, out var known)) return known;
            if (depth > MaxDepth)
            {
                Warn($"schema nested deeper than {MaxDepth} levels: the rest is unconstrained");
                return New(null);
            }
            if (s is OpenApiSchemaReference r)
            {
                string key = r.Reference.ReferenceV3 ?? r.Reference.Id ?? "";
                if (r.Target == null)
                {
                    Warn($"unresolved schema $ref {key}: treated as unconstrained");
                    return _byObject[s] = New(r.Reference.Id);
                }
                // Plain references share one instance per target, which is also what cuts recursion. A 3.1 $ref with
                // validation siblings reads as sibling-else-target through r itself, so it gets its own instance.
                if (!HasValidationSiblings(r.Reference))
                {
                    if (_byRef.TryGetValue(key, out var shared)) return _byObject[s] = shared;
                    var inst = _byRef[key] = _byObject[s] = New(r.Reference.Id);
                    Fill(inst, r, depth);
                    return inst;
                }
                var own = _byObject[s] = New(r.Reference.Id);
                Fill(own, r, depth);
                return own;
            }
            var x = _byObject[s] = New(null);
            Fill(x, s, depth);
            return x;
        }

        private SpecSchema New(string? name)
        {
            var s = new SpecSchema { Name = name };
            _all.Add(s);
            return s;
        }

        private static bool HasValidationSiblings(JsonSchemaReference j) =>
            j.SchemaType != null || j.Format != null || j.MaxLength != null || j.MinLength != null || j.Pattern != null
            || j.Minimum != null || j.Maximum != null || j.ExclusiveMinimum != null || j.ExclusiveMaximum != null || j.Const != null
            || j.Enum is { Count: > 0 } || j.Properties is { Count: > 0 } || j.Required is { Count: > 0 } || j.Items != null
            || j.AllOf is { Count: > 0 } || j.OneOf is { Count: > 0 } || j.AnyOf is { Count: > 0 }
            || j.AdditionalPropertiesAllowed != null || j.AdditionalProperties != null || j.MinItems != null || j.MaxItems != null;

        private void Fill(SpecSchema t, IOpenApiSchema s, int depth)
        {
            t.Types = TypesOf(s.Type);
            t.Nullable = t.Types.Contains(JsonType.Null) || s.Extensions?.ContainsKey(NullableMarker) == true;
            t.Format = s.Format;
            t.Pattern = s.Pattern;
            t.MaxLength = s.MaxLength;
            t.MinLength = s.MinLength;
            t.Minimum = Number(s.Minimum);
            t.Maximum = Number(s.Maximum);
            t.ExclusiveMinimum = Number(s.ExclusiveMinimum);
            t.ExclusiveMaximum = Number(s.ExclusiveMaximum);
            t.MinItems = s.MinItems;
            t.MaxItems = s.MaxItems;
            t.Enum = s.Enum is { Count: > 0 } e ? e.Select(EnumText).ToList() : s.Const != null ? [s.Const] : null;
            t.AdditionalPropertiesAllowed = s.AdditionalPropertiesAllowed;
            t.AdditionalProperties = Schema(s.AdditionalProperties, depth + 1);
            foreach (var req in s.Required ?? new HashSet<string>()) t._required.Add(req);
            foreach (var (name, prop) in s.Properties ?? new Dictionary<string, IOpenApiSchema>())
                t._properties[name] = Schema(prop, depth + 1) ?? New(null);
            t.Items = Schema(s.Items, depth + 1);
            t.OneOf = Alternatives(s.OneOf, depth);
            t.AnyOf = Alternatives(s.AnyOf, depth);
            foreach (var part in s.AllOf ?? [])
            {
                if (Schema(part, depth + 1) is not { } ps || ReferenceEquals(ps, t)) continue;
                // A part may still be under construction (a cycle through allOf); SettleMerges repeats every merge later.
                _merges.Add((t, ps));
                Merge(t, ps);
            }
        }

        private List<SpecSchema> Alternatives(IList<IOpenApiSchema>? list, int depth) =>
            list is { Count: > 0 } ? list.Select(a => Schema(a, depth + 1) ?? New(null)).ToList() : [];

        private static IReadOnlySet<string> TypesOf(JsonSchemaType? t)
        {
            var set = new HashSet<string>(StringComparer.Ordinal);
            if (t is not { } v) return set;
            if (v.HasFlag(JsonSchemaType.String)) set.Add(JsonType.String);
            if (v.HasFlag(JsonSchemaType.Number)) set.Add(JsonType.Number);
            if (v.HasFlag(JsonSchemaType.Integer)) set.Add(JsonType.Integer);
            if (v.HasFlag(JsonSchemaType.Boolean)) set.Add(JsonType.Boolean);
            if (v.HasFlag(JsonSchemaType.Object)) set.Add(JsonType.Object);
            if (v.HasFlag(JsonSchemaType.Array)) set.Add(JsonType.Array);
            if (v.HasFlag(JsonSchemaType.Null)) set.Add(JsonType.Null);
            return set;
        }

        private static decimal? Number(string? s) =>
            s != null && decimal.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) ? d : null;

        private static string EnumText(JsonNode? n) => n switch
        {
            null => "null",
            _ when JsonNullSentinel.IsJsonNullSentinel(n) => "null",
            JsonValue v when v.TryGetValue<string>(out var s) => s,
            _ => n.ToJsonString(),
        };

        // ---- allOf ----

        /// <summary>
        /// Folds an allOf part into its parent. Idempotent, so SettleMerges can repeat all merges until nothing changes.
        /// Properties and required are unions; a property both sides declare differently is merged into a private copy
        /// (shared component instances are never modified).
        /// </summary>
        private bool Merge(SpecSchema t, SpecSchema p)
        {
            if (ReferenceEquals(t, p) || !_merging.Add((t, p))) return false;
            try
            {
                bool changed = false;
                var types = MergeTypes(t, p);
                if (!types.SetEquals(t.Types)) { t.Types = types; changed = true; }
                if (t.Format == null && p.Format != null) { t.Format = p.Format; changed = true; }
                if (t.Pattern == null && p.Pattern != null) { t.Pattern = p.Pattern; changed = true; }
                if (t.MaxLength == null && p.MaxLength != null) { t.MaxLength = p.MaxLength; changed = true; }
                if (t.MinLength == null && p.MinLength != null) { t.MinLength = p.MinLength; changed = true; }
                if (t.Minimum == null && p.Minimum != null) { t.Minimum = p.Minimum; changed = true; }
                if (t.Maximum == null && p.Maximum != null) { t.Maximum = p.Maximum; changed = true; }
                if (t.ExclusiveMinimum == null && p.ExclusiveMinimum != null) { t.ExclusiveMinimum = p.ExclusiveMinimum; changed = true; }
                if (t.ExclusiveMaximum == null && p.ExclusiveMaximum != null) { t.ExclusiveMaximum = p.ExclusiveMaximum; changed = true; }
                if (t.MinItems == null && p.MinItems != null) { t.MinItems = p.MinItems; changed = true; }
                if (t.MaxItems == null && p.MaxItems != null) { t.MaxItems = p.MaxItems; changed = true; }
                if (t.Enum == null && p.Enum != null) { t.Enum = p.Enum; changed = true; }
                if (t.AdditionalPropertiesAllowed && !p.AdditionalPropertiesAllowed) { t.AdditionalPropertiesAllowed = false; changed = true; }
                if (t.AdditionalProperties == null && p.AdditionalProperties != null) { t.AdditionalProperties = p.AdditionalProperties; changed = true; }
                if (t.OneOf.Count == 0 && p.OneOf.Count > 0) { t.OneOf = p.OneOf; changed = true; }
                if (t.AnyOf.Count == 0 && p.AnyOf.Count > 0) { t.AnyOf = p.AnyOf; changed = true; }
                foreach (var r in p._required) changed |= t._required.Add(r);
                foreach (var (name, ps) in p._properties)
                {
                    if (!t._properties.TryGetValue(name, out var ts)) { t._properties[name] = ps; changed = true; continue; }
                    var merged = Combine(ts, ps);
                    if (!ReferenceEquals(merged, ts)) { t._properties[name] = merged; changed = true; }
                }
                if (p.Items != null)
                {
                    var merged = t.Items == null ? p.Items : Combine(t.Items, p.Items);
                    if (!ReferenceEquals(merged, t.Items)) { t.Items = merged; changed = true; }
                }
                return changed;
            }
            finally { _merging.Remove((t, p)); }
        }

        /// <summary>Both sides declare one slot: merge into a copy that belongs to the merge (one per pair, so repeats converge).</summary>
        private SpecSchema Combine(SpecSchema mine, SpecSchema theirs)
        {
            if (ReferenceEquals(mine, theirs)) return mine;
            if (_mergedCopies.Contains(mine)) { Merge(mine, theirs); return mine; }
            if (_mergedPairs.TryGetValue((mine, theirs), out var copy)) return copy;
            copy = New(mine.Name);
            copy.Nullable = mine.Nullable;
            _mergedCopies.Add(copy);
            _mergedPairs[(mine, theirs)] = copy;
            _merges.Add((copy, mine));
            _merges.Add((copy, theirs));
            Merge(copy, mine);
            Merge(copy, theirs);
            return copy;
        }

        private HashSet<string> MergeTypes(SpecSchema t, SpecSchema p)
        {
            if (p.Types.Count == 0) return [.. t.Types];
            if (t.Types.Count == 0 && !t.Nullable) return [.. p.Types];
            var mine = t.Types.Where(x => x != JsonType.Null).ToHashSet();
            var theirs = p.Types.Where(x => x != JsonType.Null).ToHashSet();
            HashSet<string> result;
            if (mine.Count == 0) result = theirs;
            else if (theirs.Count == 0) result = mine;
            else
            {
                result = [.. mine.Intersect(theirs)];
                // integer is a number: {number} and {integer} agree on integer.
                if ((mine.Contains(JsonType.Number) && theirs.Contains(JsonType.Integer)) || (theirs.Contains(JsonType.Number) && mine.Contains(JsonType.Integer)))
                    result.Add(JsonType.Integer);
                if (result.Count == 0)
                {
                    Warn($"allOf parts disagree on type ({string.Join("|", t.Types)} vs {string.Join("|", p.Types)}): kept the first");
                    return [.. t.Types];
                }
            }
            // The parent's own nullability wins: OAS 3.0 writes "this ref or null" as allOf: [$ref] + nullable: true.
            if (t.Nullable || (t.Types.Contains(JsonType.Null) && p.Types.Contains(JsonType.Null))) result.Add(JsonType.Null);
            return result;
        }

        private void SettleMerges()
        {
            bool settled = false;
            for (int pass = 0; pass < MaxMergePasses && !settled; pass++)
            {
                settled = true;
                for (int i = 0; i < _merges.Count; i++)   // Combine may append while this runs
                    if (Merge(_merges[i].Target, _merges[i].Part)) settled = false;
            }
            if (!settled) Warn("allOf merging did not settle; some merged schemas may be incomplete");
            foreach (var s in _all)
            {
                if (s.Types.Contains(JsonType.Null)) s.Nullable = true;
                else if (s.Nullable && s.Types.Count > 0) s.Types = new HashSet<string>(s.Types, StringComparer.Ordinal) { JsonType.Null };
            }
        }
    }
}
