namespace Sensor.Analysis.Sensitive;

/// <summary>What a field, header, cookie or parameter name says about its value.</summary>
[Flags]
internal enum KeyClass : uint
{
    None = 0,
    Password = 1u << 0,
    Secret = 1u << 1,         // api key, token, client secret...
    AwsSecret = 1u << 2,      // aws secret access key
    Aws = 1u << 3,            // mentions aws/amazon (parent context for pairing)
    Phone = 1u << 4,
    Dob = 1u << 5,
    FirstName = 1u << 6,
    LastName = 1u << 7,
    FullName = 1u << 8,
    BareName = 1u << 9,       // just "name": a person only with person context
    PersonParent = 1u << 10,  // customer, user, applicant, holder...
    Address = 1u << 11,       // a postal address in one string
    AddressLine = 1u << 12,   // street, line1...
    AddressPart = 1u << 13,   // city, zip, country: address context, never reported
    Ssn = 1u << 14,
    Card = 1u << 15,          // card number
    CardParent = 1u << 16,    // card, payment method
    Ip = 1u << 17,
    IpNegative = 1u << 18,    // server/upstream/gateway addresses
    Product = 1u << 19,       // sku, price, brand...: not a person
    Email = 1u << 20,
    NotCard = 1u << 21,       // order, receipt, tracking, ids...
    Example = 1u << 22,       // docs, examples, samples
    Search = 1u << 23,        // q, query, search: whatever a user typed
    PhoneParent = 1u << 24,   // {"phone": {"number": ...}}
    Number = 1u << 25,        // number, value, no
    Identifier = 1u << 26,    // ids, hashes, versions, timestamps
    BareLine = 1u << 27,      // line1/line_2: a street line only inside an address object
    Org = 1u << 28,           // company, website, scopes...: not a person unless people fields sit beside it
}

/// <summary>
/// Classifies names by their words, so <c>customerEmail</c>, <c>customer-email</c> and <c>CUSTOMER_EMAIL</c>
/// agree. Names are lowercased, accents folded, and split at separators, camelCase and letter/digit
/// boundaries. The vocabularies are word classes (English and other languages' words for password, phone,
/// birth, first/last name, street...), not lists of field names.
/// </summary>
internal static class KeyClassifier
{
    private const int MaxKeyChars = 80;

    // Keys repeat on every request of an endpoint: each is classified once per thread (bounded cache).
    [ThreadStatic] private static Dictionary<string, KeyClass>? t_keys, t_headers;

    public static KeyClass Classify(string? key, bool header = false)
    {
        if (string.IsNullOrEmpty(key)) return KeyClass.None;
        if (key.Length > MaxKeyChars) return Compute(key, header);   // only the first MaxKeyChars count; long keys are not kept
        var cache = header ? (t_headers ??= new(StringComparer.Ordinal)) : (t_keys ??= new(StringComparer.Ordinal));
        if (cache.TryGetValue(key, out var known)) return known;
        var c = Compute(key, header);
        if (cache.Count >= 8192) cache.Clear();
        cache[key] = c;
        return c;
    }

    /// <summary>As above for a key read in place (a path segment): made a string only when not seen before.</summary>
    public static KeyClass Classify(ReadOnlySpan<char> key)
    {
        if (key.IsEmpty) return KeyClass.None;
        if (key.Length > MaxKeyChars) return Classify(key.ToString());
        // The same few words (users, orders, v1) on every request: a small slot table answers before any hashing.
        var slots = t_recent ??= new (string?, KeyClass)[256];
        ref var slot = ref slots[(key.Length * 31 + key[0] * 7 + key[^1] + (key.Length > 2 ? key[key.Length / 2] * 131 : 0)) & 255];
        if (slot.Key != null && key.SequenceEqual(slot.Key)) return slot.Class;
        var cache = (t_keys ??= new(StringComparer.Ordinal)).GetAlternateLookup<ReadOnlySpan<char>>();
        if (!cache.TryGetValue(key, out var text, out var known))
        {
            text = key.ToString();
            known = Classify(text);
        }
        slot = (text, known);
        return known;
    }

