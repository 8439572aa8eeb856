using System.Buffers.Text;
using System.Net;
using System.Text;
using System.Text.Json;

namespace Sensor.Analysis.Sensitive;

/// <summary>Format validators: checksums, ranges and shapes. Every check is linear in its (bounded) input.</summary>
internal static class Validators
{
    // ---------------- payment cards ----------------

    /// <summary>Digits of a card number written plain or in groups (spaces or dashes, one kind), else null.</summary>
    public static string? CardDigits(ReadOnlySpan<char> v)
    {
        if (v.Length < 12 || v.Length > 23) return null;
        Span<char> d = stackalloc char[19];
        int n = 0, group = 0, groups = 0, firstGroup = 0;
        char sep = '\0';
        for (int i = 0; i < v.Length; i++)
        {
            char c = v[i];
            if (c is >= '0' and <= '9')
            {
                if (n == 19) return null;
                d[n++] = c;
                group++;
                continue;
            }
            if (c is not (' ' or '-') || group == 0) return null;
            if (sep == '\0') sep = c;
            else if (sep != c) return null;
            if (group is < 3 or > 6) return null;
            if (groups == 0) firstGroup = group;
            groups++;
            group = 0;
        }
        if (group == 0) return null;
        if (groups > 0 && (firstGroup != 4 || group > 6)) return null;
        if (n is < 13 or > 19) return null;
        return new string(d[..n]);
    }

    public static bool Luhn(ReadOnlySpan<char> digits)
    {
        int sum = 0;
        bool dbl = false;
        for (int i = digits.Length - 1; i >= 0; i--)
        {
            int x = digits[i] - '0';
            if (dbl) { x *= 2; if (x > 9) x -= 9; }
            sum += x;
            dbl = !dbl;
        }
        return sum % 10 == 0;
    }

    /// <summary>Current issuer ranges and their lengths (Visa, Mastercard incl. 2221–2720, Amex, Discover, JCB, Diners, UnionPay, Maestro, Mir, RuPay, Troy, Verve...).</summary>
    public static bool CardIin(ReadOnlySpan<char> d)
    {
        int len = d.Length;
        int p1 = d[0] - '0', p2 = int.Parse(d[..2]), p3 = int.Parse(d[..3]), p4 = int.Parse(d[..4]), p6 = int.Parse(d[..6]);
        if (p1 == 4) return len is 13 or 16 or 19;                                          // Visa (incl. Electron, Elo/4xxx)
        if (p2 is >= 51 and <= 55) return len == 16;                                         // Mastercard
        if (p4 is >= 2221 and <= 2720) return len == 16;                                     // Mastercard 2-series
        if (p2 is 34 or 37) return len == 15;                                                 // Amex
        if (p4 == 6011 || p3 is >= 644 and <= 649 || p2 == 65) return len is >= 16 and <= 19; // Discover / RuPay 65
        if (p6 is >= 622126 and <= 622925) return len is >= 16 and <= 19;                    // Discover co-branded UnionPay
        if (p2 == 62 || p2 == 81) return len is >= 16 and <= 19;                              // UnionPay
        if (p4 is >= 3528 and <= 3589) return len is >= 16 and <= 19;                        // JCB
        if (p3 is >= 300 and <= 305 || p4 == 3095 || p2 is 36 or 38 or 39) return len is >= 14 and <= 19;  // Diners
        if (p4 is >= 2200 and <= 2204) return len is >= 16 and <= 19;                        // Mir
        if (p2 is 60 or 82 || p3 == 508 || p3 == 353 || p3 == 356) return len is >= 16 and <= 19;           // RuPay
        if (p4 == 9792) return len == 16;                                                     // Troy
        if (p6 is >= 506099 and <= 506198 || p6 is >= 650002 and <= 650027) return len is 16 or 19;        // Verve
        if (p2 is 50 or 56 or 57 or 58 || p2 is 63 or 67) return len is >= 13 and <= 19;    // Maestro
        return false;
    }

    /// <summary>Well-known documented test numbers (Stripe, Adyen, Braintree docs) and obvious synthetic ones.</summary>
    public static bool IsTestCard(string digits)
    {
        if (TestCards.Contains(digits)) return true;
        int run = 1;
        for (int i = 1; i < digits.Length; i++)
        {
            run = digits[i] == digits[i - 1] ? run + 1 : 1;
            if (run >= 7) return true;
        }
        return false;
    }

    private static readonly HashSet<string> TestCards =
    [
        "4242424242424242", "4000056655665556", "4111111111111111", "4012888888881881", "4222222222222", "5555555555554444",
        "5200828282828210", "5105105105105100", "2223003122003222", "2223000048400011", "2222400070000005", "378282246310005",
        "371449635398431", "378734493671000", "6011111111111117", "6011000990139424", "6011981111111113", "3056930009020004",
        "30569309025904", "38520000023237", "36227206271667", "3566002020360505", "3530111333300000", "6200000000000005",
        "6200000000000047", "6205500000000000004", "4000002500003155", "4000000000003220", "4000000000009995", "4000000000000002",
        "4000000000000077", "4000000000000341", "4000000000000069", "4000000000000127", "4000000000000119", "4000002760003184",
        "4000003800000446", "5425233430109903", "4917610000000000", "4001919257537193", "4007702835532454", "4917484589897107",
        "2222405343248877", "2222990905257051", "5454545454545454", "4444333322221111", "4988438843884305", "4166676667666746",
        "6771798021000008", "6759649826438453", "3700000000000002", "3600666633330000", "3569990010095841", "4035501000000008",
        "4360000001000005", "4400000000000008", "4484600000000004", "4607000000000009", "4977949494949497", "5100290029002909",
        "5577000055770004", "5136333333333335", "5585558555855583", "5555444433331111", "2223520443560010", "4003830171874018",
        "6011601160116611", "3530111333300000", "4012000033330026", "4005519200000004", "4009348888881881", "4012000077777777",
        "4217651111111119", "4500600000000061", "5431111111111111", "5500000000000004", "6011000000000004", "6011000000000012",
        "341111111111111", "370000000000002", "30000000000004", "4007000000027", "4012888818888", "4000000000000010",
    ];

