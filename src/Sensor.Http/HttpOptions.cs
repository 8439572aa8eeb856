namespace Sensor.Http;

public sealed record HttpOptions
{
    /// <summary>Largest start line + header section; larger heads are skipped and flagged.</summary>
    public int MaxHeadBytes { get; init; } = 64 * 1024;
    /// <summary>Decoded body bytes kept per message for analyzers (never stored).</summary>
    public int BodyCaptureLimit { get; init; } = 1 << 20;
    /// <summary>Decoded size at which a compressed body is cut and flagged as a decompression bomb.</summary>
    public long MaxDecodedBody { get; init; } = 64L << 20;
    /// <summary>Bytes of unparsed heads and captured bodies held per flow worker (see <see cref="HttpMemory"/>).</summary>
    public long MaxBufferedPerWorker { get; init; } = 128L << 20;
    /// <summary>Requests waiting for responses on one connection (pipelining depth).</summary>
    public int MaxPendingRequests { get; init; } = 256;
    /// <summary>Bytes scanned for an HTTP message start before a direction is given up as not HTTP.</summary>
    public int MaxResyncScan { get; init; } = 64 * 1024;
    /// <summary>Response bytes held while the request they answer has not been seen yet.</summary>
    public int MaxHeldResponseBytes { get; init; } = 1 << 20;
}
