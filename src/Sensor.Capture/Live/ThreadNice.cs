using System.Runtime.InteropServices;

namespace Sensor.Capture.Live;

/// <summary>
/// Linux scheduling niceness of the calling thread. During live capture the analysis threads run a few
/// steps nicer than the capture threads: in a burst the CPU goes to emptying the kernel ring first, and
/// the pipeline catches up from the buffers afterwards. Raising niceness needs no privilege.
/// </summary>
public static partial class ThreadNice
{
    [LibraryImport("libc", EntryPoint = "gettid")]
    private static partial int GetTid();

    [LibraryImport("libc", EntryPoint = "setpriority", SetLastError = true)]
    private static partial int SetPriority(int which, int who, int prio);

    private const int PrioProcess = 0;  // with a thread id: that thread only (Linux)

    /// <summary>Sets the calling thread's niceness; false where that is not possible (not Linux, refused).</summary>
    public static bool Set(int nice)
    {
        if (!OperatingSystem.IsLinux()) return false;
        try { return SetPriority(PrioProcess, GetTid(), nice) == 0; }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException) { return false; }
    }
}