    [ThreadStatic] private static (string? Key, KeyClass Class)[]? t_recent;

    private static KeyClass Compute(string key, bool header)
    {
        var tokens = Tokenize(key);
        if (tokens.Count == 0) return KeyClass.None;
        string compact = string.Concat(tokens);
        var c = KeyClass.None;
        bool Any(HashSet<string> set) => AnyWord(tokens, set);
        bool Has(string t) => tokens.Contains(t);
        bool CompactHas(string[] parts) { foreach (var p in parts) if (compact.Contains(p, StringComparison.Ordinal)) return true; return false; }

        bool identifier = Any(IdentifierWords);
        if (identifier) c |= KeyClass.Identifier;
        if (Any(ExampleWords)) c |= KeyClass.Example;
        if (Has("aws") || Has("amazon") || compact.StartsWith("aws", StringComparison.Ordinal)) c |= KeyClass.Aws;

        // Secrets by name.
        bool pwdWord = Any(PasswordWords) || CompactHas(PasswordCompact);
        if (pwdWord && !Any(PasswordNegative) && !Has("api")) c |= KeyClass.Password;

        bool secretWord = Any(SecretWords) || CompactHas(SecretCompact)
            || (Has("key") && (header || Any(KeyQualifiers)))
            || (header && (Has("auth") || Has("authorization")))
            || (Has("api") && (pwdWord || Any(ForeignKeyWords)));
        if (secretWord && (c & KeyClass.Password) == 0 && !Any(SecretNegative) && !(header && Any(HeaderSecretNegative)))
            c |= KeyClass.Secret;
        if ((c & KeyClass.Secret) != 0 && (compact.Contains("secretaccesskey", StringComparison.Ordinal) || compact.Contains("awssecret", StringComparison.Ordinal)
            || (Has("secret") && (c & KeyClass.Aws) != 0)))
            c |= KeyClass.AwsSecret;

        // Personal data by name.
        if ((Any(PhoneWords) || CompactHas(PhoneCompact)) && !Any(PhoneNegative)) c |= KeyClass.Phone | KeyClass.PhoneParent;
        if ((Any(BirthWords) || CompactHas(BirthCompact)) && !Any(BirthNegative)) c |= KeyClass.Dob;
        if ((Has("ssn") || CompactHas(SsnCompact)) && !Any(MaskWords)) c |= KeyClass.Ssn;
        if (Has("iban")) c |= KeyClass.NotCard;
        if (Any(EmailWords) || compact == "email" || compact.EndsWith("email", StringComparison.Ordinal)) c |= KeyClass.Email;

        if (Any(CardParentWords)) c |= KeyClass.CardParent;
        if ((CompactHas(CardCompact) || Has("pan")) && !Any(CardNegative)) c |= KeyClass.Card;
        if (Any(NumberWords) && tokens.Count <= 2) c |= KeyClass.Number;
        if (Any(NotCardWords) || identifier) c |= KeyClass.NotCard;

        if ((Any(IpWords) || CompactHas(IpCompact)) && !Has("zip") && !Has("skip")) c |= KeyClass.Ip;
        if (Any(IpNegativeWords)) c |= KeyClass.IpNegative;

        if (Any(ProductWords)) c |= KeyClass.Product;
        if (Any(OrgWords)) c |= KeyClass.Org;
        if (Any(SearchWords) && tokens.Count <= 2) c |= KeyClass.Search;

        ClassifyName(tokens, compact, ref c);
        ClassifyAddress(tokens, compact, ref c);
        return c;
    }

