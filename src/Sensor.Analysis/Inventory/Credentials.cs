using System.Text;
using Sensor.Http;

namespace Sensor.Analysis.Inventory;

/// <summary>
/// Which credentials a request carries, as scheme ids (never values): "http-bearer", "http-basic",
/// "apiKey-header-x-api-key", "apiKey-query-api_key", "apiKey-cookie-sessionid". The same ids name the
/// security schemes of the exported OpenAPI and tell which headers, query parameters and cookies are
/// credentials rather than parameters.
/// </summary>
public static class Credentials
{
    private static readonly string[] HeaderFragments =
        ["api-key", "apikey", "api_key", "auth-token", "access-token", "access-key", "x-auth", "x-token", "session-token",
         "subscription-key", "private-token", "client-secret", "x-secret", "x-key", "id-token", "user-token"];

    private static readonly HashSet<string> QueryNames = new(StringComparer.OrdinalIgnoreCase)
    {
        "api_key", "apikey", "api-key", "access_token", "auth_token", "token", "key", "api_token", "apitoken",
        "client_secret", "sessionid", "session_id", "auth", "jwt", "id_token", "x-api-key",
    };

    public static bool IsCredentialHeader(string lowerName)
    {
        if (lowerName is "authorization" or "proxy-authorization") return true;
        foreach (var f in HeaderFragments) if (lowerName.Contains(f, StringComparison.Ordinal)) return true;
        return false;
    }

    public static bool IsCredentialQuery(string name) => QueryNames.Contains(name);

    /// <summary>Session cookies: the cookies that authenticate (sessionid, JSESSIONID, connect.sid, auth_token, jwt…).</summary>
    public static bool IsSessionCookie(string name)
    {
        var l = name.ToLowerInvariant();
        return l.Contains("sess") || l.Contains("auth") || l.Contains("token") || l.Contains("jwt")
            || l is "sid" || l.EndsWith(".sid", StringComparison.Ordinal) || l.EndsWith("_sid", StringComparison.Ordinal) || l.StartsWith("sid_", StringComparison.Ordinal);
    }

    /// <summary>Scheme id of an Authorization value: http-bearer, http-basic, http-digest…; apiKey-header-authorization for a bare token.</summary>
    public static string AuthorizationScheme(string headerLower, string value)
    {
        var v = value.AsSpan().Trim();
        int sp = v.IndexOf(' ');
        if (sp <= 0) return "apiKey-header-" + headerLower;
        var scheme = v[..sp].ToString().ToLowerInvariant();
        return scheme.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_') ? "http-" + scheme : "apiKey-header-" + headerLower;
    }

    /// <summary>The scheme id from an Authorization value's bytes; the common schemes cost no allocation.</summary>
    public static string AuthorizationScheme(string headerLower, ReadOnlySpan<byte> value)
    {
        value = value.Trim((byte)' ');
        int sp = value.IndexOf((byte)' ');
        if (sp > 0)
        {
            var word = value[..sp];
            if (Ascii.EqualsIgnoreCase(word, "bearer"u8)) return "http-bearer";
            if (Ascii.EqualsIgnoreCase(word, "basic"u8)) return "http-basic";
            if (Ascii.EqualsIgnoreCase(word, "digest"u8)) return "http-digest";
        }
        return AuthorizationScheme(headerLower, System.Text.Encoding.UTF8.GetString(value));
    }

    public static bool LooksLikeJwt(ReadOnlySpan<byte> value) => !Sensitive.Validators.JwtShaped(value).IsEmpty;

    /// <summary>Cheap test before splitting a query: could any parameter name be a credential? (One vectorised pass for all the words.)</summary>
    public static bool MayHoldQueryCredential(string query) => query.AsSpan().IndexOfAny(QueryCredentialWords) >= 0;

    private static readonly System.Buffers.SearchValues<string> QueryCredentialWords =
        System.Buffers.SearchValues.Create(["key", "token", "auth", "sess", "secret", "jwt"], StringComparison.OrdinalIgnoreCase);

    /// <summary>A bearer value shaped like a JWT (three base64url parts, the first a JSON header).</summary>
    public static bool LooksLikeJwt(string value) => !Sensitive.Validators.JwtShaped(value.AsSpan()).IsEmpty;
    public static HashSet<string> Schemes(HttpHead request) => Schemes(request, UriParts.Split(request.Target, request.Method).Query);