    // ---------------- IBAN ----------------

    private static readonly Dictionary<string, int> IbanLengths = new(StringComparer.Ordinal)
    {
        ["AD"] = 24, ["AE"] = 23, ["AL"] = 28, ["AT"] = 20, ["AZ"] = 28, ["BA"] = 20, ["BE"] = 16, ["BG"] = 22, ["BH"] = 22, ["BI"] = 27,
        ["BR"] = 29, ["BY"] = 28, ["CH"] = 21, ["CR"] = 22, ["CY"] = 28, ["CZ"] = 24, ["DE"] = 22, ["DJ"] = 27, ["DK"] = 18, ["DO"] = 28,
        ["EE"] = 20, ["EG"] = 29, ["ES"] = 24, ["FI"] = 18, ["FK"] = 18, ["FO"] = 18, ["FR"] = 27, ["GB"] = 22, ["GE"] = 22, ["GI"] = 23,
        ["GL"] = 18, ["GR"] = 27, ["GT"] = 28, ["HR"] = 21, ["HU"] = 28, ["IE"] = 22, ["IL"] = 23, ["IQ"] = 23, ["IS"] = 26, ["IT"] = 27,
        ["JO"] = 30, ["KW"] = 30, ["KZ"] = 20, ["LB"] = 28, ["LC"] = 32, ["LI"] = 21, ["LT"] = 20, ["LU"] = 20, ["LV"] = 21, ["LY"] = 25,
        ["MC"] = 27, ["MD"] = 24, ["ME"] = 22, ["MK"] = 19, ["MN"] = 20, ["MR"] = 27, ["MT"] = 31, ["MU"] = 30, ["NI"] = 28, ["NL"] = 18,
        ["NO"] = 15, ["OM"] = 23, ["PK"] = 24, ["PL"] = 28, ["PS"] = 29, ["PT"] = 25, ["QA"] = 29, ["RO"] = 24, ["RS"] = 22, ["RU"] = 33,
        ["SA"] = 24, ["SC"] = 31, ["SD"] = 18, ["SE"] = 24, ["SI"] = 19, ["SK"] = 24, ["SM"] = 27, ["SO"] = 23, ["ST"] = 25, ["SV"] = 28,
        ["TL"] = 23, ["TN"] = 24, ["TR"] = 26, ["UA"] = 29, ["VA"] = 22, ["VG"] = 24, ["XK"] = 20, ["YE"] = 30,
    };

    /// <summary>
    /// Length of an IBAN starting at <paramref name="start"/> (compact, or in groups of four separated by single
    /// spaces), with its country's length and a valid mod-97 check; 0 when there is none.
    /// </summary>
    public static int MatchIban(ReadOnlySpan<char> s, int start)
    {
        if (start + 15 > s.Length) return 0;
        if (!IsUpper(s[start]) || !IsUpper(s[start + 1]) || !char.IsAsciiDigit(s[start + 2]) || !char.IsAsciiDigit(s[start + 3])) return 0;
        if (!IbanLengths.TryGetValue(new string(s.Slice(start, 2)), out int len)) return 0;
        Span<char> iban = stackalloc char[34];
        int n = 0, i = start, sinceSpace = 0;
        bool spaced = false;
        while (i < s.Length && n < len)
        {
            char c = s[i];
            if (IsUpper(c) || char.IsAsciiDigit(c)) { iban[n++] = c; sinceSpace++; i++; continue; }
            if (c == ' ' && sinceSpace == 4 && i + 1 < s.Length && (IsUpper(s[i + 1]) || char.IsAsciiDigit(s[i + 1])) && (n == 4 || spaced))
            {
                spaced = true;
                sinceSpace = 0;
                i++;
                continue;
            }
            break;
        }
        if (n != len) return 0;
        if (i < s.Length && char.IsLetterOrDigit(s[i])) return 0;   // longer than the country's IBAN
        return Mod97(iban[..n]) == 1 ? i - start : 0;
    }

    private static bool IsUpper(char c) => c is >= 'A' and <= 'Z';

    private static int Mod97(ReadOnlySpan<char> iban)
    {
        int r = 0;
        for (int k = 0; k < iban.Length; k++)
        {
            char c = iban[(k + 4) % iban.Length];
            if (char.IsAsciiDigit(c)) r = (r * 10 + (c - '0')) % 97;
            else r = (r * 100 + (c - 'A' + 10)) % 97;
        }
        return r;
    }

    // ---------------- US SSN ----------------

