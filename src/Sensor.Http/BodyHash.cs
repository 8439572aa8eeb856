using System.Runtime.InteropServices;
using System.Security.Cryptography;

namespace Sensor.Http;

/// <summary>
/// SHA-256 of a whole body in one call. Nearly every API body is hashed this way, hundreds of thousands per
/// replay, and most are a few hundred bytes: the one-shot <see cref="SHA256.HashData(ReadOnlySpan{byte}, Span{byte})"/>
/// goes through OpenSSL's EVP layer (context allocation, algorithm lookup, error-queue clearing), which
/// costs ~3× the hashing itself at that size. OpenSSL's direct SHA-256 functions skip that layer and hash with
/// the same CPU instructions. Where they are missing (another OpenSSL build), the framework's path is used.
/// </summary>
internal static unsafe class BodyHash
{
    private const string Lib = "libcrypto.so.3";
    [DllImport(Lib, EntryPoint = "SHA256_Init")] private static extern int Init(byte* ctx);
    [DllImport(Lib, EntryPoint = "SHA256_Update")] private static extern int Update(byte* ctx, byte* data, nuint length);
    [DllImport(Lib, EntryPoint = "SHA256_Final")] private static extern int Final(byte* digest, byte* ctx);

    private const int ContextBytes = 256;   // SHA256_CTX is 112 bytes; room to spare
    private static bool s_native = OperatingSystem.IsLinux();

    public static byte[] Sha256(ReadOnlySpan<byte> data)
    {
        var digest = new byte[32];
        if (Volatile.Read(ref s_native))
        {
            try
            {
                byte* ctx = stackalloc byte[ContextBytes];
                fixed (byte* d = data) fixed (byte* md = digest)
                    if (Init(ctx) == 1 && Update(ctx, d, (nuint)data.Length) == 1 && Final(md, ctx) == 1) return digest;
            }
            catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
            {
                Volatile.Write(ref s_native, false);
            }
        }
        SHA256.HashData(data, digest);
        return digest;
    }
}
