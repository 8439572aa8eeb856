using Sensor.Core;
using Sensor.Reassembly;

namespace Sensor.Http;

/// <summary>
/// HTTP/1.x over one TCP connection: decides which side is the client, runs a <see cref="MessageReader"/>
/// per direction, pairs responses with requests in order (pipelining), and emits each finished
/// <see cref="HttpTransaction"/>. 1xx responses are interim; 101 and CONNECT-2xx end HTTP on the connection.
/// </summary>
public sealed class HttpSession : IStreamReceiver
{
    public enum Binding { Bound, Orphan, Hold }

    private readonly TcpConnection _conn;
    private readonly HttpOptions _opt;
    private readonly HttpCounters _ctr;
    private readonly Action<HttpTransaction> _emit;
    private bool? _clientIsA;
    private readonly bool _midstream;
    private MessageReader? _req, _resp;
    private readonly LinkedList<HttpTransaction> _pending = new();
    private HttpTransaction? _requesting;     // request whose body is being read
    private HttpTransaction? _responding;     // transaction whose response is being read (null = orphan)
    private int _index;
    private string? _connText;
    private bool _closed;

    private readonly HttpMemory _mem;

    public HttpSession(TcpConnection conn, HttpOptions opt, HttpCounters ctr, Action<HttpTransaction> emit, HttpMemory? memory = null)
    {
        _conn = conn; _opt = opt; _ctr = ctr; _emit = emit;
        _mem = memory ?? ctr.UnlimitedMemory;
        _clientIsA = conn.ClientIsA;
        _midstream = conn.ClientIsA == null;
    }

    private void EnsureReaders(bool fromA, ReadOnlySpan<byte> first)
    {
        if (_req != null) return;
        if (_clientIsA == null)
        {
            if (LooksLikeRequest(first)) _clientIsA = fromA;
            else if (first.StartsWith("HTTP/"u8)) _clientIsA = !fromA;
            else
            {
                // No handshake and no telling first bytes: the well-known (lower) port is the server.
                var k = _conn.Key;
                _clientIsA = k.PortA > k.PortB;
            }
        }
        _req = new MessageReader(true, this, _opt, _ctr, _mem);
        _resp = new MessageReader(false, this, _opt, _ctr, _mem);
    }

    private static bool LooksLikeRequest(ReadOnlySpan<byte> s)
    {
        int i = 0;
        while (i < s.Length && s[i] >= 'A' && s[i] <= 'Z') i++;
        return i >= 3 && i < s.Length && s[i] == ' ';
    }

    private MessageReader Reader(bool fromA) => fromA == _clientIsA ? _req! : _resp!;

    public void OnData(bool fromA, ReadOnlySpan<byte> data, long ts)
    {
        EnsureReaders(fromA, data);
        bool isReq = fromA == _clientIsA;
        Reader(fromA).OnData(data, ts);
        if (isReq && _resp!.Current == MessageReader.State.HoldForRequest && FirstUnanswered() != null) _resp.Release(ts);
    }

    public void OnGap(bool fromA, long missingBytes, long ts)
    {
        if (_req == null) return;   // nothing parsed yet: the next data starts a fresh search
        Reader(fromA).OnGap(missingBytes, ts);
    }

    public void OnEnd(bool fromA, EndReason reason, long ts)
    {
        if (_req == null) return;
        bool isReq = fromA == _clientIsA;
        Reader(fromA).OnEnd(reason, ts);
        if (isReq && _resp!.Current == MessageReader.State.HoldForRequest) _resp.Pump(ts, force: true);
    }

    public void OnClose(long ts)
    {
        if (_closed) return;
        _closed = true;
        if (_req == null) return;
        _req.OnEnd(EndReason.Flush, ts);
        _resp!.OnEnd(EndReason.Flush, ts);
        var serverStream = _conn.Stream(!_clientIsA!.Value);
        bool asymmetric = !serverStream.HaveSeq;
        while (_pending.First is { } node)
        {
            _pending.RemoveFirst();
            var t = node.Value;
            if (t.Response == null)
            {
                t.Flags |= TransactionFlags.NoResponse;
                if (asymmetric) t.Flags |= TransactionFlags.Asymmetric;
            }
            Emit(t);
        }
    }

    // ---- callbacks from the readers ----

