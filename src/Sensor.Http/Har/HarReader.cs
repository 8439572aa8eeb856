using System.Buffers;
using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using Sensor.Core;

namespace Sensor.Http.Har;

/// <summary>The file is JSON but not a HAR (no top-level "log" object with an "entries" array): nothing was read.</summary>
public sealed class HarFormatException(string path, string reason) : Exception($"{path}: {reason}")
{
    public string Path { get; } = path;
    public string Reason { get; } = reason;
}

/// <summary>Damage part-way through a HAR: the <see cref="EntriesBefore"/> entries before it were read.</summary>
public sealed record HarFault(string Path, long Offset, string Reason, long EntriesBefore)
{
    public override string ToString() => $"{Path}: {Reason} at byte offset {Offset}; kept the {EntriesBefore} entries before it";
}

/// <summary>HAR-stage counters, registered once per replay and shared by the files read.</summary>
public sealed class HarCounters(CounterRegistry r)
{
    public readonly Counter Files = r.Create("har", "files", "HAR files read");
    public readonly Counter Bytes = r.Create("har", "bytes", "bytes of HAR files read");
    public readonly Counter Entries = r.Create("har", "entries", "HAR entries turned into transactions");
    public readonly Counter Skipped = r.Create("har", "entries_skipped", "HAR entries that could not become a transaction (no request, URL or method, head not valid HTTP or over the size limit)");
    public readonly Counter NoResponse = r.Create("har", "no_response", "HAR entries without a response (status 0, failed request)");
    public readonly Counter BodiesCut = r.Create("har", "bodies_cut", "HAR bodies larger than the capture limit (first bytes kept; length and hash of the whole)");
    public readonly Counter BodiesMissing = r.Create("har", "bodies_missing", "bodies the HAR leaves out (size given, no text)");
    public readonly Counter BadBase64 = r.Create("har", "bad_base64", "base64 bodies that did not decode (kept as text, flagged decode_error)");
    public readonly Counter BadTimestamps = r.Create("har", "bad_timestamps", "entries whose startedDateTime is missing or unreadable (the previous entry's time is used)");
    public readonly Counter HeadsTooLarge = r.Create("har", "head_too_large", "request or response heads over the size limit");
    public readonly Counter Faults = r.Create("har", "faults", "HAR files damaged part-way (truncated or invalid JSON)");
    public readonly Counter NotHar = r.Create("har", "not_har", "JSON files that are not HAR");
}

/// <summary>
/// Reads a HAR 1.2 file (browser or proxy export) as <see cref="HttpTransaction"/>s that look like captured
/// ones to analyzers and storage. Each head is formatted as HTTP/1.x bytes and parsed by
/// <see cref="HttpHeadParser"/>, so every HttpHead property behaves as on the wire. The file is streamed
/// through a bounded buffer: a multi-GB HAR or body is never held whole; bodies past the capture limit keep
/// their first bytes, with the length and hash of the whole. A file damaged part-way keeps every entry
/// before the damage and reports where and why (<see cref="Fault"/>). Not thread-safe; one file per reader.
/// </summary>
public sealed class HarReader : IDisposable
{
    private const int MaxProblems = 20;
    private const int MaxConnections = 65535;   // pseudo-connections remembered (ports are 16 bits anyway)

    private readonly Stream _stream;
    private readonly JsonTokenStream _json;
    private readonly HttpOptions _opt;
    private readonly HarCounters _ctr;
    private readonly Message _req, _resp;
    private readonly ByteBuffer _head = new(1024), _name = new(64), _value = new(256), _connId = new(16), _serverIp = new(16), _date = new(32), _connText = new(64);
    private readonly Dictionary<string, PseudoConnection> _conns = [];
    private readonly Dictionary<string, PseudoConnection>.AlternateLookup<ReadOnlySpan<char>> _connLookup;
    private readonly List<string> _problems = [];
    private int _entriesDepth;
    private bool _done, _disposed;
    private long _entryIndex, _entryOffset;
    private ushort _lastPort;
    private long _lastTs;
    private double _time;
    private bool _haveTime;
    private readonly ByteBuffer _lastServerText = new(16);
    private IpAddr _lastServer;

    public string Path { get; }
    /// <summary>File size (0 when reading a stream of unknown length).</summary>
    public long Length { get; }
    /// <summary>Bytes read so far (for progress).</summary>
    public long Position => _json.BytesRead;
    /// <summary>Entries returned as transactions.</summary>
    public long Entries { get; private set; }
    /// <summary>Entries that could not become a transaction (see <see cref="Problems"/>).</summary>
    public long Skipped { get; private set; }
    /// <summary>Damage part-way through the file, once reading stopped at it.</summary>
    public HarFault? Fault { get; private set; }
    /// <summary>Why entries were skipped (the first few).</summary>
    public IReadOnlyList<string> Problems => _problems;