    private static void ClassifyName(List<string> tokens, string compact, ref KeyClass c)
    {
        bool Any(HashSet<string> set) => AnyWord(tokens, set);
        bool nameWord = Any(NameWords);
        // Containers of a person (user, customer, holder...): their "name" is a person's.
        if (!nameWord && (Any(PersonParentWords) || Any(HolderWords))) c |= KeyClass.PersonParent;
        if (Any(NameNegative) || Any(NameMaskWords)) return;
        if (FirstNameCompact.Contains(compact) || (tokens.Contains("name") && (tokens.Contains("first") || tokens.Contains("given") || tokens.Contains("middle") || tokens.Contains("fore"))))
        {
            c |= KeyClass.FirstName;
            return;
        }
        if (LastNameCompact.Contains(compact) || (tokens.Contains("name") && (tokens.Contains("last") || tokens.Contains("family") || tokens.Contains("sur") || tokens.Contains("maiden"))))
        {
            c |= KeyClass.LastName;
            return;
        }
        if (Any(HolderWords) || FullNameCompact.Contains(compact) || (nameWord && Any(PersonQualifiers)))
        {
            c |= KeyClass.FullName;
            return;
        }
        if (nameWord && tokens.Count == 1) c |= KeyClass.BareName;
    }

    private static void ClassifyAddress(List<string> tokens, string compact, ref KeyClass c)
    {
        bool Any(HashSet<string> set) => AnyWord(tokens, set);
        bool addressWord = Any(AddressWords);
        // postal_code/zip/city are parts (never reported); postal_address is an address.
        if (Any(AddressPartWords) || tokens.Contains("postal") && !addressWord || compact.Contains("postcode", StringComparison.Ordinal) || compact.Contains("zipcode", StringComparison.Ordinal))
        {
            c |= KeyClass.AddressPart;
            return;
        }
        if (Any(AddressNegative) || (c & (KeyClass.Email | KeyClass.Ip | KeyClass.Identifier)) != 0) return;
        bool line = tokens.Contains("line") || compact.StartsWith("line", StringComparison.Ordinal);
        if (Any(StreetWords) || (addressWord && (line || tokens.Any(t => t.Length == 1 && char.IsDigit(t[0])))) || compact is "addr1" or "addr2" or "addressline1" or "addressline2")
            c |= KeyClass.AddressLine;
        else if (line && tokens.Count <= 2 && tokens.Any(t => t is "1" or "2" or "3" or "one" or "two"))
            c |= KeyClass.BareLine;   // line1 / line_2: an address line when the object is an address (checked by the caller)
        else if (addressWord)
            c |= KeyClass.Address;
    }

    /// <summary>A word of the name is in the set, also as a plural (phones, emails, ips).</summary>
    private static bool AnyWord(List<string> tokens, HashSet<string> set)
    {
        foreach (var t in tokens)
        {
            if (set.Contains(t)) return true;
            if (t.Length > 3 && t[^1] == 's' && set.Contains(t[..^1])) return true;
        }
        return false;
    }

    /// <summary>Lowercased, accent-folded words of a name: "dateOfBirth" → date, of, birth; "address_line1" → address, line, 1.</summary>
    public static List<string> Tokenize(string key)
    {
        var tokens = new List<string>(4);
        var sb = new System.Text.StringBuilder(16);
        int n = Math.Min(key.Length, MaxKeyChars);
        char prev = '\0';
        for (int i = 0; i < n; i++)
        {
            char ch = key[i];
            bool alnum = char.IsLetterOrDigit(ch);
            if (!alnum)
            {
                Flush();
                prev = '\0';
                continue;
            }
            if (sb.Length > 0)
            {
                bool split = (char.IsLower(prev) && char.IsUpper(ch))
                    || (char.IsUpper(prev) && char.IsUpper(ch) && i + 1 < n && char.IsLower(key[i + 1]))
                    || (char.IsDigit(prev) != char.IsDigit(ch));
                if (split) Flush();
            }
            Fold(ch, sb);
            prev = ch;
        }
        Flush();
        return tokens;

        void Flush()
        {
            if (sb.Length > 0) tokens.Add(sb.ToString());
            sb.Clear();
        }
    }

