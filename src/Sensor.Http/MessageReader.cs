using System.Buffers;
using Sensor.Reassembly;

namespace Sensor.Http;

/// <summary>
/// One direction of an HTTP/1.x connection: a state machine over the ordered byte stream that frames
/// messages (Content-Length, chunked with extensions and trailers, close-delimited), hands heads and
/// finished bodies to the <see cref="HttpSession"/>, and resynchronises at the next message start after
/// gaps or garbage. Body bytes stream through without being buffered; only heads and chunk lines are.
/// </summary>
internal sealed class MessageReader
{
    internal enum State { Start, Resync, BodyLength, ChunkSize, ChunkData, ChunkCrlf, Trailers, BodyClose, HoldForRequest, AwaitDecision, Stopped }

    private readonly bool _isRequest;
    private readonly HttpSession _session;
    private readonly HttpOptions _opt;
    private readonly HttpCounters _ctr;
    private readonly BodyCollector _body;

    private byte[] _buf = [];
    private int _len;
    private long _remaining;
    private long _msgTs;
    private long _resyncSkipped;
    private bool _everParsed;
    private bool _ended;
    private long _heldTs = -1;

    public State Current { get; private set; } = State.Start;
    public TransactionFlags MsgFlags;
    public bool Ended => _ended;
    public bool Stopped => Current == State.Stopped;

    private readonly HttpMemory _mem;

    public MessageReader(bool isRequest, HttpSession session, HttpOptions opt, HttpCounters ctr, HttpMemory mem)
    {
        _isRequest = isRequest; _session = session; _opt = opt; _ctr = ctr; _mem = mem;
        _body = new BodyCollector(opt, mem);
    }

    private bool Streaming => Current is State.BodyLength or State.ChunkData or State.BodyClose or State.Stopped;

    public void OnData(ReadOnlySpan<byte> data, long ts)
    {
        if (_ended) return;
        if (_len == 0 && Streaming)
        {
            int n = ConsumeStreaming(data, ts);
            data = data[n..];
            if (data.Length == 0) return;
        }
        Append(data, ts);
        Pump(ts, force: false);
    }

    private void Append(ReadOnlySpan<byte> data, long ts)
    {
        if (data.Length == 0) return;
        if (_buf.Length < _len + data.Length)
        {
            var nb = ArrayPool<byte>.Shared.Rent(Math.Max(_len + data.Length, Math.Max(4096, _buf.Length * 2)));
            if (!_mem.TryReserve(nb.Length - _buf.Length))
            {
                ArrayPool<byte>.Shared.Return(nb);
                // Over the worker's memory cap: drop what is held and look for the next message start.
                if (_len > 0 && Current == State.Start) _ctr.LostHeads.Inc();
                _len = 0;
                if (Current is State.ChunkSize or State.ChunkCrlf or State.Trailers)
                {
                    MsgFlags |= TransactionFlags.Truncated;   // chunk framing lost with the dropped bytes
                    CompleteMessage(ts);
                }
                if (Current is State.Start or State.HoldForRequest) Current = State.Resync;
                return;
            }
            _buf.AsSpan(0, _len).CopyTo(nb);
            if (_buf.Length > 0) ArrayPool<byte>.Shared.Return(_buf);   // its bytes moved into the reservation above
            _buf = nb;
        }
        data.CopyTo(_buf.AsSpan(_len));
        _len += data.Length;
    }

    private void ReturnBuffer()
    {
        if (_buf.Length == 0) return;
        _mem.Release(_buf.Length);
        ArrayPool<byte>.Shared.Return(_buf);
        _buf = [];
    }

    private void Consume(int n)
    {
        if (n <= 0) return;
        _len -= n;
        if (_len > 0) Buffer.BlockCopy(_buf, n, _buf, 0, _len);
        else if (_buf.Length > 64 * 1024) ReturnBuffer();
    }

    /// <summary>Runs the state machine over buffered bytes. With force, a held response proceeds unpaired.</summary>
    public void Pump(long ts, bool force)
    {
        int pos = 0;
        try
        {
            while (pos < _len || Current == State.Trailers)
            {
                var avail = _buf.AsSpan(pos, _len - pos);
                int n = Step(avail, pos, ts, force);
                if (n < 0) break;     // needs more bytes (or held)
                pos += n;
                if (n == 0 && avail.Length == 0) break;
            }
        }
        finally { Consume(pos); }
        if (Current == State.HoldForRequest && _len > _opt.MaxHeldResponseBytes) Pump(ts, force: true);
    }

