using System.Buffers;
using System.Diagnostics;
using System.Text;
using System.Text.Json;

namespace Sensor.Http.Har;

/// <summary>Receives the unescaped bytes of a JSON string as they are decoded.</summary>
internal interface IByteSink
{
    void Append(ReadOnlySpan<byte> data);
}

/// <summary>The JSON is damaged at <see cref="Offset"/> (a syntax error, or the file ends early).</summary>
internal sealed class JsonFaultException(long offset, string reason, bool truncated) : Exception(reason)
{
    public long Offset { get; } = offset;
    public string Reason { get; } = reason;
    public bool Truncated { get; } = truncated;
}

/// <summary>
/// JSON tokens from a stream through <see cref="Utf8JsonReader"/> over one buffer of bounded size: the
/// reader is re-created per token from the saved <see cref="JsonReaderState"/>, and the buffer is refilled
/// when a token is incomplete. A string longer than the whole buffer (a huge body in a hostile or just big
/// HAR) is not buffered: it is decoded as it streams by into <see cref="LongSink"/> (or skipped) and cut
/// out of the buffer, and the reader is shown an empty string in its place, so memory stays bounded
/// whatever the file holds.
/// </summary>
internal sealed class JsonTokenStream : IDisposable, IByteSink
{
    private readonly Stream _stream;
    private readonly int _max;
    private byte[] _buf;
    private int _start, _end;
    private long _base;                      // file offset of _buf[0]
    private int _spliceAt = int.MaxValue;    // buffer index after which _spliceBytes were cut out (a long string)
    private long _spliceBytes;
    private bool _eof;
    private long _read;
    private JsonReaderState _state;
    private bool _pendingCut;
    private byte[] _value;

    public JsonTokenType Token { get; private set; }
    /// <summary>Nesting depth of the current token (the root object is 0, its members 1).</summary>
    public int Depth { get; private set; }
    /// <summary>File offset where the current token starts.</summary>
    public long TokenOffset { get; private set; }
    /// <summary>The current string or property name was longer than the buffer: its bytes went to <see cref="LongSink"/>, <see cref="Value"/> is empty.</summary>
    public bool ValueCut { get; private set; }
    /// <summary>Where the next over-long string goes; null to skip it.</summary>
    public IByteSink? LongSink;
    public int ValueLength { get; private set; }
    /// <summary>Unescaped UTF-8 of the current string or property name; the raw text of a number.</summary>
    public ReadOnlySpan<byte> Value => _value.AsSpan(0, ValueLength);
    /// <summary>Bytes read from the stream so far.</summary>
    public long BytesRead => _read;
    /// <summary>File offset up to which tokens have been consumed.</summary>
    public long Position => FileOffset(_start);
    public int MaxToken => _max;

    public JsonTokenStream(Stream stream, int maxToken, long startOffset = 0)
    {
        _stream = stream;
        _max = Math.Max(4096, maxToken);
        _buf = ArrayPool<byte>.Shared.Rent(Math.Min(_max, 64 * 1024));
        _value = ArrayPool<byte>.Shared.Rent(256);
        _base = startOffset;
        _read = startOffset;
    }

    private int Capacity => Math.Min(_buf.Length, _max);   // the pool may hand out more than asked for

    private long FileOffset(int index) => _base + index + (index > _spliceAt ? _spliceBytes : 0);