    /// <summary>Whether the file holds a JSON object (first byte after whitespace is '{'); a pcap never does.</summary>
    public static bool LooksLikeJson(string path)
    {
        FileStream fs;
        try { fs = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, 1); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return false; }   // the capture reader reports it
        using (fs) return StartsWithObject(fs);
    }

    private static bool StartsWithObject(Stream fs)
    {
        Span<byte> buf = stackalloc byte[512];
        bool first = true;
        while (true)
        {
            int n = fs.Read(buf);
            if (n == 0) return false;
            var s = buf[..n];
            if (first && s.StartsWith("\uFEFF"u8)) s = s[3..];
            first = false;
            int i = s.IndexOfAnyExcept(" \t\r\n"u8);
            if (i >= 0) return s[i] == (byte)'{';
        }
    }

    /// <summary>Opens a HAR file; throws <see cref="HarFormatException"/> when it is not one.</summary>
    public static HarReader Open(string path, HttpOptions? options = null, HarCounters? counters = null)
    {
        FileStream fs;
        try { fs = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, 1, FileOptions.SequentialScan); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { throw new HarFormatException(path, e.Message); }
        try { return new HarReader(fs, path, options ?? new HttpOptions(), counters ?? new HarCounters(new CounterRegistry()), fs.Length); }
        catch { fs.Dispose(); throw; }
    }

    /// <summary>Reads a HAR from a stream (owned and disposed by the reader) up to its first entry.</summary>
    public HarReader(Stream stream, string path, HttpOptions options, HarCounters counters, long length = 0)
    {
        _stream = stream;
        Path = path;
        Length = length;
        _opt = options;
        _ctr = counters;
        int limit = Math.Max(0, options.BodyCaptureLimit);
        // Tokens up to this size are buffered; longer strings (bodies) stream through. Base64 and JSON
        // escapes make a body's text longer than the body, hence the margin over the capture limit.
        int maxToken = (int)Math.Clamp(4L * limit + 64 * 1024, 1 << 20, 64 << 20);
        _json = new JsonTokenStream(stream, maxToken);
        _req = new Message(true, limit);
        _resp = new Message(false, limit);
        _connLookup = _conns.GetAlternateLookup<ReadOnlySpan<char>>();
        _ctr.Files.Inc();
        try { FindEntries(); }
        catch (HarFormatException)
        {
            _ctr.NotHar.Inc();
            _done = true;
            Dispose();
            throw;
        }
        catch (IOException e)
        {
            _done = true;
            Dispose();
            throw new HarFormatException(path, "read error: " + e.Message);
        }
        catch
        {
            _done = true;
            Dispose();
            throw;
        }
    }

    /// <summary>Positions the reader at the first entry: root object → "log" object → "entries" array.</summary>
    private void FindEntries()
    {
        bool inLog = false;
        try
        {
            _json.SkipBom();
            if (!_json.Next() || _json.Token != JsonTokenType.StartObject) throw NotHar("the JSON document is not an object");
            while (true)
            {
                if (!_json.Next() || _json.Token == JsonTokenType.EndObject) throw NotHar("no top-level \"log\" object");
                if (!_json.Value.SequenceEqual("log"u8) || _json.ValueCut) { _json.SkipValue(); continue; }
                if (!_json.Next() || _json.Token != JsonTokenType.StartObject) throw NotHar("\"log\" is not an object");
                break;
            }
            inLog = true;
            while (true)
            {
                if (!_json.Next() || _json.Token == JsonTokenType.EndObject) throw NotHar("\"log\" has no \"entries\" array");
                if (!_json.Value.SequenceEqual("entries"u8) || _json.ValueCut) { _json.SkipValue(); continue; }
                if (!_json.Next() || _json.Token != JsonTokenType.StartArray) throw NotHar("\"log.entries\" is not an array");
                _entriesDepth = _json.Depth;
                return;
            }
        }
        catch (JsonFaultException e)
        {
            // Damage before "log" leaves nothing that says HAR; after it, it is a damaged HAR without entries.
            if (!inLog) throw NotHar($"not valid JSON ({e.Reason} at byte offset {e.Offset})");
            SetFault(e, inEntry: false);
        }
    }

    private HarFormatException NotHar(string why) => new(Path, "not a HAR file: " + why);

    /// <summary>The next entry as a transaction, or null at the end of the entries (or at damage: see <see cref="Fault"/>).</summary>
    public HttpTransaction? Read()
    {
        while (!_done)
        {
            bool inEntry = false;
            try
            {
                if (!_json.Next()) throw _json.EndFault();
                if (_json.Token == JsonTokenType.EndArray && _json.Depth == _entriesDepth)
                {
                    // Read to the end of the document, so damage after the entries is still reported.
                    _json.SkipToEndOf(0);
                    Finish();
                    return null;
                }
                long index = _entryIndex++;
                _entryOffset = _json.TokenOffset;
                if (_json.Token != JsonTokenType.StartObject)
                {
                    _json.SkipCurrent();
                    Skip(index, "not an object");
                    continue;
                }
                inEntry = true;
                var t = ReadEntry(index);
                if (t == null) continue;
                Entries++;
                _ctr.Entries.Inc();
                return t;
            }
            catch (JsonFaultException e)
            {
                SetFault(e, inEntry);
                return null;
            }
            catch (IOException e)
            {
                SetFault(new JsonFaultException(_json.BytesRead, "read error: " + e.Message, truncated: false), inEntry);
                return null;
            }
        }
        return null;
    }

    /// <summary>Every remaining entry, in file order.</summary>
    public IEnumerable<HttpTransaction> ReadAll()
    {
        while (Read() is { } t) yield return t;
    }

    private void SetFault(JsonFaultException e, bool inEntry)
    {
        string reason = e.Reason;
        if (inEntry) reason += $"; entry {_entryIndex - 1} (from byte offset {_entryOffset}) is lost";
        Fault = new HarFault(Path, e.Offset, reason, Entries);
        _ctr.Faults.Inc();
        Finish();
    }

    private void Finish()
    {
        if (_done) return;
        _done = true;
        _ctr.Bytes.Add(_json.BytesRead);
        _req.Reset();
        _resp.Reset();
    }

    private void Skip(long index, string why)
    {
        Skipped++;
        _ctr.Skipped.Inc();
        if (_problems.Count < MaxProblems) _problems.Add($"entry {index} (byte offset {_entryOffset}): {why}");
    }

    // ---- one entry ----

    private HttpTransaction? ReadEntry(long index)
    {
        _req.Reset();
        _resp.Reset();
        _connId.Clear();
        _connText.Clear();
        _serverIp.Clear();
        _date.Clear();
        _haveTime = false;
        bool fieldCut = false;
        int depth = _json.Depth;
        while (NextMember(depth))
        {
            var name = _json.Value;
            if (name.SequenceEqual("request"u8)) ReadMessage(_req);
            else if (name.SequenceEqual("response"u8)) ReadMessage(_resp);
            else if (name.SequenceEqual("startedDateTime"u8)) fieldCut |= ReadString(_date);
            else if (name.SequenceEqual("serverIPAddress"u8)) fieldCut |= ReadString(_serverIp);
            else if (name.SequenceEqual("connection"u8)) fieldCut |= ReadString(_connId);
            else if (name.SequenceEqual("_conn"u8)) fieldCut |= ReadString(_connText);
            else if (name.SequenceEqual("time"u8)) _haveTime = ReadNumber(out _time);
            else _json.SkipValue();
        }
        if (!_req.Present) { Skip(index, "no request"); return null; }
        if (_req.Method.Length == 0) { Skip(index, "no request.method"); return null; }
        if (_req.Url.Length == 0) { Skip(index, "no request.url"); return null; }
        foreach (byte c in _req.Method.Span)
            if (!HttpHeadParser.IsTokenChar(c)) { Skip(index, "request.method is not an HTTP method"); return null; }
        if (fieldCut || _req.FieldCut) { Skip(index, $"a request field is longer than {_json.MaxToken} bytes"); return null; }
        return Build(index);
    }

    /// <summary>Reads the next member name of the object at <paramref name="depth"/>; false at its end.</summary>
    private bool NextMember(int depth)
    {
        if (!_json.Next()) throw _json.EndFault();
        return !(_json.Token == JsonTokenType.EndObject && _json.Depth == depth);
    }

    /// <summary>Reads a string member value into <paramref name="into"/> (left empty for other types); true when it was too long to keep.</summary>
    private bool ReadString(ByteBuffer into)
    {
        into.Clear();
        if (!_json.Next()) throw _json.EndFault();
        if (_json.Token == JsonTokenType.String) { into.Append(_json.Value); return _json.ValueCut; }
        _json.SkipCurrent();
        return false;
    }

    private bool ReadNumber(out double value)
    {
        value = 0;
        if (!_json.Next()) throw _json.EndFault();
        if (_json.Token is JsonTokenType.Number or JsonTokenType.String)
            return double.TryParse(_json.Value, NumberStyles.Float, CultureInfo.InvariantCulture, out value) && double.IsFinite(value);
        _json.SkipCurrent();
        return false;
    }

    /// <summary>A request or response object; members in any order.</summary>
    private void ReadMessage(Message m)
    {
        if (!_json.Next()) throw _json.EndFault();
        if (_json.Token != JsonTokenType.StartObject) { _json.SkipCurrent(); return; }
        m.Present = true;
        int depth = _json.Depth;
        while (NextMember(depth))
        {
            var name = _json.Value;
            if (name.SequenceEqual("headers"u8)) ReadHeaders(m);
            else if (name.SequenceEqual("httpVersion"u8)) { m.FieldCut |= ReadString(_value); m.Version = NormalizeVersion(_value.Span); }
            else if (name.SequenceEqual("bodySize"u8)) m.BodySize = ReadNumber(out double v) ? (long)v : -1;
            else if (m.IsRequest)
            {
                if (name.SequenceEqual("method"u8)) m.FieldCut |= ReadString(m.Method);
                else if (name.SequenceEqual("url"u8)) m.FieldCut |= ReadString(m.Url);
                else if (name.SequenceEqual("postData"u8)) ReadBody(m);
                else _json.SkipValue();
            }
            else
            {
                if (name.SequenceEqual("status"u8)) m.Status = ReadNumber(out double s) && s >= 0 && s <= 999 && s == Math.Floor(s) ? (int)s : -1;
                else if (name.SequenceEqual("statusText"u8)) ReadString(m.Reason);   // a reason too long to keep is left out
                else if (name.SequenceEqual("content"u8)) ReadBody(m);
                else _json.SkipValue();
            }
        }
    }

    private void ReadHeaders(Message m)
    {
        if (!_json.Next()) throw _json.EndFault();
        if (_json.Token != JsonTokenType.StartArray) { _json.SkipCurrent(); return; }
        int depth = _json.Depth;
        while (true)
        {
            if (!_json.Next()) throw _json.EndFault();
            if (_json.Token == JsonTokenType.EndArray && _json.Depth == depth) return;
            if (_json.Token != JsonTokenType.StartObject) { _json.SkipCurrent(); continue; }
            int h = _json.Depth;
            bool haveName = false, cut = false;
            _name.Clear();
            _value.Clear();
            while (NextMember(h))
            {
                if (_json.Value.SequenceEqual("name"u8)) { cut |= ReadString(_name); haveName = true; }
                else if (_json.Value.SequenceEqual("value"u8)) cut |= ReadString(_value);
                else _json.SkipValue();
            }
            if (cut) m.HeadOverflow = true;
            else if (haveName) AddHeader(m, _name.Span, _value.Span);
        }
    }

    private void AddHeader(Message m, ReadOnlySpan<byte> name, ReadOnlySpan<byte> value)
    {
        // HTTP/2 and HTTP/3 pseudo-headers are not header fields; :authority stands in for Host.
        if (name.Length > 0 && name[0] == (byte)':')
        {
            if (m.IsRequest && name.SequenceEqual(":authority"u8)) m.Authority.Set(value);
            return;
        }
        if (m.IsRequest && HttpHeadParser.NameIs(name, "Host")) m.HasHost = true;
        if (m.Lines.Length + name.Length + value.Length + 4 > _opt.MaxHeadBytes) { m.HeadOverflow = true; return; }
        m.Lines.AppendLineSafe(name);
        m.Lines.Append(": "u8);
        m.Lines.AppendLineSafe(value);
        m.Lines.Append("\r\n"u8);
    }

    /// <summary>request.postData or response.content: the text (decoded already) and its encoding.</summary>
    private void ReadBody(Message m)
    {
        if (!_json.Next()) throw _json.EndFault();
        if (_json.Token != JsonTokenType.StartObject) { _json.SkipCurrent(); return; }
        int depth = _json.Depth;
        while (NextMember(depth))
        {
            var name = _json.Value;
            if (name.SequenceEqual("text"u8))
            {
                m.Long.Begin();
                _json.LongSink = m.Long;
                try { if (!_json.Next()) throw _json.EndFault(); }
                finally { _json.LongSink = null; }
                m.TextPresent = _json.Token == JsonTokenType.String;
                m.TextCut = m.TextPresent && _json.ValueCut;
                if (m.TextCut) m.Long.End();
                else if (m.TextPresent) m.TextLength = _json.TakeValue(ref m.Text);
                else _json.SkipCurrent();
            }
            else if (name.SequenceEqual("encoding"u8))
            {
                ReadString(_value);
                m.Base64 = Ascii.EqualsIgnoreCase(_value.Span, "base64"u8);
                m.OtherEncoding = !m.Base64 && _value.Length > 0;
            }
            else if (name.SequenceEqual("size"u8)) m.ContentSize = ReadNumber(out double v) ? (long)v : -1;
            else _json.SkipValue();
        }
    }

    // ---- building the transaction ----

    private HttpTransaction? Build(long index)
    {
        var url = new UrlParts(_req.Url.Span);
        if (_req.HeadOverflow) { _ctr.HeadsTooLarge.Inc(); Skip(index, $"request head over {_opt.MaxHeadBytes} bytes"); return null; }
        var reqHead = ParseHead(_req, url, out var result);
        if (reqHead == null)
        {
            if (result == HttpHeadParser.Result.TooLarge) _ctr.HeadsTooLarge.Inc();
            Skip(index, result == HttpHeadParser.Result.TooLarge ? $"request head over {_opt.MaxHeadBytes} bytes" : "request line is not valid HTTP (method or URL)");
            return null;
        }
        var flags = TransactionFlags.None;
        HttpHead? respHead = null;
        // Status 0 (with _error, or blocked) means the request got no response.
        if (_resp.Present && _resp.Status >= 100)
        {
            respHead = _resp.HeadOverflow ? null : ParseHead(_resp, url, out result);
            if (respHead == null)
            {
                flags |= TransactionFlags.HeadTooLarge;
                _ctr.HeadsTooLarge.Inc();
            }
        }

        long ts = StartTime();
        int txIndex;
        var server = ServerAddress(url);
        ushort serverPort = url.Port;
        var pc = RecordedConnection();
        if (pc != null) txIndex = pc.Next++;
        else pc = Connection(server, serverPort, out txIndex);
        var t = new HttpTransaction
        {
            Flow = FlowKey.Create(pc.Client, pc.Port, pc.Server, pc.ServerPort, out _),
            ClientIp = pc.Client, ClientPort = pc.Port, ServerIp = pc.Server, ServerPort = pc.ServerPort,
            Conn = pc.Conn,
            Index = txIndex,
            TsRequest = ts,
            Request = reqHead,
        };
        if (reqHead.HasBadHeader) flags |= TransactionFlags.BadHeader;
        t.RequestBody = MakeBody(_req, ref flags);
        // A request body the HAR leaves out (bodySize given, no postData text) is missing, not empty.
        t.RequestComplete = _req.TextPresent || _req.BodySize <= 0;
        if (!t.RequestComplete) { flags |= TransactionFlags.Truncated; _ctr.BodiesMissing.Inc(); }
        if (respHead != null)
        {
            t.Response = respHead;
            t.ResponseDone = true;
            t.TsResponse = ts + (_haveTime && _time > 0 ? (long)Math.Min(_time * TimeSpan.TicksPerMillisecond, TimeSpan.TicksPerDay * 365.0) : 0);
            if (respHead.HasBadHeader) flags |= TransactionFlags.BadHeader;
            t.ResponseBody = MakeBody(_resp, ref flags);
            int st = respHead.Status;
            bool noBody = st is < 200 or 204 or 304 || reqHead.Method == "HEAD";
            t.ResponseComplete = _resp.TextPresent || noBody || (_resp.ContentSize <= 0 && _resp.BodySize <= 0);
            if (!t.ResponseComplete) { flags |= TransactionFlags.Truncated; _ctr.BodiesMissing.Inc(); }
            if (st == 101) flags |= TransactionFlags.Upgrade;
            else if (reqHead.Method == "CONNECT" && st is >= 200 and < 300) flags |= TransactionFlags.Tunnel;
        }
        else
        {
            flags |= TransactionFlags.NoResponse;
            _ctr.NoResponse.Inc();
        }
        t.Flags = flags;
        return t;
    }

    /// <summary>Formats the start line and header fields as HTTP/1.x and parses them like wire bytes.</summary>
    private HttpHead? ParseHead(Message m, in UrlParts url, out HttpHeadParser.Result result)
    {
        var b = _head;
        b.Clear();
        if (m.IsRequest)
        {
            b.AppendLineSafe(m.Method.Span);
            b.Append((byte)' ');
            bool connect = Ascii.Equals(m.Method.Span, "CONNECT"u8);
            url.AppendTarget(b, connect);
            b.Append((byte)' ');
            b.Append(m.Version);
            b.Append("\r\n"u8);
            if (!m.HasHost)
            {
                // No Host field (HTTP/2 or a tool that leaves it out): what an HTTP/1.1 client would send.
                var host = m.Authority.Length > 0 ? m.Authority.Span : url.Authority;
                if (host.Length > 0)
                {
                    b.Append("Host: "u8);
                    b.AppendLineSafe(host);
                    b.Append("\r\n"u8);
                }
            }
        }
        else
        {
            b.Append(m.Version);
            b.Append((byte)' ');
            b.Append((byte)('0' + m.Status / 100));
            b.Append((byte)('0' + m.Status / 10 % 10));
            b.Append((byte)('0' + m.Status % 10));
            b.Append((byte)' ');
            b.AppendLineSafe(m.Reason.Span);
            b.Append("\r\n"u8);
        }
        b.Append(m.Lines.Span);
        b.Append("\r\n"u8);
        result = HttpHeadParser.TryParse(b.Span, m.IsRequest, _opt.MaxHeadBytes, out var head, out _);
        return result == HttpHeadParser.Result.Ok ? head : null;
    }

    private HttpBody MakeBody(Message m, ref TransactionFlags flags)
    {
        if (!m.TextPresent) return HttpBody.Empty;
        if (m.OtherEncoding) flags |= TransactionFlags.UnknownEncoding;
        HttpBody body;
        if (m.TextCut)
        {
            // Streamed past the buffer: both readings were kept; take the one the encoding asks for.
            bool useDecoded = m.Base64 && !m.Long.Base64Invalid;
            if (m.Base64 && !useDecoded) { flags |= TransactionFlags.DecodeError; _ctr.BadBase64.Inc(); }
            body = (useDecoded ? m.Long.Decoded : m.Long.Text).Finish(m.BodySize);
            m.Long.Reset();
        }
        else
        {
            var text = m.Text.AsSpan(0, m.TextLength);
            var builder = m.Long.Text;
            if (m.Base64)
            {
                builder.Begin(text.Length / 4 * 3);
                var b64 = m.Base64Decoder;
                b64.Begin(builder);
                b64.Append(text);
                b64.End();
                if (b64.Invalid)
                {
                    flags |= TransactionFlags.DecodeError;
                    _ctr.BadBase64.Inc();
                    builder.Begin(text.Length);
                    builder.Append(text);
                }
            }
            else
            {
                builder.Begin(text.Length);
                builder.Append(text);
            }
            body = builder.Finish(m.BodySize);
        }
        if (body.CaptureTruncated) _ctr.BodiesCut.Inc();
        return body;
    }

    private long StartTime()
    {
        Span<char> chars = stackalloc char[64];
        if (_date.Length is > 0 and <= 64
            && Encoding.UTF8.TryGetChars(_date.Span, chars, out int n)
            && DateTimeOffset.TryParse(chars[..n], CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var dto))
            return _lastTs = Timestamp.FromDateTime(dto.UtcDateTime);
        _ctr.BadTimestamps.Inc();
        return _lastTs;
    }

    /// <summary>serverIPAddress, else the URL's host when it is an address, else 0.0.0.0.</summary>
    private IpAddr ServerAddress(in UrlParts url)
    {
        var text = _serverIp.Length > 0 ? _serverIp.Span : url.HostName;
        if (text.SequenceEqual(_lastServerText.Span)) return _lastServer;   // consecutive entries mostly share it
        _lastServerText.Set(text);
        _lastServer = ParseAddress(text);
        return _lastServer;
    }

    private static IpAddr ParseAddress(ReadOnlySpan<byte> text)
    {
        if (text.Length > 2 && text[0] == (byte)'[' && text[^1] == (byte)']') text = text[1..^1];
        Span<char> chars = stackalloc char[64];
        Span<byte> bytes = stackalloc byte[16];
        if (text.Length is > 0 and <= 64 && Encoding.UTF8.TryGetChars(text, chars, out int n)
            && IPAddress.TryParse(chars[..n], out var ip) && ip.TryWriteBytes(bytes, out int len))
            return len == 4 ? IpAddr.V4(bytes) : IpAddr.V6(bytes);
        return default;
    }

    private sealed class PseudoConnection(IpAddr client, ushort port, IpAddr server, ushort serverPort)
    {
        public readonly IpAddr Client = client, Server = server;
        public readonly ushort Port = port, ServerPort = serverPort;
        public readonly string Conn = $"{client.WithPort(port)}-{server.WithPort(serverPort)}";
        public int Next;
    }

    /// <summary>
    /// The pseudo-connection of an entry: HAR "connection" ids group entries as on their socket (Index
    /// counts along it); without one each entry is its own connection. The client is 0.0.0.0 (or ::) and
    /// its port numbers the connections in order of appearance.
    /// </summary>
    private PseudoConnection Connection(IpAddr server, ushort serverPort, out int index)
    {
        Span<char> id = stackalloc char[64];
        int idLength = 0;
        bool keyed = _connId.Length is > 0 and <= 64 && Encoding.UTF8.TryGetChars(_connId.Span, id, out idLength);
        if (keyed && _connLookup.TryGetValue(id[..idLength], out var known) && known.Server == server && known.ServerPort == serverPort)
        {
            index = known.Next++;
            return known;
        }
        _lastPort = _lastPort == ushort.MaxValue ? (ushort)1 : (ushort)(_lastPort + 1);
        var client = server.IsV6 ? new IpAddr(0, 0, true) : default;
        var pc = new PseudoConnection(client, _lastPort, server, serverPort);
        if (keyed)
        {
            if (_conns.Count >= MaxConnections) _conns.Clear();
            _connLookup[id[..idLength]] = pc;
        }
        index = pc.Next++;
        return pc;
    }

    /// <summary>
    /// A connection the exporter recorded as "_conn": "client:port-server:port" (IPv6 in brackets), as capture
    /// tools that write HAR do: the transaction then names the same connection as the capture would.
    /// </summary>
    private PseudoConnection? RecordedConnection()
    {
        if (_connText.Length is 0 or > 128) return null;
        var text = Encoding.UTF8.GetString(_connText.Span);
        int dash = text.IndexOf("]-", StringComparison.Ordinal) is int b and > 0 ? b + 1 : text.IndexOf('-');
        if (dash <= 0 || !TryEndpoint(text[..dash], out var client, out var cport) || !TryEndpoint(text[(dash + 1)..], out var server, out var sport)) return null;
        if (_conns.TryGetValue("_conn:" + text, out var known)) return known;
        var pc = new PseudoConnection(client, cport, server, sport);
        if (_conns.Count >= MaxConnections) _conns.Clear();
        _conns["_conn:" + text] = pc;
        return pc;
    }

    private static bool TryEndpoint(string s, out IpAddr ip, out ushort port)
    {
        ip = default; port = 0;
        int colon = s.LastIndexOf(':');
        if (colon <= 0 || !ushort.TryParse(s.AsSpan(colon + 1), out port)) return false;
        var host = s[..colon].Trim('[', ']');
        if (!IPAddress.TryParse(host, out var a)) return false;
        Span<byte> bytes = stackalloc byte[16];
        if (!a.TryWriteBytes(bytes, out int len)) return false;
        ip = len == 4 ? IpAddr.V4(bytes[..4]) : IpAddr.V6(bytes[..16]);
        return true;
    }

    private static string NormalizeVersion(ReadOnlySpan<byte> v)
    {
        if (Ascii.EqualsIgnoreCase(v, "HTTP/1.0"u8)) return "HTTP/1.0";
        if (Ascii.EqualsIgnoreCase(v, "HTTP/2"u8) || Ascii.EqualsIgnoreCase(v, "HTTP/2.0"u8) || Ascii.EqualsIgnoreCase(v, "h2"u8) || Ascii.EqualsIgnoreCase(v, "h2c"u8)) return "HTTP/2.0";
        if (Ascii.EqualsIgnoreCase(v, "HTTP/3"u8) || Ascii.EqualsIgnoreCase(v, "HTTP/3.0"u8) || Ascii.EqualsIgnoreCase(v, "h3"u8)) return "HTTP/3.0";
        return "HTTP/1.1";
    }

    public void Dispose()
    {
        if (_disposed) return;   // pooled buffers must go back exactly once
        _disposed = true;
        Finish();
        _json.Dispose();
        _stream.Dispose();
        _req.Dispose();
        _resp.Dispose();
    }

    /// <summary>What one entry says about its request or response; reused from entry to entry.</summary>
    private sealed class Message(bool isRequest, int captureLimit)
    {
        public readonly bool IsRequest = isRequest;
        public bool Present, HasHost, HeadOverflow, FieldCut, TextPresent, TextCut, Base64, OtherEncoding;
        public readonly ByteBuffer Method = new(8), Url = new(128), Reason = new(16), Authority = new(32), Lines = new(512);
        public string Version = "HTTP/1.1";
        public int Status;
        public long BodySize, ContentSize;
        public byte[] Text = ArrayPool<byte>.Shared.Rent(256);   // swapped with the token buffer, never copied
        public int TextLength;
        public readonly LongBodyText Long = new(captureLimit);
        public readonly Base64Stream Base64Decoder = new();

        public void Reset()
        {
            Present = HasHost = HeadOverflow = FieldCut = TextPresent = TextCut = Base64 = OtherEncoding = false;
            Method.Clear(); Url.Clear(); Reason.Clear(); Authority.Clear(); Lines.Clear();
            Version = "HTTP/1.1";
            Status = -1;
            BodySize = ContentSize = -1;
            TextLength = 0;
            Long.Reset();
        }

        public void Dispose()
        {
            Long.Dispose();
            ArrayPool<byte>.Shared.Return(Text);
            Text = [];
        }
    }
}

