using System.Text;
using System.Text.RegularExpressions;

namespace Sensor.Analysis.Specs;

/// <summary>The result of matching an observed request against a spec.</summary>
/// <param name="Operation">The documented operation, or null.</param>
/// <param name="PathTemplate">The spec path the request falls under (as written in the spec), or null when no path matches.</param>
/// <param name="BasePath">The base path that was stripped ("" when none).</param>
/// <param name="PathValues">Values of the spec's path variables taken from concrete segments (variables of a templated path are left out).</param>
public sealed record SpecMatch(SpecOperation? Operation, string? PathTemplate, string BasePath, IReadOnlyDictionary<string, string> PathValues)
{
    public static readonly SpecMatch None = new(null, null, "", new Dictionary<string, string>());

    public bool PathFound => PathTemplate != null;
    /// <summary>The path is documented but not with this method.</summary>
    public bool MethodNotDocumented => Operation == null && PathTemplate != null;
}

/// <summary>
/// Finds the spec operation for an observed request path, concrete (/v1/pets/42) or templated by the inventory (/v1/pets/{petId}).
/// Rules: a base path of the spec is stripped first (longest first; the path is also tried as-is unless
/// <c>requireBasePath</c>); per segment a literal beats a mixed segment ({name}.{ext}, v{n}) which beats a whole-segment
/// variable, trying the next choice when the first leads nowhere; an observed {variable} matches only a whole-segment spec
/// variable; trailing and doubled slashes and the query are ignored. The method is part of the choice: when the most literal
/// path lacks it, a more general path that has it wins (GET /users/login goes to GET /users/{username} when /users/login is
/// POST only), as routers that filter candidates by method do. Immutable after construction; safe to share between threads.
/// </summary>
public sealed class SpecPathMatcher
{
    private sealed class Node
    {
        public Dictionary<string, Node>? Literal;
        public List<(MixedSegment Pattern, Node Next)>? Mixed;
        public Node? Variable;
        public List<Entry>? Ends;
    }

    private sealed class Entry(string template, Segment[] segments)
    {
        public readonly string Template = template;
        public readonly Segment[] Segments = segments;
        public readonly Dictionary<string, SpecOperation> ByMethod = new(StringComparer.Ordinal);
    }

    private abstract record Segment;
    private sealed record LiteralSegment(string Text) : Segment;
    private sealed record VariableSegment(string Name) : Segment;
    private sealed record MixedSegment(string Text, Regex Regex, string[] Names) : Segment
    {
        public int LiteralLength { get; } = Regex.Replace(Text, @"\{[^{}]*\}", "").Length;
    }

    private readonly Node _root = new();
    private readonly string[][] _basePaths;   // longest first
    private readonly bool _requireBasePath;

    public ApiSpec Spec { get; }

    public SpecPathMatcher(ApiSpec spec, bool requireBasePath = false)
    {
        Spec = spec;
        _requireBasePath = requireBasePath;
        _basePaths = spec.BasePaths.Select(b => Split(b)).DistinctBy(b => string.Join('/', b)).OrderByDescending(b => b.Length).ToArray();
        var entries = new Dictionary<string, Entry>(StringComparer.Ordinal);
        foreach (var op in spec.Operations)
        {
            if (!entries.TryGetValue(op.PathTemplate, out var e))
            {
                var segs = Split(op.PathTemplate).Select(Parse).ToArray();
                entries[op.PathTemplate] = e = new Entry(op.PathTemplate, segs);
                var node = _root;
                foreach (var seg in segs) node = Child(node, seg);
                (node.Ends ??= []).Add(e);
            }
            e.ByMethod.TryAdd(op.Method, op);
        }
        foreach (var n in Nodes(_root))
            n.Mixed?.Sort((a, b) => b.Pattern.LiteralLength.CompareTo(a.Pattern.LiteralLength));
    }

    /// <summary>Matches a request; <paramref name="path"/> may carry a query, which is ignored.</summary>
    public SpecMatch Match(string method, string path)
    {
        method = method.ToUpperInvariant();
        var segs = Split(path);
        (Entry Entry, int Skip)? fallback = null;
        bool anyBase = false;
        foreach (var b in _basePaths)
        {
            if (!StartsWith(segs, b)) continue;
            anyBase = true;
            if (Find(segs, b.Length, method, ref fallback) is { } e) return Result(e, method, segs, b.Length);
        }
        if (!anyBase && !_requireBasePath && Find(segs, 0, method, ref fallback) is { } e0) return Result(e0, method, segs, 0);
        return fallback is { } f ? Result(f.Entry, method, segs, f.Skip) : SpecMatch.None;
    }

    /// <summary>The spec path template a request path falls under, whatever the method (null if none).</summary>
    public string? MatchPath(string path) => Match(NoMethod, path).PathTemplate;

    private const string NoMethod = "\0";   // never a documented method, so the most literal path wins

    private Entry? Find(string[] segs, int skip, string method, ref (Entry, int)? fallback)
    {
        Entry? firstPath = null;
        var found = Walk(_root, segs, skip, method, ref firstPath);
        if (found == null && firstPath != null) fallback ??= (firstPath, skip);
        return found;
    }

