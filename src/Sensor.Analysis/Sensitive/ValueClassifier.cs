namespace Sensor.Analysis.Sensitive;

internal enum ValueSource { Json, Form, Multipart, Query, Header, Cookie, Path, Text }

/// <summary>Where a value sits and what its name, its container and its siblings say about it.</summary>
internal readonly record struct FieldCtx(string Part, string? At, ValueSource Source)
{
    /// <summary>
    /// For a JSON scalar: the path of its container. Its location ($.a.b, $['e-mail'], $.a[3]) is then made only
    /// when something is reported there: most values are judged and let go.
    /// </summary>
    public string? ContainerPath { get; init; }
    /// <summary>With <see cref="ContainerPath"/>: the scalar's index in an array (else it is the member named <see cref="Key"/>).</summary>
    public int? ElementIndex { get; init; }
    public string Location => At ?? (ElementIndex is int i ? ContainerPath + "[" + i + "]" : BodyScanner.Member(ContainerPath!, Key ?? ""));

    public string? Key { get; init; }
    public KeyClass KeyFlags { get; init; }
    public KeyClass ParentFlags { get; init; }
    public KeyClass AncestorFlags { get; init; }
    public KeyClass SiblingFlags { get; init; }
    /// <summary>An AKIA/ASIA access key id sits in the same object (pairs a 40-character secret with it).</summary>
    public bool SiblingHasAwsKey { get; init; }
    /// <summary>Names may make a value a password or api key (not for cookies: those are session state).</summary>
    public bool NameSecrets => Source != ValueSource.Cookie && Source != ValueSource.Path;
    public bool InExample => ((KeyFlags | ParentFlags | AncestorFlags) & KeyClass.Example) != 0;
}

/// <summary>Hits of one transaction: deduplicated, capped, and undoable (a body that turns out not to be JSON).</summary>
internal sealed class ScanState(SensitiveScanOptions options, List<SensitiveHit> into, int currentYear)
{
    private readonly HashSet<(string, string, string, string)> _seen = [];
    private readonly List<SensitiveHit> _into = into;
    private readonly int _base = into.Count;
    public ScanBudget Budget { get; } = new(options, currentYear);
    public SensitiveScanOptions Options => Budget.Options;
    public bool Full => _into.Count - _base >= Options.MaxHits;

    public void Add(in FieldCtx c, string type, string value)
    {
        if (type.Length == 0 || Full) return;
        // Docs, examples, samples: not a live secret; personal data right under an "example" is documentation too.
        if (c.InExample && SensitiveTypes.IsSecret(type) || ((c.KeyFlags | c.ParentFlags) & KeyClass.Example) != 0) type = SensitiveTypes.Example;
        var location = c.Location;
        if (_seen.Add((c.Part, location, type, value))) _into.Add(new SensitiveHit(c.Part, location, type, value));
    }

    public int Mark => _into.Count;

    /// <summary>Hits added since <paramref name="mark"/> (for memoising a value's result).</summary>
    public SensitiveHit[] Since(int mark) => mark >= _into.Count ? [] : _into.GetRange(mark, _into.Count - mark).ToArray();

    /// <summary>Adds the hits <paramref name="memo"/> remembers for <paramref name="key"/>; false when it has none.</summary>
    public bool Replayed<TKey>(ValueMemo<TKey, SensitiveHit[]> memo, TKey key) where TKey : notnull
    {
        if (!memo.TryGet(key, out var known)) return false;
        foreach (var h in known) Replay(h);
        return true;
    }

    /// <summary>Remembers in <paramref name="memo"/> the hits added since <paramref name="mark"/> for <paramref name="key"/> (a digest: it holds no characters).</summary>
    public void Remember<TKey>(ValueMemo<TKey, SensitiveHit[]> memo, TKey key, int mark) where TKey : notnull
    {
        var found = Since(mark);
        int chars = 8;
        foreach (var h in found) chars += h.Value.Length;
        memo.Add(key, found, chars);
    }