    /// <summary>123-45-6789, 123 45 6789 or 123456789 in valid ranges (area 001–899 but 666, group ≠ 00, serial ≠ 0000).</summary>
    public static bool Ssn(ReadOnlySpan<char> v)
    {
        Span<char> d = stackalloc char[9];
        if (v.Length == 9) { if (!AllDigits(v)) return false; v.CopyTo(d); }
        else if (v.Length == 11 && (v[3] == '-' && v[6] == '-' || v[3] == ' ' && v[6] == ' '))
        {
            if (!AllDigits(v[..3]) || !AllDigits(v.Slice(4, 2)) || !AllDigits(v[7..])) return false;
            v[..3].CopyTo(d); v.Slice(4, 2).CopyTo(d[3..]); v[7..].CopyTo(d[5..]);
        }
        else return false;
        int area = int.Parse(d[..3]), group = int.Parse(d.Slice(3, 2)), serial = int.Parse(d[5..]);
        if (area is 0 or 666 || area >= 900 || group == 0 || serial == 0) return false;
        var s = new string(d);
        return s is not ("123456789" or "078051120" or "219099999" or "111111111" or "333333333" or "987654320");
    }

    public static bool AllDigits(ReadOnlySpan<char> v)
    {
        if (v.IsEmpty) return false;
        foreach (var c in v) if (!char.IsAsciiDigit(c)) return false;
        return true;
    }

    // ---------------- dates (birth dates) ----------------

    private static readonly string[][] MonthNames =
    [
        ["jan", "ene", "janv", "gen", "jaan", "sty", "tammi"],
        ["feb", "fev", "fevr", "febr", "lut", "helmi"],
        ["mar", "marz", "mars", "maerz", "mrt", "maa", "maalis"],
        ["apr", "abr", "avr", "kwi", "huhti"],
        ["may", "mai", "mayo", "mag", "mei", "maio", "maj", "touko"],
        ["jun", "juin", "giu", "junio", "juni", "junho", "cze", "kesa"],
        ["jul", "juil", "lug", "julio", "juli", "julho", "lip", "heina"],
        ["aug", "ago", "aou", "aout", "agosto", "sie", "elo"],
        ["sep", "sept", "set", "wrz", "syys"],
        ["oct", "okt", "out", "ott", "paz", "loka"],
        ["nov", "lis", "marras"],
        ["dec", "dic", "dez", "des", "gru", "joulu"],
    ];

    /// <summary>A calendar date that could be a birth date: ISO, slashed/dotted/dashed day-month orders, compact, or with month names.</summary>
    public static bool BirthDate(string v, int currentYear)
    {
        v = v.Trim();
        if (v.Length is < 6 or > 40) return false;
        if (v.Length > 10 && v[10] is 'T' or ' ' && char.IsAsciiDigit(v[0]) && v[4] is '-' or '/' or '.') v = v[..10];   // 1984-06-11T00:00:00Z
        var parts = new List<string>(3);
        var sb = new StringBuilder();
        bool hasLetters = false;
        foreach (char ch in v)
        {
            if (char.IsLetterOrDigit(ch))
            {
                if (sb.Length > 0 && char.IsDigit(sb[^1]) != char.IsDigit(ch)) { parts.Add(sb.ToString()); sb.Clear(); }
                hasLetters |= char.IsLetter(ch);
                KeyClassifier.Fold(ch, sb);
            }
            else if (ch is '-' or '/' or '.' or ' ' or ',')
            {
                if (sb.Length > 0) { parts.Add(sb.ToString()); sb.Clear(); }
            }
            else return false;
        }
        if (sb.Length > 0) parts.Add(sb.ToString());
        if (parts.Count == 1 && parts[0].Length == 8 && AllDigits(parts[0]))   // 19840611
            return Ymd(int.Parse(parts[0][..4]), int.Parse(parts[0].AsSpan(4, 2)), int.Parse(parts[0].AsSpan(6, 2)), currentYear);
        parts.RemoveAll(p => p is "de" or "of" or "the" or "st" or "nd" or "rd" or "th" or "del" or "der");
        if (parts.Count != 3) return false;
        if (!hasLetters)
        {
            if (!parts.TrueForAll(p => AllDigits(p) && p.Length <= 4)) return false;
            int a = int.Parse(parts[0]), b = int.Parse(parts[1]), c = int.Parse(parts[2]);
            if (parts[0].Length == 4) return Ymd(a, b, c, currentYear);
            if (parts[2].Length is 4 or 2)
            {
                int y = parts[2].Length == 4 ? c : (c + 2000 > currentYear ? c + 1900 : c + 2000);
                return Ymd(y, b, a, currentYear) || Ymd(y, a, b, currentYear);   // day-month or month-day
            }
            return false;
        }
        int year = -1, month = -1, day = -1;
        foreach (var p in parts)
        {
            if (AllDigits(p))
            {
                if (p.Length > 4) return false;
                int x = int.Parse(p);
                if (p.Length == 4) year = x;
                else if (p.Length <= 2 && day < 0) day = x;
                else return false;
            }
            else
            {
                int m = Month(p);
                if (m < 0 || month >= 0) return false;
                month = m;
            }
        }
        return Ymd(year, month, day, currentYear);
    }

    private static int Month(string word)
    {
        for (int m = 0; m < 12; m++)
            foreach (var n in MonthNames[m])
                if (word.StartsWith(n, StringComparison.Ordinal) && word.Length <= n.Length + 7) return m + 1;
        return -1;
    }

    private static bool Ymd(int y, int m, int d, int currentYear) =>
        y >= 1900 && y <= currentYear && m is >= 1 and <= 12 && d >= 1 && d <= DateTime.DaysInMonth(y, m);

    // ---------------- IP addresses ----------------

