using System.Buffers;
using System.Buffers.Text;
using System.Security.Cryptography;

namespace Sensor.Http.Har;

/// <summary>
/// An <see cref="HttpBody"/> from decoded bytes, the way <see cref="BodyCollector"/> makes one: the length
/// and SHA-256 of the whole body, and its first bytes up to the capture limit in a pooled buffer (given
/// back by <see cref="HttpTransaction.ReleaseBodies"/>).
/// </summary>
internal sealed class HarBodyBuilder(int captureLimit) : IByteSink
{
    private byte[]? _captured;
    private int _capturedLength;
    private long _length;
    private IncrementalHash? _incremental;     // only for bodies larger than the capture limit
    private bool _hashing;

    private IncrementalHash Sha => _incremental ??= IncrementalHash.CreateHash(HashAlgorithmName.SHA256);

    /// <summary>Starts a body; <paramref name="sizeHint"/> (its length when known) sizes the capture buffer once.</summary>
    public void Begin(long sizeHint)
    {
        Reset();
        int want = (int)Math.Min(captureLimit, sizeHint);
        if (want > 0) _captured = ArrayPool<byte>.Shared.Rent(want);
    }

    public void Append(ReadOnlySpan<byte> data)
    {
        if (data.Length == 0) return;
        _length += data.Length;
        int n = Math.Min(captureLimit - _capturedLength, data.Length);
        if (n > 0)
        {
            if (_captured == null || _captured.Length < _capturedLength + n)
            {
                var nb = ArrayPool<byte>.Shared.Rent(Math.Min(captureLimit, Math.Max(_capturedLength + n, Math.Max(1024, (_captured?.Length ?? 0) * 2))));
                if (_captured != null)
                {
                    _captured.AsSpan(0, _capturedLength).CopyTo(nb);
                    ArrayPool<byte>.Shared.Return(_captured);
                }
                _captured = nb;
            }
            data[..n].CopyTo(_captured.AsSpan(_capturedLength));
            _capturedLength += n;
        }
        if (n < data.Length || _hashing)
        {
            // The body outgrows the capture: from here on it is hashed as it goes by.
            if (!_hashing) { Sha.AppendData(_captured.AsSpan(0, _capturedLength - n)); _hashing = true; }
            Sha.AppendData(data);
        }
    }

    /// <summary>The finished body; its capture buffer now belongs to the body.</summary>
    public HttpBody Finish(long wireLength)
    {
        if (_length == 0) { Reset(); return HttpBody.Empty; }
        var body = new HttpBody
        {
            Length = _length,
            WireLength = wireLength >= 0 ? wireLength : _length,
            CapturedLength = _capturedLength,
            CaptureTruncated = _length > _capturedLength,
            Sha256 = _hashing ? Sha.GetHashAndReset() : BodyHash.Sha256(_captured.AsSpan(0, _capturedLength)),
        };
        if (_capturedLength > 0) { body.Captured = _captured; _captured = null; }
        _hashing = false;
        Reset();
        return body;
    }

    public void Reset()
    {
        if (_captured != null) { ArrayPool<byte>.Shared.Return(_captured); _captured = null; }
        if (_hashing) { Sha.GetHashAndReset(); _hashing = false; }
        _capturedLength = 0;
        _length = 0;
    }

    public void Dispose()
    {
        Reset();
        _incremental?.Dispose();
        _incremental = null;
    }
}

/// <summary>Streaming base64 decoding (whitespace skipped, missing padding tolerated) into a sink.</summary>
internal sealed class Base64Stream : IByteSink
{
    private readonly byte[] _in = new byte[4096 + 4];    // room for the padding added at the end
    private readonly byte[] _out = new byte[3 * 1025];
    private int _n;
    private IByteSink? _target;
    public bool Invalid { get; private set; }

    public void Begin(IByteSink target) { _target = target; _n = 0; Invalid = false; }

    public void Append(ReadOnlySpan<byte> chars)
    {
        if (Invalid) return;
        foreach (byte c in chars)
        {
            if (c is (byte)' ' or (byte)'\t' or (byte)'\r' or (byte)'\n') continue;
            _in[_n++] = c;
            if (_n == 4096) Decode(final: false);
            if (Invalid) return;
        }
    }

    public void End()
    {
        if (Invalid) return;
        if (_n % 4 == 1) { Invalid = true; return; }
        while (_n % 4 != 0) _in[_n++] = (byte)'=';
        Decode(final: true);
    }

    private void Decode(bool final)
    {
        // Padding may only end the data, so the last quantum waits for the final block.
        int k = final ? _n : (_n / 4 - 1) * 4;
        if (k <= 0) return;
        var st = Base64.DecodeFromUtf8(_in.AsSpan(0, k), _out, out int consumed, out int written, isFinalBlock: final);
        if (st != OperationStatus.Done || consumed != k) { Invalid = true; return; }
        _target!.Append(_out.AsSpan(0, written));
        _in.AsSpan(k, _n - k).CopyTo(_in);
        _n -= k;
    }
}

/// <summary>
/// A body text too long to buffer, decoded as it streams by. Whether it is base64 is only known once its
/// "content" object ends (the "encoding" member may come after "text"), so both readings are kept.
/// </summary>
internal sealed class LongBodyText(int captureLimit) : IByteSink
{
    public readonly HarBodyBuilder Text = new(captureLimit);
    public readonly HarBodyBuilder Decoded = new(captureLimit);
    private readonly Base64Stream _base64 = new();
    public bool Base64Invalid => _base64.Invalid;

    public void Begin()
    {
        Text.Begin(0);
        Decoded.Begin(0);
        _base64.Begin(Decoded);
    }

    public void Append(ReadOnlySpan<byte> data)
    {
        Text.Append(data);
        _base64.Append(data);
    }

    public void End() => _base64.End();

    public void Reset() { Text.Reset(); Decoded.Reset(); }

    public void Dispose() { Text.Dispose(); Decoded.Dispose(); }
}
