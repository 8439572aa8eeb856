namespace Sensor.Analysis.Sensitive;

/// <summary>
/// Provider credentials recognised by prefix, exact shape and (where the format has one) checksum;
/// PEM/OpenSSH private key blocks; connection strings carrying a password. Hand-written matchers: each
/// looks at a bounded window from a start position, so scanning a text is linear.
/// </summary>
internal static class TokenPatterns
{
    public readonly record struct TokenMatch(int Length, string Type);

    private static bool Alnum(char c) => char.IsAsciiLetterOrDigit(c);
    private static bool B62(char c) => char.IsAsciiLetterOrDigit(c);
    private static bool Url64(char c) => char.IsAsciiLetterOrDigit(c) || c is '-' or '_';

    /// <summary>Prefixes that start a recognised token (for a cheap pre-check).</summary>
    public static bool MayStartToken(char c) => c is 'g' or 'n' or 'x' or 's' or 'r' or 'A' or 'S' or 'a' or 'h' or 'd' or 'y' or 'w' or 'p' or 'e' or 'l' or 'E';

    /// <summary>
    /// A token starting at <paramref name="i"/> (the caller checked the left boundary), with its type, or
    /// <see cref="SensitiveTypes.Example"/> for documented examples, or null. sk_test_/pk_ keys return a match
    /// of type "" (recognised, not reported).
    /// </summary>
    public static TokenMatch? Match(ReadOnlySpan<char> s, int i)
    {
        var r = s[i..];
        if (r.Length < 20) return null;
        switch (r[0])
        {
            case 'g':
                if (r.Length >= 40 && r[1] == 'h' && r[2] is 'p' or 'o' or 'u' or 's' or 'r' && r[3] == '_')
                {
                    int n = Run(r, 4, B62, 80);
                    if (n != 36 || !End(r, 40)) return n >= 20 && Repetitive(r.Slice(4, n)) ? new(4 + n, SensitiveTypes.Example) : null;
                    if (Repetitive(r.Slice(4, 30))) return new(40, SensitiveTypes.Example);
                    return Base62Crc(r.Slice(4, 30)).SequenceEqual(r.Slice(34, 6)) ? new(40, SensitiveTypes.GitHubToken) : null;
                }
                if (r.StartsWith("github_pat_"))
                {
                    int n = Run(r, 11, c => Alnum(c) || c == '_', 120);
                    return n >= 70 && End(r, 11 + n) ? new(11 + n, Repetitive(r.Slice(11, n)) ? SensitiveTypes.Example : SensitiveTypes.GitHubToken) : null;
                }
                if (r.StartsWith("gl"))
                {
                    int dash = r[..Math.Min(r.Length, 9)].IndexOf('-');
                    if (dash is < 4 or > 8 || !GitLabPrefixes.Contains(r[..(dash + 1)].ToString())) return null;
                    int n = Run(r, dash + 1, c => Url64(c) || c == '.', 120);
                    if (n < 20 || !End(r, dash + 1 + n)) return null;
                    return new(dash + 1 + n, Repetitive(r.Slice(dash + 1, n)) ? SensitiveTypes.Example : SensitiveTypes.GitLabToken);
                }
                return null;
            case 'n':
                if (r.StartsWith("npm_"))
                {
                    int n = Run(r, 4, B62, 80);
                    if (n != 36 || !End(r, 40)) return null;
                    if (Repetitive(r.Slice(4, 30))) return new(40, SensitiveTypes.Example);
                    return Base62Crc(r.Slice(4, 30)).SequenceEqual(r.Slice(34, 6)) ? new(40, SensitiveTypes.NpmToken) : null;
                }
                return null;
            case 'x':
                if (r.StartsWith("xox") && r[3] is 'a' or 'b' or 'p' or 'o' or 's' or 'r' or 'e' or 'c' && r[4] is '-' or '.')
                    return Slack(r);
                if (r.StartsWith("xapp-")) return Slack(r);
                return null;
            case 's':
                if (r.StartsWith("sk_live_") || r.StartsWith("sk_test_"))
                {
                    int n = Run(r, 8, Alnum, 250);
                    if (n < 16 || !End(r, 8 + n)) return null;
                    if (r.StartsWith("sk_test_")) return new(8 + n, r.Slice(8, n).SequenceEqual("4eC39HqLyjWDarjtT1zdp7dc") ? SensitiveTypes.Example : "");
                    return new(8 + n, Repetitive(r.Slice(8, n)) ? SensitiveTypes.Example : SensitiveTypes.StripeKey);
                }
                if (r.StartsWith("sk-")) return OpenAi(r);
                if (r.StartsWith("shpat_") || r.StartsWith("shpss_") || r.StartsWith("shpca_") || r.StartsWith("shppa_"))
                {
                    int n = Run(r, 6, char.IsAsciiHexDigit, 40);
                    return n == 32 && End(r, 38) ? new(38, SensitiveTypes.ApiKey) : null;
                }
                if (r.StartsWith("sq0atp-") || r.StartsWith("sq0csp-"))
                {
                    int n = Run(r, 7, Url64, 80);
                    return n >= 22 && End(r, 7 + n) ? new(7 + n, SensitiveTypes.ApiKey) : null;
                }
                return null;
            case 'r':
                if (r.StartsWith("rk_live_"))
                {
                    int n = Run(r, 8, Alnum, 250);
                    return n >= 16 && End(r, 8 + n) ? new(8 + n, SensitiveTypes.StripeKey) : null;
                }
                if (r.StartsWith("rk_test_")) { int n = Run(r, 8, Alnum, 250); return n >= 16 && End(r, 8 + n) ? new(8 + n, "") : null; }
                return null;
            case 'p':
                if (r.StartsWith("pk_live_") || r.StartsWith("pk_test_")) { int n = Run(r, 8, Alnum, 250); return n >= 16 && End(r, 8 + n) ? new(8 + n, "") : null; }
                if (r.StartsWith("pypi-AgEIcHlwaS5vcmc"))
                {
                    int n = Run(r, 5, Url64, 300);
                    return n >= 60 && End(r, 5 + n) ? new(5 + n, SensitiveTypes.ApiKey) : null;
                }
                return null;
            case 'A':
                if (r.StartsWith("AIza"))
                {
                    int n = Run(r, 4, Url64, 60);
                    return n == 35 && End(r, 39) ? new(39, SensitiveTypes.GoogleApiKey) : null;
                }
                if (r.StartsWith("AKIA") || r.StartsWith("ASIA"))
                {
                    int n = Run(r, 4, c => c is >= 'A' and <= 'Z' || char.IsAsciiDigit(c), 24);
                    if (n != 16 || !End(r, 20)) return null;
                    var body = r.Slice(4, 16);
                    if (body.Contains("EXAMPLE", StringComparison.Ordinal)) return new(20, SensitiveTypes.Example);
                    foreach (var c in body) if (c is '0' or '1' or '8' or '9') return null;   // base32 alphabet (A–Z, 2–7)
                    return new(20, SensitiveTypes.AwsAccessKey);
                }
                return null;
            case 'S':
                if (r[1] == 'K')
                {
                    int n = Run(r, 2, c => char.IsAsciiHexDigit(c) || c is 'x' or 'X', 40);
                    if (n != 32 || !End(r, 34)) return null;
                    var body = r.Slice(2, 32);
                    if (body.ContainsAny('x', 'X')) return Repetitive(body) ? new(34, SensitiveTypes.Example) : null;
                    return Validators.Entropy(body) >= 3.0 ? new(34, SensitiveTypes.TwilioKey) : null;
                }
                if (r[1] == 'G' && r[2] == '.')
                {
                    int a = Run(r, 3, Url64, 30);
                    if (a != 22 || r.Length < 26 || r[25] != '.') return null;
                    int b = Run(r, 26, Url64, 50);
                    return b == 43 && End(r, 69) ? new(69, SensitiveTypes.SendGridKey) : null;
                }
                return null;
            case 'h':
                if (r.StartsWith("hf_"))
                {
                    int n = Run(r, 3, char.IsAsciiLetter, 40);
                    return n == 34 && End(r, 37) ? new(37, SensitiveTypes.ApiKey) : null;
                }
                return null;
            case 'd':
                if (r.StartsWith("dop_v1_") || r.StartsWith("doo_v1_") || r.StartsWith("dor_v1_"))
                {
                    int n = Run(r, 7, char.IsAsciiHexDigit, 70);
                    return n == 64 && End(r, 71) ? new(71, SensitiveTypes.ApiKey) : null;
                }
                return null;
            case 'w':
                if (r.StartsWith("whsec_"))
                {
                    int n = Run(r, 6, c => Alnum(c) || c is '+' or '/' or '=', 100);
                    return n >= 24 && End(r, 6 + n) && Validators.Entropy(r.Slice(6, n)) >= 3.5 ? new(6 + n, SensitiveTypes.ApiKey) : null;
                }
                return null;
            case 'y':
                if (r.StartsWith("ya29."))
                {
                    int n = Run(r, 5, c => Url64(c) || c == '.', 512);
                    return n >= 40 && End(r, 5 + n) ? new(5 + n, SensitiveTypes.ApiKey) : null;
                }
                return null;
            default:
                return null;
        }
    }

