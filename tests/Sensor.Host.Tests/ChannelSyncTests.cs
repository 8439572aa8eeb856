using System.Threading.Channels;
using Sensor.Host.Pipeline;

namespace Sensor.Host.Tests;

/// <summary>The blocking hand-offs between the pipeline's threads: every wait must end when the other side acts.</summary>
public class ChannelSyncTests
{
    // Generous: tests share two cores and the thread pool with every other test running in parallel.
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);

    private static Channel<int> Bounded(int capacity, bool syncContinuations) =>
        Channel.CreateBounded<int>(new BoundedChannelOptions(capacity)
        { FullMode = BoundedChannelFullMode.Wait, SingleReader = true, SingleWriter = true, AllowSynchronousContinuations = syncContinuations });

    private static Thread Run(Action body)
    {
        var t = new Thread(() => body()) { IsBackground = true };
        t.Start();
        return t;
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Every_item_passes_in_order_through_a_queue_that_keeps_filling_and_emptying(bool syncContinuations)
    {
        var ch = Bounded(2, syncContinuations);
        // Through the thread pool every hand-off waits for a pool thread, which a busy test host may not have
        // spare: fewer items keep the test about order and wake-ups rather than about the pool's latency.
        int n = syncContinuations ? 20_000 : 2_000;
        var writer = Run(() =>
        {
            for (int i = 0; i < n; i++) ChannelSync.Write(ch.Writer, i);
            ch.Writer.Complete();
        });
        var got = new List<int>(n);
        var reader = Run(() => { while (ChannelSync.Read(ch.Reader, out var v)) got.Add(v); });
        Assert.True(writer.Join(Deadline) && reader.Join(Deadline), "a side never woke up");
        Assert.Equal(Enumerable.Range(0, n), got);
    }

    [Fact]
    public void A_reader_waiting_on_an_empty_queue_ends_when_the_queue_completes()
    {
        var ch = Bounded(4, true);
        bool? result = null;
        var reader = Run(() => result = ChannelSync.Read(ch.Reader, out _));
        Assert.False(reader.Join(TimeSpan.FromMilliseconds(100)), "nothing was written, yet the reader returned");
        ch.Writer.Complete();
        Assert.True(reader.Join(Deadline));
        Assert.False(result);
    }

    [Fact]
    public void A_writer_waiting_on_a_full_queue_can_be_cancelled()
    {
        var ch = Bounded(1, true);
        ChannelSync.Write(ch.Writer, 1);
        using var cts = new CancellationTokenSource();
        Exception? error = null;
        var writer = Run(() =>
        {
            try { ChannelSync.Write(ch.Writer, 2, cts.Token); }
            catch (Exception e) { error = e; }
        });
        Assert.False(writer.Join(TimeSpan.FromMilliseconds(100)), "the queue is full, yet the writer returned");
        cts.Cancel();
        Assert.True(writer.Join(Deadline));
        Assert.IsAssignableFrom<OperationCanceledException>(error);
        Assert.True(ch.Reader.TryRead(out var only) && only == 1 && !ch.Reader.TryRead(out _), "the cancelled item was written");
    }

    [Fact]
    public void A_writer_waiting_on_a_full_queue_fails_when_the_queue_is_closed()
    {
        var ch = Bounded(1, true);
        ChannelSync.Write(ch.Writer, 1);
        Exception? error = null;
        var writer = Run(() =>
        {
            try { ChannelSync.Write(ch.Writer, 2); }
            catch (Exception e) { error = e; }
        });
        Assert.False(writer.Join(TimeSpan.FromMilliseconds(100)));
        ch.Writer.Complete();
        Assert.True(writer.Join(Deadline));
        Assert.IsType<ChannelClosedException>(error);
    }
}
