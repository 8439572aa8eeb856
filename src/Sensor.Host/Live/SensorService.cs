using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Sensor.Host.Live;

/// <summary>
/// The hosted live sensor. Under systemd (<c>UseSystemd</c>) readiness is reported once capture runs and
/// logs go to journald; SIGTERM stops capture, drains the pipeline and closes the database before exit.
/// </summary>
public sealed class SensorService(IOptions<SensorSettings> settings, ILogger<SensorService> log) : IHostedService
{
    private LiveRunner? _runner;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        _runner = new LiveRunner(settings.Value, log);
        _runner.Start();
        return Task.CompletedTask;
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (_runner == null) return;
        log.LogInformation("stopping: draining the pipeline and storing what was parsed");
        await _runner.StopAsync().ConfigureAwait(false);
    }
}
