using System.CommandLine;
using Sensor.Host.Pipeline;
using Sensor.Host.Replay;
using Sensor.Storage;

namespace Sensor.Cli;

internal static class ReplayCommand
{
    public static Command Create()
    {
        var files = new Argument<string[]>("files") { Arity = ArgumentArity.OneOrMore, Description = "pcap/pcapng (optionally .gz) or HAR 1.2 files, directories or globs" };
        var db = new Option<string>("--db") { Description = "DuckDB file to write", DefaultValueFactory = _ => "sensor.duckdb" };
        var quiet = new Option<bool>("--quiet", "-q") { Description = "no progress line and no summary" };
        var strict = new Option<bool>("--strict") { Description = "exit 2 when a capture is damaged part-way" };
        var workers = new Option<int?>("--workers") { Description = "flow workers (default: one per core)" };
        var bodyLimit = new Option<int?>("--body-limit") { Description = "decoded body bytes kept per message for analysis" };
        var noStore = new Option<bool>("--no-store") { Description = "parse and analyse but store nothing (for measuring the stages before storage)" };
        var noInventory = new Option<bool>("--no-inventory") { Description = "do not learn the inventory (for measuring what it costs)", Hidden = true };
        var noFindings = new Option<bool>("--no-findings") { Description = "do not look for sensitive data or apply the security rules (for measuring what they cost)", Hidden = true };
        var keyFile = new Option<string?>("--key-file") { Description = "installation key for value hashes (default: $SENSOR_KEY_FILE or ~/.local/share/sensor/hmac.key, created 0600 at first use)" };
        var specs = new Option<string?>("--specs") { Description = "OpenAPI specs (file or directory) to compare the traffic with: shadow, zombie, orphan and conformance findings" };
        var cmd = new Command("replay", "Replay capture files through the sensor into a DuckDB file") { files, db, quiet, strict, workers, bodyLimit, noStore, specs, noInventory, noFindings, keyFile };
        cmd.SetAction(async (pr, ct) =>
        {
            var (inputs, missing) = InputFiles.Expand(pr.GetValue(files)!);
            foreach (var m in missing) Console.Error.WriteLine($"sensor: {m}: no such file or directory");
            if (inputs.Count == 0)
            {
                if (missing.Count == 0) Console.Error.WriteLine("sensor: no capture files found");
                return 2;
            }
            var opt = new PipelineOptions();
            if (pr.GetValue(workers) is int w and > 0) opt = opt with { Workers = w };
            if (pr.GetValue(bodyLimit) is int bl and >= 0) opt = opt with { Http = opt.Http with { BodyCaptureLimit = bl } };
            bool isQuiet = pr.GetValue(quiet);
            var dbPath = pr.GetValue(db)!;
            var progress = !isQuiet && !Console.IsErrorRedirected ? new ProgressLine() : null;
            Summary.Stored? stored = null;
            var runner = new ReplayRunner(opt)
            {
                Inventory = !pr.GetValue(noInventory), Findings = !pr.GetValue(noFindings), KeyFile = pr.GetValue(keyFile),
                BeforeClose = isQuiet ? null : (c, run) => stored = Summary.Collect(c, run),
            };
            ReplayResult result;
            try
            {
                result = await runner.RunAsync(inputs, pr.GetValue(noStore) ? null : dbPath, progress == null ? null : progress.Report, ct);
            }
            finally { progress?.Clear(); }

            int rc = missing.Count > 0 ? 2 : 0;
            foreach (var f in result.Files)
            {
                if (f.FormatError != null) { Console.Error.WriteLine($"sensor: {f.Path}: {f.FormatError}"); rc = 2; }
                else if (f.Fault != null)
                {
                    Console.Error.WriteLine($"sensor: warning: {f.Fault}");
                    if (pr.GetValue(strict)) rc = 2;
                }
            }
            if (!isQuiet) Summary.Print(pr.GetValue(noStore) ? null : dbPath, result, stored);
            // Specs imported now or before judge the inventory as it stands after this replay.
            if (!pr.GetValue(noStore) && (pr.GetValue(specs) != null || result.SpecsStored))
                rc = Math.Max(rc, SpecsCommand.ImportAndEvaluate(dbPath, pr.GetValue(specs), isQuiet));
            return rc;
        });
        return cmd;
    }
}
