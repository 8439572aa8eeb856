namespace Sensor.Analysis.Inventory;

/// <summary>A learned path template such as /pets/{petId}/photos.</summary>
public sealed record PathTemplate(string Template, IReadOnlyList<PathParam> Params);

public sealed record PathParam(string Name, int Position, SegmentKind Kind);

/// <summary>
/// Learns path templates from observed request paths of one service. Values are told from names by what
/// a segment looks like (ids, UUIDs, hashes, prefixed ids, dates, emails are values even when seen once)
/// and, for plain words, by the cardinality and behaviour of the siblings: many interchangeable words
/// under one parent are values (slugs, usernames); words that only ever drew 4xx next to an id template
/// are probes of it. Static siblings stay static (/users/me beside /users/{userId}), and neither the first
/// segment nor the one after "api" or a version becomes a variable.
/// Not thread-safe: one instance per service, fed from one thread.
/// </summary>
public sealed class PathTemplater
{
    /// <summary>Distinct plain-word siblings from which words are treated as values.</summary>
    public int SlugCardinality { get; init; } = 8;

    private sealed class Node
    {
        public readonly Dictionary<string, Node> Children = new(StringComparer.Ordinal);
        public long Hits;              // requests ending here
        public long Through;           // requests ending here or below
        public long Ok, ClientErrors;  // outcomes of requests ending here or below
        public readonly HashSet<string> Methods = [];   // methods of requests ending here or below

        public void Absorb(Node o)
        {
            Hits += o.Hits; Through += o.Through; Ok += o.Ok; ClientErrors += o.ClientErrors;
            Methods.UnionWith(o.Methods);
            foreach (var (k, c) in o.Children)
            {
                if (!Children.TryGetValue(k, out var mine)) Children[k] = mine = new Node();
                mine.Absorb(c);
            }
        }
    }

    private sealed class TNode
    {
        public readonly Dictionary<string, TNode> Literal = new(StringComparer.Ordinal);
        public TNode? Variable;
        public SegmentKind VariableKind;
        public string? VariableName;
        public PathTemplate? Template;     // a template ends here
    }

    private readonly Node _root = new();
    private TNode? _built;
    private List<PathTemplate> _templates = [];

    public static string[] Segments(string path)
    {
        int q = path.IndexOfAny(['?', '#']);
        if (q >= 0) path = path[..q];
        return path.Split('/', StringSplitOptions.RemoveEmptyEntries);
    }

    /// <summary>The <paramref name="index"/>th of <see cref="Segments"/>, without splitting the path (empty when there is none).</summary>
    public static ReadOnlySpan<char> Segment(string path, int index)
    {
        var rest = path.AsSpan();
        int q = rest.IndexOfAny('?', '#');
        if (q >= 0) rest = rest[..q];
        foreach (var range in rest.Split('/'))
        {
            if (range.Start.Equals(range.End)) continue;
            if (index-- == 0) return rest[range];
        }
        return default;
    }

    public void Observe(string path, string method, int? status) =>
        Observe(path, method, 1, status is >= 200 and < 400 ? 1 : 0, status is >= 400 and < 500 ? 1 : 0);

    /// <summary>Adds <paramref name="count"/> requests at once, of which ok succeeded (2xx/3xx) and clientErrors drew 4xx.</summary>
    public void Observe(string path, string method, long count, long ok, long clientErrors)
    {
        _built = null;
        var node = _root;
        Count(node, method, count, ok, clientErrors);
        foreach (var seg in Segments(path))
        {
            if (!node.Children.TryGetValue(seg, out var next)) node.Children[seg] = next = new Node();
            node = next;
            Count(node, method, count, ok, clientErrors);
        }
        node.Hits += count;
    }

    private static void Count(Node n, string method, long count, long ok, long clientErrors)
    {
        n.Through += count;
        n.Methods.Add(method);
        n.Ok += ok;
        n.ClientErrors += clientErrors;
    }

    public IReadOnlyList<PathTemplate> Templates { get { Build(); return _templates; } }

    /// <summary>The template a concrete path belongs to (null if it was never seen in that shape).</summary>
    public PathTemplate? Resolve(string path)
    {
        var t = Build();
        foreach (var seg in Segments(path))
        {
            if (t.Literal.TryGetValue(seg, out var lit)) t = lit;
            else if (t.Variable != null) t = t.Variable;
            else return null;
        }
        return t.Template;
    }

    private TNode Build()
    {
        if (_built != null) return _built;
        _templates = [];
        _built = Shape(_root, [], [], 0, prev: null);
        return _built;
    }

