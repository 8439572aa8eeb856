using System.Threading.Channels;

namespace Sensor.Host.Pipeline;

/// <summary>Blocking channel operations for the pipeline's dedicated threads.</summary>
internal static class ChannelSync
{
    public static void Write<T>(ChannelWriter<T> w, T item)
    {
        while (!w.TryWrite(item))
        {
            if (!w.WaitToWriteAsync().AsTask().GetAwaiter().GetResult())
                throw new ChannelClosedException();
        }
    }

    public static bool Read<T>(ChannelReader<T> r, out T item)
    {
        while (!r.TryRead(out item!))
        {
            if (!r.WaitToReadAsync().AsTask().GetAwaiter().GetResult()) return false;
        }
        return true;
    }
}
