using Sensor.Capture;
using Sensor.Capture.Live;
using Sensor.Core;

namespace Sensor.TestSupport;

/// <summary>
/// A live source that plays a capture file as if it arrived now (timestamps shifted to the clock), through
/// the same Submit path as a real interface: the live service without privileges.
/// </summary>
public sealed class FileLiveSource(string path, string iface) : ILiveSource
{
    private Thread? _thread;
    public string Interface => iface;
    /// <summary>Set by a test to play a capture thread that ended (interface removed).</summary>
    public string? Failure { get; set; }
    public long Sent;
    public ManualResetEventSlim Done { get; } = new();

    public void Start(Func<PacketBatch> rent, Action<PacketBatch> submit)
    {
        _thread = new Thread(() =>
        {
            using var r = CaptureFileReader.Open(path);
            long shift = 0;
            var tmp = new PacketBatch();
            while (true)
            {
                tmp.Reset();
                bool more = r.ReadBatch(tmp);
                var b = rent();
                for (int i = 0; i < tmp.Count; i++)
                {
                    var rec = tmp.Records[i];
                    if (shift == 0) shift = Timestamp.FromDateTime(DateTime.UtcNow) - rec.Timestamp;
                    if (b.IsFull || b.Free < rec.Length) { submit(b); b = rent(); }
                    tmp.Data(rec).CopyTo(b.Add(rec.Timestamp + shift, rec.Length, rec.OriginalLength, rec.LinkType, 0));
                    Interlocked.Increment(ref Sent);
                }
                if (b.Count > 0) submit(b);
                if (!more) break;
            }
            Done.Set();
        }) { IsBackground = true };
        _thread.Start();
    }

    public void Stop() => _thread?.Join();
    public void PollStats() { }
    public void Dispose() => Stop();
}

