namespace Sensor.Analysis.Sensitive;

/// <summary>
/// Finds items inside free text (notes, messages, text and XML bodies, unparseable JSON). Three linear
/// passes, each moving forward only: key blocks by their BEGIN marker; "words" (runs between separators)
/// for tokens, JWTs, URIs with credentials, emails and KEY=value assignments; and digit runs for phones,
/// cards, SSNs, IPs and IBANs. Numbers need context (a leading +, grouping, or a nearby word like "phone"
/// or "card") because free text is full of ids, dates and amounts.
/// </summary>
internal static class FreeText
{
    public static void Scan(string text, in FieldCtx c, ScanState s)
    {
        if (text.Length > s.Options.MaxBodyBytes) text = text[..s.Options.MaxBodyBytes];
        ScanKeys(text, c, s);
        ScanWords(text, c, s, text.AsSpan().IndexOfAny(WordTriggers) >= 0);
        ScanNumbers(text, c, s);
    }

    // What a word shorter than a token needs to hold anything: an email's @, an assignment's =, a "name:" or a
    // URI's "://". Prose without them is only read for long words (tokens, JWTs, the credential after "Bearer").
    private static readonly System.Buffers.SearchValues<char> WordTriggers = System.Buffers.SearchValues.Create("@=:");
    private const int TokenWord = 20;

    private static void ScanKeys(string text, in FieldCtx c, ScanState s)
    {
        int from = 0;
        while (from < text.Length && !s.Full)
        {
            int b = text.IndexOf("-----BEGIN ", from, StringComparison.Ordinal);
            if (b < 0) return;
            int len = TokenPatterns.PrivateKeyBlock(text, b);
            if (len > 0) s.Add(c, SensitiveTypes.PrivateKey, text.Substring(b, len).Replace("\\n", "\n", StringComparison.Ordinal));
            from = b + Math.Max(len, 11);
        }
    }

    private static bool Separator(char ch) =>
        char.IsWhiteSpace(ch) || ch is '"' or '\'' or '`' or ',' or ';' or '(' or ')' or '<' or '>' or '[' or ']' or '{' or '}' or '|' or '\\';

    private const int MaxWord = 8192;

    private static void ScanWords(string text, in FieldCtx c, ScanState s, bool triggers)
    {
        int i = 0, n = text.Length;
        int prevStart = -1, prevEnd = -1;
        while (i < n && !s.Full)
        {
            while (i < n && Separator(text[i])) i++;
            int a = i;
            while (i < n && !Separator(text[i])) i++;
            int b = i;
            while (b > a && text[b - 1] is '.' or ',' or ':' or '!' or '?') b--;
            if (b - a >= (triggers ? 3 : TokenWord) && b - a <= MaxWord) Word(text, a, b, c, s, prevStart, prevEnd);
            if (b > a) { prevStart = a; prevEnd = i; }
        }
    }

