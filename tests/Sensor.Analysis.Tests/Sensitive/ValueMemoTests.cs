using Sensor.Analysis.Sensitive;

namespace Sensor.Analysis.Tests.Sensitive;

public class ValueMemoTests
{
    [Fact]
    public void Values_in_steady_use_survive_when_the_memo_turns_over()
    {
        // Room for ~10 entries of 68 characters (36 + 32 for the entry) per generation.
        var memo = new ValueMemo<string, int>(2 * 10 * 68);
        var hot = Enumerable.Range(0, 5).Select(i => $"hot-{i}".PadRight(36, 'x')).ToArray();
        foreach (var (h, i) in hot.Select((h, i) => (h, i))) memo.Add(h, i, h.Length);
        for (int round = 0; round < 50; round++)
        {
            // A stream of values seen once, as many as the whole memo holds, between uses of the hot ones.
            for (int k = 0; k < 4; k++)
            {
                var cold = $"cold-{round}-{k}".PadRight(36, 'y');
                Assert.False(memo.TryGet(cold, out _));
                memo.Add(cold, -1, cold.Length);
            }
            foreach (var (h, i) in hot.Select((h, i) => (h, i)))
            {
                Assert.True(memo.TryGet(h, out var v), $"{h} forgotten in round {round}");
                Assert.Equal(i, v);
            }
        }
    }

    [Fact]
    public void The_front_answers_what_the_tables_would()
    {
        var memo = new ValueMemo<UInt128, string>(1 << 20);
        for (int i = 0; i < 4096; i++) memo.Add((UInt128)i * 0x9E3779B97F4A7C15, $"v{i}", 8);
        // Read twice (the second read comes from the front for many keys), in an order that makes front slots collide.
        for (int round = 0; round < 2; round++)
            for (int i = 4095; i >= 0; i -= 3)
            {
                Assert.True(memo.TryGet((UInt128)i * 0x9E3779B97F4A7C15, out var v));
                Assert.Equal($"v{i}", v);
            }
        Assert.False(memo.TryGet(12345, out _));
    }

    [Fact]
    public void It_holds_no_more_than_its_bound()
    {
        var memo = new ValueMemo<string, int>(1000);
        for (int i = 0; i < 1000; i++) memo.Add($"value-{i:D4}", i, 10);
        // Each entry counts 42 characters: at most two generations of 500.
        int kept = Enumerable.Range(0, 1000).Count(i => memo.TryGet($"value-{i:D4}", out _));
        Assert.InRange(kept, 1, 1000 / 42);
        // A value too large for the memo is not kept at all.
        memo.Add(new string('z', 100), 1, 100);
        Assert.False(memo.TryGet(new string('z', 100), out _));
    }
}