    /// <summary>One step; returns bytes consumed (0 = state changed, go on) or -1 to wait.</summary>
    private int Step(ReadOnlySpan<byte> avail, int pos, long ts, bool force)
    {
        switch (Current)
        {
            case State.Start:
                {
                    int skip = 0;
                    while (skip < avail.Length && avail[skip] is (byte)'\r' or (byte)'\n') skip++;
                    if (skip > 0) return skip;
                    if (avail.Length == 0) return -1;
                    var seq = new ReadOnlySequence<byte>(_buf, pos, avail.Length);
                    var r = HttpHeadParser.TryParse(seq, _isRequest, _opt.MaxHeadBytes, out var head, out long consumed);
                    switch (r)
                    {
                        case HttpHeadParser.Result.NeedMore: return -1;
                        case HttpHeadParser.Result.TooLarge:
                            _ctr.HeadTooLarge.Inc();
                            _session.OnHeadTooLarge(_isRequest);
                            Current = State.Resync;
                            return 1;
                        case HttpHeadParser.Result.Invalid:
                            // Skip at least one byte so a line the resync scan likes but the parser rejects cannot loop.
                            Current = State.Resync;
                            _ctr.GarbageBytes.Inc();
                            _resyncSkipped++;
                            return 1;
                    }
                    if (!_isRequest)
                    {
                        var bind = _session.BindResponse(head!, force);
                        if (bind == HttpSession.Binding.Hold)
                        {
                            if (_heldTs < 0) _heldTs = ts;
                            Current = State.HoldForRequest;
                            return -1;
                        }
                    }
                    Current = State.Start;
                    _everParsed = true;
                    _resyncSkipped = 0;
                    _msgTs = _heldTs >= 0 ? _heldTs : ts;   // a held response keeps the time it arrived
                    _heldTs = -1;
                    MsgFlags = TransactionFlags.None;
                    var framing = _isRequest ? _session.OnRequestHead(head!, _msgTs) : _session.OnResponseHead(head!, _msgTs);
                    StartBody(head!, framing);
                    return (int)consumed;
                }
            case State.HoldForRequest:
                if (!force) return -1;
                Current = State.Start;
                return 0;
            case State.AwaitDecision:
                return -1;
            case State.Resync:
                {
                    int found = MessageStart.Find(avail, _isRequest, out bool partial);
                    int skipped = found >= 0 ? found : Math.Max(0, avail.Length - MessageStart.KeepTail);
                    _ctr.GarbageBytes.Add(skipped);
                    _resyncSkipped += skipped;
                    if (!_everParsed && _resyncSkipped > _opt.MaxResyncScan)
                    {
                        _ctr.NonHttpStreams.Inc();
                        Stop();
                        return avail.Length;
                    }
                    if (found >= 0 && !partial) Current = State.Start;
                    if (skipped == 0 && Current == State.Resync) return -1;
                    return skipped;
                }
            case State.BodyLength:
            case State.ChunkData:
            case State.BodyClose:
            case State.Stopped:
                return ConsumeStreaming(avail, ts);
            case State.ChunkSize:
                {
                    int lf = avail.IndexOf((byte)'\n');
                    if (lf < 0)
                    {
                        if (avail.Length > 4096) { BadChunk(ts); return 0; }
                        return -1;
                    }
                    if (!ParseChunkSize(avail[..lf], out long size)) { BadChunk(ts); return 0; }
                    if (size == 0) Current = State.Trailers;
                    else { _remaining = size; Current = State.ChunkData; }
                    return lf + 1;
                }
            case State.ChunkCrlf:
                if (avail.Length == 0) return -1;
                if (avail[0] == (byte)'\n') { Current = State.ChunkSize; return 1; }
                if (avail[0] == (byte)'\r')
                {
                    if (avail.Length < 2) return -1;
                    Current = State.ChunkSize;
                    return avail[1] == (byte)'\n' ? 2 : 1;
                }
                Current = State.ChunkSize; // lenient: missing CRLF after chunk data
                return 0;
            case State.Trailers:
                {
                    // Trailer fields end with an empty line; their content is not used.
                    int consumed = 0;
                    while (true)
                    {
                        var rest = avail[consumed..];
                        int lf = rest.IndexOf((byte)'\n');
                        if (lf < 0)
                        {
                            if (rest.Length > _opt.MaxHeadBytes) { BadChunk(ts); return consumed; }
                            return consumed > 0 ? consumed : -1;
                        }
                        var line = rest[..lf];
                        consumed += lf + 1;
                        if (line.Length == 0 || (line.Length == 1 && line[0] == (byte)'\r'))
                        {
                            CompleteMessage(ts);
                            return consumed;
                        }
                    }
                }
        }
        return -1;
    }

