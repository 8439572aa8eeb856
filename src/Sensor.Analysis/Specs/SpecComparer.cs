using Sensor.Analysis.Findings;
using Sensor.Analysis.Inventory;
using Sensor.Analysis.Schema;

namespace Sensor.Analysis.Specs;

/// <summary>
/// Compares the observed inventory with the user's specs. Per service covered by a spec: endpoints no spec
/// documents are <b>shadow</b>, documented <c>deprecated</c> operations that are called are <b>zombie</b>,
/// documented operations never seen are <b>orphan</b>; matched operations are checked for conformance:
/// undocumented parameters, statuses, content types and response properties, and requests that break the
/// documented schema (type, enum, required, maxLength/minLength). Everything is judged from the learned
/// aggregates, so it works the same right after a replay or when a spec is imported later.
/// </summary>
public static class SpecComparer
{
    private const string Inventory = "API9:2023";

    public static List<Finding> Compare(IReadOnlyList<ApiSpec> specs, IReadOnlyList<Endpoint> endpoints)
    {
        var findings = new List<Finding>();
        var byService = endpoints.GroupBy(e => e.Service).ToDictionary(g => g.Key, g => g.ToList(), StringComparer.Ordinal);
        var covering = new Dictionary<string, List<SpecPathMatcher>>(StringComparer.Ordinal);
        foreach (var spec in specs)
        {
            var matcher = new SpecPathMatcher(spec);
            var targets = Targets(spec, matcher, byService);
            if (targets.Count == 0)
            {
                // Documented, but no observed service is this API: every operation is an orphan.
                var service = Authorities(spec).FirstOrDefault() ?? spec.Title;
                foreach (var op in spec.Operations) findings.Add(Orphan(spec, op, service));
                continue;
            }
            foreach (var t in targets)
            {
                if (!covering.TryGetValue(t, out var list)) covering[t] = list = [];
                list.Add(matcher);
            }
        }

        foreach (var (service, matchers) in covering.OrderBy(kv => kv.Key, StringComparer.Ordinal))
        {
            var eps = byService[service];
            var usage = new ServiceHeaderUsage(eps);
            var seen = new HashSet<SpecOperation>(ReferenceEqualityComparer.Instance);
            foreach (var e in eps)
            {
                SpecMatch? found = null, pathOnly = null;
                SpecPathMatcher? by = null;
                foreach (var m in matchers)
                {
                    var r = m.Match(e.Method, e.Template);
                    // Every spec that documents the call has seen it (a shared document beside the main one): stopping at
                    // the first made the others report it as an orphan. The first one judges it.
                    if (r.Operation != null)
                    {
                        seen.Add(r.Operation);
                        if (found == null) { found = r; by = m; }
                    }
                    else if (r.PathFound) pathOnly ??= r;
                }
                if (found?.Operation is { } op && by != null)
                {
                    if (op.Deprecated) findings.Add(Zombie(by.Spec, op, e));
                    Conformance(by.Spec, op, e, usage, findings);
                }
                else findings.Add(Shadow(matchers, e, pathOnly));
            }
            foreach (var m in matchers)
                foreach (var op in m.Spec.Operations)
                    if (!seen.Contains(op)) findings.Add(Orphan(m.Spec, op, service));
        }
        return findings;
    }

    /// <summary>
    /// The services a spec describes: those named by its server URLs (host and port); without such a match,
    /// those where traffic matches at least two of its operations (or its only one).
    /// </summary>
    public static List<string> Targets(ApiSpec spec, SpecPathMatcher matcher, IReadOnlyDictionary<string, List<Endpoint>> services)
    {
        var auths = Authorities(spec);
        var named = services.Keys.Where(s => auths.Any(a => SameAuthority(s, a))).ToList();
        if (named.Count > 0) return named;
        int need = Math.Min(2, spec.Operations.Count);
        if (need == 0) return [];
        return services.Where(kv => kv.Value.Select(e => matcher.Match(e.Method, e.Template).Operation).OfType<SpecOperation>().Distinct().Count() >= need)
            .Select(kv => kv.Key).ToList();
    }

