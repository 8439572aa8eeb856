namespace Sensor.Analysis.Sensitive;

/// <summary>
/// One sensitive item in a transaction. <see cref="Value"/> is the raw item (after JSON/URL decoding; for
/// Authorization the credential without its scheme): it is transient, for callers to hash and mask
/// (<see cref="Masking.Preview"/>), and must never be stored or logged.
/// </summary>
/// <param name="Part">path | query | req_header | resp_header | req_cookie | resp_cookie | req_body | resp_body</param>
/// <param name="Location">path segment index, query name, lowercased header name, cookie name, JSON path
/// (<c>$.a.b[0].c</c>, <c>$['e-mail']</c>), form field or multipart part name; <c>$</c> for a whole text body.</param>
/// <param name="Type">a <see cref="SensitiveTypes"/> value, or <see cref="SensitiveTypes.Example"/> for documented example keys.</param>
public sealed record SensitiveHit(string Part, string Location, string Type, string Value)
{
    public override string ToString() => $"{Part} {Location} {Type} {Masking.Preview(Type, Value)}";   // never the raw value
}

public static class SensitiveParts
{
    public const string Path = "path", Query = "query", ReqHeader = "req_header", RespHeader = "resp_header",
        ReqCookie = "req_cookie", RespCookie = "resp_cookie", ReqBody = "req_body", RespBody = "resp_body";
}

public static class SensitiveTypes
{
    public const string AwsAccessKey = "aws_access_key", AwsSecretKey = "aws_secret_key", GitHubToken = "github_token",
        GitLabToken = "gitlab_token", SlackToken = "slack_token", StripeKey = "stripe_key", GoogleApiKey = "google_api_key",
        TwilioKey = "twilio_key", SendGridKey = "sendgrid_key", OpenAiKey = "openai_key", NpmToken = "npm_token",
        PrivateKey = "private_key", Jwt = "jwt", BasicAuth = "basic_auth", Password = "password", ApiKey = "api_key",
        ConnectionString = "connection_string";

    public const string Email = "email", Phone = "phone", CreditCard = "credit_card", Iban = "iban", Ssn = "ssn",
        DateOfBirth = "date_of_birth", PersonName = "person_name", Address = "address", IpAddress = "ip_address";

    /// <summary>A documented example key or test value (AKIAIOSFODNN7EXAMPLE, the jwt.io token, test cards): not a live secret.</summary>
    public const string Example = "example";

    public static readonly IReadOnlySet<string> Secret = new HashSet<string>
    {
        AwsAccessKey, AwsSecretKey, GitHubToken, GitLabToken, SlackToken, StripeKey, GoogleApiKey, TwilioKey, SendGridKey,
        OpenAiKey, NpmToken, PrivateKey, Jwt, BasicAuth, Password, ApiKey, ConnectionString,
    };

    public static readonly IReadOnlySet<string> Pii = new HashSet<string>
    {
        Email, Phone, CreditCard, Iban, Ssn, DateOfBirth, PersonName, Address, IpAddress,
    };

    public static bool IsSecret(string type) => Secret.Contains(type);
}

/// <summary>Bounds that keep a scan linear and small whatever the traffic (hostile bodies, deep JSON, huge values).</summary>
public sealed record SensitiveScanOptions
{
    public static readonly SensitiveScanOptions Default = new();
    /// <summary>Body bytes scanned per message; the rest is ignored (JSON past the cut is walked as far as it is complete).</summary>
    public int MaxBodyBytes { get; init; } = 512 * 1024;
    /// <summary>Scan request and response bodies (callers sample bodies of busy endpoints; the rest is always scanned).</summary>
    public bool Bodies { get; init; } = true;
    /// <summary>Hits kept per transaction.</summary>
    public int MaxHits { get; init; } = 256;
    /// <summary>A single value longer than this (characters) is skipped (base64 blobs, embedded files).</summary>
    public int MaxValueChars { get; init; } = 64 * 1024;
    /// <summary>JSON nesting walked; deeper documents are scanned as free text.</summary>
    public int MaxJsonDepth { get; init; } = 128;
    /// <summary>libphonenumber parses per transaction (each is a few microseconds, national numbers try several regions).</summary>
    public int MaxPhoneParses { get; init; } = 512;
    /// <summary>Multipart parts looked at per body.</summary>
    public int MaxParts { get; init; } = 256;
}
