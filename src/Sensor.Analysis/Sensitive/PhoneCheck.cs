using PhoneNumbers;

namespace Sensor.Analysis.Sensitive;

/// <summary>
/// Phone numbers validated by libphonenumber: international numbers (+CC or 00CC) for their own region,
/// national ones for any of a set of common regions. Only short candidates (≤ 15 digits, ≤ 32 chars) that a
/// hand-written scanner found reach the library, and each transaction has a parse budget.
/// </summary>
internal static class PhoneCheck
{
    private static readonly PhoneNumberUtil Util = PhoneNumberUtil.GetInstance();

    // Ordered by how often they show up in traffic; the first region where the number is valid wins.
    private static readonly string[] Regions =
    [
        "US", "GB", "DE", "FR", "ES", "IT", "NL", "CA", "AU", "IN", "BR", "MX", "BE", "CH", "AT", "IE", "PT", "SE", "NO", "DK", "FI", "PL",
        "CZ", "NZ", "JP", "SG", "ZA", "AR", "CO", "CL", "TR", "IL", "AE", "RU", "UA", "RO", "HU", "GR", "HK", "PH", "MY", "NG", "KE", "KR",
    ];

    /// <summary>Digits in a candidate, or -1 when it holds characters a phone number never has.</summary>
    public static int Digits(ReadOnlySpan<char> v)
    {
        int d = 0;
        for (int i = 0; i < v.Length; i++)
        {
            char c = v[i];
            if (char.IsAsciiDigit(c)) d++;
            else if (c is ' ' or '-' or '.' or '(' or ')' or '/' || c == '+' && i == 0) continue;
            else return -1;
        }
        return d;
    }

    /// <summary>
    /// Whether <paramref name="v"/> (already trimmed, only phone characters) is a valid number: international
    /// numbers always; national ones only when <paramref name="national"/> (the context says it is a phone).
    /// </summary>
    public static bool IsValid(string v, bool national, ScanBudget budget)
    {
        if (v.Length is < 7 or > 32) return false;
        int digits = Digits(v);
        if (digits is < 7 or > 15) return false;
        if (LooksLikeDate(v)) return false;
        bool intl = v[0] == '+' || v.StartsWith("00", StringComparison.Ordinal) && digits >= 10;
        if (!intl && !national) return false;
        // The same people's numbers come back in body after body, and the library's parse and validation are
        // the costliest check there is: each number is judged once per thread. A verdict the budget cut short
        // is not remembered.
        var memo = t_verdicts ??= new(1 << 20);
        if (memo.TryGet(v, out bool known)) return known;
        bool valid = intl ? Valid(v[0] == '+' ? v : "+" + v[2..], "ZZ", budget) : AnyRegion(v, budget);
        if (valid || budget.PhoneParsesLeft > 0) memo.Add(v, valid, v.Length);
        return valid;
    }

    [ThreadStatic] private static ValueMemo<string, bool>? t_verdicts;

    private static bool AnyRegion(string v, ScanBudget budget)
    {
        foreach (var region in Regions)
            if (Valid(v, region, budget, forRegion: true)) return true;
        return false;
    }

    private static bool Valid(string text, string region, ScanBudget budget, bool forRegion = false)
    {
        if (!budget.TakePhoneParse()) return false;
        try
        {
            var n = Util.Parse(text, region);
            return forRegion ? Util.IsValidNumberForRegion(n, region) : Util.IsValidNumber(n);
        }
        catch (NumberParseException) { return false; }
    }

    /// <summary>2024-10-28, 28.10.2024, 10/28/2024: dates are not phone numbers whatever a region's plan allows.</summary>
    private static bool LooksLikeDate(string v)
    {
        var parts = v.Split(['-', '.', '/', ' '], StringSplitOptions.RemoveEmptyEntries);
        if (parts.Length != 3) return false;
        if (parts[0].Length == 4 && parts[1].Length <= 2 && parts[2].Length <= 2) return true;
        if (parts[2].Length == 4 && parts[0].Length <= 2 && parts[1].Length <= 2 && (parts[2].StartsWith("19") || parts[2].StartsWith("20"))) return true;
        return false;
    }
}

/// <summary>Per-transaction allowance for the costlier checks, and the hit cap.</summary>
internal sealed class ScanBudget(SensitiveScanOptions options, int currentYear)
{
    private int _phoneParses = options.MaxPhoneParses;
    public SensitiveScanOptions Options { get; } = options;
    /// <summary>The year of the transaction's packet time: birth dates are judged as of when the traffic was seen.</summary>
    public int CurrentYear { get; } = currentYear;

    public int PhoneParsesLeft => _phoneParses;

    public bool TakePhoneParse()
    {
        if (_phoneParses <= 0) return false;
        _phoneParses--;
        return true;
    }
}