    private static void Word(string text, int a, int b, in FieldCtx c, ScanState s, int prevStart, int prevEnd)
    {
        var w = text.AsSpan(a, b - a);
        // "Bearer <credential>" / "password: <value>" spelled out in text.
        if (prevStart >= 0)
        {
            var prev = text.AsSpan(prevStart, prevEnd - prevStart);
            if (prev.Equals("Bearer", StringComparison.OrdinalIgnoreCase) || prev.Equals("Token", StringComparison.OrdinalIgnoreCase))
            {
                var cred = w.ToString();
                if (!(cred.Length >= 20 && TokenPatterns.Match(cred, 0) is not null) && !cred.StartsWith("eyJ", StringComparison.Ordinal)
                    && Validators.KeyLike(cred, 20))
                    s.Add(c, SensitiveTypes.ApiKey, cred);
            }
            else if (prev.Length > 1 && prev[^1] == ':' && c.NameSecrets && MaybeSecretName(prev))
                Assignment(prev[..^1].ToString(), w.ToString(), c, s);
        }

        int k = 0, schemeSep = -1;
        while (k < w.Length)
        {
            char ch = w[k];
            bool boundary = k == 0 || !char.IsAsciiLetterOrDigit(w[k - 1]);
            if (boundary && ch == 'e' && w[k..].StartsWith("eyJ"))
            {
                int e = k;
                while (e < w.Length && (char.IsAsciiLetterOrDigit(w[e]) || w[e] is '-' or '_' or '.')) e++;
                while (e > k && w[e - 1] == '.') e--;
                if (Validators.Jwt(w[k..e], out bool example))
                    s.Add(c, example ? SensitiveTypes.Example : SensitiveTypes.Jwt, w[k..e].ToString());
                k = Math.Max(e, k + 1);
                continue;
            }
            if (boundary && TokenPatterns.MayStartToken(ch) && TokenPatterns.Match(w, k) is { } m)
            {
                s.Add(c, m.Type, w.Slice(k, m.Length).ToString());
                k += m.Length;
                continue;
            }
            if (boundary && char.IsAsciiLetter(ch))
            {
                if (schemeSep != int.MaxValue && schemeSep < k)
                {
                    int next = w[k..].IndexOf("://");   // the next "://" is found once and reused: linear per word
                    schemeSep = next < 0 ? int.MaxValue : k + next;
                }
                int sep = schemeSep == int.MaxValue ? -1 : schemeSep - k;
                if (sep > 0 && sep <= 40)
                {
                    bool scheme = true;
                    foreach (var sc in w.Slice(k, sep)) if (!(char.IsAsciiLetterOrDigit(sc) || sc is '+' or '.' or '-' or ':')) { scheme = false; break; }
                    if (scheme)
                    {
                        int len = TokenPatterns.CredentialUri(w, k, out bool pwd, out _, out var uriSecret);
                        if (TokenPatterns.WholeTokenType(uriSecret) is { } tokenType) s.Add(c, tokenType, uriSecret!);
                        else if (pwd) s.Add(c, SensitiveTypes.ConnectionString, w.Slice(k, len).ToString());
                        if (len > 0 && pwd) { k += len; continue; }
                    }
                }
            }
            if (ch == '@' && Validators.EmailAt(text, a + k, out int es, out int el) && es >= a)
            {
                var email = text.Substring(es, el);
                s.Add(c, Validators.ReservedEmailDomain(email) ? SensitiveTypes.Example : SensitiveTypes.Email, email);
                k = es - a + el;
                continue;
            }
            if (ch == '=' && c.NameSecrets && k > 0 && k + 1 < w.Length && w[k + 1] != '=')
            {
                int ns = k;
                while (ns > 0 && k - ns < 64 && (char.IsAsciiLetterOrDigit(w[ns - 1]) || w[ns - 1] is '_' or '-' or '.')) ns--;
                if (k - ns >= 2 && MaybeSecretName(w[ns..k]))
                {
                    int ve = k + 1;
                    while (ve < w.Length && ve - k <= 513 && w[ve] is not ('&' or ';')) ve++;
                    Assignment(w[ns..k].ToString(), w[(k + 1)..ve].ToString(), c, s);
                }
            }
            k++;
        }
    }

    private static readonly string[] SecretNameHints = ["pass", "pwd", "key", "secret", "token", "auth", "cred", "clave", "senha", "mdp", "kennwort", "contrase", "wachtwoord", "haslo", "parol"];

    private static bool MaybeSecretName(ReadOnlySpan<char> name)
    {
        foreach (var h in SecretNameHints) if (name.Contains(h, StringComparison.OrdinalIgnoreCase)) return true;
        return false;
    }

    /// <summary>NAME=value in text (env dumps, curl lines, URLs): reported when the name says password or key and the value is real.</summary>
    private static void Assignment(string name, string value, in FieldCtx c, ScanState s)
    {
        value = Uri.UnescapeDataString(value.Trim('"', '\''));
        if (value.Length == 0 || value.Length > 512) return;
        if (value.Length >= 20 && TokenPatterns.Match(value, 0) is not null || value.StartsWith("eyJ", StringComparison.Ordinal)) return;   // reported by format
        var flags = KeyClassifier.Classify(name);
        if ((flags & KeyClass.Password) != 0)
        {
            if (Validators.PasswordValue(value) && !value.Contains(' ')) s.Add(c, SensitiveTypes.Password, value);
        }
        else if ((flags & KeyClass.AwsSecret) != 0 && value.Length == 40)
            s.Add(c, value.Contains("EXAMPLE", StringComparison.Ordinal) ? SensitiveTypes.Example : SensitiveTypes.AwsSecretKey, value);
        else if ((flags & KeyClass.Secret) != 0 && Validators.KeyLike(value, 16))
            s.Add(c, SensitiveTypes.ApiKey, value);
    }