    /// <summary>Adds a hit already judged (a memoised result for the same value at the same place).</summary>
    public void Replay(SensitiveHit h)
    {
        if (Full) return;
        if (_seen.Add((h.Part, h.Location, h.Type, h.Value))) _into.Add(h);
    }

    public void Rollback(int mark)
    {
        for (int i = mark; i < _into.Count; i++) _seen.Remove((_into[i].Part, _into[i].Location, _into[i].Type, _into[i].Value));
        _into.RemoveRange(mark, _into.Count - mark);
    }
}

/// <summary>
/// Decides what one value is, most specific first: a provider token, private key, JWT or connection string
/// by format; a password or api key by name; then personal data by format and name; finally free text
/// (emails, phones, tokens... inside a sentence).
/// </summary>
internal static class ValueClassifier
{
    private const KeyClass PersonSignals = KeyClass.Email | KeyClass.Phone | KeyClass.Dob | KeyClass.FirstName | KeyClass.LastName
        | KeyClass.FullName | KeyClass.Address | KeyClass.AddressLine | KeyClass.Ssn | KeyClass.Password;

    public static void Classify(in FieldCtx c, string raw, bool isNumber, ScanState s)
    {
        if (s.Full) return;
        var v = raw.Trim();
        if (v.Length == 0 || v.Length > s.Options.MaxValueChars) return;
        if (isNumber) { ClassifyNumber(c, v, s); return; }
        if (v.StartsWith("data:", StringComparison.OrdinalIgnoreCase) && v.Contains(";base64,", StringComparison.OrdinalIgnoreCase)) return;   // embedded file
        var k = c.KeyFlags;

        // 1. Credentials recognised by their format, wherever they are.
        if (Credential(c, v, s)) return;
        if (v.Contains("-----BEGIN ", StringComparison.Ordinal))
        {
            int b = v.IndexOf("-----BEGIN ", StringComparison.Ordinal);
            int len = TokenPatterns.PrivateKeyBlock(v, b);
            if (len > 0) s.Add(c, SensitiveTypes.PrivateKey, v.Substring(b, len));
            return;   // public keys and certificates: nothing else to find in them
        }
        bool pwd = false, placeholderPwd = false;
        string? uriSecret = null;
        int uri = SchemeStart(v) == 0 ? TokenPatterns.CredentialUri(v, 0, out pwd, out placeholderPwd, out uriSecret) : 0;
        if (uri > 0 && (pwd || placeholderPwd))
        {
            // https://oauth2:glpat-…@host: the token is the most specific item.
            if (TokenPatterns.WholeTokenType(uriSecret) is { } tokenType) s.Add(c, tokenType, uriSecret!);
            else if (pwd) s.Add(c, SensitiveTypes.ConnectionString, v[..uri]);
            return;
        }
        if (v.Contains(';'))
        {
            if (TokenPatterns.AdoConnectionString(v, out bool adoPlaceholder)) { s.Add(c, SensitiveTypes.ConnectionString, v); return; }
            if (adoPlaceholder) return;
        }

        // 2. Secrets by name.
        if (c.NameSecrets && (k & KeyClass.Password) != 0)
        {
            if (Validators.PasswordValue(v)) s.Add(c, SensitiveTypes.Password, v);
            return;
        }
        if (c.NameSecrets && AwsSecretShape(v) && ((k & KeyClass.AwsSecret) != 0 || (k & KeyClass.Secret) != 0 && (c.SiblingHasAwsKey || ((c.ParentFlags | c.AncestorFlags) & KeyClass.Aws) != 0)))
        {
            s.Add(c, v.Contains("EXAMPLE", StringComparison.Ordinal) ? SensitiveTypes.Example : SensitiveTypes.AwsSecretKey, v);
            return;
        }
        if (c.NameSecrets && (k & KeyClass.Secret) != 0)
        {
            if (Validators.KeyLike(v, c.Source == ValueSource.Header ? 12 : 16)) s.Add(c, SensitiveTypes.ApiKey, v);
            return;
        }

        // 3. Personal data.
        if (v.Contains('@') && Validators.WholeEmail(v)) { s.Add(c, Validators.ReservedEmailDomain(v) ? SensitiveTypes.Example : SensitiveTypes.Email, v); return; }
        if ((k & KeyClass.Ssn) != 0) { if (Validators.Ssn(v)) s.Add(c, SensitiveTypes.Ssn, v); return; }
        if ((k & KeyClass.Dob) != 0) { if (Validators.BirthDate(v, s.Budget.CurrentYear)) s.Add(c, SensitiveTypes.DateOfBirth, v); return; }
        if (PhoneKey(c))
        {
            var p = StripTel(v);
            if (PhoneCheck.Digits(p) >= 7 && PhoneCheck.IsValid(p, national: true, s.Budget)) { s.Add(c, SensitiveTypes.Phone, v); return; }
        }
        if (v.Length >= 15 && Validators.MatchIban(v, 0) == v.Length) { s.Add(c, SensitiveTypes.Iban, v); return; }
        if (Card(c, v, s)) return;
        if ((k & KeyClass.Ip) != 0 && ((k | c.ParentFlags) & KeyClass.IpNegative) == 0)
        {
            if (Validators.PublicIp(v)) s.Add(c, SensitiveTypes.IpAddress, v);
            return;
        }
        if (PersonName(c, v)) { s.Add(c, SensitiveTypes.PersonName, v); return; }
        if (Address(c, v)) { s.Add(c, SensitiveTypes.Address, v); return; }
        if (v[0] == '+' && (k & KeyClass.Identifier) == 0 && PhoneCheck.Digits(v) >= 8 && PhoneCheck.IsValid(v, national: false, s.Budget))
        {
            s.Add(c, SensitiveTypes.Phone, v);
            return;
        }
        if ((k & KeyClass.Search) != 0 && PhoneShaped(v) && PhoneCheck.IsValid(v, national: true, s.Budget))
        {
            s.Add(c, SensitiveTypes.Phone, v);   // a search box holding just a phone number
            return;
        }

        // 4. Anything inside free text (short plain words cannot hold anything: skip the passes).
        if (v.Length >= 20 || v.AsSpan().IndexOfAny(FreeTextHints) >= 0) FreeText.Scan(v, c, s);
    }