    private static List<string> Authorities(ApiSpec spec)
    {
        var list = new List<string>();
        foreach (var url in spec.ServerUrls)
            if (!url.Contains('{') && Uri.TryCreate(url, UriKind.Absolute, out var u) && u.Host.Length > 0)
                list.Add(u.IsDefaultPort ? u.Host : $"{u.Host}:{u.Port}");
        return list;
    }

    private static bool SameAuthority(string service, string authority)
    {
        if (service.Equals(authority, StringComparison.OrdinalIgnoreCase)) return true;
        static (string Host, string? Port) Split(string a)
        {
            if (a.StartsWith('[')) { int end = a.IndexOf(']'); return (a[1..Math.Max(1, end)], end > 0 && end + 1 < a.Length && a[end + 1] == ':' ? a[(end + 2)..] : null); }
            int c = a.LastIndexOf(':');
            return c > 0 && a.IndexOf(':') == c ? (a[..c], a[(c + 1)..]) : (a, null);
        }
        var (sh, sp) = Split(service);
        var (ah, ap) = Split(authority);
        // A Host header without a port matches a server URL on a default port and vice versa.
        return sh.Equals(ah, StringComparison.OrdinalIgnoreCase) && (sp == null || ap == null || sp == ap);
    }

    private static string Src(ApiSpec spec) => "spec:" + Path.GetFileName(spec.SourcePath);

    private static Finding Shadow(List<SpecPathMatcher> matchers, Endpoint e, SpecMatch? pathOnly) => new()
    {
        RuleId = "shadow-endpoint",
        Title = "Shadow endpoint: observed but not documented",
        Category = "shadow",
        Owasp = Inventory,
        Cwe = "CWE-1059",
        Severity = e.Observed.Unauthenticated2xx > 0 ? Severity.High : Severity.Medium,
        Service = e.Service, Method = e.Method, PathTemplate = e.Template,
        Detail = pathOnly?.PathTemplate is { } p
            ? $"{e.Method} is not documented for {p} (called {e.Observed.Count} times)"
            : $"{e.Method} {e.Template} is in no spec for this service (called {e.Observed.Count} times, {e.DistinctPaths} distinct paths)",
        Evidence = StatusSummary(e),
        FirstSeen = e.Observed.FirstSeen, LastSeen = e.Observed.LastSeen, Count = e.Observed.Count,
        Source = string.Join(",", matchers.Select(m => Src(m.Spec)).Distinct()),
    };

    private static Finding Zombie(ApiSpec spec, SpecOperation op, Endpoint e) => new()
    {
        RuleId = "zombie-endpoint",
        Title = "Zombie endpoint: deprecated but still called",
        Category = "zombie",
        Owasp = Inventory,
        Cwe = "CWE-477",
        Severity = e.Observed.Statuses.Any(kv => kv.Key is >= 200 and < 300) ? Severity.High : Severity.Medium,
        Service = e.Service, Method = e.Method, PathTemplate = e.Template,
        Detail = $"{op.Key} is deprecated in {Path.GetFileName(spec.SourcePath)} but was called {e.Observed.Count} times",
        Evidence = StatusSummary(e),
        FirstSeen = e.Observed.FirstSeen, LastSeen = e.Observed.LastSeen, Count = e.Observed.Count,
        Source = Src(spec),
    };

    private static Finding Orphan(ApiSpec spec, SpecOperation op, string service) => new()
    {
        RuleId = "orphan-endpoint",
        Title = "Orphan endpoint: documented but never observed",
        Category = "orphan",
        Owasp = Inventory,
        Severity = Severity.Info,
        Service = service, Method = op.Method, PathTemplate = op.PathTemplate,
        Detail = $"{op.Key} is documented in {Path.GetFileName(spec.SourcePath)}{(op.Deprecated ? " (deprecated)" : "")} and was never seen in traffic",
        Count = 0,
        Source = Src(spec),
    };

    private static string StatusSummary(Endpoint e) =>
        "statuses " + string.Join(",", e.Observed.Statuses.OrderBy(kv => kv.Key).Select(kv => $"{kv.Key}×{kv.Value}"))
        + (e.Observed.Unauthenticated2xx > 0 ? $"; {e.Observed.Unauthenticated2xx} answered 2xx without credentials" : "");