    private static readonly string[] ProviderPrefixes = ["ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_", "glpat-", "npm_", "xoxb-", "xoxp-",
        "xoxa-", "xoxe-", "xoxs-", "xapp-", "sk_live_", "rk_live_", "sk_test_", "rk_test_", "pk_live_", "pk_test_", "AIza", "AKIA", "ASIA", "SG.", "sk-proj-", "sk-svcacct-"];

    /// <summary>The provider type of a whole value (a token used as a URI password is reported as that token), or null.</summary>
    public static string? WholeTokenType(string? v) =>
        v is { Length: >= 20 } && MayStartToken(v[0]) && Match(v, 0) is { } m && m.Length == v.Length && m.Type.Length > 0 ? m.Type : null;

    /// <summary>Starts like a provider token (that failed its format or checksum): a fake or example, not a generic key.</summary>
    public static bool HasProviderPrefix(ReadOnlySpan<char> v)
    {
        foreach (var p in ProviderPrefixes) if (v.StartsWith(p, StringComparison.Ordinal)) return true;
        return false;
    }

    private static readonly HashSet<string> GitLabPrefixes = ["glpat-", "gldt-", "glrt-", "glptt-", "glft-", "glimt-", "glagent-", "gloas-", "glsoat-", "glcbt-", "glffct-", "glwt-"];

