using System.Text.Json;
using Xunit.Abstractions;

namespace Sensor.Deploy.Tests;

/// <summary>
/// The Dockerfile: no diagnostics from dockerfile-utils (every rule at error) and none from the
/// project's own policy. The policy needs no tools, so it also runs on its own.
/// </summary>
public sealed class DockerfileTests(ITestOutputHelper output)
{
    private const string LinterVersion = "0.16.3";
    private static readonly string DockerfilePath = Tools.InRepo("Dockerfile");

    private static string Tail(string s, int n) => s.Length <= n ? s : "…" + s[^n..];

    private void Log(string line)
    {
        output.WriteLine(line);
        Console.WriteLine(line);
    }

    [Fact]
    public void Dockerfile_meets_the_project_policy()
    {
        var problems = DockerfilePolicy.Check(File.ReadAllText(DockerfilePath));
        foreach (var (rule, problem) in problems) Log($"policy: {rule}: {problem}");
        Log($"dockerfile policy: {problems.Count} problem(s) in {DockerfilePolicy.Rules.Length} checks");
        Assert.Empty(problems);
    }

    /// <summary>Each rule rejects a copy of the Dockerfile broken in the way the rule is about.</summary>
    [Theory]
    [InlineData("multi-stage build", "FROM mcr.microsoft.com/dotnet/sdk:10.0-noble AS build\n", "")]
    [InlineData("base images pinned to a tag, never latest", "runtime:10.0-noble", "runtime:latest")]
    [InlineData("base images pinned to a tag, never latest", "sdk:10.0-noble", "sdk")]
    [InlineData("final stage runs as a non-root USER", "USER 10001:10001", "USER root")]
    [InlineData("final stage runs as a non-root USER", "USER 10001:10001", "")]
    [InlineData("final stage has an exec-form HEALTHCHECK", "CMD [\"/app/sensor\", \"status\", \"--health\"]", "CMD /app/sensor status --health")]
    [InlineData("final stage declares VOLUME /var/lib/sensor", "VOLUME /var/lib/sensor", "")]
    [InlineData("state paths (SENSOR_Database, SENSOR_KEY_FILE) lie in the volume", "SENSOR_KEY_FILE=/var/lib/sensor/hmac.key", "SENSOR_KEY_FILE=/etc/hmac.key")]
    [InlineData("apt-get install: update, --no-install-recommends and rm -rf /var/lib/apt/lists/* in the same RUN", "--no-install-recommends libcap2-bin", "libcap2-bin")]
    [InlineData("apt-get install: update, --no-install-recommends and rm -rf /var/lib/apt/lists/* in the same RUN", "install -y --no-install-recommends gcc libc6-dev make \\\n && rm -rf /var/lib/apt/lists/*", "install -y --no-install-recommends gcc libc6-dev make")]
    [InlineData("no ADD of remote URLs", "WORKDIR /src\n", "WORKDIR /src\nADD https://example.org/tool.tar.gz /tmp/\n")]
    [InlineData("final stage ENTRYPOINT in exec form", "ENTRYPOINT [\"/app/sensor\", \"run\"]", "ENTRYPOINT /app/sensor run")]
    [InlineData("file capabilities are exactly cap_net_raw,cap_net_admin", "cap_net_raw,cap_net_admin+eip", "cap_net_raw,cap_net_admin,cap_sys_admin+eip")]
    public void Policy_rejects_a_broken_copy(string rule, string original, string broken)
    {
        var text = File.ReadAllText(DockerfilePath).Replace("\r\n", "\n");
        Assert.Contains(original, text);
        var problems = DockerfilePolicy.Check(text.Replace(original, broken));
        Assert.Contains(problems, p => p.Rule == rule);
    }

    [RequiresToolsFact("node", "npm")]
    public void Dockerfile_passes_dockerfile_utils_lint_and_the_policy()
    {
        var tools = Path.Combine(Path.GetTempPath(), "sensor-test-tools", "dockerfile-utils-" + LinterVersion);
        var package = Path.Combine(tools, "node_modules", "dockerfile-utils");
        if (!File.Exists(Path.Combine(package, "package.json")))
        {
            Directory.CreateDirectory(tools);
            var install = Tools.Run("npm", ["install", "--no-audit", "--no-fund", "--prefix", tools, "dockerfile-utils@" + LinterVersion], tools, TimeSpan.FromMinutes(5));
            Assert.True(install.ExitCode == 0 && File.Exists(Path.Combine(package, "package.json")),
                $"could not install dockerfile-utils {LinterVersion} from the npm registry (is it reachable?); npm exited {install.ExitCode}:\n{Tail(install.All, 1500)}");
        }

        // The library's validate() with every configurable rule raised to error (the CLI leaves some off).
        const string Script = """
            const [pkg, file] = process.argv.slice(1);
            const u = require(pkg);
            const rules = ["deprecatedMaintainer", "directiveCasing", "emptyContinuationLine", "instructionCasing",
              "instructionCmdMultiple", "instructionEntrypointMultiple", "instructionHealthcheckMultiple",
              "instructionJSONInSingleQuotes", "instructionWorkdirRelative"];
            const settings = Object.fromEntries(rules.map(r => [r, u.ValidationSeverity.ERROR]));
            const found = u.validate(require("fs").readFileSync(file, "utf8"), settings);
            console.log(JSON.stringify({
              version: require(pkg + "/package.json").version,
              problems: found.map(d => `line ${d.range.start.line + 1}: ${d.message}`)
            }));
            """;
        var r = Tools.Run("node", ["-e", Script, package, DockerfilePath]);
        Assert.True(r.ExitCode == 0, "node: " + r.All);
        using var json = JsonDocument.Parse(r.Stdout);
        var version = json.RootElement.GetProperty("version").GetString();
        var lint = json.RootElement.GetProperty("problems").EnumerateArray().Select(p => p.GetString()!).ToList();
        var policy = DockerfilePolicy.Check(File.ReadAllText(DockerfilePath));

        foreach (var p in lint) Log("dockerfile-utils: " + p);
        foreach (var (rule, p) in policy) Log($"policy: {rule}: {p}");
        Log($"dockerfile lint: {lint.Count + policy.Count} problems (dockerfile-utils {version} + {DockerfilePolicy.Rules.Length} policy checks)");
        Assert.Equal(LinterVersion, version);
        Assert.Empty(lint);
        Assert.Empty(policy);
    }
}
