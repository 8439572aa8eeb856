using System.Buffers;
using System.IO.Compression;
using System.Security.Cryptography;

namespace Sensor.Http;

internal static class BodyBuffers
{
    public static void Return(HttpBody b)
    {
        if (b.Captured is { } arr)
        {
            b.Captured = null;
            b.Memory?.Release(arr.Length);
            ArrayPool<byte>.Shared.Return(arr);
        }
    }
}

/// <summary>
/// Receives a message body after transfer decoding (chunked) and produces the decoded length, the
/// SHA-256 of the decoded bytes and the first bytes for analyzers. Compressed bodies are decoded as they
/// stream by (gzip/deflate through zlib, brotli), so no body is buffered whole; the decoded size is capped,
/// so a decompression bomb is cut and flagged instead of filling memory or time.
/// </summary>
internal sealed class BodyCollector
{
    private readonly HttpOptions _opt;
    private readonly HttpMemory _mem;
    private IncrementalHash? _incremental;     // created only for bodies larger than the capture buffer
    private IncrementalHash Sha => _incremental ??= IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
    private Coding _coding;
    private IContentDecoder? _decoder;
    private bool _decodeStopped, _decodeEnded;
    private byte _deflateFirst;            // "deflate" is zlib-wrapped or raw: told apart by the first two bytes
    private bool _haveDeflateFirst;
    [ThreadStatic] private static byte[]? _scratch;
    private HttpBody _body = HttpBody.Empty;
    private bool _active;
    private bool _hashing;     // incremental hash in use (body larger than the capture limit)

    public TransactionFlags Flags;

    private enum Coding { Identity, Gzip, Deflate, Brotli, Unknown }

    public BodyCollector(HttpOptions opt, HttpMemory mem) { _opt = opt; _mem = mem; }