    private int ConsumeStreaming(ReadOnlySpan<byte> data, long ts)
    {
        switch (Current)
        {
            case State.Stopped:
                _ctr.TunnelBytes.Add(data.Length);
                return data.Length;
            case State.BodyClose:
                _body.Append(data);
                return data.Length;
            case State.BodyLength:
            case State.ChunkData:
                {
                    int n = (int)Math.Min(_remaining, data.Length);
                    _body.Append(data[..n]);
                    _remaining -= n;
                    if (_remaining == 0)
                    {
                        if (Current == State.ChunkData) Current = State.ChunkCrlf;
                        else CompleteMessage(ts);
                    }
                    return n;
                }
        }
        return 0;
    }

    private void StartBody(HttpHead head, Framing framing)
    {
        _body.Begin(head.ContentEncoding);
        switch (framing.Kind)
        {
            case FramingKind.None:
                CompleteMessage(_msgTs, framing.After);
                return;
            case FramingKind.Length:
                if (framing.Length == 0) { CompleteMessage(_msgTs, framing.After); return; }
                _remaining = framing.Length;
                Current = State.BodyLength;
                break;
            case FramingKind.Chunked:
                Current = State.ChunkSize;
                break;
            case FramingKind.Close:
                Current = State.BodyClose;
                break;
        }
        _after = framing.After;
    }

    private AfterMessage _after;

    private void CompleteMessage(long ts, AfterMessage? after = null)
    {
        var a = after ?? _after;
        _after = AfterMessage.Continue;
        Current = State.Start;
        var body = _body.Finish();
        var flags = MsgFlags | _body.Flags;
        if ((flags & TransactionFlags.Bomb) != 0) _ctr.Bombs.Inc();
        if ((flags & TransactionFlags.DecodeError) != 0) _ctr.DecodeErrors.Inc();
        if ((flags & TransactionFlags.Truncated) != 0) _ctr.TruncatedBodies.Inc();
        MsgFlags = TransactionFlags.None;
        if (a == AfterMessage.Stop) Stop();
        else if (a == AfterMessage.Await) Current = State.AwaitDecision;
        if (_isRequest) _session.OnRequestComplete(body, flags, ts);
        else _session.OnResponseComplete(body, flags, ts);
    }

    private void BadChunk(long ts)
    {
        _ctr.BadChunks.Inc();
        MsgFlags |= TransactionFlags.Truncated;
        CompleteMessage(ts);
        if (Current == State.Start) Current = State.Resync;
    }

    internal static bool ParseChunkSize(ReadOnlySpan<byte> line, out long size)
    {
        size = 0;
        int i = 0, digits = 0;
        bool any = false;
        while (i < line.Length && line[i] is (byte)' ' or (byte)'\t') i++;
        for (; i < line.Length; i++)
        {
            int v = HexValue(line[i]);
            if (v < 0) break;
            if (size != 0 || v != 0) digits++;         // leading zeros are padding
            if (digits > 15) return false;             // > 2^60: hostile, not a size
            size = size * 16 + v;
            any = true;
        }
        if (!any) return false;
        for (; i < line.Length; i++)
        {
            byte c = line[i];
            if (c is (byte)';' or (byte)'\r') return true;  // extensions (incl. quoted strings) run to the line end
            if (c is not ((byte)' ' or (byte)'\t')) return false;
        }
        return true;
    }

    private static int HexValue(byte c) => c switch
    {
        >= (byte)'0' and <= (byte)'9' => c - '0',
        >= (byte)'a' and <= (byte)'f' => c - 'a' + 10,
        >= (byte)'A' and <= (byte)'F' => c - 'A' + 10,
        _ => -1,
    };

    /// <summary>Leaves HTTP for good (tunnel, upgrade, not HTTP); further bytes are only counted.</summary>
    public void Stop() => Current = State.Stopped;

    /// <summary>A response held for its request: the request has arrived, parse it now.</summary>
    public void Release(long ts)
    {
        if (Current != State.HoldForRequest) return;
        Current = State.Start;
        Pump(ts, force: false);
    }

    /// <summary>The session decided what follows a CONNECT/Upgrade request: tunnel (stop) or more HTTP.</summary>
    public void Decide(bool tunnel, long ts)
    {
        if (Current != State.AwaitDecision) return;
        if (tunnel) { Stop(); return; }
        Current = State.Start;
        Pump(ts, force: false);
    }