    /// <summary>
    /// A credential by format: provider token, JWT, or "Scheme credential". Returns true when the value was
    /// recognised (reported or deliberately not, like sk_test_ keys), so nothing else applies.
    /// </summary>
    public static bool Credential(in FieldCtx c, string v, ScanState s)
    {
        if (v.Length >= 20 && TokenPatterns.MayStartToken(v[0]) && TokenPatterns.Match(v, 0) is { } m && (m.Length == v.Length || v[m.Length] == '/'))
        {
            s.Add(c, m.Type, v[..m.Length]);   // whole, or an access key id with its credential scope (AKIA…/20241104/us-east-1/s3/aws4_request)
            return true;
        }
        if (v.StartsWith("eyJ", StringComparison.Ordinal) && Validators.Jwt(v, out bool example))
        {
            s.Add(c, example ? SensitiveTypes.Example : SensitiveTypes.Jwt, v);
            return true;
        }
        int sp = v.IndexOf(' ');
        if (sp > 0 && sp < 20 && v.IndexOf(' ', sp + 1) < 0)
        {
            var scheme = v[..sp];
            if (scheme.Equals("Bearer", StringComparison.OrdinalIgnoreCase) || scheme.Equals("Basic", StringComparison.OrdinalIgnoreCase)
                || scheme.Equals("Token", StringComparison.OrdinalIgnoreCase))
                return Authorization(c, v, s);
        }
        return false;
    }

