using System.Text;

namespace Sensor.Storage;

public sealed class FilterSyntaxException(string message) : Exception(message);

/// <summary>
/// The short filter language of `sensor findings`, translated to a parameterised SQL condition (values never
/// become SQL text, so a filter cannot inject anything):
/// <code>
///   severity:high and owasp:API2 and path:/users*      not status:fixed      risk>=60 or (rule:jwt-* and service:api.example.com)
/// </code>
/// Terms are field:value (or field&gt;=, &gt;, &lt;=, &lt;, = value for severity, risk and count); words are joined by
/// and (also implied), or, not and parentheses. Values may be "quoted"; * matches anything. Text matches
/// ignore case; owasp and cwe match by prefix (owasp:API2 is API2:2023, cwe:89 is CWE-89).
/// </summary>
public static class FindingsFilter
{
    private static readonly Dictionary<string, string> Columns = new(StringComparer.OrdinalIgnoreCase)
    {
        ["severity"] = "severity", ["status"] = "status", ["rule"] = "rule_id", ["rule_id"] = "rule_id", ["category"] = "category",
        ["owasp"] = "owasp", ["cwe"] = "cwe", ["service"] = "service", ["host"] = "service", ["method"] = "method",
        ["path"] = "path_template", ["template"] = "path_template", ["location"] = "location", ["title"] = "title",
        ["detail"] = "detail", ["source"] = "source", ["risk"] = "risk_score", ["count"] = "count",
    };

    public static IReadOnlyCollection<string> Fields => Columns.Keys;

    private const string SeverityRank = "(case severity when 'info' then 0 when 'low' then 1 when 'medium' then 2 when 'high' then 3 when 'critical' then 4 else -1 end)";

    /// <summary>SQL condition and its parameters; "true" for an empty filter.</summary>
    public static (string Sql, List<object> Args) ToSql(string? filter)
    {
        var args = new List<object>();
        if (string.IsNullOrWhiteSpace(filter)) return ("true", args);
        var p = new Parser(Tokenize(filter), args);
        var sql = p.Or();
        if (!p.AtEnd) throw new FilterSyntaxException($"unexpected '{p.Peek}'");
        return (sql, args);
    }

    private static List<string> Tokenize(string s)
    {
        var tokens = new List<string>();
        int i = 0;
        while (i < s.Length)
        {
            char c = s[i];
            if (char.IsWhiteSpace(c)) { i++; continue; }
            if (c is '(' or ')') { tokens.Add(c.ToString()); i++; continue; }
            var sb = new StringBuilder();
            while (i < s.Length && !char.IsWhiteSpace(s[i]) && s[i] is not '(' and not ')')
            {
                if (s[i] == '"')
                {
                    int end = s.IndexOf('"', i + 1);
                    if (end < 0) throw new FilterSyntaxException("unterminated quote");
                    sb.Append('\u0001').Append(s, i + 1, end - i - 1).Append('\u0001');   // quoted: spaces and parentheses kept
                    i = end + 1;
                    continue;
                }
                sb.Append(s[i++]);
            }
            tokens.Add(sb.ToString());
        }
        return tokens;
    }

    private sealed class Parser(List<string> tokens, List<object> args)
    {
        private int _pos;
        public bool AtEnd => _pos >= tokens.Count;
        public string Peek => AtEnd ? "" : tokens[_pos];
        private bool IsWord(string w) => !AtEnd && string.Equals(tokens[_pos], w, StringComparison.OrdinalIgnoreCase);

        public string Or()
        {
            var left = And();
            while (IsWord("or")) { _pos++; left = $"({left} or {And()})"; }
            return left;
        }

        private string And()
        {
            var left = Not();
            while (!AtEnd && Peek != ")" && !IsWord("or"))
            {
                if (IsWord("and")) _pos++;
                left = $"({left} and {Not()})";
            }
            return left;
        }

        private string Not()
        {
            if (IsWord("not")) { _pos++; return $"(not coalesce({Not()}, false))"; }
            if (Peek == "(")
            {
                _pos++;
                var inner = Or();
                if (Peek != ")") throw new FilterSyntaxException("missing ')'");
                _pos++;
                return inner;
            }
            if (AtEnd) throw new FilterSyntaxException("a term is missing at the end");
            return Term(tokens[_pos++]);
        }

        private string Term(string t)
        {
            foreach (var op in (string[])[">=", "<=", ">", "<", ":", "="])
            {
                int at = t.IndexOf(op, StringComparison.Ordinal);
                if (at <= 0) continue;
                // The first operator in the term wins (":" inside a value such as owasp:API2:2023 stays in the value).
                int first = new[] { ">=", "<=", ">", "<", ":", "=" }.Select(o => t.IndexOf(o, StringComparison.Ordinal)).Where(x => x > 0).Min();
                if (at != first) continue;
                var field = t[..at];
                var value = t[(at + op.Length)..].Replace("\u0001", "");
                if (!Columns.TryGetValue(field, out var col))
                    throw new FilterSyntaxException($"unknown field '{field}' (fields: {string.Join(", ", Columns.Keys.Order())})");
                if (value.Length == 0) throw new FilterSyntaxException($"no value for '{field}'");
                return Condition(field.ToLowerInvariant(), col, op, value);
            }
            throw new FilterSyntaxException($"'{t.Replace("\u0001", "\"")}' is not field:value (fields: {string.Join(", ", Columns.Keys.Order())})");
        }

        private string Param(object v) { args.Add(v); return "?"; }

        private string Condition(string field, string col, string op, string value)
        {
            bool compare = op is ">=" or "<=" or ">" or "<" || (op == "=" && field is "risk" or "count" or "severity");
            if (field == "severity" && (compare || op == ":"))
            {
                int rank = Array.IndexOf(Sensor.Analysis.Findings.Severity.Ordered, value.ToLowerInvariant());
                if (rank < 0) throw new FilterSyntaxException($"unknown severity '{value}' (info, low, medium, high, critical)");
                return $"{SeverityRank} {(op == ":" ? "=" : op)} {Param(rank)}";
            }
            if (field is "risk" or "count")
            {
                if (!long.TryParse(value, out var n)) throw new FilterSyntaxException($"'{field}' takes a number, not '{value}'");
                return $"{col} {(op == ":" ? "=" : op)} {Param(n)}";
            }
            if (compare) throw new FilterSyntaxException($"'{op}' applies to severity, risk and count only");
            string pattern = Like(value);
            if (field == "cwe")
            {
                var v = value.StartsWith("cwe-", StringComparison.OrdinalIgnoreCase) ? value : "CWE-" + value;
                return $"{col} ilike {Param(Like(v))} escape '\\'";
            }
            if (field == "owasp") return $"({col} ilike {Param(pattern.EndsWith('%') ? pattern : pattern + ":%")} escape '\\' or {col} ilike {Param(pattern)} escape '\\')";
            if (field is "title" or "detail") return $"{col} ilike {Param("%" + pattern.Trim('%') + "%")} escape '\\'";
            return $"{col} ilike {Param(pattern)} escape '\\'";
        }

        /// <summary>A LIKE pattern of a value: * is any text, and LIKE's own wildcards are literal.</summary>
        private static string Like(string v) => v.Replace("\\", "\\\\").Replace("%", "\\%").Replace("_", "\\_").Replace('*', '%');
    }
}
