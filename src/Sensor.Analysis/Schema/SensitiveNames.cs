namespace Sensor.Analysis.Schema;

/// <summary>
/// Field names whose values may be personal data or secrets. Their distinct values are never kept (no
/// enum, no example), so nothing learned from them can carry a raw value into storage or exports.
/// </summary>
public static class SensitiveNames
{
    private static readonly string[] Fragments =
    [
        "pass", "pwd", "secret", "token", "key", "auth", "sess", "cookie", "cred", "sign", "hash", "salt", "otp", "pin",
        "name", "user", "login", "mail", "phone", "mobile", "tel", "fax", "addr", "street", "city", "zip", "postal", "post_code",
        "ssn", "social", "tax", "card", "pan", "cvv", "cvc", "iban", "bic", "swift", "account", "routing", "dob", "birth",
        "ip", "device", "imei", "mac", "license", "passport", "nationalid", "national_id", "geo", "lat", "lon", "location",
    ];

    public static bool IsSensitive(string name)
    {
        foreach (var f in Fragments)
            if (name.Contains(f, StringComparison.OrdinalIgnoreCase)) return true;
        return false;
    }
}
