using System.Net.Sockets;
using Microsoft.Extensions.Logging;

namespace Sensor.Host.Live;

/// <summary>The accept loop of the service's small listeners (query socket, metrics): each connection is served on its own task.</summary>
internal static class AcceptLoop
{
    public static async Task Run(Socket listener, Func<Socket, Task> serve, ILogger log, string what, CancellationToken stop)
    {
        while (!stop.IsCancellationRequested)
        {
            Socket s;
            try { s = await listener.AcceptAsync(stop).ConfigureAwait(false); }
            catch (Exception) when (stop.IsCancellationRequested) { return; }
            catch (SocketException e) { log.LogWarning("{What}: {Error}", what, e.Message); continue; }
            _ = Task.Run(() => serve(s));
        }
    }
}
