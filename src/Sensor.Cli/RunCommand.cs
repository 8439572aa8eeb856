using System.CommandLine;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Sensor.Host.Live;

namespace Sensor.Cli;

internal static class RunCommand
{
    public static Command Create()
    {
        var config = new Option<string?>("--config") { Description = "JSON configuration (Database, Interfaces, Capture, Metrics, Retention...; see systemd/sensor.json)" };
        var iface = new Option<string[]>("--interface", "-i") { Description = "interface to capture from (repeat for several); replaces Interfaces of the configuration", AllowMultipleArgumentsPerToken = false };
        var db = new Option<string?>("--db") { Description = "DuckDB file to write (default: Database of the configuration, else sensor.duckdb)" };
        var backend = new Option<string?>("--backend") { Description = "capture backend: pcap (default) or afpacket" };
        var filter = new Option<string?>("--filter") { Description = "BPF capture filter (tcpdump syntax)" };
        var specs = new Option<string?>("--specs") { Description = "OpenAPI specs (file or directory) to compare the traffic with, imported at start" };
        var cmd = new Command("run", "Capture live from network interfaces into a DuckDB file until stopped (SIGINT/SIGTERM)") { config, iface, db, backend, filter, specs };
        cmd.SetAction(async (pr, ct) =>
        {
            var builder = Microsoft.Extensions.Hosting.Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true, ContentRootPath = Environment.CurrentDirectory });
            if (pr.GetValue(config) is { } file)
            {
                if (!File.Exists(file)) { Console.Error.WriteLine($"sensor: {file}: no such configuration file"); return 2; }
                builder.Configuration.AddJsonFile(Path.GetFullPath(file), optional: false, reloadOnChange: false);
            }
            builder.Configuration.AddEnvironmentVariables("SENSOR_");
            var overrides = new Dictionary<string, string?>();
            if (pr.GetValue(db) is { } d) overrides["Database"] = d;
            if (pr.GetValue(backend) is { } b) overrides["Capture:Backend"] = b;
            if (pr.GetValue(filter) is { } f) overrides["Capture:Filter"] = f;
            if (pr.GetValue(specs) is { } sp) overrides["Specs"] = Path.GetFullPath(sp);
            builder.Configuration.AddInMemoryCollection(overrides);
            var cliInterfaces = pr.GetValue(iface) ?? [];
            builder.Services.Configure<SensorSettings>(builder.Configuration);
            builder.Services.PostConfigure<SensorSettings>(s => { if (cliInterfaces.Length > 0) s.Interfaces = [.. cliInterfaces]; });
            builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(builder.Configuration.GetValue("ShutdownTimeoutSeconds", 110.0)));
            builder.Logging.AddConfiguration(builder.Configuration.GetSection("Logging"));
            builder.Logging.AddSimpleConsole(o => { o.SingleLine = true; o.TimestampFormat = "yyyy-MM-dd HH:mm:ss "; });
            // A start failure (no such interface, bad filter) is reported below in one line, not as the host's stack trace.
            builder.Logging.AddFilter("Microsoft.Extensions.Hosting.Internal.Host", LogLevel.None);
            // Under systemd: notify readiness and stopping, and log in journald's format.
            builder.Services.AddSystemd();
            if (!Microsoft.Extensions.Hosting.Systemd.SystemdHelpers.IsSystemdService() && Environment.GetEnvironmentVariable("NOTIFY_SOCKET") is { Length: > 0 })
            {
                // ProtectProc=invisible hides PID 1 from the service, which IsSystemdService() looks at; NOTIFY_SOCKET is systemd's own sign.
                builder.Services.Configure<Microsoft.Extensions.Logging.Console.ConsoleLoggerOptions>(o => o.FormatterName = Microsoft.Extensions.Logging.Console.ConsoleFormatterNames.Systemd);
                builder.Services.AddSingleton<Microsoft.Extensions.Hosting.Systemd.ISystemdNotifier, Microsoft.Extensions.Hosting.Systemd.SystemdNotifier>();
                builder.Services.AddSingleton<IHostLifetime, Microsoft.Extensions.Hosting.Systemd.SystemdLifetime>();
            }
            builder.Services.AddHostedService<SensorService>();
            using var host = builder.Build();
            try
            {
                await host.RunAsync(ct);
            }
            catch (Exception e) when (e is ArgumentException or InvalidOperationException or IOException or DuckDB.NET.Data.DuckDBException)
            {
                Console.Error.WriteLine($"sensor: {e.GetBaseException().Message}");
                return 2;
            }
            return 0;
        });
        return cmd;
    }
}