    internal Framing OnRequestHead(HttpHead head, long ts)
    {
        _ctr.Requests.Inc();
        var t = new HttpTransaction { Flow = _conn.Key, Request = head, TsRequest = ts, Index = _index++ };
        var k = _conn.Key;
        if (_clientIsA == true) { t.ClientIp = k.AddrA; t.ClientPort = k.PortA; t.ServerIp = k.AddrB; t.ServerPort = k.PortB; }
        else { t.ClientIp = k.AddrB; t.ClientPort = k.PortB; t.ServerIp = k.AddrA; t.ServerPort = k.PortA; }
        t.Conn = _connText ??= $"{t.ClientIp.WithPort(t.ClientPort)}-{t.ServerIp.WithPort(t.ServerPort)}";
        if (_midstream) t.Flags |= TransactionFlags.Midstream;
        if (head.HasBadHeader) t.Flags |= TransactionFlags.BadHeader;
        if (_pending.Count > 0) t.Flags |= TransactionFlags.Pipelined;
        if (_pending.Count >= _opt.MaxPendingRequests)
        {
            _ctr.PendingOverflow.Inc();
            var old = _pending.First!.Value;
            _pending.RemoveFirst();
            old.Flags |= TransactionFlags.NoResponse;
            Emit(old);
        }
        _pending.AddLast(t);
        _requesting = t;
        bool await = head.Method == "CONNECT" || head.HasUpgrade;
        var after = await ? AfterMessage.Await : AfterMessage.Continue;
        if (head.Chunked) return new Framing(FramingKind.Chunked, After: after);
        if (head.ContentLength > 0) return new Framing(FramingKind.Length, head.ContentLength, after);
        return new Framing(FramingKind.None, After: after);
    }

    internal void OnRequestComplete(HttpBody body, TransactionFlags flags, long ts)
    {
        var t = _requesting;
        _requesting = null;
        if (t == null) { BodyBuffers.Return(body); return; }
        t.RequestBody = body;
        t.Flags |= flags;
        t.RequestComplete = (flags & (TransactionFlags.Gap | TransactionFlags.Truncated)) == 0;
        if (t.ResponseDone) TryEmitHead();
    }

    internal void OnHeadTooLarge(bool isRequest)
    {
        if (!isRequest && _pending.First is { } n) n.Value.Flags |= TransactionFlags.HeadTooLarge;
    }

    internal Binding BindResponse(HttpHead head, bool force)
    {
        var t = FirstUnanswered();
        if (t != null) return Binding.Bound;
        if (force || _req!.Ended || _req.Stopped) return Binding.Orphan;
        return Binding.Hold;
    }

    private HttpTransaction? FirstUnanswered()
    {
        for (var n = _pending.First; n != null; n = n.Next)
            if (!n.Value.ResponseDone) return n.Value;
        return null;
    }

    internal Framing OnResponseHead(HttpHead head, long ts)
    {
        var t = FirstUnanswered();
        _responding = t;
        if (t == null) _ctr.OrphanResponses.Inc();
        else t.TsResponse ??= ts;
        string method = t?.Request.Method ?? "";
        int st = head.Status;
        if (st is >= 100 and < 200 && st != 101)
        {
            _ctr.Interim.Inc();
            if (t != null) { t.InterimResponses++; t.Flags |= TransactionFlags.Interim; }
            _responding = null;
            return new Framing(FramingKind.None);
        }
        _ctr.Responses.Inc();
        if (t != null)
        {
            t.Response = head;
            if (head.HasBadHeader) t.Flags |= TransactionFlags.BadHeader;
        }
        if (st == 101)
        {
            if (t != null) t.Flags |= TransactionFlags.Upgrade;
            return new Framing(FramingKind.None, After: AfterMessage.Stop);
        }
        if (method == "CONNECT" && st is >= 200 and < 300)
        {
            if (t != null) t.Flags |= TransactionFlags.Tunnel;
            return new Framing(FramingKind.None, After: AfterMessage.Stop);
        }
        if (method == "HEAD" || st is 204 or 304) return new Framing(FramingKind.None);
        if (head.Chunked) return new Framing(FramingKind.Chunked);
        if (head.ContentLength >= 0 && !head.OtherTransferCoding) return new Framing(FramingKind.Length, head.ContentLength);
        return new Framing(FramingKind.Close);
    }

    internal void OnResponseComplete(HttpBody body, TransactionFlags flags, long ts)
    {
        var t = _responding;
        _responding = null;
        if (t == null) { BodyBuffers.Return(body); return; }   // interim or orphan
        t.ResponseBody = body;
        t.Flags |= flags;
        t.ResponseDone = true;
        t.ResponseComplete = (flags & (TransactionFlags.Gap | TransactionFlags.Truncated | TransactionFlags.Unterminated)) == 0;
        // After CONNECT / Upgrade the request side waits for this decision.
        if (t.Request.Method == "CONNECT" || t.Request.HasUpgrade)
        {
            bool tunnel = (t.Flags & (TransactionFlags.Tunnel | TransactionFlags.Upgrade)) != 0;
            if (tunnel) _resp!.Stop();
            _req!.Decide(tunnel, ts);
        }
        TryEmitHead();
    }

    /// <summary>Emits finished transactions from the front, keeping request order.</summary>
    private void TryEmitHead()
    {
        while (_pending.First is { } n && n.Value.ResponseDone && n.Value != _requesting)
        {
            _pending.RemoveFirst();
            Emit(n.Value);
        }
    }

    private void Emit(HttpTransaction t)
    {
        _ctr.Transactions.Inc();
        _emit(t);
    }
}