    private static void Conformance(ApiSpec spec, SpecOperation op, Endpoint e, ServiceHeaderUsage usage, List<Finding> all)
    {
        var shape = e.Shape;
        var findings = new List<Finding>();
        Finding Make(string rule, string title, string severity, string location, string detail, long count) => new()
        {
            RuleId = rule, Title = title, Category = "conformance", Owasp = rule == "request-schema-violation" ? "API8:2023" : Inventory,
            Cwe = rule == "request-schema-violation" ? "CWE-20" : null, Severity = severity,
            Service = e.Service, Method = e.Method, PathTemplate = e.Template, Location = location, Detail = detail,
            FirstSeen = e.Observed.FirstSeen, LastSeen = e.Observed.LastSeen, Count = count, Source = Src(spec),
        };

        // Parameters: undocumented ones, and documented ones whose observed values break their schema.
        foreach (var p in EndpointParams.Of(e, usage))
        {
            if (p.Location == "path") continue;
            var doc = op.FindParameter(p.Location, p.Name);
            if (doc == null)
            {
                findings.Add(Make("undocumented-parameter", "Undocumented parameter", SensitiveNames.IsSensitive(p.Name) ? Severity.Medium : Severity.Low,
                    $"{p.Location}:{p.Name}", $"{p.Location} parameter '{p.Name}' is sent but not documented for {op.Key} (in {p.Present} requests)", p.Present));
                continue;
            }
            if (doc.Schema != null && ValueProblem(p.Values, doc.Schema) is { } problem)
                findings.Add(Make("request-schema-violation", "Request violates the documented schema", Severity.Low,
                    $"{p.Location}:{p.Name}", $"{p.Location} parameter '{p.Name}': {problem}", p.Present));
        }
        foreach (var doc in op.Parameters)
        {
            if (!doc.Required || doc.In == "path") continue;
            var stats = doc.In switch
            {
                "query" => shape.Query.GetValueOrDefault(doc.Name),
                "header" => shape.Header.GetValueOrDefault(doc.Name.ToLowerInvariant()),
                "cookie" => shape.Cookie.GetValueOrDefault(doc.Name),
                _ => null,
            };
            // Only what the learner keeps as parameters can be missing: credentials documented as parameters (Authorization,
            // X-Auth-Token, api_key, session cookies) are tracked as schemes, and transport headers (Host, Content-Type) are
            // never recorded, so judging those reported every request as missing the parameter.
            if (doc.In == "header" && HeaderRoles.Of(doc.Name.ToLowerInvariant()) is not (HeaderRole.Parameter or HeaderRole.Standard)) continue;
            if (doc.In == "query" && Credentials.IsCredentialQuery(doc.Name)) continue;
            if (doc.In == "cookie" && Credentials.IsSessionCookie(doc.Name)) continue;
            long missing = shape.Sampled - (stats?.Present ?? 0);
            if (missing > 0)
                findings.Add(Make("request-schema-violation", "Request violates the documented schema", Severity.Low, $"{doc.In}:{doc.Name}",
                    $"required {doc.In} parameter '{doc.Name}' was missing in {missing} of {shape.Sampled} requests{(shape.Sampled < shape.Requests ? " examined" : "")}", missing));
        }

        // Statuses.
        foreach (var (status, n) in e.Observed.Statuses.OrderBy(kv => kv.Key))
            if (op.FindResponse(status) == null)
                findings.Add(Make("undocumented-status", "Undocumented response status", status >= 500 ? Severity.Medium : Severity.Low,
                    $"status:{status}", $"{op.Key} answered {status} {n} times; the spec does not document it", n));

        // Response content types and properties.
        foreach (var (status, rs) in shape.Responses.OrderBy(kv => kv.Key))
        {
            var resp = op.FindResponse(status);
            if (resp == null) continue;
            foreach (var (media, bs) in rs.Content.OrderBy(kv => kv.Key, StringComparer.Ordinal))
            {
                var key = resp.Content.Count == 0 ? null : resp.MatchContentType(media);
                if (key == null)
                {
                    findings.Add(Make("undocumented-content-type", "Undocumented content type", Severity.Low, $"response:{status}:{media}",
                        resp.Content.Count == 0 ? $"{status} responses carry {media} bodies; the spec documents no body" : $"{status} responses are {media}; the spec documents {string.Join(", ", resp.Content.Keys)}", bs.Count));
                    continue;
                }
                if (resp.Content[key] is { } schema && bs.Schema.Count > 0)
                    foreach (var path in UndocumentedProperties(bs.Schema, schema, "$"))
                        findings.Add(Make("undocumented-response-property", "Undocumented response property",
                            SensitiveNames.IsSensitive(path[(path.LastIndexOf('.') + 1)..]) ? Severity.Medium : Severity.Low,
                            $"response:{status}:{media}:{path}", $"{status} {media} responses contain {path}, which the spec does not document", bs.Count));
            }
        }

        // Request bodies: content types, then the schema (bodies the server accepted apart from those it refused).
        foreach (var (accepted, bodies) in new[] { (true, shape.RequestBodies), (false, shape.RejectedBodies) })
            foreach (var (media, bs) in bodies.OrderBy(kv => kv.Key, StringComparer.Ordinal))
            {
                var key = op.RequestBody?.MatchContentType(media);
                if (key == null)
                {
                    if (accepted || shape.RequestBodies.Count == 0)
                        findings.Add(Make("undocumented-content-type", "Undocumented content type", Severity.Low, $"request:{media}",
                            op.RequestBody == null ? $"requests carry {media} bodies; the spec documents no request body" : $"requests are {media}; the spec documents {string.Join(", ", op.RequestBody.Content.Keys)}", bs.Count));
                    continue;
                }
                if (op.RequestBody!.Content[key] is not { } schema || bs.Schema.Count == 0) continue;
                var problems = new List<(string Path, string Problem)>();
                BodyProblems(bs.Schema, schema, "$", problems);
                foreach (var (path, problem) in problems)
                    findings.Add(Make("request-schema-violation", "Request violates the documented schema", accepted ? Severity.Medium : Severity.Low,
                        $"request:{media}:{path}", $"{path}: {problem}" + (accepted ? " (accepted by the server)" : " (refused with 4xx)"), bs.Count));
            }

        // One finding per rule and place. Two problems at one place (a required property missing in some bodies and too long
        // in others; bad bodies both accepted and refused; a parameter both missing and of the wrong type) share an id, and
        // the store keeps one row per id, so the second problem was silently lost: they are told together instead.
        foreach (var g in findings.GroupBy(f => f.Id))
        {
            var first = g.First();
            all.Add(g.Count() == 1 ? first : first with
            {
                Detail = string.Join("; ", g.Select(f => f.Detail)),
                Severity = g.MaxBy(f => Severity.Rank(f.Severity))!.Severity,
                Count = g.Max(f => f.Count),
            });
        }
    }

