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
