using System.Text.RegularExpressions;

namespace Sensor.Analysis.Inventory;

/// <summary>What a path segment looks like, on its own (cardinality across siblings is decided elsewhere).</summary>
public enum SegmentKind { Word, Version, Numeric, Uuid, Hex, PrefixedId, Date, Email, Token, Mixed }

public static partial class SegmentClassifier
{
    [GeneratedRegex(@"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$", RegexOptions.NonBacktracking)]
    private static partial Regex UuidRx();
    [GeneratedRegex(@"^v[0-9]{1,3}([.][0-9]{1,3})?$|^[0-9]{1,2}[.][0-9]{1,3}$", RegexOptions.NonBacktracking)]
    private static partial Regex VersionRx();
    [GeneratedRegex(@"^[0-9]{4}-[0-9]{2}-[0-9]{2}([T ][0-9:.]+Z?)?$|^[0-9]{8}$", RegexOptions.NonBacktracking)]
    private static partial Regex DateRx();
    [GeneratedRegex(@"^[a-z]{2,8}_[A-Za-z0-9]{6,}$", RegexOptions.NonBacktracking)]
    private static partial Regex PrefixedRx();
    [GeneratedRegex(@"^[^@\s/]+@[^@\s/]+\.[A-Za-z]{2,}$", RegexOptions.NonBacktracking)]
    private static partial Regex EmailRx();

    /// <summary>True for kinds that are values rather than names, even when seen once.</summary>
    public static bool IsIdLike(SegmentKind k) => k is SegmentKind.Numeric or SegmentKind.Uuid or SegmentKind.Hex
        or SegmentKind.PrefixedId or SegmentKind.Date or SegmentKind.Email or SegmentKind.Token;

    public static SegmentKind Classify(string s)
    {
        if (s.Length == 0) return SegmentKind.Word;
        // Each pattern runs only where its first character or length allows it: segments are classified per request.
        char c0 = s[0];
        if ((c0 == 'v' || char.IsAsciiDigit(c0)) && s.Length <= 7 && VersionRx().IsMatch(s)) return SegmentKind.Version;
        if (s.AsSpan().IndexOfAnyExceptInRange('0', '9') < 0) return SegmentKind.Numeric;
        if (s.Length == 36 && UuidRx().IsMatch(s)) return SegmentKind.Uuid;
        if (char.IsAsciiDigit(c0) && s.Length >= 8 && DateRx().IsMatch(s)) return SegmentKind.Date;
        if (s.Contains('@') && EmailRx().IsMatch(s)) return SegmentKind.Email;
        if (char.IsAsciiLetterLower(c0) && s.Contains('_') && PrefixedRx().IsMatch(s)) return SegmentKind.PrefixedId;
        bool hex = s.All(char.IsAsciiHexDigit);
        int digits = s.Count(char.IsAsciiDigit), letters = s.Count(char.IsAsciiLetter);
        if (hex && s.Length >= 8 && digits > 0) return SegmentKind.Hex;
        if (digits == 0) return SegmentKind.Word;                 // names and slugs: decided by cardinality
        // Long opaque tokens (base64url ids, hashes in other alphabets).
        if (s.Length >= 16 && letters > 0 && s.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '=')) return SegmentKind.Token;
        // Mostly digits with a little decoration ("order-7788", "A123"): a value.
        if (digits * 2 >= s.Length) return SegmentKind.Numeric;
        return SegmentKind.Mixed;
    }
}