    /// <summary>Lowercase and strip Latin accents without culture data (InvariantGlobalization).</summary>
    internal static void Fold(char ch, System.Text.StringBuilder sb)
    {
        ch = char.ToLowerInvariant(ch);
        if (ch < 0x80) { sb.Append(ch); return; }
        switch (ch)
        {
            case 'à' or 'á' or 'â' or 'ã' or 'ä' or 'å' or 'ā' or 'ă' or 'ą': sb.Append('a'); break;
            case 'æ': sb.Append("ae"); break;
            case 'ç' or 'ć' or 'č': sb.Append('c'); break;
            case 'ď' or 'đ': sb.Append('d'); break;
            case 'è' or 'é' or 'ê' or 'ë' or 'ē' or 'ę' or 'ě': sb.Append('e'); break;
            case 'ğ': sb.Append('g'); break;
            case 'ì' or 'í' or 'î' or 'ï' or 'ı' or 'ī': sb.Append('i'); break;
            case 'ł' or 'ľ' or 'ĺ': sb.Append('l'); break;
            case 'ñ' or 'ń' or 'ň': sb.Append('n'); break;
            case 'ò' or 'ó' or 'ô' or 'õ' or 'ö' or 'ø' or 'ő' or 'ō': sb.Append('o'); break;
            case 'œ': sb.Append("oe"); break;
            case 'ř' or 'ŕ': sb.Append('r'); break;
            case 'ś' or 'š' or 'ş' or 'ș': sb.Append('s'); break;
            case 'ß': sb.Append("ss"); break;
            case 'ť' or 'ț' or 'ţ': sb.Append('t'); break;
            case 'ù' or 'ú' or 'û' or 'ü' or 'ů' or 'ű' or 'ū': sb.Append('u'); break;
            case 'ý' or 'ÿ': sb.Append('y'); break;
            case 'ź' or 'ż' or 'ž': sb.Append('z'); break;
            default: sb.Append(ch); break;
        }
    }

    private static HashSet<string> S(params string[] w) => new(w, StringComparer.Ordinal);

    // --- secrets ---
    private static readonly HashSet<string> PasswordWords = S("password", "passwd", "pwd", "pass", "passphrase", "passcode", "pw",
        "passwort", "kennwort", "contrasena", "contrasenya", "senha", "wachtwoord", "haslo", "lozinka", "heslo", "jelszo",
        "salasana", "losenord", "passord", "adgangskode", "sifre", "parola", "motdepasse", "mdp", "parool", "geslo", "clave", "parole");
    private static readonly string[] PasswordCompact = ["password", "passwort", "contrasena", "motdepasse", "wachtwoord", "passwd", "kennwort", "passphrase"];
    private static readonly HashSet<string> PasswordNegative = S("hash", "hashed", "digest", "salt", "policy", "expires", "expiry", "expired",
        "expiration", "changed", "updated", "last", "length", "min", "max", "strength", "required", "hint", "url", "link", "enabled",
        "has", "is", "forgot", "rules", "rule", "format", "label", "type", "score", "age", "history", "count", "attempts", "algorithm",
        "algo", "token", "code", "id", "at", "date", "time", "field", "placeholder", "pattern", "regex", "validation", "valid", "error",
        "message", "mode", "protected", "set", "template", "boarding", "hashes", "encrypted", "strategy", "manager", "less");