    /// <summary>A public (globally routable) IPv4 or IPv6 address, written alone (an optional :port on IPv4).</summary>
    public static bool PublicIp(ReadOnlySpan<char> v)
    {
        if (v.Length is < 7 or > 53) return false;
        if (v[0] == '[')   // [v6]:port
        {
            int close = v.IndexOf(']');
            return close > 0 && (close == v.Length - 1 || v[close + 1] == ':' && AllDigits(v[(close + 2)..])) && PublicIpv6(v[1..close]);
        }
        if (v.Length > 45) return false;
        if (v.Contains(':') && !v.Contains('.') || v.Count(':') >= 2) return PublicIpv6(v);
        int colon = v.IndexOf(':');
        if (colon > 0) { if (!AllDigits(v[(colon + 1)..])) return false; v = v[..colon]; }
        return ParseIpv4(v, out var o) && PublicIpv4(o);
    }

    public static bool ParseIpv4(ReadOnlySpan<char> v, out uint addr)
    {
        addr = 0;
        int parts = 0, i = 0;
        while (i < v.Length)
        {
            int start = i, x = 0;
            while (i < v.Length && char.IsAsciiDigit(v[i]) && i - start < 3) x = x * 10 + (v[i++] - '0');
            int len = i - start;
            if (len == 0 || x > 255 || (len > 1 && v[start] == '0')) return false;
            addr = (addr << 8) | (uint)x;
            parts++;
            if (i == v.Length) break;
            if (v[i] != '.' || parts == 4) return false;
            i++;
            if (i == v.Length) return false;
        }
        return parts == 4;
    }

    public static bool PublicIpv4(uint a)
    {
        uint b0 = a >> 24, b1 = (a >> 16) & 0xff, b2 = (a >> 8) & 0xff;
        if (b0 is 0 or 10 or 127 || b0 >= 224) return false;                 // this-net, private, loopback, multicast/reserved
        if (b0 == 100 && b1 is >= 64 and <= 127) return false;               // CGNAT
        if (b0 == 169 && b1 == 254) return false;                            // link-local
        if (b0 == 172 && b1 is >= 16 and <= 31) return false;                // private
        if (b0 == 192 && b1 == 168) return false;                            // private
        if (b0 == 192 && b1 == 0 && b2 is 0 or 2) return false;              // IETF, TEST-NET-1
        if (b0 == 198 && b1 is 18 or 19) return false;                       // benchmarking
        if (b0 == 198 && b1 == 51 && b2 == 100) return false;                // TEST-NET-2
        if (b0 == 203 && b1 == 0 && b2 == 113) return false;                 // TEST-NET-3
        if ((a & 0xff) == 0 && b1 == 0 && b2 == 0) return false;             // x.0.0.0 network
        return true;
    }

    private static bool PublicIpv6(ReadOnlySpan<char> v)
    {
        foreach (var c in v) if (!(char.IsAsciiHexDigit(c) || c is ':' or '.')) return false;
        if (!IPAddress.TryParse(v, out var ip) || ip.AddressFamily != System.Net.Sockets.AddressFamily.InterNetworkV6) return false;
        if (ip.IsIPv4MappedToIPv6) { var m = ip.MapToIPv4().GetAddressBytes(); return PublicIpv4((uint)(m[0] << 24 | m[1] << 16 | m[2] << 8 | m[3])); }
        Span<byte> b = stackalloc byte[16];
        ip.TryWriteBytes(b, out _);
        if ((b[0] & 0xe0) != 0x20) return false;                             // global unicast is 2000::/3
        if (b[0] == 0x20 && b[1] == 0x01 && b[2] == 0x0d && b[3] == 0xb8) return false;   // documentation
        return true;
    }

    // ---------------- JWT ----------------

    /// <summary>
    /// Header.payload.signature in base64url whose header is a JSON object naming an algorithm and whose
    /// payload is a JSON object. <paramref name="example"/> is set for the jwt.io sample token.
    /// </summary>
    public static bool Jwt(ReadOnlySpan<char> v, out bool example)
    {
        example = false;
        if (v.Length is < 30 or > 16384 || !v.StartsWith("eyJ")) return false;
        int d1 = v.IndexOf('.');
        if (d1 < 10) return false;
        int d2 = v[(d1 + 1)..].IndexOf('.');
        if (d2 < 10) return false;
        d2 += d1 + 1;
        var h = v[..d1];
        var p = v[(d1 + 1)..d2];
        var s = v[(d2 + 1)..];
        if (!B64MayBeJsonObject(p) || !IsB64Url(h) || !IsB64Url(p) || !IsB64Url(s)) return false;
        var header = DecodeB64Url(h);
        if (header is null || !JsonObjectWith(header, "alg")) return false;
        var payload = DecodeB64Url(p);
        if (payload is null || !JsonObjectWith(payload, null)) return false;
        if (s.SequenceEqual("SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c")
            || (payload.AsSpan().IndexOf("\"1234567890\""u8) >= 0 && payload.AsSpan().IndexOf("John Doe"u8) >= 0))
            example = true;   // the jwt.io sample
        return true;
    }

    private static bool IsB64Url(ReadOnlySpan<char> s)
    {
        foreach (var c in s) if (!(char.IsAsciiLetterOrDigit(c) || c is '-' or '_')) return false;
        return true;
    }

    public static byte[]? DecodeB64Url(ReadOnlySpan<char> s)
    {
        if (s.Length > 12000) return null;
        Span<byte> buf = stackalloc byte[Base64Url.GetMaxDecodedLength(s.Length)];
        // The Try… variant throws on malformed input (a length of 4n+1): random tokens that only look like a JWT
        // made that an exception per request.
        if (Base64Url.DecodeFromChars(s, buf, out _, out int n) != System.Buffers.OperationStatus.Done) return null;
        return buf[..n].ToArray();
    }