/// <summary>The parts of an absolute request URL that the head and the connection need.</summary>
internal readonly ref struct UrlParts
{
    private readonly ReadOnlySpan<byte> _rest;          // path, query (fragment dropped)
    /// <summary>host[:port] without userinfo; empty for a URL that is not absolute.</summary>
    public readonly ReadOnlySpan<byte> Authority;
    public readonly ReadOnlySpan<byte> HostName;
    public readonly ushort Port;

    public UrlParts(ReadOnlySpan<byte> url)
    {
        int hash = url.IndexOf((byte)'#');
        if (hash >= 0) url = url[..hash];
        int sep = url.IndexOf("://"u8);
        bool secure = false;
        if (sep > 0 && sep <= 10 && IsScheme(url[..sep]))
        {
            var scheme = url[..sep];
            secure = Ascii.EqualsIgnoreCase(scheme, "https"u8) || Ascii.EqualsIgnoreCase(scheme, "wss"u8);
            var after = url[(sep + 3)..];
            int end = after.IndexOfAny("/?"u8);
            Authority = end < 0 ? after : after[..end];
            _rest = end < 0 ? default : after[end..];
            int at = Authority.LastIndexOf((byte)'@');
            if (at >= 0) Authority = Authority[(at + 1)..];
        }
        else _rest = url;
        Port = secure ? (ushort)443 : (ushort)80;
        HostName = Authority;
        int colon = Authority.LastIndexOf((byte)':');
        if (colon >= 0 && Authority.IndexOf((byte)']') < colon)
        {
            if (ushort.TryParse(Authority[(colon + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out ushort p) && p > 0) Port = p;
            HostName = Authority[..colon];
        }
    }

    private static bool IsScheme(ReadOnlySpan<byte> s)
    {
        foreach (byte c in s) if (!(char.IsAsciiLetterOrDigit((char)c) || c is (byte)'+' or (byte)'-' or (byte)'.')) return false;
        return true;
    }

    /// <summary>The origin-form target (path and query; "/" when the URL has no path), or the authority for CONNECT.</summary>
    public void AppendTarget(ByteBuffer b, bool connect)
    {
        if (connect && Authority.Length > 0) { b.AppendTargetSafe(Authority); return; }
        if (_rest.IsEmpty || _rest[0] == (byte)'?') b.Append((byte)'/');
        b.AppendTargetSafe(_rest);
    }
}

/// <summary>A growable byte buffer reused from entry to entry.</summary>
internal sealed class ByteBuffer(int capacity)
{
    private byte[] _a = new byte[capacity];
    public int Length { get; private set; }
    public ReadOnlySpan<byte> Span => _a.AsSpan(0, Length);

    public void Clear() => Length = 0;
    public void Set(ReadOnlySpan<byte> s) { Length = 0; Append(s); }

    private Span<byte> Extend(int n)
    {
        if (Length + n > _a.Length) Array.Resize(ref _a, Math.Max(Length + n, _a.Length * 2));
        var s = _a.AsSpan(Length, n);
        Length += n;
        return s;
    }

    public void Append(byte b) => Extend(1)[0] = b;
    public void Append(ReadOnlySpan<byte> s) => s.CopyTo(Extend(s.Length));
    public void Append(string ascii) => Encoding.ASCII.GetBytes(ascii, Extend(ascii.Length));

    /// <summary>Appends text that must stay on one line: CR and LF (which would forge header lines) become spaces.</summary>
    public void AppendLineSafe(ReadOnlySpan<byte> s)
    {
        var d = Extend(s.Length);
        s.CopyTo(d);
        d.Replace((byte)'\r', (byte)' ');
        d.Replace((byte)'\n', (byte)' ');
    }

    /// <summary>Appends a request target with controls and spaces percent-encoded, as a client sends them.</summary>
    public void AppendTargetSafe(ReadOnlySpan<byte> s)
    {
        foreach (byte c in s)
        {
            if (c > 0x20 && c != 0x7f) { Append(c); continue; }
            var d = Extend(3);
            d[0] = (byte)'%';
            d[1] = (byte)"0123456789ABCDEF"[c >> 4];
            d[2] = (byte)"0123456789ABCDEF"[c & 15];
        }
    }
}
