using Sensor.TestSupport;

namespace Sensor.Capture.Tests;

public class HostileFileTests
{
    [Fact]
    public void Random_and_corrupted_files_end_in_a_format_error_or_a_fault_never_an_exception()
    {
        var rnd = new Random(99);
        var good = new MemoryStream();
        using (var w = new PcapWriter(good)) for (int i = 0; i < 20; i++) w.Write(i, new byte[60 + i]);
        var pcapng = new MemoryStream();
        var ng = new PcapngWriter(pcapng);
        ng.AddInterface(1);
        for (int i = 0; i < 20; i++) ng.Write(0, i, new byte[60 + i]);
        foreach (var template in new[] { good.ToArray(), pcapng.ToArray() })
        {
            for (int round = 0; round < 2000; round++)
            {
                var data = (byte[])template.Clone();
                int flips = rnd.Next(1, 6);
                for (int k = 0; k < flips; k++) data[rnd.Next(data.Length)] = (byte)rnd.Next(256);
                var cut = data[..rnd.Next(data.Length + 1)];
                try
                {
                    using var r = CaptureFileReader.FromStream("x", new MemoryStream(cut));
                    var b = new PacketBatch(64 * 1024, 8);
                    int guard = 0;
                    while (r.ReadBatch(b) && guard++ < 1000) b.Reset();
                    Assert.True(guard < 1000, "reader must make progress and stop");
                }
                catch (CaptureFormatException) { }
            }
        }
    }
}