    /// <summary>
    /// Whether base64url text (a token's claims part) can decode to a JSON object: its first character encodes the
    /// top six bits of the first byte, '{' (e) or leading JSON whitespace (I, C, D). Opaque tokens that merely
    /// start like a JWT end here, before a digest, a memo lookup or a decode.
    /// </summary>
    public static bool B64MayBeJsonObject(ReadOnlySpan<char> b64url) => b64url.Length > 0 && b64url[0] is 'e' or 'I' or 'C' or 'D';
    public static bool B64MayBeJsonObject(ReadOnlySpan<byte> b64url) => b64url.Length > 0 && b64url[0] is (byte)'e' or (byte)'I' or (byte)'C' or (byte)'D';

    /// <summary>
    /// The credential of a "Scheme credential" value (or the whole value) when it is shaped like a JWT, "eyJ…" with two
    /// dots; empty otherwise. Whether it is one is for <see cref="Jwt"/> to say.
    /// </summary>
    public static ReadOnlySpan<byte> JwtShaped(ReadOnlySpan<byte> value)
    {
        value = value.Trim((byte)' ');
        int sp = value.IndexOf((byte)' ');
        if (sp > 0) value = value[(sp + 1)..].TrimStart((byte)' ');
        return value.StartsWith("eyJ"u8) && value.Count((byte)'.') == 2 ? value : default;
    }

    /// <summary>As above, for a value as text.</summary>
    public static ReadOnlySpan<char> JwtShaped(ReadOnlySpan<char> value)
    {
        value = value.Trim();
        int sp = value.IndexOf(' ');
        if (sp > 0) value = value[(sp + 1)..].Trim();
        return value.StartsWith("eyJ") && value.Count('.') == 2 ? value : default;
    }

    /// <summary>
    /// Cheap test before a JSON reader, which can only report invalid input by throwing: a document that does not
    /// even begin with '{' and end with '}' (random bytes, mostly) is not an object.
    /// </summary>
    public static bool MayBeJsonObject(ReadOnlySpan<byte> json)
    {
        json = json.Trim(" \t\r\n"u8);
        return json.Length >= 2 && json[0] == (byte)'{' && json[^1] == (byte)'}';
    }

    private static bool JsonObjectWith(byte[] json, string? property)
    {
        if (!MayBeJsonObject(json)) return false;
        try
        {
            var r = new Utf8JsonReader(json, new JsonReaderOptions { MaxDepth = 16 });
            if (!r.Read() || r.TokenType != JsonTokenType.StartObject) return false;
            bool found = property is null;
            while (r.Read())
            {
                if (r.TokenType == JsonTokenType.PropertyName && r.CurrentDepth == 1 && property is not null && r.ValueTextEquals(property)) found = true;
                else if (r.TokenType is JsonTokenType.StartObject or JsonTokenType.StartArray) r.Skip();
            }
            return found;
        }
        catch (JsonException) { return false; }
    }

    /// <summary>Standard or url-safe base64 (padding optional) decoding to mostly printable UTF-8 text.</summary>
    public static string? DecodeBase64Text(ReadOnlySpan<char> s)
    {
        if (s.Length is < 4 or > 4096) return null;
        Span<char> norm = stackalloc char[s.Length + 3];
        int n = 0;
        foreach (var c in s)
        {
            if (char.IsAsciiLetterOrDigit(c) || c is '+' or '/') norm[n++] = c;
            else if (c == '-') norm[n++] = '+';
            else if (c == '_') norm[n++] = '/';
            else if (c == '=') continue;
            else return null;
        }
        while (n % 4 != 0) norm[n++] = '=';
        Span<byte> bytes = stackalloc byte[n];
        if (!Convert.TryFromBase64Chars(norm[..n], bytes, out int len) || len == 0) return null;
        var text = Encoding.UTF8.GetString(bytes[..len]);
        foreach (var c in text) if (char.IsControl(c) || c == '\uFFFD') return null;
        return text;
    }

    // ---------------- randomness and placeholders ----------------

    /// <summary>Shannon entropy in bits per character.</summary>
    public static double Entropy(ReadOnlySpan<char> s)
    {
        if (s.IsEmpty) return 0;
        Span<int> counts = stackalloc int[128];
        counts.Clear();   // the module skips locals init
        int other = 0;
        foreach (var c in s) { if (c < 128) counts[c]++; else other++; }
        double h = 0, n = s.Length;
        foreach (var k in counts) if (k > 0) { double p = k / n; h -= p * Math.Log2(p); }
        if (other > 0) { double p = other / n; h -= p * Math.Log2(p); }
        return h;
    }

    private static readonly string[] PlaceholderFragments =
    [
        "xxxx", "****", "•", "…", "...", "<", ">", "${", "{{", "}}", "changeme", "change_me", "change-me", "replace", "your-", "your_",
        "yourkey", "yourtoken", "yoursecret", "yourpassword", "example", "placeholder", "dummy", "sample", "redacted", "masked", "insert",
        "todo", "fixme", "notreal", "not-a-real", "not_a_real", "fake", "secret_here", "key_here", "token_here", "here>", "-here", "_here",
        "xxxxx", "#####", "0000000000", "1234567890", "abcdefgh", "qwertyui", "lorem", "test_key", "test-key", "testkey", "testtoken", "foobar",
    ];