    private static readonly HashSet<string> SecretWords = S("secret", "secrets", "token", "apikey", "apitoken", "accesstoken", "authtoken",
        "credential", "credentials", "creds", "jeton", "secreto", "segreto", "geheimnis", "segredo", "sekret", "bearer", "apisecret", "privatetoken");
    private static readonly string[] SecretCompact = ["apikey", "apisecret", "secretkey", "accesskey", "clientsecret", "appsecret", "authtoken",
        "accesstoken", "apitoken", "privatetoken", "bearertoken", "secrettoken", "subscriptionkey", "masterkey", "signingkey",
        "encryptionkey", "sharedsecret", "consumersecret", "webhooksecret", "secretaccesskey", "personalaccesstoken", "serviceaccountkey"];
    private static readonly HashSet<string> KeyQualifiers = S("api", "access", "secret", "private", "auth", "client", "app", "application",
        "service", "master", "signing", "encryption", "subscription", "maps", "developer", "consumer", "server", "internal", "admin",
        "integration", "partner", "live", "prod", "production", "write", "read", "sdk", "rest", "account", "storage", "shared", "webhook",
        "hmac", "crypto", "google", "stripe", "openai", "sendgrid", "twilio", "mailgun", "slack", "github", "gitlab");
    private static readonly HashSet<string> ForeignKeyWords = S("clave", "llave", "cle", "chiave", "schluessel", "schlussel", "chave", "sleutel", "klucz", "nyckel", "nokkel");
    private static readonly HashSet<string> SecretNegative = S("refresh", "csrf", "xsrf", "id", "ids", "type", "preview", "prefix", "suffix",
        "hint", "last4", "masked", "mask", "expires", "expiry", "expiration", "exp", "ttl", "at", "url", "uri", "endpoint", "name", "count",
        "length", "scope", "scopes", "enabled", "status", "created", "updated", "cursor", "page", "next", "continuation", "pagination",
        "sync", "public", "publishable", "pub", "idempotency", "cache", "partition", "sort", "primary", "foreign", "hash", "fingerprint",
        "version", "label", "format", "file", "path", "required", "rotation", "algorithm", "alg", "kid", "method", "usage", "issuer",
        "audience", "event", "sid", "session", "sess", "signature", "sig", "nonce", "request", "trace", "correlation", "template", "policy",
        "lifetime", "duration", "limit", "header", "param", "field", "location", "provider", "issued", "rotated", "valid", "validity",
        "verified", "present", "set", "has", "is", "last", "owner", "description", "region", "host", "user", "username", "login", "email",
        "truncated", "redacted", "placeholder", "sample", "example", "size", "mode", "manager", "vault",
        "store", "ref", "reference", "arn", "rotate", "expire", "expired", "revoked", "active", "list", "pair", "pairs",
        // per-device and anti-bot tokens, not credentials of the API
        "captcha", "recaptcha", "hcaptcha", "turnstile", "push", "device", "fcm", "apns", "notification");
    private static readonly HashSet<string> HeaderSecretNegative = S("hmac", "sec", "websocket", "cookie", "origin", "accept", "content");

    // --- personal data ---
    private static readonly HashSet<string> PhoneWords = S("phone", "telephone", "tel", "mobile", "mobil", "cell", "cellphone", "cellular",
        "fax", "msisdn", "whatsapp", "landline", "handy", "telefon", "telefono", "telefone", "movil", "celular", "cellulare", "mobiel",
        "gsm", "puhelin", "telefoon", "rufnummer", "telefonnummer", "phonenumber", "mobilephone", "tlf", "tfn", "portable", "telemovel", "mobilnummer");
    private static readonly string[] PhoneCompact = ["phone", "telef", "msisdn", "mobilenumber", "cellnumber"];
    private static readonly HashSet<string> PhoneNegative = S("verified", "verification", "country", "code", "type", "ext", "extension",
        "confirmed", "enabled", "opt", "optin", "consent", "prefix", "id", "status", "carrier", "provider", "brand", "model", "os", "app",
        "visible", "public", "hidden", "token", "pin", "otp", "masked", "mask", "last4", "last", "hash", "book", "make", "plan", "is", "has");
    private static readonly HashSet<string> BirthWords = S("dob", "birth", "birthdate", "birthday", "born", "nacimiento", "naissance",
        "geburtsdatum", "geburtstag", "nascita", "nascimento", "geboortedatum", "geboorte", "urodzenia", "fodselsdato", "fodelsedatum",
        "syntymaaika", "dogum", "narozeni", "natalicio", "cumpleanos", "compleanno", "verjaardag", "fecnac", "dtnasc", "nasc");
    private static readonly string[] BirthCompact = ["birth", "geburt", "nascimento", "nacimiento", "naissance", "nascita", "geboorte"];
    private static readonly HashSet<string> BirthNegative = S("place", "city", "country", "name", "certificate", "location", "town", "state", "province", "region", "year", "month", "day");
    private static readonly string[] SsnCompact = ["socialsecurity", "socsec", "segurosocial", "ssnumber"];
    private static readonly HashSet<string> MaskWords = S("masked", "mask", "last4", "last", "hash", "hashed", "redacted", "partial", "suffix", "prefix", "preview", "digits");
    private static readonly HashSet<string> NameMaskWords = S("masked", "mask", "hash", "hashed", "redacted", "partial", "initials", "initial", "preview");
    private static readonly HashSet<string> EmailWords = S("email", "mail", "correo", "courriel", "epost", "sahkoposti", "emailaddress");