    /// <summary>An Authorization value: Basic → basic_auth (the base64), Bearer/Token → jwt, provider token or opaque api key, AWS SigV4 → access key id.</summary>
    public static bool Authorization(in FieldCtx c, string value, ScanState s)
    {
        var v = value.Trim();
        if (v.Length == 0) return false;
        int sp = v.IndexOf(' ');
        string scheme = sp > 0 ? v[..sp] : "";
        string cred = sp > 0 ? v[(sp + 1)..].Trim() : v;
        // Most values say Bearer: no lowered copy of the scheme for them.
        switch (scheme.Equals("Bearer", StringComparison.OrdinalIgnoreCase) ? "bearer" : scheme.ToLowerInvariant())
        {
            case "basic":
                var text = Validators.DecodeBase64Text(cred);
                if (text is null) return false;
                int colon = text.IndexOf(':');
                if (colon < 0) return false;
                var password = text[(colon + 1)..];
                if (password.Length == 0 || Validators.IsPlaceholder(password) && password.Length < 12) return true;
                s.Add(c, SensitiveTypes.BasicAuth, cred);
                return true;
            case "aws4-hmac-sha256":
                int ci = cred.IndexOf("Credential=", StringComparison.OrdinalIgnoreCase);
                if (ci < 0) return false;
                var id = cred[(ci + 11)..];
                int slash = id.IndexOf('/');
                if (slash > 0) id = id[..slash];
                if (TokenPatterns.Match(id, 0) is { } aws && aws.Length == id.Length) s.Add(c, aws.Type, id);
                return true;
            case "digest" or "negotiate" or "ntlm" or "hoba" or "mutual" or "vapid" or "gnap" or "signature" or "hmac":
                return true;   // challenge-response material, not a reusable credential by itself
        }
        if (cred.Contains(' ')) return false;
        if (cred.Length >= 20 && TokenPatterns.Match(cred, 0) is { } m && m.Length == cred.Length) { s.Add(c, m.Type, cred); return true; }
        if (cred.StartsWith("eyJ", StringComparison.Ordinal) && Validators.Jwt(cred, out bool example))
        {
            s.Add(c, example ? SensitiveTypes.Example : SensitiveTypes.Jwt, cred);
            return true;
        }
        // An opaque bearer credential; a UUID is one too here (it is what the server checks), unlike a UUID in an id field.
        if (Validators.KeyLike(cred, 16) || Validators.IsUuid(cred)) s.Add(c, SensitiveTypes.ApiKey, cred);
        return true;
    }

    private static readonly System.Buffers.SearchValues<char> FreeTextHints = System.Buffers.SearchValues.Create("0123456789@=:");

    private static void ClassifyNumber(in FieldCtx c, string v, ScanState s)
    {
        if (!Validators.AllDigits(v) || v.Length > 19) return;
        var k = c.KeyFlags;
        if (CardKey(c) && v.Length >= 13 && Validators.Luhn(v) && Validators.CardIin(v))
        {
            s.Add(c, Validators.IsTestCard(v) ? SensitiveTypes.Example : SensitiveTypes.CreditCard, v);
            return;
        }
        if (PhoneKey(c) && v.Length >= 7)
        {
            if (v.Length >= 10 && PhoneCheck.IsValid("+" + v, national: false, s.Budget) || PhoneCheck.IsValid(v, national: true, s.Budget))
                s.Add(c, SensitiveTypes.Phone, v);
            return;
        }
        if ((k & KeyClass.Ssn) != 0 && v.Length is >= 7 and <= 9 && Validators.Ssn(v.PadLeft(9, '0'))) { s.Add(c, SensitiveTypes.Ssn, v); return; }
        if ((k & KeyClass.Dob) != 0 && v.Length == 8 && Validators.BirthDate(v, s.Budget.CurrentYear)) s.Add(c, SensitiveTypes.DateOfBirth, v);
    }

    private static bool PhoneKey(in FieldCtx c) =>
        (c.KeyFlags & KeyClass.Phone) != 0 || (c.KeyFlags & KeyClass.Number) != 0 && (c.ParentFlags & KeyClass.PhoneParent) != 0;

