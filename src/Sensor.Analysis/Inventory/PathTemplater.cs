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
        private Dictionary<string, Node>? _children;   // made for the first child: most nodes are leaves (one per id)
        public long Hits;              // requests ending here
        public long Through;           // requests ending here or below
        public long Ok, ClientErrors;  // outcomes of requests ending here or below
        private string? _method;       // methods of requests ending here or below: one inline, a set past that
        private HashSet<string>? _methods;
        public bool IsValue;           // a value under its parent in the templates last built

        public Dictionary<string, Node> Children => _children ??= new(StringComparer.Ordinal);
        public int ChildCount => _children?.Count ?? 0;

        public Node Child(ReadOnlySpan<char> seg)
        {
            var lookup = Children.GetAlternateLookup<ReadOnlySpan<char>>();
            if (!lookup.TryGetValue(seg, out var next)) lookup[seg] = next = new Node();
            return next;
        }

        public IEnumerable<string> Methods => _methods ?? (_method == null ? [] : [_method]);

        public void AddMethod(string m)
        {
            if (_methods != null) _methods.Add(m);
            else if (_method == null || _method == m) _method = m;
            else _methods = [_method, m];
        }

        public void Absorb(Node o)
        {
            Hits += o.Hits; Through += o.Through; Ok += o.Ok; ClientErrors += o.ClientErrors;
            if (o._methods != null) foreach (var m in o._methods) AddMethod(m);
            else if (o._method != null) AddMethod(o._method);
            if (o._children == null) return;
            foreach (var (k, c) in o._children)
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
        var rest = WithoutQuery(path);
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
        var rest = WithoutQuery(path);
        foreach (var range in rest.Split('/'))
        {
            if (range.Start.Equals(range.End)) continue;
            node = node.Child(rest[range]);
            Count(node, method, count, ok, clientErrors);
        }
        node.Hits += count;
    }

    private static ReadOnlySpan<char> WithoutQuery(string path)
    {
        var rest = path.AsSpan();
        int q = rest.IndexOfAny('?', '#');
        return q >= 0 ? rest[..q] : rest;
    }

    private static void Count(Node n, string method, long count, long ok, long clientErrors)
    {
        n.Through += count;
        n.AddMethod(method);
        n.Ok += ok;
        n.ClientErrors += clientErrors;
    }

    public IReadOnlyList<PathTemplate> Templates { get { Build(); return _templates; } }

    /// <summary>The template a concrete path belongs to (null if it was never seen in that shape).</summary>
    public PathTemplate? Resolve(string path)
    {
        var t = Build();
        var rest = WithoutQuery(path);
        foreach (var range in rest.Split('/'))
        {
            if (range.Start.Equals(range.End)) continue;
            if (t.Literal.Count > 0 && t.Literal.GetAlternateLookup<ReadOnlySpan<char>>().TryGetValue(rest[range], out var lit)) t = lit;
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
        if (n.ChildCount == 0) return t;

        bool allowVariable = depth > 0 && prev != null && !prev.Equals("api", StringComparison.OrdinalIgnoreCase)
            && SegmentClassifier.Classify(prev) != SegmentKind.Version;
        // Thousands of ids can sit under one parent: values are marked on their nodes, not gathered in tables.
        int values = 0;
        var kindCount = new int[KindCount];
        var kindFirst = new int[KindCount];   // order of the kind's first value: ties go to the earlier kind
        List<(string Seg, Node Child)>? words = null;
        foreach (var (seg, child) in n.Children)
        {
            child.IsValue = false;
            if (!allowVariable) continue;
            var k = SegmentClassifier.Classify(seg);
            if (SegmentClassifier.IsIdLike(k) || k == SegmentKind.Mixed) MarkValue(child, k);
            else if (k == SegmentKind.Word) (words ??= []).Add((seg, child));
        }
        if (words != null)
        {
            if (words.Count >= SlugCardinality)
            {
                // Many interchangeable names: values, except one called with methods no other sibling
                // shares (POST /users/login beside GET /users/{userName}).
                var usedBy = new Dictionary<string, int>();
                foreach (var (_, c) in words) foreach (var m in c.Methods) usedBy[m] = usedBy.GetValueOrDefault(m) + 1;
                foreach (var (_, c) in words)
                    if (c.Methods.Any(m => usedBy[m] > 1)) MarkValue(c, SegmentKind.Word);
            }
            else if (values > 0)
            {
                // Beside an id template, a word that only ever drew client errors is a probe of it (/pets/abc).
                foreach (var (_, c) in words)
                    if (c.Ok == 0 && c.ClientErrors > 0) MarkValue(c, SegmentKind.Word);
            }
        }

        foreach (var (seg, child) in n.Children)
        {
            if (child.IsValue) continue;
            parts.Add(seg);
            t.Literal[seg] = Shape(child, parts, ps, depth + 1, seg);
            parts.RemoveAt(parts.Count - 1);
        }
        if (values > 0)
        {
            var merged = new Node();
            foreach (var child in n.Children.Values)
                if (child.IsValue) merged.Absorb(child);
            var kind = SegmentKind.Word;
            for (int k = 0; k < KindCount; k++)
                if (kindCount[k] > kindCount[(int)kind] || kindCount[k] == kindCount[(int)kind] && kindCount[k] > 0 && kindFirst[k] < kindFirst[(int)kind])
                    kind = (SegmentKind)k;
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

        void MarkValue(Node child, SegmentKind k)
        {
            child.IsValue = true;
            if (kindCount[(int)k]++ == 0) kindFirst[(int)k] = values;
            values++;
        }
    }

    private static readonly int KindCount = Enum.GetValues<SegmentKind>().Length;

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