    /// <summary>Reads the next token; false at the end of the data after a complete document.</summary>
    public bool Next()
    {
        while (true)
        {
            var r = new Utf8JsonReader(_buf.AsSpan(_start, _end - _start), _eof, _state);
            bool ok;
            try { ok = r.Read(); }
            catch (JsonException e) { throw Fault(_start + (int)r.BytesConsumed, e); }
            if (ok)
            {
                Token = r.TokenType;
                Depth = r.CurrentDepth;
                TokenOffset = FileOffset(_start + (int)r.TokenStartIndex);
                ValueCut = false;
                ValueLength = 0;
                switch (Token)
                {
                    case JsonTokenType.String:
                    case JsonTokenType.PropertyName:
                        if (_pendingCut) ValueCut = true;
                        else if (r.ValueIsEscaped) Unescape(r.ValueSpan, _start + (int)r.TokenStartIndex);
                        else Append(r.ValueSpan);
                        break;
                    case JsonTokenType.Number:
                        Append(r.ValueSpan);
                        break;
                }
                _pendingCut = false;
                _start += (int)r.BytesConsumed;
                _state = r.CurrentState;
                return true;
            }
            if (_eof) return false;
            if (!Fill()) ReadLongString();
        }
    }

    /// <summary>Skips the value that follows a property name.</summary>
    public void SkipValue()
    {
        if (!Next()) throw EndFault();
        SkipCurrent();
    }

    /// <summary>Skips the rest of the current value: nothing for a scalar, up to its end for an object or array.</summary>
    public void SkipCurrent()
    {
        if (Token is JsonTokenType.StartObject or JsonTokenType.StartArray) SkipToEndOf(Depth);
    }

    /// <summary>Skips the rest of the container the current token is inside of, up to its end token.</summary>
    public void SkipToEndOf(int containerDepth)
    {
        var sink = LongSink;
        LongSink = null;
        while (!(Depth == containerDepth && Token is JsonTokenType.EndObject or JsonTokenType.EndArray))
            if (!Next()) throw EndFault();
        LongSink = sink;
    }

    /// <summary>Steps over a UTF-8 byte order mark, which the reader does not accept.</summary>
    public void SkipBom()
    {
        while (_end - _start < 3 && !_eof) Fill();
        if (_buf.AsSpan(_start, _end - _start).StartsWith("\uFEFF"u8)) _start += 3;
    }

    public JsonFaultException EndFault() => new(FileOffset(_end), "the file ends inside the JSON document", truncated: true);

    /// <summary>Swaps the current value's buffer with <paramref name="other"/> (a pooled array), so a body's text changes hands without a copy.</summary>
    public int TakeValue(ref byte[] other)
    {
        (other, _value) = (_value, other);
        int n = ValueLength;
        ValueLength = 0;
        return n;
    }

    private void Append(ReadOnlySpan<byte> data)
    {
        if (ValueLength + data.Length > _value.Length) Grow(ref _value, ValueLength, ValueLength + data.Length);
        data.CopyTo(_value.AsSpan(ValueLength));
        ValueLength += data.Length;
    }

    void IByteSink.Append(ReadOnlySpan<byte> data) => Append(data);

    private void Unescape(ReadOnlySpan<byte> raw, int tokenIndex)
    {
        var scanner = new JsonStringScanner();
        if (scanner.Feed(raw, this) != -1 || !scanner.Finish(this))
            throw new JsonFaultException(FileOffset(tokenIndex), "invalid escape in a JSON string", truncated: false);
    }

    internal static void Grow(ref byte[] a, int keep, int need)
    {
        var nb = ArrayPool<byte>.Shared.Rent(Math.Max(need, a.Length * 2));
        a.AsSpan(0, keep).CopyTo(nb);
        ArrayPool<byte>.Shared.Return(a);
        a = nb;
    }

    /// <summary>Moves unread bytes to the front and reads more; false when a single token fills the largest buffer.</summary>
    private bool Fill()
    {
        if (_start > 0)
        {
            Buffer.BlockCopy(_buf, _start, _buf, 0, _end - _start);
            if (_spliceAt != int.MaxValue)
            {
                if (_spliceAt < _start) { _base += _spliceBytes; _spliceAt = int.MaxValue; _spliceBytes = 0; }
                else _spliceAt -= _start;
            }
            _base += _start;
            _end -= _start;
            _start = 0;
        }
        if (_end == Capacity)
        {
            if (Capacity >= _max) return false;
            var nb = ArrayPool<byte>.Shared.Rent(Math.Min(_max, _buf.Length * 2));
            _buf.AsSpan(0, _end).CopyTo(nb);
            ArrayPool<byte>.Shared.Return(_buf);
            _buf = nb;
        }
        int n = _stream.Read(_buf, _end, Capacity - _end);
        if (n == 0) _eof = true;
        _end += n;
        _read += n;
        return true;
    }

