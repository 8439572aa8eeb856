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
        if (!hits.Exists(static h => h.Part is SensitiveParts.Query or SensitiveParts.Path && h.Value.Length > 0)) return null;
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
        var changes = t_changes ??= [];   // one list a thread: it is only read while the new section is written
        changes.Clear();
        var masks = t_masks ??= new(Decide);
        for (int i = 0; i < head.FieldCount; i++)
        {
            // Most fields are neither credentials nor where a detector found something: not even decoded.
            var mask = masks.At(head, i);
            if (mask == Mask.None && hits.Count == 0) continue;
            var lower = head.LowerNameAt(i);
            string? value = null, v = null;
            if (mask == Mask.Authorization && !HasHit(hits, hitPart, lower) && AuthorizationFromBytes(head.ValueBytesAt(i)) is { } fromBytes)
            {
                // The common case, a bearer token: masked from the bytes as sent, never decoded as a whole.
                changes.Add((i, fromBytes));
                continue;
            }
            if (mask != Mask.None) v = Masked(mask, value = head.ValueAt(i));
            foreach (var h in hits)
                if (h.Value.Length > 0 && h.Part == hitPart && string.Equals(h.Location, lower, StringComparison.Ordinal))
                    v = (v ?? (value ??= head.ValueAt(i))).Replace(h.Value, Masking.Preview(h.Type, h.Value), StringComparison.Ordinal);
            if (v != null && !ReferenceEquals(v, value) && v != value) changes.Add((i, v));
        }
        if (changes.Count == 0) return null;
        var section = head.WithValues(changes);
        changes.Clear();   // the masked values are not kept alive by the thread
        return section;
    }

    [ThreadStatic] private static List<(int, string)>? t_changes;

    private enum Mask { None, Cookie, SetCookie, Authorization, Credential }

    [ThreadStatic] private static HeaderNameMemo<Mask>? t_masks;

    /// <summary>Credential headers and cookies: their values are masked whether or not a detector found anything.</summary>
    private static Mask Decide(string lower) => lower switch
    {
        "cookie" => Mask.Cookie,
        "set-cookie" => Mask.SetCookie,
        _ => HeaderRoles.Of(lower) switch { HeaderRole.Authorization => Mask.Authorization, HeaderRole.Credential => Mask.Credential, _ => Mask.None },
    };

    /// <summary>
    /// The masked form of a value of a credential header or cookie. Worked out every time rather than
    /// remembered: it is a few string operations, cheaper than the lookup (tokens are often new on every
    /// request), and a memo of them kept every masked token alive into the older generations for the GC.
    /// </summary>
    private static string Masked(Mask mask, string value) => mask switch
    {
        Mask.Cookie => Cookies(value, set: false),
        Mask.SetCookie => Cookies(value, set: true),
        Mask.Authorization => Authorization(value),
        _ => Masking.SecretPreview(value),
    };

    private static bool HasHit(List<SensitiveHit> hits, string part, string lower)
    {
        foreach (var h in hits)
            if (h.Value.Length > 0 && h.Part == part && string.Equals(h.Location, lower, StringComparison.Ordinal)) return true;
        return false;
    }

    /// <summary>
    /// <see cref="Authorization(ReadOnlySpan{char})"/> of an ASCII value read from its bytes (only the scheme and the preview
    /// are made strings); null when the value is not plain ASCII or would come out unchanged.
    /// </summary>
    private static string? AuthorizationFromBytes(ReadOnlySpan<byte> raw)
    {
        var v = raw.Trim((byte)' ');
        if (v.Length > 512 || !System.Text.Ascii.IsValid(v)) return null;
        Span<char> chars = stackalloc char[v.Length];
        System.Text.Ascii.ToUtf16(v, chars, out int n);
        var masked = Authorization(chars[..n]);
        return chars[..n].SequenceEqual(masked) ? null : masked;
    }

    private static string Authorization(ReadOnlySpan<char> value)
    {
        var v = value.Trim();
        int sp = v.IndexOf(' ');
        return sp > 0 ? string.Concat(v[..sp], " ", Masking.SecretPreview(v[(sp + 1)..])) : Masking.SecretPreview(v);
    }

    [ThreadStatic] private static System.Text.StringBuilder? t_cookies;

    /// <summary>Cookie values masked, names and attributes kept (Set-Cookie attributes are what the cookie rules read).</summary>
    private static string Cookies(string header, bool set)
    {
        var sb = (t_cookies ??= new(256)).Clear();
        var rest = header.AsSpan();
        for (int i = 0; ; i++)
        {
            int semi = rest.IndexOf(';');
            var part = semi < 0 ? rest : rest[..semi];
            int eq = part.IndexOf('=');
            if (eq < 0 || set && i > 0) sb.Append(part);   // attributes after the first pair stay
            else
            {
                var val = part[(eq + 1)..].Trim();
                sb.Append(part[..(eq + 1)]);
                if (val.Length <= 4) sb.Append("****");
                else sb.Append(Masking.SecretPreview(val));
            }
            if (semi < 0) break;
            sb.Append(';');
            rest = rest[(semi + 1)..];
        }
        var masked = sb.ToString();
        if (sb.Capacity > 4096) t_cookies = null;   // one huge header does not stay with the thread
        return masked;
    }
}