    /// <summary>Property paths our schema has and the documented one does not ($.owner.email); free-form objects document everything.</summary>
    public static List<string> UndocumentedProperties(SchemaNode ours, SpecSchema doc, string path)
    {
        var list = new List<string>();
        Undocumented(ours, doc, path, list, 0);
        return list;
    }

    private static void Undocumented(SchemaNode ours, SpecSchema doc, string path, List<string> list, int depth)
    {
        if (depth > SchemaNode.MaxDepth || doc.IsUnconstrained) return;
        var alts = doc.OneOf.Concat(doc.AnyOf).ToList();
        if (alts.Any(a => a.IsUnconstrained)) return;
        var all = alts.Prepend(doc).ToList();
        if (ours.Properties is { Count: > 0 })
        {
            var documented = all.SelectMany(a => a.Properties).GroupBy(kv => kv.Key).ToDictionary(g => g.Key, g => g.First().Value);
            bool freeForm = documented.Count == 0 && all.Any(a => a.AdditionalPropertiesAllowed && (a.Types.Count == 0 || a.Types.Contains(JsonType.Object)));
            if (!freeForm)
                foreach (var (k, child) in ours.Properties)
                {
                    if (documented.TryGetValue(k, out var sub)) Undocumented(child, sub, path + "." + k, list, depth + 1);
                    else if (!all.Any(a => a.AdditionalProperties != null)) list.Add(path + "." + k);
                }
        }
        if (ours.Items != null && all.Select(a => a.Items).FirstOrDefault(i => i != null) is { } items)
            Undocumented(ours.Items, items, path + "[]", list, depth + 1);
    }