    private static TokenMatch? Slack(ReadOnlySpan<char> r)
    {
        int n = Run(r, 0, c => Alnum(c) || c is '-' or '.', 200);
        if (!End(r, n)) return null;
        var t = r[..n];
        if (ContainsExampleWords(t)) return new(n, SensitiveTypes.Example);
        // xoxb-<team digits>-<bot digits>-<secret>, xoxp-<d>-<d>-<d>-<hex>, xoxe.xoxp-1-..., xapp-1-<A..>-<d>-<hex>
        int digitSegments = 0, segments = 0, longest = 0, seg = 0, segDigits = 0;
        for (int k = 5; k <= t.Length; k++)
        {
            if (k == t.Length || t[k] is '-' or '.')
            {
                if (seg > 0) { segments++; if (segDigits == seg && seg >= 1) digitSegments++; longest = Math.Max(longest, seg); }
                seg = segDigits = 0;
                continue;
            }
            seg++;
            if (char.IsAsciiDigit(t[k])) segDigits++;
        }
        if (n < 30 || segments < 3 || digitSegments < 1 || longest < 16) return null;
        return new(n, SensitiveTypes.SlackToken);
    }

    private static TokenMatch? OpenAi(ReadOnlySpan<char> r)
    {
        int n = Run(r, 3, Url64, 300);
        if (n < 40 || !End(r, 3 + n)) return null;
        var body = r.Slice(3, n);
        if (body.StartsWith("ant-")) return new(3 + n, SensitiveTypes.ApiKey);   // Anthropic: generic key
        if (body.StartsWith("proj-") || body.StartsWith("svcacct-") || body.StartsWith("admin-") || body.StartsWith("None-"))
            return n >= 48 && Validators.Entropy(body) >= 4.0 ? new(3 + n, SensitiveTypes.OpenAiKey) : null;
        int m = body.IndexOf("T3BlbkFJ");
        if (m >= 16 && body.Length - m - 8 >= 16) return new(3 + n, SensitiveTypes.OpenAiKey);
        return null;
    }

