using Sensor.Core;

namespace Sensor.Http;

/// <summary>HTTP-stage counters ("weird" events are counted here instead of thrown).</summary>
public sealed class HttpCounters(CounterRegistry r)
{
    public readonly Counter Requests = r.Create("http", "requests", "request heads parsed");
    public readonly Counter Responses = r.Create("http", "responses", "final response heads parsed");
    public readonly Counter Interim = r.Create("http", "interim_responses", "1xx interim responses");
    public readonly Counter Transactions = r.Create("http", "transactions", "transactions emitted");
    public readonly Counter GarbageBytes = r.Create("http", "garbage_bytes", "bytes skipped while looking for an HTTP message start");
    public readonly Counter NonHttpStreams = r.Create("http", "non_http_streams", "connection directions given up as not HTTP");
    public readonly Counter OrphanResponses = r.Create("http", "orphan_responses", "responses without a request to pair with (dropped)");
    public readonly Counter LostHeads = r.Create("http", "lost_heads", "partial message heads lost to a gap or a close");
    public readonly Counter HeadTooLarge = r.Create("http", "head_too_large", "message heads over the size limit (skipped)");
    public readonly Counter BadChunks = r.Create("http", "bad_chunk_framing", "invalid chunked framing (message cut, parser resynchronised)");
    public readonly Counter Bombs = r.Create("http", "decompression_bombs", "bodies cut at the decoded-size cap");
    public readonly Counter DecodeErrors = r.Create("http", "decode_errors", "bodies whose Content-Encoding failed to decode");
    public readonly Counter PendingOverflow = r.Create("http", "pending_overflow", "requests dropped because too many awaited responses on one connection");
    public readonly Counter TunnelBytes = r.Create("http", "tunnel_bytes", "bytes after an Upgrade or CONNECT (not parsed)");
    public readonly Counter GapResyncs = r.Create("http", "gap_resyncs", "parser resynchronisations after missing bytes");
    /// <summary>For sessions created without a worker's memory budget (tests, tools).</summary>
    public readonly HttpMemory UnlimitedMemory = new(long.MaxValue, new CounterRegistry());
    public readonly Counter TruncatedBodies = r.Create("http", "truncated_bodies", "bodies cut by a close, reset, gap or limit");
}