    private static bool CardKey(in FieldCtx c) =>
        (c.KeyFlags & KeyClass.Card) != 0
        || (c.KeyFlags & (KeyClass.Number | KeyClass.CardParent)) != 0 && (c.KeyFlags & KeyClass.NotCard) == 0 && ((c.ParentFlags | c.KeyFlags) & KeyClass.CardParent) != 0;

    private static bool Card(in FieldCtx c, string v, ScanState s)
    {
        var digits = Validators.CardDigits(v);
        if (digits is null || !Validators.Luhn(digits) || !Validators.CardIin(digits)) return false;
        bool keyed = CardKey(c);
        // Without a card name, a Luhn-valid number is still a card unless its name says what else it is (an order, a receipt...).
        if (!keyed && (c.Source == ValueSource.Path || ((c.KeyFlags | c.ParentFlags) & (KeyClass.NotCard | KeyClass.Phone)) != 0)) return false;
        s.Add(c, Validators.IsTestCard(digits) ? SensitiveTypes.Example : SensitiveTypes.CreditCard, v);
        return true;
    }

    private static bool PersonName(in FieldCtx c, string v)
    {
        var k = c.KeyFlags;
        if ((k & (KeyClass.FirstName | KeyClass.LastName)) != 0) return Validators.PersonName(v, 1, 4);
        if ((k & KeyClass.FullName) != 0) return (c.SiblingFlags & KeyClass.Product) == 0 && Validators.PersonName(v, 1, 6);
        if ((k & KeyClass.BareName) == 0 || c.Source is ValueSource.Header or ValueSource.Cookie or ValueSource.Path) return false;
        bool personSiblings = (c.SiblingFlags & PersonSignals) != 0;
        bool person = (c.ParentFlags & (KeyClass.PersonParent | KeyClass.CardParent)) != 0 || personSiblings;
        bool product = ((c.SiblingFlags | c.ParentFlags) & KeyClass.Product) != 0
            || !personSiblings && ((c.SiblingFlags | c.ParentFlags) & KeyClass.Org) != 0;
        int minWords = (c.SiblingFlags & (KeyClass.FirstName | KeyClass.LastName)) != 0 ? 1 : 2;
        return person && !product && Validators.PersonName(v, minWords, 5);
    }

    private static bool Address(in FieldCtx c, string v)
    {
        var k = c.KeyFlags;
        if (c.Source is ValueSource.Header or ValueSource.Cookie or ValueSource.Path || (k & KeyClass.AddressPart) != 0) return false;
        bool line = (k & (KeyClass.Address | KeyClass.AddressLine)) != 0
            || (k & KeyClass.BareLine) != 0 && ((c.ParentFlags & KeyClass.Address) != 0 || (c.SiblingFlags & KeyClass.AddressPart) != 0);
        return line && Validators.StreetAddress(v);
    }

    private static bool AwsSecretShape(string v)
    {
        if (v.Length != 40) return false;
        foreach (var ch in v) if (!(char.IsAsciiLetterOrDigit(ch) || ch is '/' or '+')) return false;
        return Validators.Entropy(v) >= 4.0;
    }

    private static string StripTel(string v) =>
        v.StartsWith("tel:", StringComparison.OrdinalIgnoreCase) ? v[4..].Trim() : v;

    /// <summary>Grouped like a phone number: (212) 555-0100, 702.690.4445, 0176 7780 9416.</summary>
    private static bool PhoneShaped(string v)
    {
        int d = PhoneCheck.Digits(v);
        if (d is < 9 or > 15) return false;
        int seps = 0;
        foreach (var ch in v) if (ch is ' ' or '-' or '.' or '(' or ')') seps++;
        return seps >= 2 || v[0] == '(';
    }

    /// <summary>Where a URI scheme starts in a value that is a URI (0), else -1.</summary>
    private static int SchemeStart(string v)
    {
        int sep = v.IndexOf("://", StringComparison.Ordinal);
        if (sep <= 0 || sep > 40) return -1;
        for (int i = 0; i < sep; i++) if (!(char.IsAsciiLetterOrDigit(v[i]) || v[i] is '+' or '.' or '-' or ':')) return -1;
        return 0;
    }
}