    private static readonly HashSet<string> CardParentWords = S("card", "cards", "creditcard", "debitcard", "payment", "tarjeta", "carte", "karte", "carta", "cartao", "kreditkarte");
    private static readonly string[] CardCompact = ["cardnumber", "ccnumber", "ccnum", "creditcard", "cardno", "cardnum", "numerotarjeta",
        "numerodetarjeta", "kartennummer", "numerocarte", "numerodecarte", "numerocarta", "numerocartao", "primaryaccountnumber", "debitcard"];
    private static readonly HashSet<string> CardNegative = S("masked", "mask", "last4", "last", "bin", "prefix", "hash", "fingerprint", "token",
        "id", "brand", "type", "exp", "expiry", "expiration", "cvc", "cvv", "holder", "name", "country", "funding", "issuer", "suffix", "digits", "network");
    private static readonly HashSet<string> NumberWords = S("number", "no", "num", "numero", "nummer", "value", "e164", "national", "international", "full");
    private static readonly HashSet<string> NotCardWords = S("order", "receipt", "invoice", "reference", "ref", "tracking", "counter", "serial",
        "imei", "gtin", "ean", "upc", "isbn", "barcode", "sku", "transaction", "txn", "confirmation", "booking", "ticket", "account", "member",
        "customer", "timestamp", "ts", "epoch", "time", "created", "updated", "nonce", "seq", "sequence", "amount", "total", "price", "code",
        "batch", "lot", "shipment", "parcel", "awb", "pnr", "policy", "claim", "case", "routing", "aba", "ein", "tax", "vat", "bic", "swift",
        "sort", "postcode", "zip", "msisdn", "imsi", "iccid", "bin", "last4", "masked", "mask", "fingerprint", "count", "size", "bytes", "uptime",
        "requests", "duration", "ms", "id", "uuid", "guid", "document", "passport", "license", "licence", "registration", "product", "item", "qty");
    private static readonly HashSet<string> IpWords = S("ip", "ips", "ipv4", "ipv6", "ipaddr", "ipaddress", "ipaddresses");
    private static readonly string[] IpCompact = ["ipv4", "ipv6", "remoteaddr", "clientaddr", "sourceaddr", "ipaddress", "lastloginip", "clientip", "remoteip", "userip"];
    private static readonly HashSet<string> IpNegativeWords = S("server", "upstream", "gateway", "dns", "resolver", "nameserver", "proxy",
        "internal", "private", "local", "bind", "listen", "vpc", "subnet", "mask", "netmask", "cidr", "range", "router", "node", "pod", "cluster",
        "backend", "origin", "host", "lb", "balancer", "nat", "peer", "ns", "dest", "destination", "target", "service", "vip", "public", "egress",
        "ingress", "allowlist", "whitelist", "allowed", "trusted", "instance", "container", "docker", "lan", "wan", "static", "floating", "elastic",
        "endpoint", "smtp", "mail", "db", "database", "redis", "broker", "forwarded", "via");

    // Things that are not people: a "name" beside these is a product's, a company's or a resource's.
    private static readonly HashSet<string> ProductWords = S("sku", "price", "gtin", "barcode", "ean", "upc", "isbn", "qty", "quantity", "brand",
        "product", "products", "stock", "inventory", "manufacturer", "model", "variant", "catalog", "asin", "mpn", "msrp");
    private static readonly HashSet<string> OrgWords = S("category", "weight", "vendor", "rating", "unit", "slug", "industry", "vat", "ein",
        "duns", "website", "logo", "domain", "merchant", "store", "shop", "company", "organization", "organisation", "org", "publisher",
        "artist", "album", "genre", "release", "runtime", "service", "repository", "repo", "branch", "package", "cluster", "webhook",
        "integration", "app", "application", "project", "workspace", "channel", "queue", "bucket", "table", "scopes", "scope", "plan",
        "employees", "headcount", "founded", "registration", "incorporation", "ticker", "homepage", "url", "items", "item");
    private static readonly HashSet<string> SearchWords = S("q", "query", "search", "term", "keyword", "keywords", "searchterm", "filter", "lookup", "find", "busqueda", "suche", "recherche", "ricerca", "zoek");