    public static HashSet<string> Schemes(HttpHead request, string? query)
    {
        var found = new HashSet<string>();
        for (int i = 0; i < request.FieldCount; i++)
        {
            var name = request.NameAt(i);
            var lower = name.ToLowerInvariant();
            if (lower is "authorization" or "proxy-authorization") found.Add(AuthorizationScheme(lower, request.ValueAt(i)));
            else if (lower == "cookie")
            {
                foreach (var c in Pairs(request.ValueAt(i))) if (Cookie(c.Name) is { Session: true } session) found.Add(session.SchemeId);
            }
            else if (IsCredentialHeader(lower)) found.Add("apiKey-header-" + lower);
        }
        if (query != null)
            foreach (var pair in query.Split('&'))
            {
                int eq = pair.IndexOf('=');
                var name = eq < 0 ? pair : pair[..eq];
                if (IsCredentialQuery(name) && eq >= 0 && eq < pair.Length - 1) found.Add("apiKey-query-" + name.ToLowerInvariant());
            }
        return found;
    }

    /// <summary>What a cookie name is to the analyzers, with the strings they file it under (made once per name).</summary>
    public sealed record CookieName(string Name, bool Session, string SchemeId, string RequestLocation);

    [ThreadStatic] private static Dictionary<string, CookieName>? t_cookieNames;

    /// <summary>
    /// The cookie named <paramref name="name"/>, remembered per thread: the same few cookies come on every
    /// request, and a lookup by the span allocates nothing. Bounded: names past the bound are made afresh.
    /// </summary>
    public static CookieName Cookie(ReadOnlySpan<char> name)
    {
        var known = t_cookieNames ??= new(StringComparer.Ordinal);
        if (known.GetAlternateLookup<ReadOnlySpan<char>>().TryGetValue(name, out var c)) return c;
        var n = name.ToString();
        c = new CookieName(n, IsSessionCookie(n), "apiKey-cookie-" + n, "req_cookie:" + n);
        if (known.Count < 4096) known[n] = c;
        return c;
    }

    /// <summary>The name=value pairs of a Cookie header as spans (names and values trimmed, empty names skipped), at most 256.</summary>
    public static CookiePairs Pairs(string cookieHeader) => new(cookieHeader);

    public ref struct CookiePairs(string header)
    {
        private ReadOnlySpan<char> _rest = header;
        private int _count;
        public ReadOnlySpan<char> Name { get; private set; }
        public ReadOnlySpan<char> Value { get; private set; }
        /// <summary>The pair had an '=' (a bare name has none).</summary>
        public bool HasValue { get; private set; }
        public readonly CookiePairs GetEnumerator() => this;
        public readonly CookiePairs Current => this;

        public bool MoveNext()
        {
            while (!_rest.IsEmpty && _count < 256)
            {
                int semi = _rest.IndexOf(';');
                var part = semi < 0 ? _rest : _rest[..semi];
                _rest = semi < 0 ? default : _rest[(semi + 1)..];
                int eq = part.IndexOf('=');
                var name = (eq < 0 ? part : part[..eq]).Trim();
                if (name.IsEmpty) continue;
                _count++;
                Name = name;
                HasValue = eq >= 0;
                Value = eq < 0 ? default : part[(eq + 1)..].Trim();
                return true;
            }
            return false;
        }
    }
}

/// <summary>
/// The credential schemes of one request, in the order found, without repeats: one or two as a rule, so a short
/// array searched in place (a set takes over past 8, for requests that carry many).
/// </summary>
public sealed class SchemeSet : IEnumerable<string>
{
    private string[] _items = new string[4];
    private HashSet<string>? _many;

    public int Count { get; private set; }
    public string this[int i] => _items[i];

    public void Clear()
    {
        Count = 0;
        _many = null;
    }

    public void Add(string scheme)
    {
        if (_many != null) { if (!_many.Add(scheme)) return; }
        else
        {
            for (int i = 0; i < Count; i++) if (string.Equals(_items[i], scheme)) return;
            if (Count == 8) _many = new HashSet<string>(_items.Take(Count), StringComparer.Ordinal) { scheme };
        }
        if (Count == _items.Length) Array.Resize(ref _items, Count * 2);
        _items[Count++] = scheme;
    }

    public IEnumerator<string> GetEnumerator()
    {
        for (int i = 0; i < Count; i++) yield return _items[i];
    }

    System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();
}

