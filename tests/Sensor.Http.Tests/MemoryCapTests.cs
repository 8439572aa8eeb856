using static Sensor.Http.Tests.Bytes;

namespace Sensor.Http.Tests;

public class MemoryCapTests
{
    [Fact]
    public void Body_capture_stops_at_the_memory_cap_but_the_hash_still_covers_the_whole_body()
    {
        var body = Text(200_000, 7);
        var h = new HttpHarness(memoryCap: 64 * 1024);
        h.Handshake();
        h.Client("GET /big HTTP/1.1\r\nHost: x\r\n\r\n");
        h.Server(Ascii($"HTTP/1.1 200 OK\r\nContent-Length: {body.Length}\r\n\r\n"));
        for (int off = 0; off < body.Length; off += 1460) h.Server(body.AsSpan(off, Math.Min(1460, body.Length - off)));
        h.Close();
        var t = Assert.Single(h.Transactions);
        Assert.True(t.Complete);
        Assert.Equal(Sha(body), t.ResponseBody.Sha256Hex);
        Assert.True(t.ResponseBody.CaptureTruncated);
        Assert.True(t.ResponseBody.CapturedLength <= 64 * 1024);
        Assert.Equal(body.AsSpan(0, t.ResponseBody.CapturedLength).ToArray(), t.ResponseBody.Content.ToArray());
        Assert.True(h.Http("memcap_refusals") > 0);
        t.ReleaseBodies();
        Assert.Equal(0, h.Memory!.Held);
    }

    [Fact]
    public void Unfinished_heads_on_many_connections_never_hold_more_than_the_cap()
    {
        const long cap = 256 * 1024;
        var harnesses = new List<HttpHarness>();
        var shared = new HttpHarness(memoryCap: cap);
        // One reassembler, many client ports: each connection sends a head that never ends.
        for (int i = 0; i < 200; i++)
        {
            var key = Sensor.Core.FlowKey.Create(Sensor.Core.IpAddr.Parse("10.9.0.1"), (ushort)(20000 + i), Sensor.Core.IpAddr.Parse("10.9.0.2"), 80, out bool fromA);
            var seg = new Sensor.Reassembly.SegmentInfo(1000, 0, false, true, false, false, 0);
            shared.Reassembler.Process(key, fromA, seg, Ascii("GET /" + new string('a', 3000) + " HTTP/1.1\r\nX-Filler: " + new string('b', 1000)), shared.Ts += 1000);
            Assert.True(shared.Memory!.Held <= cap, $"held {shared.Memory.Held} after {i + 1} connections");
        }
        Assert.True(shared.Http("memcap_refusals") > 0);
        shared.Reassembler.FlushAll(shared.Ts);
        Assert.Equal(0, shared.Memory!.Held);
        Assert.Empty(shared.Transactions);
    }
}
