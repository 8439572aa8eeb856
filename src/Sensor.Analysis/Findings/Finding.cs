using System.Security.Cryptography;
using System.Text;

namespace Sensor.Analysis.Findings;

public static class Severity
{
    public const string Info = "info", Low = "low", Medium = "medium", High = "high", Critical = "critical";
    public static readonly string[] Ordered = [Info, Low, Medium, High, Critical];
    public static int Rank(string s) => Array.IndexOf(Ordered, s);
}

/// <summary>
/// One finding about an endpoint (or a service): what rule raised it, where, how bad, and when it was seen.
/// Evidence is always redacted text; raw values never reach a finding. Identity is the rule + service +
/// method + path template + location, so the same problem seen again updates one row (lifecycle).
/// </summary>
public sealed record Finding
{
    public required string RuleId { get; init; }
    public required string Title { get; init; }
    /// <summary>shadow, zombie, orphan, conformance, and the security categories.</summary>
    public required string Category { get; init; }
    public string? Owasp { get; init; }
    public string? Cwe { get; init; }
    public required string Severity { get; init; }
    public required string Service { get; init; }
    public string? Method { get; init; }
    public string? PathTemplate { get; init; }
    /// <summary>Where exactly: "query:limit", "response:200:application/json:$.owner.email", "header:x-debug".</summary>
    public string? Location { get; init; }
    public required string Detail { get; init; }
    public string? Evidence { get; init; }
    /// <summary>Packet-time ticks; null when never observed (orphans).</summary>
    public long? FirstSeen { get; init; }
    public long? LastSeen { get; init; }
    public long Count { get; init; }
    /// <summary>What raised it: "spec:FILE" or "traffic".</summary>
    public required string Source { get; init; }

    /// <summary>What data is at stake: "secret", "pii" or null.</summary>
    public string? Sensitivity { get; init; }
    /// <summary>The endpoint answered without credentials.</summary>
    public bool Unauthenticated { get; init; }

    public int RiskScore => Risk.Score(Severity, Count, Sensitivity, Unauthenticated);

    public string Id
    {
        get
        {
            var key = string.Join('\u001f', RuleId, Service, Method ?? "", PathTemplate ?? "", Location ?? "");
            return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key)))[..24];
        }
    }
}

/// <summary>
/// Risk 0–100 = severity base (info 5, low 20, medium 40, high 60, critical 80)
///            + data sensitivity (secrets 10, personal data 6)
///            + exposure (answered without credentials 6; all we see is plaintext HTTP, so that is not a distinction)
///            + frequency (2 per decade of occurrences, at most 4), capped at 100.
/// Endpoint risk is the highest risk of its open findings.
/// </summary>
public static class Risk
{
    public static int Score(string severity, long count, string? sensitivity = null, bool unauthenticated = false)
    {
        int b = severity switch { Severity.Critical => 80, Severity.High => 60, Severity.Medium => 40, Severity.Low => 20, _ => 5 };
        int data = sensitivity switch { "secret" => 10, "pii" => 6, _ => 0 };
        int exposure = unauthenticated ? 6 : 0;
        int freq = count <= 1 ? 0 : (int)Math.Min(4, Math.Floor(Math.Log10(count) * 2));
        return Math.Min(100, b + data + exposure + freq);
    }
}