    private TNode Shape(Node n, List<string> parts, List<PathParam> ps, int depth, string? prev)
    {
        var t = new TNode();
        if (n.Hits > 0)
        {
            t.Template = new PathTemplate("/" + string.Join('/', parts), ps.ToList());
            _templates.Add(t.Template);
        }
        if (n.Children.Count == 0) return t;

        var kinds = n.Children.Keys.ToDictionary(k => k, SegmentClassifier.Classify);
        bool allowVariable = depth > 0 && prev != null && !prev.Equals("api", StringComparison.OrdinalIgnoreCase)
            && SegmentClassifier.Classify(prev) != SegmentKind.Version;
        var values = new List<string>();
        if (allowVariable)
        {
            values.AddRange(kinds.Where(k => SegmentClassifier.IsIdLike(k.Value) || k.Value == SegmentKind.Mixed).Select(k => k.Key));
            var words = kinds.Where(k => k.Value == SegmentKind.Word).Select(k => k.Key).ToList();
            if (words.Count >= SlugCardinality)
            {
                // Many interchangeable names: values, except one called with methods no other sibling
                // shares (POST /users/login beside GET /users/{userName}).
                var usedBy = new Dictionary<string, int>();
                foreach (var w in words) foreach (var m in n.Children[w].Methods) usedBy[m] = usedBy.GetValueOrDefault(m) + 1;
                values.AddRange(words.Where(w => n.Children[w].Methods.Any(m => usedBy[m] > 1)));
            }
            else if (values.Count > 0)
            {
                // Beside an id template, a word that only ever drew client errors is a probe of it (/pets/abc).
                values.AddRange(words.Where(w => n.Children[w].Ok == 0 && n.Children[w].ClientErrors > 0));
            }
        }

        // Thousands of ids can sit under one parent: look them up in a set, not the list.
        var isValue = values.Count == 0 ? null : new HashSet<string>(values, StringComparer.Ordinal);
        foreach (var (seg, child) in n.Children)
        {
            if (isValue != null && isValue.Contains(seg)) continue;
            parts.Add(seg);
            t.Literal[seg] = Shape(child, parts, ps, depth + 1, seg);
            parts.RemoveAt(parts.Count - 1);
        }
        if (values.Count > 0)
        {
            var merged = new Node();
            foreach (var v in values) merged.Absorb(n.Children[v]);
            var kind = values.GroupBy(v => kinds[v]).OrderByDescending(g => g.Count()).First().Key;
            string name = Unique(ParamName(prev, kind), ps);
            t.VariableKind = kind;
            t.VariableName = name;
            parts.Add("{" + name + "}");
            ps.Add(new PathParam(name, depth, kind));
            t.Variable = Shape(merged, parts, ps, depth + 1, prev: "{" + name + "}");
            ps.RemoveAt(ps.Count - 1);
            parts.RemoveAt(parts.Count - 1);
        }
        return t;
    }

    private static string Unique(string name, List<PathParam> ps)
    {
        string n = name;
        for (int i = 2; ps.Any(p => p.Name == n); i++) n = name + i;
        return n;
    }

    /// <summary>{petId} under "pets", {ownerName} for slugs under "owners", {date}, {email}; {id} without a named parent.</summary>
    public static string ParamName(string? parent, SegmentKind kind)
    {
        string? noun = parent == null || parent.StartsWith('{') || parent.Any(c => !char.IsAsciiLetter(c) && c is not '-' and not '_')
            ? null : Camel(Singular(parent));
        string suffix = kind switch
        {
            SegmentKind.Date => "Date",
            SegmentKind.Email => "Email",
            SegmentKind.Word => "Name",
            _ => "Id",
        };
        return noun == null ? char.ToLowerInvariant(suffix[0]) + suffix[1..] : noun + suffix;
    }

    private static string Camel(string s)
    {
        var parts = s.Split(['-', '_'], StringSplitOptions.RemoveEmptyEntries);
        if (parts.Length == 0) return s;
        return parts[0].ToLowerInvariant() + string.Concat(parts.Skip(1).Select(p => char.ToUpperInvariant(p[0]) + p[1..].ToLowerInvariant()));
    }

    public static string Singular(string w)
    {
        string l = w.ToLowerInvariant();
        if (l == "people") return "person";
        if (l == "children") return "child";
        if (l.EndsWith("ies") && l.Length > 4) return w[..^3] + "y";
        if (l.EndsWith("sses") || l.EndsWith("xes") || l.EndsWith("ches") || l.EndsWith("shes") || l.EndsWith("zes")) return w[..^2];
        if (l.EndsWith('s') && !l.EndsWith("ss") && !l.EndsWith("us") && l.Length > 3) return w[..^1];
        return w;
    }
}