    // All fragments in one vectorised pass (asked of every candidate key and password).
    private static readonly System.Buffers.SearchValues<string> PlaceholderSearch = System.Buffers.SearchValues.Create(PlaceholderFragments, StringComparison.OrdinalIgnoreCase);

    private static readonly HashSet<string> PlaceholderWords = new(StringComparer.OrdinalIgnoreCase)
    {
        "password", "secret", "token", "apikey", "api_key", "api-key", "null", "none", "nil", "undefined", "empty", "n/a", "na", "string",
        "value", "default", "admin", "root", "test", "testing", "pass", "passwd", "123456", "guest", "user", "demo", "temp", "tbd",
        "unknown", "hidden", "private", "redacted", "censored", "removed", "omitted", "filtered", "sensitive", "confidential", "bearer",
        "basic", "true", "false", "yes", "no", "on", "off", "required", "optional", "*", "-", "?",
        // "change me" and "password"/"secret" in other languages
        "cambiame", "cámbiame", "cambiar", "aendern", "ändern", "andern", "changezmoi", "modifiermoi", "cambiami", "mudar", "alterar",
        "contraseña", "contrasena", "passwort", "kennwort", "motdepasse", "mot_de_passe", "senha", "wachtwoord", "geheim", "segreto",
        "secreto", "segredo", "clave", "haslo", "hasło", "losenord", "salasana", "passord", "sifre", "parola",
        "hashed", "encrypted", "set", "unset", "notset", "not_set", "not set", "missing", "blank", "nopassword", "xxx",
    };

    /// <summary>Templates, masks, env references and stock words standing in for a secret.</summary>
    public static bool IsPlaceholder(string v)
    {
        var t = v.Trim();
        if (t.Length == 0 || PlaceholderWords.Contains(t)) return true;
        if (t.AsSpan().IndexOfAny(PlaceholderSearch) >= 0) return true;
        if (t.Length >= 2 && (t[0] == '%' && t[^1] == '%' || t[0] == '[' && t[^1] == ']' || t[0] == '{' && t[^1] == '}')) return true;
        if (t.Length >= 2 && t[0] == '$' && (t[1] is '{' or '(' || t[1] is >= 'A' and <= 'Z' && IsEnvName(t.AsSpan(1)))) return true;   // $API_KEY, ${X}, $(cmd)
        // An environment-variable name (API_KEY, REPLACE_ME, DB_PASSWORD).
        if (t.Length >= 3 && t.Contains('_') && IsEnvName(t)) return true;
        // One repeated character, or only mask characters.
        bool same = true;
        foreach (var c in t) if (c != t[0]) { same = false; break; }
        if (same && t.Length >= 3) return true;
        return false;
    }

    private static bool IsEnvName(ReadOnlySpan<char> t)
    {
        foreach (var c in t) if (!(c is >= 'A' and <= 'Z' || c == '_' || char.IsAsciiDigit(c))) return false;
        return true;
    }

    /// <summary>Looks like a machine-generated key: long enough, key characters, random (not a word, id or hash-shaped id).</summary>
    public static bool KeyLike(string v, int minLength = 16)
    {
        if (v.Length < minLength || v.Length > 512) return false;
        // Cheapest rejections first: the character count and the placeholder search read the whole value.
        if (v.StartsWith("eyJ", StringComparison.Ordinal) && v.Contains('.')) return false;   // JWT-shaped but not a JWT: a fake or a cut token
        int upper = 0, lower = 0, digit = 0, other = 0;
        foreach (var c in v)
        {
            if (c is >= 'A' and <= 'Z') upper++;
            else if (c is >= 'a' and <= 'z') lower++;
            else if (char.IsAsciiDigit(c)) digit++;
            else if (c is '-' or '_' or '.' or '+' or '/' or '=' or '~' or ':') other++;
            else return false;
        }
        if (digit == v.Length) return false;
        int classes = (upper > 0 ? 1 : 0) + (lower > 0 ? 1 : 0) + (digit > 0 ? 1 : 0);
        if (classes < 2) return false;
        if (IsUuid(v) || TokenPatterns.HasProviderPrefix(v)) return false;   // a provider's token that failed its checksum or shape
        if (v.Contains("://", StringComparison.Ordinal) || IsPlaceholder(v)) return false;
        return Entropy(v) >= 3.0;
    }

    public static bool IsUuid(ReadOnlySpan<char> v)
    {
        if (v.Length != 36) return false;
        for (int i = 0; i < 36; i++)
        {
            if (i is 8 or 13 or 18 or 23) { if (v[i] != '-') return false; }
            else if (!char.IsAsciiHexDigit(v[i])) return false;
        }
        return true;
    }

    public static bool IsHex(ReadOnlySpan<char> v)
    {
        foreach (var c in v) if (!char.IsAsciiHexDigit(c)) return false;
        return !v.IsEmpty;
    }

    /// <summary>A hash stored in a password field (bcrypt, argon2, scrypt, PBKDF2, or a hex digest) is not the password.</summary>
    public static bool PasswordHash(string v) =>
        v.StartsWith("$2", StringComparison.Ordinal) && v.Length >= 59 || v.StartsWith("$argon2", StringComparison.Ordinal)
        || v.StartsWith("$scrypt", StringComparison.Ordinal) || v.StartsWith("pbkdf2", StringComparison.OrdinalIgnoreCase)
        || v.StartsWith("$6$", StringComparison.Ordinal) || v.StartsWith("$5$", StringComparison.Ordinal)
        || (v.Length is 32 or 40 or 64 or 128 && IsHex(v));