    /// <summary>Depth-first in priority order; the first path reached at all is remembered as the fallback.</summary>
    private static Entry? Walk(Node n, string[] segs, int i, string method, ref Entry? firstPath)
    {
        if (i == segs.Length)
        {
            if (n.Ends == null) return null;
            foreach (var e in n.Ends) if (e.ByMethod.ContainsKey(method)) return e;
            firstPath ??= n.Ends[0];
            return null;
        }
        string seg = segs[i];
        if (IsTemplateVariable(seg))
            return n.Variable != null ? Walk(n.Variable, segs, i + 1, method, ref firstPath) : null;
        string value = Decode(seg);
        if (n.Literal != null && (n.Literal.TryGetValue(seg, out var lit) || (!ReferenceEquals(value, seg) && n.Literal.TryGetValue(value, out lit)))
            && Walk(lit, segs, i + 1, method, ref firstPath) is { } a) return a;
        if (n.Mixed != null)
            foreach (var (pattern, next) in n.Mixed)
                if (pattern.Regex.IsMatch(value) && Walk(next, segs, i + 1, method, ref firstPath) is { } b) return b;
        return n.Variable != null ? Walk(n.Variable, segs, i + 1, method, ref firstPath) : null;
    }

    private static SpecMatch Result(Entry e, string method, string[] segs, int skip)
    {
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        for (int k = 0; k < e.Segments.Length; k++)
        {
            string seg = segs[skip + k];
            if (IsTemplateVariable(seg)) continue;
            switch (e.Segments[k])
            {
                case VariableSegment v:
                    values[v.Name] = Decode(seg);
                    break;
                case MixedSegment m when m.Regex.Match(Decode(seg)) is { Success: true } match:
                    for (int g = 0; g < m.Names.Length; g++)
                        if (!IsTemplateVariable(match.Groups[g + 1].Value)) values[m.Names[g]] = match.Groups[g + 1].Value;
                    break;
            }
        }
        string basePath = skip == 0 ? "" : "/" + string.Join('/', segs.Take(skip));
        return new SpecMatch(e.ByMethod.GetValueOrDefault(method), e.Template, basePath, values);
    }

    private static Node Child(Node n, Segment seg)
    {
        switch (seg)
        {
            case LiteralSegment l:
                n.Literal ??= new Dictionary<string, Node>(StringComparer.Ordinal);
                if (!n.Literal.TryGetValue(l.Text, out var lit)) n.Literal[l.Text] = lit = new Node();
                return lit;
            case MixedSegment m:
                n.Mixed ??= [];
                foreach (var (p, next) in n.Mixed) if (p.Text == m.Text) return next;
                var node = new Node();
                n.Mixed.Add((m, node));
                return node;
            default:
                return n.Variable ??= new Node();
        }
    }

    private static IEnumerable<Node> Nodes(Node n)
    {
        yield return n;
        foreach (var c in n.Literal?.Values ?? Enumerable.Empty<Node>()) foreach (var x in Nodes(c)) yield return x;
        foreach (var (_, c) in n.Mixed ?? []) foreach (var x in Nodes(c)) yield return x;
        if (n.Variable != null) foreach (var x in Nodes(n.Variable)) yield return x;
    }

    private static Segment Parse(string seg)
    {
        if (IsTemplateVariable(seg)) return new VariableSegment(seg[1..^1]);
        if (!seg.Contains('{')) return new LiteralSegment(seg);
        // {name}.{ext}, v{version}, {model}:predict — each variable takes at least one character.
        var rx = new StringBuilder("^");
        var names = new List<string>();
        int pos = 0;
        foreach (Match m in Regex.Matches(seg, @"\{([^{}]+)\}"))
        {
            rx.Append(Regex.Escape(seg[pos..m.Index])).Append("(.+?)");
            names.Add(m.Groups[1].Value);
            pos = m.Index + m.Length;
        }
        rx.Append(Regex.Escape(seg[pos..])).Append('$');
        return new MixedSegment(seg, new Regex(rx.ToString(), RegexOptions.CultureInvariant | RegexOptions.Singleline), names.ToArray());
    }

    private static bool IsTemplateVariable(string seg) =>
        seg.Length > 2 && seg[0] == '{' && seg[^1] == '}' && seg.AsSpan(1, seg.Length - 2).IndexOfAny('{', '}') < 0;

    private static string Decode(string seg)
    {
        if (!seg.Contains('%')) return seg;
        try { return Uri.UnescapeDataString(seg); } catch (UriFormatException) { return seg; }
    }

    private static string[] Split(string path)
    {
        int q = path.IndexOfAny(['?', '#']);
        if (q >= 0) path = path[..q];
        return path.Split('/', StringSplitOptions.RemoveEmptyEntries);
    }

    private static bool StartsWith(string[] segs, string[] prefix)
    {
        if (prefix.Length > segs.Length) return false;
        for (int i = 0; i < prefix.Length; i++)
            if (prefix[i] != segs[i] && !IsTemplateVariable(prefix[i])) return false;   // {var} left in a server URL without a default
        return true;
    }
}
