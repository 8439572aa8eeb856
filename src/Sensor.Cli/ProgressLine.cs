using System.Diagnostics;
using Sensor.Host.Replay;

namespace Sensor.Cli;

/// <summary>A single self-overwriting status line on the terminal (stderr), at most a few times a second.</summary>
internal sealed class ProgressLine
{
    private long _lastDraw = -1;
    private bool _drawn;
    private readonly object _lock = new();

    public void Report(ReplayProgress p)
    {
        long now = Stopwatch.GetTimestamp();
        if (_lastDraw >= 0 && Stopwatch.GetElapsedTime(_lastDraw, now).TotalMilliseconds < 250) return;
        _lastDraw = now;
        double secs = Math.Max(p.Elapsed.TotalSeconds, 1e-3);
        double frac = p.BytesTotal > 0 ? Math.Min(1.0, (double)p.BytesDone / p.BytesTotal) : 0;
        string eta = frac > 0.01 ? TimeSpan.FromSeconds(secs / frac - secs).ToString(@"hh\:mm\:ss") : "--:--:--";
        string line = $"{frac * 100,5:F1}%  {Mb(p.BytesDone)}/{Mb(p.BytesTotal)}  {p.Packets:N0} pkts  {p.Transactions:N0} txns  {p.Transactions / secs:N0} txn/s  {p.BytesDone / secs / 1e6:F1} MB/s  ETA {eta}";
        lock (_lock)
        {
            Console.Error.Write("\r" + line.PadRight(Math.Min(Console.WindowWidth > 0 ? Console.WindowWidth - 1 : 100, 140)));
            _drawn = true;
        }
    }

    private static string Mb(long b) => $"{b / 1e6:F1} MB";

    public void Clear()
    {
        lock (_lock)
        {
            if (_drawn) Console.Error.Write("\r" + new string(' ', Math.Min(Console.WindowWidth > 0 ? Console.WindowWidth - 1 : 100, 140)) + "\r");
        }
    }
}
