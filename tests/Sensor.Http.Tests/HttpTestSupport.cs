using System.Buffers;
using System.IO.Compression;
using System.Security.Cryptography;
using System.Text;
using Sensor.Core;
using Sensor.Reassembly;

namespace Sensor.Http.Tests;

/// <summary>Builds multi-segment <see cref="ReadOnlySequence{T}"/>s from separately allocated chunks.</summary>
internal sealed class Chunk : ReadOnlySequenceSegment<byte>
{
    public Chunk(ReadOnlyMemory<byte> memory, long runningIndex) { Memory = memory; RunningIndex = runningIndex; }

    public Chunk Append(ReadOnlyMemory<byte> memory)
    {
        var next = new Chunk(memory, RunningIndex + Memory.Length);
        Next = next;
        return next;
    }

    public static ReadOnlySequence<byte> Sequence(params byte[][] chunks)
    {
        if (chunks.Length == 0) return ReadOnlySequence<byte>.Empty;
        // Copy every chunk so no two segments share an array (the parser must not read across them).
        var first = new Chunk(chunks[0].ToArray(), 0);
        var last = first;
        for (int i = 1; i < chunks.Length; i++) last = last.Append(chunks[i].ToArray());
        return new ReadOnlySequence<byte>(first, 0, last, last.Memory.Length);
    }

    /// <summary>The data cut at the given offsets (ascending; 0 and Length give empty segments).</summary>
    public static ReadOnlySequence<byte> Split(byte[] data, params int[] cuts)
    {
        var parts = new List<byte[]>();
        int prev = 0;
        foreach (int c in cuts) { parts.Add(data[prev..c]); prev = c; }
        parts.Add(data[prev..]);
        return Sequence([.. parts]);
    }

    public static ReadOnlySequence<byte> Bytewise(byte[] data) => Sequence(data.Select(b => new[] { b }).ToArray());
}

internal static class Bytes
{
    public static byte[] Ascii(string s) => Encoding.ASCII.GetBytes(s);
    public static byte[] Cat(params byte[][] parts) => parts.SelectMany(p => p).ToArray();
    public static string Sha(byte[] data) => Convert.ToHexStringLower(SHA256.HashData(data));

    public static byte[] Gzip(byte[] data, CompressionLevel level = CompressionLevel.Optimal)
    {
        using var ms = new MemoryStream();
        using (var z = new GZipStream(ms, level, leaveOpen: true)) z.Write(data);
        return ms.ToArray();
    }

    public static byte[] Zlib(byte[] data)
    {
        using var ms = new MemoryStream();
        using (var z = new ZLibStream(ms, CompressionLevel.Optimal, leaveOpen: true)) z.Write(data);
        return ms.ToArray();
    }

    public static byte[] RawDeflate(byte[] data)
    {
        using var ms = new MemoryStream();
        using (var z = new DeflateStream(ms, CompressionLevel.Optimal, leaveOpen: true)) z.Write(data);
        return ms.ToArray();
    }

    public static byte[] Brotli(byte[] data)
    {
        using var ms = new MemoryStream();
        using (var z = new BrotliStream(ms, CompressionLevel.Optimal, leaveOpen: true)) z.Write(data);
        return ms.ToArray();
    }

    /// <summary>Chunked transfer coding of the pieces (each with an optional extension) plus trailer lines.</summary>
    public static byte[] Chunked(IEnumerable<(byte[] Data, string Ext)> pieces, params string[] trailers)
    {
        var ms = new MemoryStream();
        foreach (var (data, ext) in pieces)
        {
            ms.Write(Ascii($"{data.Length:x}{ext}\r\n"));
            ms.Write(data);
            ms.Write("\r\n"u8);
        }
        ms.Write("0\r\n"u8);
        foreach (var t in trailers) ms.Write(Ascii(t + "\r\n"));
        ms.Write("\r\n"u8);
        return ms.ToArray();
    }

    public static byte[] Chunked(byte[] data, int pieceSize)
    {
        var pieces = new List<(byte[], string)>();
        for (int i = 0; i < data.Length; i += pieceSize) pieces.Add((data[i..Math.Min(data.Length, i + pieceSize)], ""));
        return Chunked(pieces);
    }

    public static byte[] Text(int length, int seed = 1)
    {
        var rnd = new Random(seed);
        const string alphabet = "abcdefghijklmnopqrstuvwxyz ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789{}\":,.";
        var b = new byte[length];
        for (int i = 0; i < length; i++) b[i] = (byte)alphabet[rnd.Next(alphabet.Length)];
        return b;
    }
}