    public static bool PasswordValue(string v)
    {
        if (v.Length is < 4 or > 128 || IsPlaceholder(v) || PasswordHash(v)) return false;
        foreach (var c in v) if (char.IsControl(c)) return false;
        return true;
    }

    // ---------------- names and addresses ----------------

    private static readonly HashSet<string> NameParticles = new(StringComparer.Ordinal)
    {
        "de", "da", "del", "della", "der", "den", "van", "von", "la", "le", "du", "dos", "das", "di", "bin", "binti", "al", "el", "ter", "ten",
        "y", "e", "zu", "af", "av", "do", "des", "lo", "ibn", "bint", "mac", "st", "vom", "zum", "zur",
    };

    private static readonly HashSet<string> NonPersonWords = new(StringComparer.OrdinalIgnoreCase)
    {
        "inc", "llc", "ltd", "gmbh", "ag", "sa", "sas", "sarl", "bv", "nv", "co", "corp", "corporation", "company", "limited", "plc", "pty",
        "srl", "spa", "kg", "oy", "ab", "group", "holdings", "holding", "logistics", "coffee", "bank", "services", "service", "solutions",
        "technologies", "technology", "tech", "systems", "labs", "studio", "studios", "store", "shop", "foundation", "university", "hospital",
        "school", "team", "admin", "administrator", "test", "user", "customer", "unknown", "anonymous", "guest", "none", "null", "default",
        "sample", "example", "demo", "support", "api", "bot", "system", "root", "visa", "mastercard", "amex", "gold", "platinum", "premium",
        "classic", "business", "debit", "credit", "card", "account", "savings", "checking", "main", "primary", "personal", "home", "work",
        "office", "new", "old", "my", "the", "and", "of", "for", "edition", "pro", "plus", "mini", "lite", "set", "pack", "box",
        "cable", "lamp", "chair", "desk", "shoes", "beans", "book", "biography", "guide", "manual", "app", "web", "mobile", "server", "client",
        "service", "project", "prod", "production", "staging", "dev", "development", "internal", "external", "public", "private", "free",
        "basic", "standard", "enterprise", "starter", "trial", "monthly", "annual", "yearly", "daily", "weekly", "report", "invoice", "order",
        "payment", "refund", "shipping", "billing", "delivery", "express", "international", "national", "global", "street", "road", "avenue", "city", "county", "state", "republic", "kingdom", "united", "ministry", "department", "agency",
        "club", "association", "society", "institute", "center", "centre", "hotel", "restaurant", "cafe", "bar", "market", "mart", "pharmacy",
        "clinic", "n/a", "tbd", "todo", "undefined", "john doe", "jane doe", "enterprises", "industries", "partners", "associates",
        "consulting", "ventures", "capital", "trading", "worldwide", "media", "digital", "software", "networks", "network", "energy",
        "foods", "motors", "airlines", "pharma", "health", "healthcare", "insurance", "financial", "finance", "investments", "realty",
        "properties", "construction", "engineering", "electronics", "retail", "supplies", "supply", "distribution", "manufacturing", "brands",
        "design", "creative", "marketing", "agency", "works", "factory", "farms", "bakery", "brewing", "brewery", "wines", "gallery",
        "academy", "college", "church", "council", "committee", "union", "federation", "community", "initiative", "fund", "trust", "bros",
        "brothers", "sons", "llp", "lp", "gbr", "ohg", "ug", "sl", "sa", "sarl", "sprl", "oü", "as", "asa", "aps", "kft", "zrt", "sro",
        "s.r.o", "sp", "z.o.o", "ltda", "cia", "sapi", "cv", "bhd", "sdn", "kk", "pte", "pvt", "ооо", "books", "press", "publishing",
        "records", "music", "films", "pictures", "games", "reply", "noreply", "notifications", "alerts", "billing", "sales", "info", "contact",
        "team", "staff", "office", "desk", "helpdesk", "service", "operations", "security", "hr", "it", "finance", "accounts", "payroll",
    };

    private static readonly HashSet<string> Titles = new(StringComparer.OrdinalIgnoreCase)
    {
        "mr", "mrs", "ms", "miss", "dr", "prof", "sr", "sra", "srta", "mme", "mlle", "m", "herr", "frau", "sig", "sig.ra", "dott", "jr", "sir", "dame",
    };

    /// <summary>Words of a person's name: letters (any script) with inner apostrophes, hyphens or an initial's dot; capitalised (or uncased scripts).</summary>
    public static bool PersonName(string v, int minWords, int maxWords = 5)
    {
        v = v.Trim();
        if (v.Length is < 2 or > 70) return false;
        if (NonPersonWords.Contains(v)) return false;
        int words = 0, longWords = 0;
        foreach (var raw in v.Split(' ', StringSplitOptions.RemoveEmptyEntries))
        {
            var w = raw.TrimEnd(',');
            if (w.Length == 0) return false;
            words++;
            if (words > maxWords) return false;
            if (NameParticles.Contains(w) || Titles.Contains(w.TrimEnd('.'))) continue;   // van der Berg, de la Cruz, Dr.
            if (NonPersonWords.Contains(w.TrimEnd('.'))) return false;
            char f = w[0];
            if (!char.IsLetter(f) || char.IsLower(f)) return false;
            int letters = 0;
            for (int i = 0; i < w.Length; i++)
            {
                char c = w[i];
                if (char.IsLetter(c)) { letters++; continue; }
                if (c is '\'' or '’' or '-' && i > 0 && i < w.Length - 1) continue;
                if (c == '.' && i == w.Length - 1 && letters <= 2) continue;   // initial: "J." / "St."
                return false;
            }
            // Mixed case inside a word (McDonald, DeShawn are fine; iPhone, eBay, camelCase ids are not).
            int upperInside = 0;
            for (int i = 1; i < w.Length; i++) if (char.IsUpper(w[i])) upperInside++;
            bool allUpper = upperInside == letters - 1;
            if (!allUpper && upperInside > 1) return false;
            if (letters >= 2) longWords++;
        }
        return words >= minWords && longWords >= 1 && (words > 1 || v.Length >= 2);
    }