    private static bool LeftBoundary(char p) =>
        char.IsWhiteSpace(p) || p is '"' or '\'' or '(' or ',' or ';' or ':' or '=' or '<' or '>' or '[' or ']' or '{' or '}' or '|' or '`';

    private static bool RunSep(char ch) => ch is ' ' or '-' or '.' or '/' or '(' or ')';

    private static void ScanNumbers(string text, in FieldCtx c, ScanState s)
    {
        int i = 0, n = text.Length;
        while (i < n && !s.Full)
        {
            char ch = text[i];
            if (ch is >= 'A' and <= 'Z' && (i == 0 || !char.IsLetterOrDigit(text[i - 1])))
            {
                int m = Validators.MatchIban(text, i);
                if (m > 0) { s.Add(c, SensitiveTypes.Iban, text.Substring(i, m)); i += m; continue; }
            }
            if (!(char.IsAsciiDigit(ch) || ch is '+' or '(') || (ch is '+' or '(' && (i + 1 >= n || !char.IsAsciiDigit(text[i + 1]))))
            {
                i++;
                continue;
            }
            if (i > 0 && !LeftBoundary(text[i - 1]))
            {
                i++;
                while (i < n && char.IsLetterOrDigit(text[i])) i++;   // part of a word, id or version: skip it whole
                continue;
            }
            int j = ch is '+' or '(' ? i + 1 : i, digits = 0, end = -1, seps = 0;
            while (j < n)
            {
                char d = text[j];
                if (char.IsAsciiDigit(d)) { digits++; j++; end = j; continue; }
                if (!RunSep(d)) break;
                int k = j;
                while (k < n && k - j < 2 && RunSep(text[k])) k++;
                if (k < n && (char.IsAsciiDigit(text[k]) || text[k] == '(' && k + 1 < n && char.IsAsciiDigit(text[k + 1]))) { seps++; j = k; continue; }
                break;
            }
            int next = Math.Max(j, i + 1);
            if (end > 0 && digits <= 19 && (end >= n || !(char.IsLetter(text[end]) || text[end] is '_' or '@' or '%')))
            {
                var cand = text[i..end];
                if (cand[0] == '(' && cand.IndexOf(')') < 0) cand = cand[1..];
                Number(text, i, end, cand, digits, seps, c, s);
            }
            i = next;
        }
    }

    private static void Number(string text, int start, int end, string cand, int digits, int seps, in FieldCtx c, ScanState s)
    {
        bool whole = start == 0 && end == text.Length;
        bool dotsOnly = !cand.Contains(' ') && !cand.Contains('-') && !cand.Contains('/') && !cand.Contains('(');
        if (dotsOnly && cand.Count(ch => ch == '.') == 3 && cand[0] != '+')
        {
            if (Validators.ParseIpv4(cand, out var ip) && Validators.PublicIpv4(ip) && Near(text, start, end, IpWords)) s.Add(c, SensitiveTypes.IpAddress, cand);
            return;
        }
        if (digits == 9 && cand.Length == 11 && Validators.Ssn(cand) && (Near(text, start, end, SsnWords) || (c.KeyFlags & KeyClass.Ssn) != 0))
        {
            s.Add(c, SensitiveTypes.Ssn, cand);
            return;
        }
        if (digits is >= 13 and <= 19 && Validators.CardDigits(cand) is { } pan && Validators.Luhn(pan) && Validators.CardIin(pan)
            && (seps >= 2 || Near(text, start, end, CardWords)) && ((c.KeyFlags | c.ParentFlags) & KeyClass.NotCard) == 0)
        {
            s.Add(c, Validators.IsTestCard(pan) ? SensitiveTypes.Example : SensitiveTypes.CreditCard, cand);
            return;
        }
        if (digits is >= 7 and <= 15 && (c.KeyFlags & KeyClass.Identifier) == 0)
        {
            if (cand[0] == '+')
            {
                if (digits >= 8 && PhoneCheck.IsValid(cand, national: false, s.Budget)) s.Add(c, SensitiveTypes.Phone, cand);
                return;
            }
            bool context = Near(text, start, end, PhoneWords) || (c.KeyFlags & KeyClass.Phone) != 0 || whole && (c.KeyFlags & KeyClass.Search) != 0;
            bool shaped = seps >= 1 || cand[0] == '0' || digits >= 10;
            if (context && shaped && (digits >= 9 || seps >= 1) && PhoneCheck.IsValid(cand, national: true, s.Budget)) s.Add(c, SensitiveTypes.Phone, cand);
        }
    }

