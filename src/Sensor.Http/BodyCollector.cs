using System.Buffers;
using System.IO.Compression;
using System.Security.Cryptography;

namespace Sensor.Http;

internal static class BodyBuffers
{
    public static void Return(HttpBody b)
    {
        if (b.Captured is { } arr) { b.Captured = null; ArrayPool<byte>.Shared.Return(arr); }
    }
}

/// <summary>
/// Receives a message body after transfer decoding (chunked) and produces the decoded length, the
/// SHA-256 of the decoded bytes and the first bytes for analyzers. Identity bodies are hashed as they
/// stream by; compressed bodies are buffered (bounded) and decoded at the end with a decoded-size cap,
/// so a decompression bomb is cut and flagged instead of filling memory.
/// </summary>
internal sealed class BodyCollector
{
    private readonly HttpOptions _opt;
    private readonly IncrementalHash _sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
    private Coding _coding;
    private string? _encoding;
    private byte[]? _compressed;
    private int _compressedLen;
    private HttpBody _body = HttpBody.Empty;
    private bool _active;
    private bool _hashing;     // incremental hash in use (body larger than the capture limit)

    public TransactionFlags Flags;

    private enum Coding { Identity, Gzip, Deflate, Brotli, Unknown }

    public BodyCollector(HttpOptions opt) { _opt = opt; }

    public void Begin(string? contentEncoding)
    {
        _body = new HttpBody();
        _active = true;
        Flags = TransactionFlags.None;
        _compressedLen = 0;
        _encoding = contentEncoding;
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
        if (_compressedLen + (long)data.Length > _opt.MaxCompressedBody)
        {
            Flags |= TransactionFlags.Truncated;
            return;
        }
        if (_compressed == null || _compressed.Length < _compressedLen + data.Length)
        {
            var nb = ArrayPool<byte>.Shared.Rent(Math.Max(_compressedLen + data.Length, Math.Max(4096, (_compressed?.Length ?? 0) * 2)));
            if (_compressed != null) { _compressed.AsSpan(0, _compressedLen).CopyTo(nb); ArrayPool<byte>.Shared.Return(_compressed); }
            _compressed = nb;
        }
        data.CopyTo(_compressed.AsSpan(_compressedLen));
        _compressedLen += data.Length;
    }

    private void Decoded(ReadOnlySpan<byte> data)
    {
        _body.Length += data.Length;
        int room = _opt.BodyCaptureLimit - _body.CapturedLength;
        int n = Math.Min(room, data.Length);
        if (n < data.Length)
        {
            // The body outgrows the capture buffer: from here on it is hashed as it streams by.
            if (!_hashing) { _sha.AppendData(_body.Content); _hashing = true; }
            _sha.AppendData(data);
            _body.CaptureTruncated = true;
            if (n <= 0) return;
        }
        else if (_hashing) _sha.AppendData(data);
        var cap = _body.Captured;
        if (cap == null || cap.Length < _body.CapturedLength + n)
        {
            var nb = ArrayPool<byte>.Shared.Rent(Math.Min(_opt.BodyCaptureLimit, Math.Max(_body.CapturedLength + n, Math.Max(1024, (cap?.Length ?? 0) * 2))));
            if (cap != null) { cap.AsSpan(0, _body.CapturedLength).CopyTo(nb); ArrayPool<byte>.Shared.Return(cap); }
            _body.Captured = cap = nb;
        }
        data[..n].CopyTo(cap.AsSpan(_body.CapturedLength));
        _body.CapturedLength += n;
    }

    /// <summary>Ends the body; compressed content is decoded now. Returns the finished body.</summary>
    public HttpBody Finish()
    {
        if (!_active) return HttpBody.Empty;
        _active = false;
        if (_coding is Coding.Gzip or Coding.Deflate or Coding.Brotli && _compressedLen > 0)
        {
            DecodeCompressed();
        }
        if (_compressed != null) { ArrayPool<byte>.Shared.Return(_compressed); _compressed = null; }
        // Bodies that fit the capture buffer (nearly all API bodies) are hashed in one call.
        if (_hashing) _body.Sha256 = _sha.GetHashAndReset();
        else if (_body.Length > 0) _body.Sha256 = SHA256.HashData(_body.Content);
        _hashing = false;
        var b = _body;
        _body = HttpBody.Empty;
        return b;
    }

    /// <summary>Abandons the body (the message was lost); releases buffers.</summary>
    public HttpBody Abort()
    {
        var b = Finish();
        return b;
    }

    private void DecodeCompressed()
    {
        var buf = ArrayPool<byte>.Shared.Rent(64 * 1024);
        try
        {
            if (!TryDecode(_coding, buf) && _coding == Coding.Deflate && _body.Length == 0)
            {
                // Some servers send raw deflate (RFC 1951) under "deflate": retry without the zlib wrapper.
                Flags &= ~TransactionFlags.DecodeError;
                if (_hashing) { _sha.GetHashAndReset(); _hashing = false; }
                _body.CapturedLength = 0;
                TryDecode(Coding.Unknown, buf);
            }
        }
        finally { ArrayPool<byte>.Shared.Return(buf); }
    }

    private bool TryDecode(Coding coding, byte[] buf)
    {
        using var input = new MemoryStream(_compressed!, 0, _compressedLen, writable: false);
        using Stream dec = coding switch
        {
            Coding.Gzip => new GZipStream(input, CompressionMode.Decompress),
            Coding.Deflate => new ZLibStream(input, CompressionMode.Decompress),
            Coding.Brotli => new BrotliStream(input, CompressionMode.Decompress),
            _ => new DeflateStream(input, CompressionMode.Decompress),
        };
        try
        {
            while (true)
            {
                int want = (int)Math.Min(buf.Length, _opt.MaxDecodedBody - _body.Length + 1);
                if (want <= 0) { Flags |= TransactionFlags.Bomb; return true; }
                int n = dec.Read(buf, 0, want);
                if (n <= 0) return true;
                if (_body.Length + n > _opt.MaxDecodedBody)
                {
                    Decoded(buf.AsSpan(0, (int)(_opt.MaxDecodedBody - _body.Length)));
                    Flags |= TransactionFlags.Bomb;
                    return true;
                }
                Decoded(buf.AsSpan(0, n));
            }
        }
        catch (Exception e) when (e is InvalidDataException or IOException)
        {
            Flags |= TransactionFlags.DecodeError;
            return false;
        }
    }
}