    private static readonly HashSet<string> NameWords = S("name", "nombre", "nom", "nome", "naam", "navn", "namn", "nimi", "imie", "jmeno", "ime", "nev", "adi", "isim");
    private static readonly HashSet<string> FirstNameCompact = S("firstname", "givenname", "forename", "fname", "first", "middlename",
        "prenom", "vorname", "voornaam", "fornavn", "fornamn", "etunimi", "keresztnev", "krestnije", "prenume", "primernombre", "nombrepila",
        "nomedobatismo", "primeironome", "nombres", "imie", "jmeno", "given", "forenames", "givennames");
    private static readonly HashSet<string> LastNameCompact = S("lastname", "surname", "familyname", "lname", "last", "apellido", "apellidos",
        "nachname", "familienname", "cognome", "achternaam", "nazwisko", "efternamn", "etternavn", "sukunimi", "vezeteknev", "prijmeni",
        "sobrenome", "apelido", "soyad", "soyadi", "primerapellido", "segundoapellido", "maidenname", "surnames", "nom", "nomdefamille", "ultimonome");
    private static readonly HashSet<string> FullNameCompact = S("fullname", "displayname", "legalname", "realname", "personname",
        "nombrecompleto", "nomcomplet", "nomecompleto", "vollstandigername", "vollername", "volledigenaam", "fullstandigtnamn", "cardholder",
        "accountholder", "holdername", "nameoncard", "titular", "titulaire", "intestatario", "inhaber", "kontoinhaber", "karteninhaber",
        "beneficiary", "beneficiario", "beneficiaire", "begunstigde", "destinatario", "empfanger", "empfaenger", "destinataire", "apellidosynombre");
    private static readonly HashSet<string> HolderWords = S("holder", "cardholder", "accountholder", "titular", "titulaire", "inhaber",
        "kontoinhaber", "karteninhaber", "intestatario", "beneficiary", "beneficiario", "beneficiaire", "payee", "recipient", "addressee");
    private static readonly HashSet<string> PersonQualifiers = S("full", "customer", "client", "contact", "recipient", "sender", "billing",
        "shipping", "beneficiary", "payee", "payer", "owner", "patient", "employee", "applicant", "member", "guest", "passenger", "driver",
        "legal", "real", "person", "display", "buyer", "signer", "attendee", "student", "teacher", "emergency", "spouse", "parent", "mother",
        "father", "child", "guardian", "kin", "cliente", "kunde", "completo", "complet", "vollstandiger", "voller", "volledige", "holder",
        "cardholder", "candidate", "traveler", "traveller", "subscriber", "consumer", "tenant", "landlord", "doctor", "physician",
        "reviewer", "assignee", "reporter", "requester", "author", "agent", "representative", "delivery", "mailing", "birth",
        "usuario", "utilisateur", "benutzer", "persona", "personne", "titular", "destinatario", "empfanger", "cognome", "apellido");
    private static readonly HashSet<string> NameNegative = S("product", "company", "business", "brand", "merchant", "store", "shop", "file",
        "filename", "host", "hostname", "service", "app", "application", "device", "bank", "org", "organization", "organisation", "team",
        "project", "domain", "city", "country", "state", "street", "event", "plan", "item", "category", "tag", "role", "group", "queue",
        "bucket", "key", "table", "db", "database", "field", "model", "vendor", "supplier", "user", "username", "nick", "nickname", "screen",
        "login", "pet", "campaign", "job", "task", "template", "theme", "font", "layout", "venue", "hotel", "restaurant", "course", "region",
        "location", "place", "area", "zone", "cluster", "node", "server", "container", "image", "package", "module", "library", "repo",
        "repository", "branch", "env", "environment", "feature", "flag", "metric", "column", "schema", "index", "resource", "type", "kind",
        "class", "method", "function", "route", "path", "operation", "tool", "integration", "provider", "channel", "folder", "directory",
        "document", "site", "page", "section", "title", "stage", "step", "status", "bank", "network", "brand", "color", "colour", "size",
        "variant", "sku", "icon", "label", "handle", "slug", "alias", "code", "id", "key", "secret", "token", "certificate", "cert", "policy",
        "rule", "display_id", "empresa", "firma", "entreprise", "societe", "azienda", "produit", "produkt", "producto", "prodotto", "tienda",
        "street", "calle", "strasse", "via", "rue", "hash", "version", "platform", "browser", "os", "agent", "device", "machine", "vehicle", "ship");
    private static readonly HashSet<string> PersonParentWords = S("customer", "customers", "user", "users", "profile", "person", "people",
        "owner", "holder", "cardholder", "contact", "contacts", "applicant", "applicants", "patient", "patients", "member", "members",
        "employee", "employees", "author", "recipient", "sender", "buyer", "billing", "beneficiary", "client", "clients", "guest", "guests",
        "passenger", "passengers", "driver", "signer", "attendee", "attendees", "student", "students", "individual", "cliente", "clientes",
        "usuario", "usuarios", "kunde", "kunden", "utilisateur", "benutzer", "persona", "personne", "titular", "payer", "payee", "spouse",
        "guardian", "child", "children", "admin", "agent", "reporter", "assignee", "requester", "subscriber", "reviewer", "traveler",
        "traveller", "candidate", "tenant", "kin", "shipping", "shipto", "billto", "delivery", "consignee", "addressee", "receiver", "pagador");

