namespace Sensor.Analysis.Sensitive;

/// <summary>
/// What was decided about a value, remembered for when it comes back (a client's token on every request, a
/// user's email on every call). Bounded by the characters of the keys it holds, not by entries, so many short
/// values or a few long ones fit; when full it starts over. One per thread: no locks. In memory only.
/// </summary>
internal sealed class ValueMemo<TKey, TValue>(int maxChars) where TKey : notnull
{
    private readonly Dictionary<TKey, TValue> _known = [];
    private int _chars;

    public bool TryGet(TKey key, out TValue value) => _known.TryGetValue(key, out value!);

    public void Add(TKey key, TValue value, int chars)
    {
        chars += 32;   // the entry itself
        if (chars > maxChars / 16) return;   // a huge value is not worth remembering
        if (_chars + chars > maxChars) { _known.Clear(); _chars = 0; }
        if (_known.TryAdd(key, value)) _chars += chars;
    }
}
