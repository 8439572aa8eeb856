namespace Sensor.Analysis.Inventory;

/// <summary>What a path segment looks like, on its own (cardinality across siblings is decided elsewhere).</summary>
public enum SegmentKind { Word, Version, Numeric, Uuid, Hex, PrefixedId, Date, Email, Token, Mixed }

public static class SegmentClassifier
{
    // Hand-written matchers (linear, no regex engine to build or compile): segments are classified per request.
    // The shapes they accept are given in each comment.

    /// <summary>8-4-4-4-12 hex digits.</summary>
    private static bool IsUuid(ReadOnlySpan<char> s) => Sensor.Analysis.Sensitive.Validators.IsUuid(s);

    /// <summary>v1, v12.3 (up to three digits each), or 1.0, 12.345.</summary>
    private static bool IsVersion(ReadOnlySpan<char> s)
    {
        if (s.Length > 0 && s[0] == 'v')
        {
            s = s[1..];
            int dot = s.IndexOf('.');
            return dot < 0 ? Digits(s, 1, 3) : Digits(s[..dot], 1, 3) && Digits(s[(dot + 1)..], 1, 3);
        }
        int d = s.IndexOf('.');
        return d >= 0 && Digits(s[..d], 1, 2) && Digits(s[(d + 1)..], 1, 3);
    }

    /// <summary>2024-05-01, optionally followed by T or space and a time of digits, ':' and '.' with an optional Z; or 20240501.</summary>
    private static bool IsDate(ReadOnlySpan<char> s)
    {
        if (s.Length == 8) return Digits(s, 8, 8);
        if (s.Length < 10 || !Digits(s[..4], 4, 4) || s[4] != '-' || !Digits(s[5..7], 2, 2) || s[7] != '-' || !Digits(s[8..10], 2, 2)) return false;
        if (s.Length == 10) return true;
        if (s[10] is not ('T' or ' ')) return false;
        var time = s[11..];
        if (time.Length > 0 && time[^1] == 'Z') time = time[..^1];
        if (time.Length == 0) return false;
        foreach (var c in time) if (!(char.IsAsciiDigit(c) || c is ':' or '.')) return false;
        return true;
    }

    /// <summary>2–8 lower-case letters, '_', then at least 6 letters or digits (cus_9Xk…).</summary>
    private static bool IsPrefixed(ReadOnlySpan<char> s)
    {
        int u = s.IndexOf('_');
        if (u is < 2 or > 8 || s.Length - u - 1 < 6) return false;
        foreach (var c in s[..u]) if (!char.IsAsciiLetterLower(c)) return false;
        foreach (var c in s[(u + 1)..]) if (!char.IsAsciiLetterOrDigit(c)) return false;
        return true;
    }

    /// <summary>local@domain.tld: one '@', no whitespace or '/', a final label of at least two letters.</summary>
    private static bool IsEmail(ReadOnlySpan<char> s)
    {
        int at = s.IndexOf('@');
        if (at <= 0 || s[(at + 1)..].Contains('@')) return false;
        foreach (var c in s) if (c == '/' || char.IsWhiteSpace(c)) return false;
        var domain = s[(at + 1)..];
        int dot = domain.LastIndexOf('.');
        if (dot <= 0 || domain.Length - dot - 1 < 2) return false;
        foreach (var c in domain[(dot + 1)..]) if (!char.IsAsciiLetter(c)) return false;
        return true;
    }

    private static bool Digits(ReadOnlySpan<char> s, int min, int max) =>
        s.Length >= min && s.Length <= max && s.IndexOfAnyExceptInRange('0', '9') < 0;

    /// <summary>True for kinds that are values rather than names, even when seen once.</summary>
    public static bool IsIdLike(SegmentKind k) => k is SegmentKind.Numeric or SegmentKind.Uuid or SegmentKind.Hex
        or SegmentKind.PrefixedId or SegmentKind.Date or SegmentKind.Email or SegmentKind.Token;

    public static SegmentKind Classify(string s)
    {
        if (s.Length == 0) return SegmentKind.Word;
        // Each pattern runs only where its first character or length allows it: segments are classified per request.
        char c0 = s[0];
        if ((c0 == 'v' || char.IsAsciiDigit(c0)) && s.Length <= 7 && IsVersion(s)) return SegmentKind.Version;
        if (s.AsSpan().IndexOfAnyExceptInRange('0', '9') < 0) return SegmentKind.Numeric;
        if (s.Length == 36 && IsUuid(s)) return SegmentKind.Uuid;
        if (char.IsAsciiDigit(c0) && s.Length >= 8 && IsDate(s)) return SegmentKind.Date;
        if (s.Contains('@') && IsEmail(s)) return SegmentKind.Email;
        if (char.IsAsciiLetterLower(c0) && s.Contains('_') && IsPrefixed(s)) return SegmentKind.PrefixedId;
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
