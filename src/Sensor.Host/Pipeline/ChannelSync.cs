using System.Threading.Channels;

namespace Sensor.Host.Pipeline;

/// <summary>
/// Blocking channel operations for the pipeline's dedicated threads. The pipeline's channels run
/// continuations synchronously, so a waiter is woken by the other side directly rather than through a
/// thread-pool hop, and it sleeps instead of spinning: on two cores a spinning waiter takes the core the
/// other side needs (measured: ~1.5 s of a 4 s replay spent runnable in sched_yield).
/// </summary>
internal static class ChannelSync
{
    [ThreadStatic] private static ManualResetEventSlim? t_wake;
    [ThreadStatic] private static Action? t_set;

    public static void Write<T>(ChannelWriter<T> w, T item, CancellationToken ct = default)
    {
        while (!w.TryWrite(item))
        {
            if (!Wait(w.WaitToWriteAsync(ct)))
                throw new ChannelClosedException();
        }
    }

    public static bool Read<T>(ChannelReader<T> r, out T item)
    {
        while (!r.TryRead(out item!))
        {
            if (!Wait(r.WaitToReadAsync())) return false;
        }
        return true;
    }

    private static bool Wait(ValueTask<bool> wait)
    {
        var awaiter = wait.ConfigureAwait(false).GetAwaiter();
        if (!awaiter.IsCompleted)
        {
            var wake = t_wake ??= new ManualResetEventSlim(false, spinCount: 0);
            wake.Reset();
            awaiter.UnsafeOnCompleted(t_set ??= wake.Set);
            wake.Wait();
        }
        return awaiter.GetResult();
    }
}