    private static bool ContainsExampleWords(ReadOnlySpan<char> t) =>
        t.Contains("not-a-real", StringComparison.OrdinalIgnoreCase) || t.Contains("example", StringComparison.OrdinalIgnoreCase)
        || t.Contains("xxxx", StringComparison.OrdinalIgnoreCase) || t.Contains("fake", StringComparison.OrdinalIgnoreCase)
        || t.Contains("dummy", StringComparison.OrdinalIgnoreCase) || t.Contains("your", StringComparison.OrdinalIgnoreCase)
        || t.Contains("sample", StringComparison.OrdinalIgnoreCase) || t.Contains("placeholder", StringComparison.OrdinalIgnoreCase);

    /// <summary>Documentation tokens: one character repeated (ghp_xxxx…, SKxxxx…) or example words.</summary>
    private static bool Repetitive(ReadOnlySpan<char> t)
    {
        if (ContainsExampleWords(t)) return true;
        int distinct = 0;
        Span<bool> seen = stackalloc bool[128];
        seen.Clear();   // the module skips locals init
        foreach (var c in t) if (c < 128 && !seen[c]) { seen[c] = true; distinct++; }
        return distinct <= 3;
    }

    private static int Run(ReadOnlySpan<char> r, int from, Func<char, bool> ok, int max)
    {
        int i = from;
        while (i < r.Length && i - from <= max && ok(r[i])) i++;
        return i - from;
    }

    /// <summary>The token ends at <paramref name="n"/>: nothing that could continue it follows.</summary>
    private static bool End(ReadOnlySpan<char> r, int n) => n == r.Length || !(char.IsAsciiLetterOrDigit(r[n]) || r[n] is '_' or '-');

    private static readonly uint[] CrcTable = BuildCrc();

    private static uint[] BuildCrc()
    {
        var t = new uint[256];
        for (uint n = 0; n < 256; n++)
        {
            uint c = n;
            for (int k = 0; k < 8; k++) c = (c & 1) != 0 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
            t[n] = c;
        }
        return t;
    }

    /// <summary>GitHub/npm token checksum: CRC32 of the 30 random characters in base62, left-padded to 6.</summary>
    internal static string Base62Crc(ReadOnlySpan<char> body)
    {
        uint crc = 0xFFFFFFFFu;
        foreach (var ch in body) crc = CrcTable[(crc ^ (byte)ch) & 0xff] ^ (crc >> 8);
        crc ^= 0xFFFFFFFFu;
        const string A = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
        Span<char> out6 = stackalloc char[6];
        out6.Fill('0');
        ulong v = crc;
        for (int i = 5; i >= 0 && v > 0; i--) { out6[i] = A[(int)(v % 62)]; v /= 62; }
        return new string(out6);
    }

    // ---------------- private keys ----------------

    /// <summary>
    /// A PEM or OpenSSH private key block starting at <paramref name="begin"/> ("-----BEGIN"), through its
    /// END line; its length, or 0 (public keys, certificates, unterminated blocks).
    /// </summary>
    public static int PrivateKeyBlock(ReadOnlySpan<char> s, int begin)
    {
        var r = s[begin..];
        if (!r.StartsWith("-----BEGIN ")) return 0;
        int endOfLabel = r[11..Math.Min(r.Length, 60)].IndexOf("-----");
        if (endOfLabel < 0) return 0;
        var label = r.Slice(11, endOfLabel);
        if (!label.EndsWith("PRIVATE KEY") && !label.SequenceEqual("PGP PRIVATE KEY BLOCK")) return 0;
        var window = r[..Math.Min(r.Length, 16384)];
        int end = window.IndexOf("-----END ");
        if (end < 0) return 0;
        int close = window[(end + 9)..].IndexOf("-----");
        if (close < 0) return 0;
        int total = end + 9 + close + 5;
        int body = 0;
        foreach (var c in r[(11 + endOfLabel + 5)..end]) if (char.IsAsciiLetterOrDigit(c)) body++;
        return body >= 40 ? total : 0;
    }

    // ---------------- connection strings ----------------