    private static void BodyProblems(SchemaNode n, SpecSchema s, string path, List<(string, string)> problems, int depth = 0)
    {
        if (depth > SchemaNode.MaxDepth || s.IsUnconstrained || s.OneOf.Count > 0 || s.AnyOf.Count > 0) return;
        if (s.Types.Count > 0)
        {
            var bad = new List<string>();
            if (n.ObjectCount > 0 && !s.Types.Contains(JsonType.Object)) bad.Add($"object×{n.ObjectCount}");
            if (n.ArrayCount > 0 && !s.Types.Contains(JsonType.Array)) bad.Add($"array×{n.ArrayCount}");
            if (bad.Count > 0) problems.Add((path, $"expected {string.Join("|", s.Types.Order())}, saw {string.Join(", ", bad)}"));
        }
        if (n.ObjectCount > 0)
        {
            foreach (var r in s.Required.Order(StringComparer.Ordinal))
            {
                long present = n.Properties?.GetValueOrDefault(r)?.Count ?? 0;
                if (present < n.ObjectCount) problems.Add((path + "." + r, $"required property missing in {n.ObjectCount - present} of {n.ObjectCount} bodies"));
            }
            if (n.Properties != null)
                foreach (var (k, child) in n.Properties)
                    if (s.Properties.TryGetValue(k, out var sub)) BodyProblems(child, sub, path + "." + k, problems, depth + 1);
                    else if (!s.AdditionalPropertiesAllowed) problems.Add((path + "." + k, "property not allowed (additionalProperties: false)"));
        }
        if (n.Items != null && s.Items != null) BodyProblems(n.Items, s.Items, path + "[]", problems, depth + 1);
        if (n.Scalar is { Count: > 0 } v && ValueProblem(v, s) is { } p) problems.Add((path, p));
    }

    /// <summary>What is wrong with observed values against a documented scalar schema: type, enum, length; null when nothing.</summary>
    public static string? ValueProblem(ValueStats v, SpecSchema s)
    {
        if (s.IsUnconstrained || s.OneOf.Count > 0 || s.AnyOf.Count > 0 || v.Count == 0) return null;
        var problems = new List<string>();
        var types = s.Types;
        bool nullOk = s.Nullable || types.Contains(JsonType.Null);
        if (types.Count > 0)
        {
            long strings = v.StringCount, ints = v.IntegerCount, nums = v.NumberCount, bools = v.BooleanCount, nulls = v.NullCount;
            bool str = types.Contains(JsonType.String), num = types.Contains(JsonType.Number), integer = types.Contains(JsonType.Integer), boolean = types.Contains(JsonType.Boolean);
            // Text (query, header, form fields) is a string to any string schema, and a number or boolean when it parses
            // as one; JSON values must have the documented type.
            long ok = (str ? strings : 0) + (integer || num ? ints : 0) + (num ? nums : 0) + (boolean ? bools : 0) + (nullOk ? nulls : 0);
            if (!v.Typed && str) ok = strings + ints + nums + bools + nulls;
            long bad = strings + ints + nums + bools + nulls - ok;
            if (bad > 0) problems.Add($"expected {string.Join("|", types.Order())}, {bad} of {v.Count} values were not");
        }
        if (s.Enum is { Count: > 0 } en)
        {
            var allowed = en.ToHashSet(StringComparer.Ordinal);
            if (v.Values != null)
            {
                long outside = v.Values.Where(kv => !allowed.Contains(kv.Key)).Sum(kv => kv.Value);
                if (outside > 0) problems.Add($"{outside} values outside the documented enum");
            }
            else if (v.Distinct > en.Count) problems.Add($"more distinct values ({v.Distinct}+) than the documented enum allows ({en.Count})");
        }
        bool isString = types.Count == 0 || types.Contains(JsonType.String);
        if (isString && s.MaxLength is int max && v.MaxLength > max) problems.Add($"values up to {v.MaxLength} characters, maxLength {max}");
        // Empty text values (?q=) are counted apart and never reach MinLength, but they are zero characters long.
        int shortest = v.EmptyCount > 0 ? 0 : v.MinLength;
        if (isString && s.MinLength is int min && shortest < min && shortest != int.MaxValue) problems.Add($"values as short as {shortest} characters, minLength {min}");
        return problems.Count == 0 ? null : string.Join("; ", problems);
    }
}