    /// <summary>A street line or a whole postal address: a house number and words, not a URL, email, id or sentence.</summary>
    public static bool StreetAddress(string v)
    {
        v = v.Trim();
        if (v.Length is < 5 or > 200) return false;
        if (v.Contains('@') || v.Contains("://", StringComparison.Ordinal) || v.Contains('{') || v.Contains('<') || v.Contains('=')) return false;
        int digits = 0, letters = 0, words = 0, wordLetters = 0, maxWordLetters = 0;
        bool inWord = false;
        foreach (var c in v)
        {
            if (char.IsDigit(c)) digits++;
            if (char.IsLetter(c)) { letters++; wordLetters++; maxWordLetters = Math.Max(maxWordLetters, wordLetters); }
            else wordLetters = 0;
            bool sep = c is ' ' or ',' or '\n';
            if (!sep && !inWord) words++;
            inWord = !sep;
        }
        if (digits == 0 || digits > 12 || letters < 4 || words < 2 || maxWordLetters < 3) return false;
        if (PublicIp(v) || Validators.Ssn(v)) return false;
        return !IsPlaceholder(v);
    }

    // ---------------- email ----------------

    private static bool LocalChar(char c) => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '%' or '+' or '-' or '\'';
    private static bool DomainChar(char c) => char.IsAsciiLetterOrDigit(c) || c is '.' or '-';

    private static readonly HashSet<string> NotTlds = new(StringComparer.OrdinalIgnoreCase)
    {
        "png", "jpg", "jpeg", "gif", "svg", "webp", "ico", "bmp", "js", "css", "map", "json", "html", "htm", "xml", "txt", "pdf", "zip",
        "gz", "local", "localhost", "internal", "lan", "svc", "cluster", "intranet", "corp", "home", "invalid", "test", "example", "onion",
    };

    /// <summary>
    /// The email around the '@' at <paramref name="at"/>: its start and length in <paramref name="s"/>, or
    /// false. Userinfo in URIs (scheme://user:pass@host), masked locals (j***@) and file names (icon@2x.png) are not emails.
    /// </summary>
    public static bool EmailAt(ReadOnlySpan<char> s, int at, out int start, out int length)
    {
        start = at; length = 0;
        int a = at;
        while (a > 0 && at - a < 64 && LocalChar(s[a - 1])) a--;
        if (a == at || s[a] == '.' || s[at - 1] == '.') return false;
        if (a > 0 && (s[a - 1] is '*' or '•' or '@' || char.IsLetterOrDigit(s[a - 1]))) return false;
        if (a > 0 && s[a - 1] is ':' or '/' && InUriAuthority(s, a)) return false;   // scheme://user:pass@host, ftp://user@host
        int b = at + 1;
        while (b < s.Length && b - at < 254 && DomainChar(s[b])) b++;
        while (b > at + 1 && s[b - 1] is '.' or '-') b--;   // sentence punctuation
        var domain = s[(at + 1)..b];
        int lastDot = domain.LastIndexOf('.');
        if (lastDot <= 0) return false;
        var tld = domain[(lastDot + 1)..];
        if (tld.Length is < 2 or > 24) return false;
        foreach (var c in tld) if (!char.IsAsciiLetter(c)) return false;
        if (NotTlds.Contains(tld.ToString())) return false;
        if (domain.Contains("..", StringComparison.Ordinal) || domain[0] is '.' or '-') return false;
        if (b < s.Length && (s[b] == '@' || s[b] == ':' && b + 1 < s.Length && char.IsAsciiLetterOrDigit(s[b + 1]))) return false;   // git@host:org/repo
        start = a;
        length = b - a;
        return true;
    }

    /// <summary>RFC 2606/6761 documentation domains: an address there is an example, not a person's.</summary>
    public static bool ReservedEmailDomain(string email)
    {
        int at = email.LastIndexOf('@');
        var d = email[(at + 1)..].ToLowerInvariant();
        return d is "example.com" or "example.org" or "example.net" || d.EndsWith(".example", StringComparison.Ordinal)
            || d.EndsWith(".example.com", StringComparison.Ordinal) || d.EndsWith(".example.org", StringComparison.Ordinal);
    }

    /// <summary>Whether position <paramref name="a"/> is inside the authority of a URI ("//" before it, no "/" since).</summary>
    private static bool InUriAuthority(ReadOnlySpan<char> s, int a)
    {
        for (int i = a - 1; i >= 1 && a - i < 512; i--)
        {
            char ch = s[i];
            if (char.IsWhiteSpace(ch) || ch is '"' or '\'' or '<' or '>') return false;
            if (ch == '/') return s[i - 1] == '/';
        }
        return false;
    }

    public static bool WholeEmail(string v)
    {
        int at = v.IndexOf('@');
        return at > 0 && v.IndexOf('@', at + 1) < 0 && EmailAt(v, at, out int s, out int len) && s == 0 && len == v.Length;
    }
}
