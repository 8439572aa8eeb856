using System.Buffers;
using System.IO.Compression;
using System.Runtime.InteropServices;

namespace Sensor.Http;

/// <summary>
/// A push-style (streaming) decoder for one Content-Encoding: compressed bytes go in as they arrive,
/// decoded bytes come out into a caller buffer. Nothing is buffered beyond the decoder's own window,
/// so a body of any size, or a bomb, costs bounded memory.
/// </summary>
internal interface IContentDecoder : IDisposable
{
    /// <summary>Decodes from <paramref name="input"/> into <paramref name="output"/>.</summary>
    DecodeStatus Decode(ReadOnlySpan<byte> input, Span<byte> output, out int consumed, out int written);
}

internal enum DecodeStatus { Progress, End, Error }

/// <summary>
/// gzip and deflate through the zlib that .NET itself ships (libSystem.IO.Compression.Native: zlib-ng in
/// Microsoft's builds, ~2× the system libz's inflate speed), driven push-style so it can be fed in pieces and reset.
/// </summary>
internal sealed unsafe class ZlibDecoder : IContentDecoder
{
    /// <summary>The runtime's wrapper around a z_stream (pal_zlib.h); the z_stream itself lives behind InternalState.</summary>
    [StructLayout(LayoutKind.Sequential)]
    private struct ZStream
    {
        public byte* NextIn; public byte* NextOut;
        public IntPtr Msg, InternalState;
        public uint AvailIn, AvailOut;
    }

    private const string Lib = "libSystem.IO.Compression.Native";
    [DllImport(Lib, EntryPoint = "CompressionNative_InflateInit2_")] private static extern int InflateInit2(ZStream* strm, int windowBits);
    [DllImport(Lib, EntryPoint = "CompressionNative_Inflate")] private static extern int Inflate(ZStream* strm, int flush);
    [DllImport(Lib, EntryPoint = "CompressionNative_InflateReset2_")] private static extern int InflateReset2(ZStream* strm, int windowBits);
    [DllImport(Lib, EntryPoint = "CompressionNative_InflateEnd")] private static extern int InflateEnd(ZStream* strm);

    // zlib keeps a pointer to its z_stream, so the struct lives in native memory at a fixed address.
    private ZStream* _z;
    private bool _gzip;

    private ZlibDecoder() { }

    /// <summary>gzip (RFC 1952), or deflate: zlib-wrapped (RFC 1950) or, as some servers send it, raw (RFC 1951).</summary>
    public static ZlibDecoder Create(bool gzip, bool rawDeflate)
    {
        var d = new ZlibDecoder { _gzip = gzip };
        d._z = (ZStream*)NativeMemory.AllocZeroed((nuint)sizeof(ZStream));
        int rc = InflateInit2(d._z, WindowBits(gzip, rawDeflate));
        if (rc != 0) { NativeMemory.Free(d._z); d._z = null; throw new InvalidOperationException($"zlib inflateInit2 failed ({rc})"); }
        return d;
    }

    private static int WindowBits(bool gzip, bool raw) => gzip ? 15 + 16 : raw ? -15 : 15;

    /// <summary>Reuses the decoder for another body (no reallocation of zlib's state).</summary>
    public void Reset(bool gzip, bool rawDeflate)
    {
        _gzip = gzip;
        InflateReset2(_z, WindowBits(gzip, rawDeflate));
    }

    public DecodeStatus Decode(ReadOnlySpan<byte> input, Span<byte> output, out int consumed, out int written)
    {
        fixed (byte* i = input)
        fixed (byte* o = output)
        {
            _z->NextIn = i; _z->AvailIn = (uint)input.Length;
            _z->NextOut = o; _z->AvailOut = (uint)output.Length;
            int rc = Inflate(_z, 0);
            consumed = input.Length - (int)_z->AvailIn;
            written = output.Length - (int)_z->AvailOut;
            _z->NextIn = null; _z->NextOut = null;
            return rc switch
            {
                0 => DecodeStatus.Progress,       // Z_OK
                -5 => DecodeStatus.Progress,      // Z_BUF_ERROR: needs more input (or output room)
                1 => EndOrNextMember(input[consumed..], ref consumed),
                _ => DecodeStatus.Error,          // Z_DATA_ERROR, Z_MEM_ERROR, Z_NEED_DICT, ...
            };
        }
    }

    // A gzip body may hold several members back to back (RFC 1952 §2.2).
    private DecodeStatus EndOrNextMember(ReadOnlySpan<byte> rest, ref int consumed)
    {
        if (_gzip && rest.Length >= 2 && rest[0] == 0x1f && rest[1] == 0x8b)
        {
            InflateReset2(_z, 15 + 16);
            return DecodeStatus.Progress;
        }
        return DecodeStatus.End;
    }

    public void Dispose()
    {
        if (_z == null) return;
        InflateEnd(_z);
        NativeMemory.Free(_z);
        _z = null;
    }

    /// <summary>Is this the start of a zlib stream (RFC 1950 header), rather than raw deflate?</summary>
    public static bool LooksLikeZlib(byte b0, byte b1) => (b0 & 0x0F) == 8 && (b0 >> 4) <= 7 && ((b0 << 8) | b1) % 31 == 0;
}

internal sealed class BrotliContentDecoder : IContentDecoder
{
    private BrotliDecoder _dec;

    public DecodeStatus Decode(ReadOnlySpan<byte> input, Span<byte> output, out int consumed, out int written)
    {
        var st = _dec.Decompress(input, output, out consumed, out written);
        return st switch
        {
            OperationStatus.Done => DecodeStatus.End,
            OperationStatus.InvalidData => DecodeStatus.Error,
            _ => DecodeStatus.Progress,           // NeedMoreData, DestinationTooSmall
        };
    }

    public void Dispose() => _dec.Dispose();
}

/// <summary>
/// zlib decoders reused within one worker thread: a body borrows one for its duration, so their number
/// is bounded by the compressed bodies in flight, and a new body costs a reset, not an allocation.
/// </summary>
internal static class ZlibPool
{
    [ThreadStatic] private static Stack<ZlibDecoder>? _free;

    public static ZlibDecoder Rent(bool gzip, bool raw)
    {
        var s = _free ??= new Stack<ZlibDecoder>();
        if (s.TryPop(out var d)) { d.Reset(gzip, raw); return d; }
        return ZlibDecoder.Create(gzip, raw);
    }

    public static void Return(ZlibDecoder d)
    {
        var s = _free ??= new Stack<ZlibDecoder>();
        if (s.Count < 64) s.Push(d); else d.Dispose();
    }
}