    private static bool IsWhitespace(byte b) => b is (byte)' ' or (byte)'\t' or (byte)'\r' or (byte)'\n';

    /// <summary>
    /// The buffer is full and holds no complete token. Whitespace is dropped; a string is decoded as it
    /// streams by and cut out of the buffer (the reader then sees ""); anything else is an error.
    /// </summary>
    private void ReadLongString()
    {
        Debug.Assert(_start == 0 && _spliceAt == int.MaxValue);
        int i = _start;
        while (i < _end && IsWhitespace(_buf[i])) i++;
        if (i == _end) { _start = _end; return; }   // whitespace only: it changes nothing for the reader
        if (_buf[i] is (byte)',' or (byte)':') i++;
        while (i < _end && IsWhitespace(_buf[i])) i++;
        if (i == _end || _buf[i] != (byte)'"')
            throw new JsonFaultException(FileOffset(i), $"a JSON token or whitespace run is longer than {_max} bytes", truncated: false);
        int open = i, pos = open + 1;
        // The string is decoded in the room after its opening quote; a buffer eaten by whitespace leaves none.
        if (Capacity - pos < 4096)
            throw new JsonFaultException(FileOffset(_start), $"a whitespace run of nearly {_max} bytes", truncated: false);
        long dropped = 0;
        var sink = LongSink;
        var scanner = new JsonStringScanner();
        while (true)
        {
            int close = scanner.Feed(_buf.AsSpan(pos, _end - pos), sink);
            if (close == -2) throw new JsonFaultException(FileOffset(open) + dropped, "invalid escape or control character in a JSON string", truncated: false);
            if (close >= 0)
            {
                if (!scanner.Finish(sink)) throw new JsonFaultException(FileOffset(open), "invalid escape in a JSON string", truncated: false);
                int closeIndex = pos + close;
                int cut = closeIndex - (open + 1);
                Buffer.BlockCopy(_buf, closeIndex, _buf, open + 1, _end - closeIndex);
                _end -= cut;
                dropped += cut;
                break;
            }
            // Everything after the opening quote has been decoded: drop it and read on.
            dropped += _end - (open + 1);
            _end = pos = open + 1;
            int n = _stream.Read(_buf, _end, Capacity - _end);
            if (n == 0)
            {
                _eof = true;
                throw new JsonFaultException(FileOffset(open) + dropped + 1, "the file ends inside a string value", truncated: true);
            }
            _end += n;
            _read += n;
        }
        _spliceAt = open;
        _spliceBytes = dropped;
        _pendingCut = true;
    }

    private JsonFaultException Fault(int index, JsonException e)
    {
        // A prefix of valid JSON is a truncated file; anything else is a syntax error.
        bool truncated = false;
        if (_eof)
        {
            var probe = new Utf8JsonReader(_buf.AsSpan(_start, _end - _start), false, _state);
            try { while (probe.Read()) { } truncated = true; }
            catch (JsonException) { }
        }
        return truncated
            ? new JsonFaultException(FileOffset(_end), "the file ends inside the JSON document", truncated: true)
            : new JsonFaultException(FileOffset(index), "invalid JSON: " + e.Message, truncated: false);
    }

    public void Dispose()
    {
        ArrayPool<byte>.Shared.Return(_buf);
        ArrayPool<byte>.Shared.Return(_value);
        _buf = _value = [];
    }
}

