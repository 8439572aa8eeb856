using System.Text;
using Sensor.Analysis.Inventory;
using Sensor.Analysis.Sensitive;
using Sensor.Http;

namespace Sensor.Analysis.Rules;

/// <summary>
/// Redaction by construction for what storage writes as sent (target, header sections), which also gives the
/// concrete paths the inventory keeps: credential headers and every cookie value are always masked, and
/// values the detectors found are replaced by their masked preview.
/// </summary>
public static class Redactor
{
    /// <summary>The request target with detected path and query values replaced; null when nothing changes.</summary>
    public static string? Target(HttpTransaction t, List<SensitiveHit> hits)
    {
        var target = t.Request.Target;
        var (path, query) = UriParts.Split(target, t.Method);
        // Only what the detectors found is replaced: the target otherwise stays exactly as sent (analysts and
        // checks compare it), and ids in paths are not personal data by themselves.
        var masked = path;
        string? q = query;
        foreach (var h in hits)
            if (h.Part is SensitiveParts.Query or SensitiveParts.Path && h.Value.Length > 0)
            {
                var preview = Uri.EscapeDataString(Masking.Preview(h.Type, h.Value));
                if (q != null) q = Replace(q, h.Value, preview);
                masked = Replace(masked, h.Value, preview);
            }
        if (masked == path && q == query) return null;
        return q == null ? masked : masked + "?" + q;
    }

    private static string Replace(string s, string value, string with)
    {
        s = s.Replace(value, with, StringComparison.Ordinal);
        var esc = Uri.EscapeDataString(value);
        if (esc != value) s = s.Replace(esc, with, StringComparison.OrdinalIgnoreCase);
        var plus = esc.Replace("%20", "+");
        if (plus != esc) s = s.Replace(plus, with, StringComparison.OrdinalIgnoreCase);
        return s;
    }

    /// <summary>A header section with credential values and cookie values masked and detected values replaced; null when nothing changes.</summary>
    public static byte[]? Headers(HttpHead head, List<SensitiveHit> hits, bool request)
    {
        if (head.FieldCount == 0) return null;
        // Most responses and many requests carry nothing to mask: find out before rebuilding anything.
        bool any = false;
        var hitPart = request ? SensitiveParts.ReqHeader : SensitiveParts.RespHeader;
        foreach (var h in hits) if (h.Part == hitPart) { any = true; break; }
        for (int i = 0; i < head.FieldCount && !any; i++)
        {
            var role = HeaderRoles.Of(HeaderNames.Lower(head.NameAt(i)));
            any = role is HeaderRole.Authorization or HeaderRole.Credential or HeaderRole.Cookie || head.NameAt(i).Equals("set-cookie", StringComparison.OrdinalIgnoreCase);
        }
        if (!any) return null;
        var sb = new StringBuilder(head.RawHeaderBytes.Length);
        bool changed = false;
        // Keep the start line as sent (the target is redacted separately in its own column).
        var raw = head.RawHeaders;
        int eol = raw.IndexOf("\r\n", StringComparison.Ordinal);
        if (eol >= 0 && !raw.AsSpan(0, eol).Contains(':')) sb.Append(raw, 0, eol + 2);
        else if (eol < 0 && !raw.Contains(':')) return null;
        for (int i = 0; i < head.FieldCount; i++)
        {
            var name = head.NameAt(i);
            var value = head.ValueAt(i);
            var lower = HeaderNames.Lower(name);
            var v = Masked(lower, value);
            foreach (var h in hits)
                if (h.Value.Length > 0 && string.Equals(h.Location, lower, StringComparison.Ordinal)
                    && h.Part == (request ? SensitiveParts.ReqHeader : SensitiveParts.RespHeader))
                    v = v.Replace(h.Value, Masking.Preview(h.Type, h.Value), StringComparison.Ordinal);
            if (!ReferenceEquals(v, value) && v != value) changed = true;
            sb.Append(name).Append(": ").Append(v).Append("\r\n");
        }
        return changed ? Encoding.UTF8.GetBytes(sb.ToString().TrimEnd('\r', '\n')) : null;
    }

    // The same credential and cookie values come back on every request of a client: masked once per thread.
    [ThreadStatic] private static Dictionary<(string, string), string>? t_masked;

    private static string Masked(string lower, string value)
    {
        var role = HeaderRoles.Of(lower);
        bool cookie = lower is "set-cookie" or "cookie";
        if (!cookie && role is not (HeaderRole.Authorization or HeaderRole.Credential)) return value;
        var memo = t_masked ??= new();
        if (memo.TryGetValue((lower, value), out var m)) return m;
        m = cookie ? Cookies(value, lower == "set-cookie")
            : role is HeaderRole.Authorization ? Authorization(value) : Masking.Preview(SensitiveTypes.ApiKey, value);
        if (memo.Count >= 8192) memo.Clear();
        memo[(lower, value)] = m;
        return m;
    }

    private static string Authorization(string value)
    {
        var v = value.Trim();
        int sp = v.IndexOf(' ');
        return sp > 0 ? v[..sp] + " " + Masking.Preview(SensitiveTypes.ApiKey, v[(sp + 1)..]) : Masking.Preview(SensitiveTypes.ApiKey, v);
    }

    /// <summary>Cookie values masked, names and attributes kept (Set-Cookie attributes are what the cookie rules read).</summary>
    private static string Cookies(string header, bool set)
    {
        var parts = header.Split(';');
        for (int i = 0; i < parts.Length; i++)
        {
            if (set && i > 0) break;   // attributes after the first pair stay
            int eq = parts[i].IndexOf('=');
            if (eq < 0) continue;
            var val = parts[i][(eq + 1)..].Trim();
            parts[i] = parts[i][..(eq + 1)] + (val.Length <= 4 ? "****" : Masking.Preview(SensitiveTypes.ApiKey, val));
        }
        return string.Join(';', parts);
    }
}
