using System.CommandLine;
using Sensor.Analysis.OpenApi;
using Sensor.Storage;

namespace Sensor.Cli;

internal static class OpenApiCommand
{
    public static Command Create()
    {
        var db = DbReader.DbOption("DuckDB file (of a running service: exported from a snapshot it writes beside the file)");
        var outDir = new Option<string>("--out") { Description = "directory to write one document per service into", Required = true };
        var version = new Option<string>("--version") { Description = "OpenAPI version: 3.1 or 3.0", DefaultValueFactory = _ => "3.1" };
        version.AcceptOnlyFromAmong("3.1", "3.0");
        var format = new Option<string>("--format") { Description = "yaml or json", DefaultValueFactory = _ => "yaml" };
        format.AcceptOnlyFromAmong("yaml", "json");
        var service = new Option<string?>("--service") { Description = "export only this service (Host, or server ip:port)" };
        var export = new Command("export", "Write the learned inventory as OpenAPI documents, one per service") { db, outDir, version, format, service };
        export.SetAction(pr =>
        {
            var path = pr.GetValue(db)!;
            if (!File.Exists(path)) { Console.Error.WriteLine($"sensor: {path}: no such database"); return 2; }
            // A running service holds the file: export from the consistent copy it writes on request.
            var socket = Sensor.Host.Live.QueryClient.SocketFor(path);
            if (Sensor.Host.Live.QueryClient.Answers(socket)) path = Sensor.Host.Live.QueryClient.Snapshot(socket);
            var fmt = pr.GetValue(format) == "json" ? OpenApiFormat.Json : OpenApiFormat.Yaml;
            var written = OpenApiExport.Run(path, pr.GetValue(outDir)!, OpenApiFiles.ParseVersion(pr.GetValue(version)!), fmt, pr.GetValue(service));
            if (written.Count == 0) { Console.Error.WriteLine("sensor: the inventory is empty: nothing to export"); return 1; }
            foreach (var (file, ops) in written) Console.WriteLine($"{file}\t{ops} operations");
            return 0;
        });
        return new Command("openapi", "OpenAPI documents generated from traffic") { export };
    }
}