    public void OnGap(long bytes, long ts)
    {
        if (_ended || Current == State.Stopped) return;
        if (Current == State.HoldForRequest) Pump(ts, force: true);
        switch (Current)
        {
            case State.BodyLength:
                MsgFlags |= TransactionFlags.Gap;
                _remaining -= bytes;
                if (_remaining > 0) return;
                long overflow = -_remaining;
                _remaining = 0;
                CompleteMessage(ts);
                if (overflow > 0 && Current == State.Start) { _len = 0; Current = State.Resync; _ctr.GapResyncs.Inc(); }
                return;
            case State.BodyClose:
                MsgFlags |= TransactionFlags.Gap;
                return;
            case State.ChunkSize:
            case State.ChunkData:
            case State.ChunkCrlf:
            case State.Trailers:
                MsgFlags |= TransactionFlags.Gap;
                CompleteMessage(ts);
                if (Current == State.Start) { _len = 0; Current = State.Resync; _ctr.GapResyncs.Inc(); }
                return;
            case State.AwaitDecision:
                _len = 0;
                return;
            default:
                if (_len > 0 && Current == State.Start) _ctr.LostHeads.Inc();
                _len = 0;
                Current = State.Resync;
                _ctr.GapResyncs.Inc();
                return;
        }
    }

    public void OnEnd(EndReason reason, long ts)
    {
        if (_ended) return;
        if (Current == State.HoldForRequest) Pump(ts, force: true);
        _ended = true;
        switch (Current)
        {
            case State.BodyClose:
                if (reason != EndReason.Fin) MsgFlags |= TransactionFlags.Unterminated;
                CompleteMessage(ts);
                break;
            case State.BodyLength:
            case State.ChunkSize:
            case State.ChunkData:
            case State.ChunkCrlf:
            case State.Trailers:
                MsgFlags |= TransactionFlags.Truncated;
                CompleteMessage(ts);
                break;
            case State.Start:
                if (_len > 0 && _everParsed) _ctr.LostHeads.Inc();
                break;
        }
        if (_len > 0) { _len = 0; }
        ReturnBuffer();
    }
}

internal enum FramingKind { None, Length, Chunked, Close }
internal enum AfterMessage { Continue, Await, Stop }
internal readonly record struct Framing(FramingKind Kind, long Length = 0, AfterMessage After = AfterMessage.Continue);

/// <summary>Finds where an HTTP message starts inside arbitrary bytes (resynchronisation).</summary>
internal static class MessageStart
{
    public const int KeepTail = 40;
    private static readonly string[] Methods = ["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS", "CONNECT", "TRACE", "PROPFIND", "PROPPATCH", "MKCOL", "COPY", "MOVE", "LOCK", "UNLOCK", "REPORT", "SEARCH", "PURGE"];
    private static readonly byte[][] MethodBytes = Methods.Select(m => System.Text.Encoding.ASCII.GetBytes(m + " ")).ToArray();

    /// <summary>
    /// Index of the first plausible start line: a request line "METHOD target HTTP/1.x" or a status line
    /// "HTTP/1.x DDD". partial=true when it is only a candidate cut off by the end of the data.
    /// </summary>
    public static int Find(ReadOnlySpan<byte> s, bool isRequest, out bool partial)
    {
        partial = false;
        for (int i = 0; i < s.Length; i++)
        {
            byte c = s[i];
            if (isRequest)
            {
                if (c < 'A' || c > 'Z') continue;
                var rest = s[i..];
                foreach (var m in MethodBytes)
                {
                    int n = Math.Min(m.Length, rest.Length);
                    if (!rest[..n].SequenceEqual(m.AsSpan(0, n))) continue;
                    if (n < m.Length) { partial = true; return i; }
                    int lf = rest.IndexOf((byte)'\n');
                    if (lf < 0)
                    {
                        if (rest.Length < HttpHeadParser.MaxStartLine && rest.IndexOf("\r"u8) < 0) { partial = true; return i; }
                        break;
                    }
                    var line = rest[..lf];
                    if (line.Length > 0 && line[^1] == '\r') line = line[..^1];
                    if (line.Length >= 8 && line[^8..^3].SequenceEqual("HTTP/"u8) && line[^2] == '.') return i;
                    break;
                }
            }
            else
            {
                if (c != 'H') continue;
                var rest = s[i..];
                ReadOnlySpan<byte> p = "HTTP/1."u8;
                int n = Math.Min(p.Length, rest.Length);
                if (!rest[..n].SequenceEqual(p[..n])) continue;
                if (rest.Length < 13) { partial = true; return i; }
                if (rest[8] == ' ' && char.IsAsciiDigit((char)rest[9]) && char.IsAsciiDigit((char)rest[10]) && char.IsAsciiDigit((char)rest[11])) return i;
            }
        }
        return -1;
    }
}