    // Words near a national-format number that make it a phone number; a trailing * matches any word starting so.
    private static readonly string[] PhoneWords = ["phone*", "tel", "tél", "telephon*", "call", "calling", "callback", "mobile", "cell*", "reach", "sms", "text me",
        "whatsapp", "fax", "contact*", "ring", "dial", "number", "telef*", "teléf*", "téléf*", "handy", "portable", "móvil", "movil", "mobil*",
        "celular", "cellulare", "rufnummer", "nummer", "numero", "número", "numéro", "appel*", "joindre", "llam*", "llám*", "chiam*",
        "contatt*", "anruf*", "rufen", "erreich*", "ligar", "ligue", "bellen", "bel", "tlf", "mob", "fone", "zadzwo*", "ring*"];
    /// <summary>A sentence ends at i: a newline or ';', or '.', '!', '?' then a capitalised word, after a word that is not an abbreviation (Tel., Nr.).</summary>
    private static bool SentenceEnd(string text, int i)
    {
        char ch = text[i];
        if (ch is '\n' or ';') return true;
        if (ch is not ('.' or '!' or '?') || i + 2 >= text.Length || text[i + 1] != ' ' || !char.IsUpper(text[i + 2])) return false;
        int letters = 0;
        for (int k = i - 1; k >= 0 && char.IsLetter(text[k]); k--) letters++;
        return letters > 3 || letters == 0;
    }

    private static readonly string[] CardWords = ["card", "credit", "debit", "visa", "mastercard", "amex", "discover", "cc", "pan", "tarjeta",
        "carte", "karte", "carta", "cartão", "cartao", "kreditkarte"];
    private static readonly string[] SsnWords = ["ssn", "social security", "soc sec", "ss#", "ss no", "ss number", "seguro social"];
    private static readonly string[] IpWords = ["ip", "ipv4", "client", "login", "remote", "source"];

    /// <summary>A context word within 40 characters before (or 15 after) the candidate, in the same sentence, as a whole word.</summary>
    private static bool Near(string text, int start, int end, string[] words)
    {
        int a = Math.Max(0, start - 40), b = Math.Min(text.Length, end + 15);
        for (int i = start - 1; i > a; i--) if (SentenceEnd(text, i)) { a = i + 1; break; }
        for (int i = end; i < b; i++) if (SentenceEnd(text, i)) { b = i; break; }
        var window = text.AsSpan(a, b - a);
        foreach (var entry in words)
        {
            bool prefix = entry[^1] == '*';
            var word = prefix ? entry.AsSpan(0, entry.Length - 1) : entry.AsSpan();
            int from = 0;
            while (from < window.Length)
            {
                int idx = window[from..].IndexOf(word, StringComparison.OrdinalIgnoreCase);
                if (idx < 0) break;
                idx += from;
                bool left = idx == 0 || !char.IsLetter(window[idx - 1]);
                bool right = idx + word.Length >= window.Length || !char.IsLetter(window[idx + word.Length]);
                if (left && (right || prefix)) return true;
                from = idx + 1;
            }
        }
        return false;
    }
}
