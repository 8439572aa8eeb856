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

    /// <summary>
    /// The header section as sent with credential values and cookie values masked and detected values replaced;
    /// null when nothing changes. Only the changed values are rewritten: the rest stays byte for byte.
    /// </summary>
    public static byte[]? Headers(HttpHead head, List<SensitiveHit> hits, bool request)
    {
        var hitPart = request ? SensitiveParts.ReqHeader : SensitiveParts.RespHeader;
        List<(int, string)>? changes = null;
        for (int i = 0; i < head.FieldCount; i++)
        {
            var lower = head.LowerNameAt(i);
            // Most fields are neither credentials nor where a detector found something: not even decoded.
            string? value = null, v = null;
            if (AlwaysMasked(lower)) v = Masked(lower, value = head.ValueAt(i));
            foreach (var h in hits)
                if (h.Value.Length > 0 && h.Part == hitPart && string.Equals(h.Location, lower, StringComparison.Ordinal))
                    v = (v ?? (value ??= head.ValueAt(i))).Replace(h.Value, Masking.Preview(h.Type, h.Value), StringComparison.Ordinal);
            if (v != null && !ReferenceEquals(v, value) && v != value) (changes ??= []).Add((i, v));
        }
        return changes == null ? null : head.WithValues(changes);
    }

    // The same credential and cookie values come back on every request of a client: masked once per thread.
    [ThreadStatic] private static ValueMemo<(string, UInt128), string>? t_masked;

    /// <summary>Credential headers and cookies: their values are masked whether or not a detector found anything.</summary>
    private static bool AlwaysMasked(string lower) =>
        lower is "set-cookie" or "cookie" || HeaderRoles.Of(lower) is HeaderRole.Authorization or HeaderRole.Credential;

    /// <summary>The masked form of a value of an <see cref="AlwaysMasked"/> header.</summary>
    private static string Masked(string lower, string value)
    {
        bool cookie = lower is "set-cookie" or "cookie";
        var memo = t_masked ??= new(2 << 20);   // the masked tokens and cookies of tens of thousands of clients
        var key = (lower, Digest.Of(value));
        if (memo.TryGet(key, out var m)) return m;
        m = cookie ? Cookies(value, lower == "set-cookie")
            : HeaderRoles.Of(lower) is HeaderRole.Authorization ? Authorization(value) : Masking.Preview(SensitiveTypes.ApiKey, value);
        memo.Add(key, m, 8 + m.Length);
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