/// <summary>
/// Decodes the inside of a JSON string (escapes, surrogate pairs) in pieces, for strings too long to
/// hold; lone surrogates become U+FFFD. Feed returns the index of the closing quote, -1 when more input
/// is needed, -2 on an invalid escape or a raw control character.
/// </summary>
internal struct JsonStringScanner
{
    private static readonly SearchValues<byte> Special = SearchValues.Create(
        [(byte)'"', (byte)'\\', .. Enumerable.Range(0, 0x20).Select(i => (byte)i)]);

    private int _escape;        // 0: none, 1: after '\', 2..5: reading \u hex digits
    private int _unit;          // \u value being read
    private int _high;          // pending high surrogate, 0 when none

    public int Feed(ReadOnlySpan<byte> s, IByteSink? sink)
    {
        int i = 0;
        Span<byte> tmp = stackalloc byte[8];
        while (i < s.Length)
        {
            if (_escape == 0)
            {
                int k = s[i..].IndexOfAny(Special);
                int run = k < 0 ? s.Length - i : k;
                if (run > 0)
                {
                    if (_high != 0) { Emit(0xFFFD, sink, tmp); _high = 0; }
                    sink?.Append(s.Slice(i, run));
                    i += run;
                    continue;
                }
                byte c = s[i];
                if (c == (byte)'"') return i;
                if (c != (byte)'\\') return -2;
                _escape = 1;
                i++;
                continue;
            }
            byte b = s[i++];
            if (_escape == 1)
            {
                int simple = b switch
                {
                    (byte)'"' => '"', (byte)'\\' => '\\', (byte)'/' => '/', (byte)'b' => '\b',
                    (byte)'f' => '\f', (byte)'n' => '\n', (byte)'r' => '\r', (byte)'t' => '\t', _ => -1,
                };
                if (b == (byte)'u') { _escape = 2; _unit = 0; continue; }
                if (simple < 0) return -2;
                if (_high != 0) { Emit(0xFFFD, sink, tmp); _high = 0; }
                tmp[0] = (byte)simple;
                sink?.Append(tmp[..1]);
                _escape = 0;
                continue;
            }
            int h = HexValue(b);
            if (h < 0) return -2;
            _unit = _unit * 16 + h;
            if (++_escape < 6) continue;
            _escape = 0;
            Unit(_unit, sink, tmp);
        }
        return -1;
    }

    /// <summary>At the closing quote: flushes a pending high surrogate; false inside an escape.</summary>
    public bool Finish(IByteSink? sink)
    {
        if (_escape != 0) return false;
        if (_high != 0) { Emit(0xFFFD, sink, stackalloc byte[8]); _high = 0; }
        return true;
    }

    private void Unit(int u, IByteSink? sink, Span<byte> tmp)
    {
        if (u is >= 0xD800 and <= 0xDBFF)
        {
            if (_high != 0) Emit(0xFFFD, sink, tmp);
            _high = u;
            return;
        }
        if (u is >= 0xDC00 and <= 0xDFFF)
        {
            if (_high == 0) { Emit(0xFFFD, sink, tmp); return; }
            int cp = 0x10000 + ((_high - 0xD800) << 10) + (u - 0xDC00);
            _high = 0;
            Emit(cp, sink, tmp);
            return;
        }
        if (_high != 0) { Emit(0xFFFD, sink, tmp); _high = 0; }
        Emit(u, sink, tmp);
    }

    private static void Emit(int codePoint, IByteSink? sink, Span<byte> tmp)
    {
        if (sink == null) return;
        new Rune(codePoint).TryEncodeToUtf8(tmp, out int n);
        sink.Append(tmp[..n]);
    }

    private static int HexValue(byte c) => c switch
    {
        >= (byte)'0' and <= (byte)'9' => c - '0',
        >= (byte)'a' and <= (byte)'f' => c - 'a' + 10,
        >= (byte)'A' and <= (byte)'F' => c - 'A' + 10,
        _ => -1,
    };
}