    public void Begin(string? contentEncoding)
    {
        _body = new HttpBody { Memory = _mem };
        _active = true;
        Flags = TransactionFlags.None;
        _decodeStopped = _decodeEnded = _haveDeflateFirst = false;
        _coding = Coding.Identity;
        if (!string.IsNullOrWhiteSpace(contentEncoding))
        {
            var codings = contentEncoding.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)
                .Where(c => !c.Equals("identity", StringComparison.OrdinalIgnoreCase)).ToArray();
            if (codings.Length == 1)
            {
                _coding = codings[0].ToLowerInvariant() switch
                {
                    "gzip" or "x-gzip" => Coding.Gzip,
                    "deflate" => Coding.Deflate,
                    "br" => Coding.Brotli,
                    _ => Coding.Unknown,
                };
            }
            else if (codings.Length > 1) _coding = Coding.Unknown;
            if (_coding == Coding.Unknown) Flags |= TransactionFlags.UnknownEncoding;
        }
        _body.Encoding = _coding == Coding.Identity ? null : contentEncoding;
    }

    public void Append(ReadOnlySpan<byte> data)
    {
        if (!_active || data.Length == 0) return;
        _body.WireLength += data.Length;
        if (_coding is Coding.Identity or Coding.Unknown)
        {
            Decoded(data);
            return;
        }
        if (_decodeStopped) return;
        if (_decoder == null)
        {
            try
            {
                if (_coding == Coding.Deflate)
                {
                    if (!_haveDeflateFirst) { _deflateFirst = data[0]; _haveDeflateFirst = true; data = data[1..]; if (data.Length == 0) return; }
                    bool raw = !ZlibDecoder.LooksLikeZlib(_deflateFirst, data[0]);
                    _decoder = ZlibPool.Rent(gzip: false, raw);
                    Feed([_deflateFirst]);
                    if (_decodeStopped) return;
                }
                else _decoder = _coding == Coding.Gzip ? ZlibPool.Rent(gzip: true, false) : new BrotliContentDecoder();
            }
            catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
            {
                // No zlib in this runtime: keep the body as sent rather than lose the transaction.
                _coding = Coding.Unknown;
                Flags |= TransactionFlags.UnknownEncoding;
                if (_haveDeflateFirst) Decoded([_deflateFirst]);
                Decoded(data);
                return;
            }
        }
        Feed(data);
    }

    private void Feed(ReadOnlySpan<byte> input)
    {
        var scratch = _scratch ??= new byte[64 * 1024];
        while (true)
        {
            var st = _decoder!.Decode(input, scratch, out int consumed, out int written);
            input = input[consumed..];
            if (written > 0 && !Emit(scratch.AsSpan(0, written))) { _decodeStopped = true; return; }
            if (st == DecodeStatus.End) { _decodeEnded = _decodeStopped = true; return; }
            if (st == DecodeStatus.Error) { Flags |= TransactionFlags.DecodeError; _decodeStopped = true; return; }
            // Done when the input is used up and the decoder had no more output to give.
            if ((input.Length == 0 && written < scratch.Length) || (consumed == 0 && written == 0)) return;
        }
    }

    /// <summary>Decoded bytes, up to the cap: past it the body is a bomb and decoding stops.</summary>
    private bool Emit(ReadOnlySpan<byte> chunk)
    {
        long room = _opt.MaxDecodedBody - _body.Length;
        if (chunk.Length > room)
        {
            Decoded(chunk[..(int)Math.Max(0, room)]);
            Flags |= TransactionFlags.Bomb;
            return false;
        }
        Decoded(chunk);
        return true;
    }

    private void Decoded(ReadOnlySpan<byte> data)
    {
        _body.Length += data.Length;
        int n = Math.Min(_opt.BodyCaptureLimit - _body.CapturedLength, data.Length);
        if (n > 0) n = Capture(data[..n]);
        if (n < data.Length || _hashing)
        {
            // The body outgrows what is captured: from here on it is hashed as it streams by.
            if (!_hashing) { Sha.AppendData(_body.Content[..(_body.CapturedLength - n)]); _hashing = true; }
            Sha.AppendData(data);
            if (n < data.Length) _body.CaptureTruncated = true;
        }
    }

    /// <summary>Copies into the capture buffer, growing it within the memory cap; returns the bytes kept.</summary>
    private int Capture(ReadOnlySpan<byte> data)
    {
        var cap = _body.Captured;
        int need = _body.CapturedLength + data.Length;
        if (cap == null || cap.Length < need)
        {
            int size = Math.Min(_opt.BodyCaptureLimit, Math.Max(need, Math.Max(1024, (cap?.Length ?? 0) * 2)));
            var nb = ArrayPool<byte>.Shared.Rent(size);
            // Accounted as what the pool really handed out (it rounds sizes up).
            if (!_mem.TryReserve(nb.Length - (cap?.Length ?? 0))) { ArrayPool<byte>.Shared.Return(nb); return 0; }
            if (cap != null) { cap.AsSpan(0, _body.CapturedLength).CopyTo(nb); ArrayPool<byte>.Shared.Return(cap); }  // its bytes moved into the reservation above
            _body.Captured = cap = nb;
        }
        data.CopyTo(cap.AsSpan(_body.CapturedLength));
        _body.CapturedLength += data.Length;
        return data.Length;
    }

    /// <summary>Ends the body; compressed content is decoded now. Returns the finished body.</summary>
    public HttpBody Finish()
    {
        if (!_active) return HttpBody.Empty;
        _active = false;
        if (_coding is Coding.Gzip or Coding.Deflate or Coding.Brotli && _body.WireLength > 0)
        {
            // A compressed stream that stopped before its end marker did not decode completely.
            if (!_decodeEnded && (Flags & (TransactionFlags.Bomb | TransactionFlags.DecodeError)) == 0) Flags |= TransactionFlags.DecodeError;
        }
        ReleaseDecoder();
        // Bodies that fit the capture buffer (nearly all API bodies) are hashed in one call.
        if (_hashing) _body.Sha256 = Sha.GetHashAndReset();
        else if (_body.Length > 0) _body.Sha256 = BodyHash.Sha256(_body.Content);
        _hashing = false;
        var b = _body;
        _body = HttpBody.Empty;
        return b;
    }

    private void ReleaseDecoder()
    {
        if (_decoder is ZlibDecoder z) ZlibPool.Return(z);
        else _decoder?.Dispose();
        _decoder = null;
    }
}
