using System.CommandLine;
using System.CommandLine.Invocation;
using Sensor.Cli;

var root = new RootCommand("Sensor: passive API-traffic sensor. Captures live or replays captures into DuckDB and queries what it learned.");
root.Subcommands.Add(ReplayCommand.Create());
root.Subcommands.Add(RunCommand.Create());
root.Subcommands.Add(StatusCommand.Create());
root.Subcommands.Add(QueryCommand.Create());
root.Subcommands.Add(InventoryCommand.Create());
root.Subcommands.Add(OpenApiCommand.Create());
root.Subcommands.Add(SpecsCommand.Create());
root.Subcommands.Add(FindingsCommand.Create());
try
{
    return await root.Parse(args).InvokeAsync(new InvocationConfiguration { EnableDefaultExceptionHandler = false });
}
catch (Exception e)
{
    // Last line of defence: one clear line, never a stack trace.
    Console.Error.WriteLine($"sensor: {e.GetBaseException().Message}");
    return 1;
}
