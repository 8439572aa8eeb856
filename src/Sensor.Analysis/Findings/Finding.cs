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

    public int RiskScore => Risk.Score(Severity, Count);

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
/// Risk 0–100: a base by severity (info 5, low 20, medium 45, high 70, critical 90) plus up to 10 for how
/// often it was seen (3 per decade of occurrences), capped at 100.
/// </summary>
public static class Risk
{
    public static int Score(string severity, long count)
    {
        int b = severity switch { Severity.Critical => 90, Severity.High => 70, Severity.Medium => 45, Severity.Low => 20, _ => 5 };
        int freq = count <= 1 ? 0 : (int)Math.Min(10, Math.Floor(Math.Log10(count) * 3));
        return Math.Min(100, b + freq);
    }
}