    private static readonly HashSet<string> UriSchemes = new(StringComparer.OrdinalIgnoreCase)
    {
        "postgres", "postgresql", "mysql", "mariadb", "mongodb", "mongodb+srv", "redis", "rediss", "amqp", "amqps", "mssql", "sqlserver",
        "oracle", "cockroachdb", "clickhouse", "kafka", "nats", "memcached", "couchdb", "neo4j", "neo4j+s", "bolt", "cassandra", "db2",
        "snowflake", "redshift", "elasticsearch", "influxdb", "rabbitmq", "stomp", "mqtt", "mqtts", "ldap", "ldaps", "smtp", "smtps",
        "ftp", "ftps", "sftp", "ssh", "http", "https", "jdbc:postgresql", "jdbc:mysql", "jdbc:sqlserver", "jdbc:oracle", "jdbc:mariadb",
        "postgresql+psycopg2", "mysql+pymysql", "mssql+pyodbc", "sqlite", "azuresql", "vertica", "presto", "trino", "hive", "firebird",
        "sybase", "informix", "couchbase", "couchbases", "arangodb", "rethinkdb", "etcd", "consul", "zookeeper", "pulsar", "sqs", "sb",
    };

    /// <summary>
    /// scheme://user:password@host... (<paramref name="start"/> at the scheme): the URI's length and whether it carries a real
    /// password; 0 when it is not a URI with userinfo.
    /// </summary>
    public static int CredentialUri(ReadOnlySpan<char> s, int start, out bool password, out bool example) => CredentialUri(s, start, out password, out example, out _);

    public static int CredentialUri(ReadOnlySpan<char> s, int start, out bool password, out bool example, out string? secret)
    {
        password = example = false;
        secret = null;
        var r = s[start..];
        int sep = r[..Math.Min(r.Length, 40)].IndexOf("://");
        if (sep <= 0) return 0;
        if (!UriSchemes.Contains(r[..sep].ToString())) return 0;
        // The authority first (short): only a URI with user:password@ is worth reading to its end.
        int a = sep + 3;
        while (a < r.Length && a - sep < 1024 && !(char.IsWhiteSpace(r[a]) || r[a] is '/' or '?' or '#' or '"' or '\'' or '<' or '>' or '`' or '|')) a++;
        var authority = r[(sep + 3)..a];
        int at = authority.LastIndexOf('@');
        if (at <= 0) return a;
        var userinfo = authority[..at];
        int colon = userinfo.IndexOf(':');
        if (colon < 0) return a;   // user only, or a token as user (https://token@host): not a password
        var pwd = Uri.UnescapeDataString(userinfo[(colon + 1)..].ToString());
        if (pwd.Length == 0) return a;
        if (Validators.IsPlaceholder(pwd) || pwd is "password" or "pass" or "pwd") { example = true; return a; }
        password = true;
        secret = pwd;
        int n = a;
        while (n < r.Length && n < 4096 && !(char.IsWhiteSpace(r[n]) || r[n] is '"' or '\'' or '<' or '>' or '`' or '|')) n++;
        return n;
    }

    private static readonly string[] AdoPasswordKeys = ["password", "pwd", "accountkey", "sharedaccesskey", "sharedaccesssignature", "secret", "clientsecret"];
    private static readonly string[] AdoServerKeys = ["server", "data source", "datasource", "host", "hostname", "address", "addr", "network address",
        "endpoint", "accountname", "initial catalog", "database", "uid", "user id", "userid", "username", "user", "defaultendpointsprotocol", "port", "dsn"];

    /// <summary>An ADO.NET/ODBC/Azure style "Key=Value;..." string with a server and a non-placeholder password (or account key).</summary>
    public static bool AdoConnectionString(string v, out bool placeholder)
    {
        placeholder = false;
        if (v.Length is < 20 or > 4096 || v.IndexOf(';') < 0 || v.IndexOf('=') < 0) return false;
        bool server = false, password = false;
        int pairs = 0;
        foreach (var part in v.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            int eq = part.IndexOf('=');
            if (eq <= 0) continue;
            pairs++;
            var k = part[..eq].Trim().ToLowerInvariant();
            var val = part[(eq + 1)..].Trim().Trim('\'', '"', '{', '}');
            if (Array.IndexOf(AdoServerKeys, k) >= 0) server = true;
            if (Array.IndexOf(AdoPasswordKeys, k) >= 0 && val.Length > 0)
            {
                if (Validators.IsPlaceholder(val)) placeholder = true;
                else password = true;
            }
        }
        return pairs >= 2 && server && password;
    }
}
