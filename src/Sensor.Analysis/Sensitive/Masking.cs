namespace Sensor.Analysis.Sensitive;

/// <summary>
/// Redacted previews for display (ghp_…a1B2, ****4242, j***@example.com): enough to recognise an item one
/// already knows, never enough to recover it. Short values show nothing.
/// </summary>
public static class Masking
{
    private static readonly string[] Prefixes =
    [
        "github_pat_", "ghp_", "gho_", "ghu_", "ghs_", "ghr_", "glpat-", "gldt-", "glrt-", "glptt-", "npm_", "xoxb-", "xoxp-", "xoxa-",
        "xoxe-", "xoxs-", "xoxr-", "xapp-", "sk_live_", "rk_live_", "sk_test_", "sk-proj-", "sk-svcacct-", "sk-admin-", "sk-", "AIza", "AKIA",
        "ASIA", "SG.", "SK", "shpat_", "whsec_", "hf_", "ya29.", "dop_v1_",
    ];

    public static string Preview(string type, string value)
    {
        var v = value.Trim();
        if (v.Length == 0) return "";
        switch (type)
        {
            case SensitiveTypes.CreditCard:
            {
                var d = new string(v.Where(char.IsAsciiDigit).ToArray());
                return d.Length >= 12 ? "****" + d[^4..] : "****";
            }
            case SensitiveTypes.Iban:
            {
                var c = v.Replace(" ", "", StringComparison.Ordinal);
                return c.Length >= 15 ? c[..2] + "**…" + c[^4..] : "****";
            }
            case SensitiveTypes.Email:
            {
                int at = v.LastIndexOf('@');
                return at > 0 ? v[0] + "***" + v[at..] : "***";
            }
            case SensitiveTypes.Phone:
            {
                var d = new string(v.Where(char.IsAsciiDigit).ToArray());
                return d.Length >= 7 ? (v.StartsWith('+') ? "+" : "") + "***" + d[^2..] : "***";
            }
            case SensitiveTypes.Ssn:
            {
                var d = new string(v.Where(char.IsAsciiDigit).ToArray());
                return d.Length == 9 ? "***-**-" + d[^4..] : "***-**-****";
            }
            case SensitiveTypes.IpAddress:
            {
                int dot = v.IndexOf('.');
                if (dot > 0) return v[..dot] + ".*.*.*";
                int colon = v.IndexOf(':');
                return colon > 0 ? v[..colon] + ":*" : "*";
            }
            case SensitiveTypes.PersonName:
                return string.Join(' ', v.Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(w => w[0] + "***"));
            case SensitiveTypes.DateOfBirth:
                return "**/**/****";
            case SensitiveTypes.Address:
                return "****";
            case SensitiveTypes.Password or SensitiveTypes.BasicAuth:
                return "********";
            case SensitiveTypes.PrivateKey:
            {
                int end = v.IndexOf("-----", 11, StringComparison.Ordinal);
                return end > 0 ? v[..(end + 5)] + "…" : "-----BEGIN PRIVATE KEY-----…";
            }
            case SensitiveTypes.ConnectionString:
            {
                int sep = v.IndexOf("://", StringComparison.Ordinal);
                if (sep > 0 && sep < 40) return v[..(sep + 3)] + "***";
                return "***";
            }
            case SensitiveTypes.Jwt:
                return v.Length >= 40 ? "eyJ…" + v[^4..] : "eyJ…";
        }
        return SecretPreview(v);
    }

    /// <summary>
    /// The preview of a token or key (what <see cref="Preview"/> gives for a secret without a structure of
    /// its own), read from a span so that a slice of a header value needs no copy.
    /// </summary>
    public static string SecretPreview(ReadOnlySpan<char> v)
    {
        v = v.Trim();
        if (v.Length == 0) return "";
        if (v.Length < 16) return "****";
        if (v[0] < 128)
            foreach (var p in PrefixesByFirst[v[0]])
                if (v.StartsWith(p, StringComparison.Ordinal) && v.Length >= p.Length + 16) return string.Concat(p, "…", v[^4..]);
        return string.Concat("…", v[^4..]);
    }

    // Previews are made for every credential header of every request: only the prefixes that can match are tried.
    private static readonly string[][] PrefixesByFirst = [.. Enumerable.Range(0, 128).Select(c => Prefixes.Where(p => p[0] == c).ToArray())];
}