    private static readonly HashSet<string> AddressWords = S("address", "addr", "adresse", "anschrift", "direccion", "domicilio", "indirizzo",
        "endereco", "morada", "adres", "adresa", "osoite", "adressen", "addresses", "postanschrift", "wohnadresse", "residenza", "residencia");
    private static readonly HashSet<string> StreetWords = S("street", "streetaddress", "strasse", "str", "calle", "straat", "rua", "logradouro",
        "ulica", "gata", "gatuadress", "katuosoite", "via", "viale", "rue", "avenida", "street1", "street2", "streetline", "hausnummer");
    private static readonly HashSet<string> AddressPartWords = S("city", "town", "zip", "zipcode", "postcode", "postalcode", "plz",
        "country", "state", "province", "region", "county", "ciudad", "ville", "stadt", "ort", "citta", "cidade", "pais", "land", "provincia",
        "estado", "codigo", "cp", "cap", "departement", "district", "suburb", "locality", "neighborhood", "neighbourhood", "prefecture", "lat",
        "lng", "lon", "latitude", "longitude", "geo", "coordinates");
    private static readonly HashSet<string> AddressNegative = S("email", "mail", "ip", "ipv4", "ipv6", "mac", "wallet", "server", "remote", "web",
        "bitcoin", "btc", "eth", "ethereum", "crypto", "contract", "id", "type", "verified", "validation", "status", "book", "count", "host",
        "url", "link", "hash", "public", "key", "node", "peer", "bind", "listen", "proxy", "gateway", "dns", "network", "local", "source",
        "destination", "memory", "hex", "sender", "reply", "from", "to", "cc", "bcc", "format", "label", "same", "is", "has", "verification",
        "last", "masked", "hidden", "payment", "deposit", "receive", "smart");

    private static readonly HashSet<string> IdentifierWords = S("id", "ids", "uuid", "guid", "hash", "sha", "sha1", "sha256", "md5",
        "checksum", "digest", "etag", "fingerprint", "signature", "nonce", "cursor", "trace", "span", "request", "correlation", "idempotency",
        "version", "commit", "revision", "build", "sku", "tracking", "timestamp", "ts", "created", "updated", "at", "epoch", "uptime", "count");
    private static readonly HashSet<string> ExampleWords = S("example", "examples", "sample", "samples", "docs", "doc", "demo", "placeholder", "dummy", "template", "snippet", "snippets");
}