/// <summary>
/// One TCP connection between a client (10.1.1.1:50000) and a server (10.2.2.2:80) fed through a real
/// <see cref="TcpReassembler"/> whose receivers are <see cref="HttpSession"/>s; collects the transactions.
/// Every segment acknowledges everything the peer has sent so far (including bytes "dropped" from the capture).
/// </summary>
internal sealed class HttpHarness
{
    public static readonly long T0 = 1_700_000_000L * Timestamp.TicksPerSecond;

    public CounterRegistry Registry { get; } = new();
    public HttpCounters Counters { get; }
    public TcpReassembler Reassembler { get; }
    public List<HttpTransaction> Transactions { get; } = [];
    public int SessionsCreated { get; private set; }
    public FlowKey Key { get; }
    public bool ClientIsA { get; }
    public uint ClientSeq, ServerSeq;
    public long Ts = T0;
    private bool _clientFin, _serverFin;

    public HttpMemory? Memory { get; }

    public HttpHarness(HttpOptions? http = null, ReassemblyOptions? reassembly = null,
        string clientIp = "10.1.1.1", ushort clientPort = 50000, string serverIp = "10.2.2.2", ushort serverPort = 80,
        long? memoryCap = null)
    {
        Counters = new HttpCounters(Registry);
        var opt = http ?? new HttpOptions();
        if (memoryCap is long cap) Memory = new HttpMemory(cap, Registry);
        Reassembler = new TcpReassembler(Registry, reassembly ?? new ReassemblyOptions(), c =>
        {
            SessionsCreated++;
            return new HttpSession(c, opt, Counters, Transactions.Add, Memory);
        });
        Key = FlowKey.Create(IpAddr.Parse(clientIp), clientPort, IpAddr.Parse(serverIp), serverPort, out bool fromA);
        ClientIsA = fromA;
        ClientSeq = 10_001;
        ServerSeq = 4_000_001;
    }

    public long Http(string name) => Registry.Get("http", name);
    public long Tcp(string name) => Registry.Get("tcp", name);

    public void Handshake(uint clientIsn = 10_000, uint serverIsn = 4_000_000)
    {
        Process(true, new SegmentInfo(clientIsn, 0, true, false, false, false, 0), default);
        Process(false, new SegmentInfo(serverIsn, clientIsn + 1, true, true, false, false, 0), default);
        Process(true, new SegmentInfo(clientIsn + 1, serverIsn + 1, false, true, false, false, 0), default);
        ClientSeq = clientIsn + 1;
        ServerSeq = serverIsn + 1;
        _clientFin = _serverFin = false;
    }

    public void Client(ReadOnlySpan<byte> data, bool fin = false, int missing = 0) => Send(true, data, fin, missing);
    public void Server(ReadOnlySpan<byte> data, bool fin = false, int missing = 0) => Send(false, data, fin, missing);
    public void Client(string s, bool fin = false) => Send(true, Bytes.Ascii(s), fin, 0);
    public void Server(string s, bool fin = false) => Send(false, Bytes.Ascii(s), fin, 0);

    /// <summary>Bytes the client sent that the capture never saw.</summary>
    public void DropClient(int n) => ClientSeq += (uint)n;
    public void DropServer(int n) => ServerSeq += (uint)n;

    private void Send(bool fromClient, ReadOnlySpan<byte> data, bool fin, int missing)
    {
        uint seq = fromClient ? ClientSeq : ServerSeq;
        uint ack = fromClient ? ServerSeq : ClientSeq;
        Process(fromClient, new SegmentInfo(seq, ack, false, true, fin, false, missing), data);
        seq += (uint)(data.Length + missing + (fin ? 1 : 0));
        if (fromClient) { ClientSeq = seq; _clientFin |= fin; }
        else { ServerSeq = seq; _serverFin |= fin; }
    }

    private void Process(bool fromClient, in SegmentInfo info, ReadOnlySpan<byte> data)
    {
        Ts += Timestamp.TicksPerSecond / 1000;
        Reassembler.Process(Key, fromClient == ClientIsA, info, data, Ts);
    }

    /// <summary>FIN from whichever side has not sent one, the last ACK, then end of capture.</summary>
    public void Close()
    {
        if (!_clientFin) Client(default(ReadOnlySpan<byte>), fin: true);
        if (!_serverFin) Server(default(ReadOnlySpan<byte>), fin: true);
        Process(true, new SegmentInfo(ClientSeq, ServerSeq, false, true, false, false, 0), default);
        Reassembler.FlushAll(Ts);
    }
}
