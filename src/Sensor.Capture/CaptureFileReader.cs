using System.Buffers.Binary;
using Sensor.Core;

namespace Sensor.Capture;

/// <summary>
/// Reads classic pcap (µs/ns, either byte order) and pcapng (any number of sections and interfaces,
/// per-interface link type and timestamp resolution) into <see cref="PacketBatch"/>es.
/// Our own reader rather than libpcap's offline mode, so damage is located precisely: a truncated or
/// impossible record ends the read with a <see cref="CaptureFault"/> naming the byte offset, and every
/// packet before it has been delivered.
/// </summary>
public sealed class CaptureFileReader : IDisposable
{
    public const int MaxFrame = 1 << 18;           // libpcap's MAXIMUM_SNAPLEN: larger records are damage
    private const int MaxPcapngBlock = 1 << 24;

    private readonly Stream _stream;
    // The file is read into the buffer of the batch being filled, and frames point into it rather than being copied
    // out (the copy cost ~3% of a replay's CPU). Once a frame points into it, the buffer may not move or grow: a
    // frame that does not fit ends the batch, and the next batch's buffer takes the unread rest.
    private byte[] _buf = new byte[1 << 20];
    private byte[]? _own;                           // the reader's own buffer, for a batch that already holds frames
    private PacketBatch? _inPlace;                  // the batch whose buffer _buf is
    private bool _noRoom;                           // the last Ensure failed for room, not for data
    private int _start, _end;
    private long _bufFileOffset;                    // file offset of _buf[0]
    private bool _eof;
    private bool _corrupt;

    private readonly bool _pcapng;
    private bool _bigEndian;
    private int _recordHeader = 16;                 // 24 in the modified format (ifindex, protocol, pkt_type)
    private long _fracPerSecond;                    // classic pcap: 1e6 or 1e9
    private int _linkType;                          // classic pcap
    private int _snapLen;
    private readonly List<Interface> _ifaces = [];
    private readonly HashSet<int> _linkTypes = [];

    private readonly record struct Interface(int LinkType, int SnapLen, long UnitsPerSecond, bool Pow2, long OffsetSeconds);

    public string Path { get; }
    public long Length { get; }
    public long Packets { get; private set; }
    public CaptureFault? Fault { get; private set; }
    public string Format => (_pcapng ? "pcapng" : _fracPerSecond == 1_000_000_000 ? "pcap-ns" : "pcap") + (Compressed ? "+gzip" : "");
    public IReadOnlyCollection<int> LinkTypes => _linkTypes;
    /// <summary>Bytes of the capture consumed so far; offsets in a gzip file are those of its decompressed content.</summary>
    public long Position => _bufFileOffset + _start;
    private readonly System.IO.Compression.GZipStream? _compressedFile;
    /// <summary>How far through the file on disk (for progress), compressed or not.</summary>
    public long FilePosition => _compressedFile?.BaseStream.Position ?? Position;
    public bool Compressed => _compressedFile != null;

    private CaptureFileReader(string path, Stream stream, long? length = null, bool compressed = false)
    {
        Path = path;
        _stream = stream;
        _compressedFile = compressed ? stream as System.IO.Compression.GZipStream : null;
        Length = length ?? (stream.CanSeek ? stream.Length : -1);
        if (!Ensure(4)) throw new CaptureFormatException(path, Length == 0 ? "empty file, not a capture" : "too short to be a capture");
        uint magic = BinaryPrimitives.ReadUInt32LittleEndian(_buf.AsSpan(_start));
        switch (magic)
        {
            case 0xa1b2c3d4: _fracPerSecond = 1_000_000; break;
            case 0xa1b2cd34: _fracPerSecond = 1_000_000; _recordHeader = 24; break;          // Kuznetzov's modified pcap
            case 0x34cdb2a1: _fracPerSecond = 1_000_000; _recordHeader = 24; _bigEndian = true; break;
            case 0xa1b23c4d: _fracPerSecond = 1_000_000_000; break;
            case 0xd4c3b2a1: _fracPerSecond = 1_000_000; _bigEndian = true; break;
            case 0x4d3cb2a1: _fracPerSecond = 1_000_000_000; _bigEndian = true; break;
            case 0x0a0d0d0a: _pcapng = true; break;
            default:
                throw new CaptureFormatException(path, $"not a pcap or pcapng capture (starts with 0x{BinaryPrimitives.ReadUInt32BigEndian(_buf.AsSpan(_start)):x8})");
        }
        if (_pcapng)
        {
            if (!Ensure(12)) throw new CaptureFormatException(path, "pcapng section header truncated");
            uint bom = BinaryPrimitives.ReadUInt32LittleEndian(_buf.AsSpan(_start + 8));
            if (bom != 0x1A2B3C4D && bom != 0x4D3C2B1A) throw new CaptureFormatException(path, "pcapng section header has no valid byte-order magic");
        }
        else
        {
            if (!Ensure(24)) throw new CaptureFormatException(path, "pcap file header truncated");
            var h = _buf.AsSpan(_start, 24);
            _snapLen = (int)U32(h[16..]);
            _linkType = (int)(U32(h[20..]) & 0xFFFF);   // upper bits carry FCS length flags
            _linkTypes.Add(_linkType);
            _start += 24;
        }
    }

    public static CaptureFileReader Open(string path)
    {
        FileStream fs;
        try
        {
            fs = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, 1, FileOptions.SequentialScan);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new CaptureFormatException(path, e.Message);
        }
        try
        {
            // Rotated captures are often gzip-compressed: read them through a decompressor.
            Span<byte> magic = stackalloc byte[2];
            int got = fs.Read(magic);
            fs.Position = 0;
            if (got == 2 && magic[0] == 0x1f && magic[1] == 0x8b)
                return new CaptureFileReader(path, new System.IO.Compression.GZipStream(fs, System.IO.Compression.CompressionMode.Decompress), fs.Length, compressed: true);
            return new CaptureFileReader(path, fs);
        }
        catch { fs.Dispose(); throw; }
    }

    public static CaptureFileReader FromStream(string name, Stream s) => new(name, s);

    private uint U32(ReadOnlySpan<byte> s) => _bigEndian ? BinaryPrimitives.ReadUInt32BigEndian(s) : BinaryPrimitives.ReadUInt32LittleEndian(s);
    private ushort U16(ReadOnlySpan<byte> s) => _bigEndian ? BinaryPrimitives.ReadUInt16BigEndian(s) : BinaryPrimitives.ReadUInt16LittleEndian(s);

    /// <summary>
    /// Makes at least n bytes available at _start; false at end of file, or (with _noRoom set) when they would not fit
    /// in a buffer that frames already point into.
    /// </summary>
    private bool Ensure(int n)
    {
        _noRoom = false;
        if (_end - _start >= n) return true;
        if (_eof) return false;
        if (_inPlace is { Count: > 0 })
        {
            if (_start + n > _buf.Length) { _noRoom = true; return false; }
        }
        else if (n > _buf.Length)
        {
            var nb = new byte[Math.Max(n, _buf.Length * 2)];
            Buffer.BlockCopy(_buf, _start, nb, 0, _end - _start);
            _bufFileOffset += _start; _end -= _start; _start = 0; _buf = nb;
            _inPlace?.UseBuffer(nb);
        }
        else if (_start > 0)
        {
            Buffer.BlockCopy(_buf, _start, _buf, 0, _end - _start);
            _bufFileOffset += _start; _end -= _start; _start = 0;
        }
        while (_end - _start < n)
        {
            int r;
            try { r = _stream.Read(_buf, _end, _buf.Length - _end); }
            catch (InvalidDataException) { _eof = true; _corrupt = true; return false; }   // damaged gzip: ends like a truncation
            if (r <= 0) { _eof = true; return false; }
            _end += r;
        }
        return true;
    }

    private bool AtEnd() => !Ensure(1);

    /// <summary>
    /// Appends frames to <paramref name="batch"/> until it is full or the file ends.
    /// Returns false when nothing more can be read (end of file, or <see cref="Fault"/> is set).
    /// </summary>
    public bool ReadBatch(PacketBatch batch)
    {
        if (Fault != null) return false;
        int before = batch.Count;
        if (batch.Count == 0 || ReferenceEquals(batch.Buffer, _buf)) MoveTo(batch.Buffer, batch);
        else if (_inPlace != null) MoveTo(_own ??= new byte[1 << 20], null);   // frames of its own: copy into it
        while (!batch.IsFull)
        {
            var res = _pcapng ? NextPcapng(batch) : NextPcap(batch);
            if (res == Step.Full || res == Step.End) break;
        }
        return batch.Count > before;
    }

    /// <summary>Continues reading in <paramref name="buffer"/>, taking along what was read and not yet consumed.</summary>
    private void MoveTo(byte[] buffer, PacketBatch? inPlace)
    {
        int n = _end - _start;
        if (!ReferenceEquals(buffer, _buf))
        {
            if (n > buffer.Length)
            {
                buffer = new byte[n];
                inPlace?.UseBuffer(buffer);
            }
            Buffer.BlockCopy(_buf, _start, buffer, 0, n);
            _bufFileOffset += _start; _end = n; _start = 0; _buf = buffer;
        }
        _inPlace = inPlace;
    }

    private enum Step { Added, Skipped, Full, End }

    private Step NextPcap(PacketBatch batch)
    {
        if (AtEnd()) return _noRoom ? Step.Full : Step.End;
        long off = Position;
        int rh = _recordHeader;
        if (!Ensure(rh)) return Missing(off, $"truncated record header ({_end - _start} of {rh} bytes)");
        var h = _buf.AsSpan(_start, rh);
        long sec = U32(h), frac = U32(h[4..]);
        int incl = (int)Math.Min(U32(h[8..]), int.MaxValue), orig = (int)Math.Min(U32(h[12..]), int.MaxValue);
        int limit = Math.Max(MaxFrame, _snapLen > 0 && _snapLen <= MaxPcapngBlock ? _snapLen : 0);
        if (incl > limit) return SetFault(off, $"impossible record length {incl} (limit {limit})");
        if (!CopyFits(batch, incl)) return Step.Full;
        if (!Ensure(rh + incl)) return Missing(off, $"truncated record: {incl} bytes announced, {_end - _start - rh} present");
        Add(batch, Timestamp.FromUnix(sec, frac, _fracPerSecond), _start + rh, incl, orig, _linkType, off);
        _start += rh + incl;
        Packets++;
        return Step.Added;
    }

    private Step NextPcapng(PacketBatch batch)
    {
        if (AtEnd()) return _noRoom ? Step.Full : Step.End;
        long off = Position;
        if (!Ensure(12)) return Missing(off, $"truncated block header ({_end - _start} bytes)");
        uint type = BinaryPrimitives.ReadUInt32LittleEndian(_buf.AsSpan(_start));
        if (type == 0x0A0D0D0A)
        {
            // A section header fixes the byte order of everything up to the next one.
            uint bom = BinaryPrimitives.ReadUInt32LittleEndian(_buf.AsSpan(_start + 8));
            if (bom == 0x1A2B3C4D) _bigEndian = false;
            else if (bom == 0x4D3C2B1A) _bigEndian = true;
            else return SetFault(off, "section header with invalid byte-order magic");
            _ifaces.Clear();
        }
        else type = U32(_buf.AsSpan(_start));
        uint totalU = U32(_buf.AsSpan(_start + 4));
        if (totalU < 12 || totalU % 4 != 0 || totalU > MaxPcapngBlock) return SetFault(off, $"impossible block length {totalU}");
        int total = (int)totalU;
        if (!Ensure(total)) return Missing(off, $"truncated block: {total} bytes announced, {_end - _start} present");
        var block = _buf.AsSpan(_start, total);
        var body = block[8..(total - 4)];
        Step step = Step.Skipped;
        switch (type)
        {
            case 1: // Interface Description Block
                if (body.Length < 8) return SetFault(off, "interface description block too short");
                {
                    int lt = U16(body), snap = (int)U32(body[4..]);
                    long units = 1_000_000; bool pow2 = false; long tsOffset = 0;
                    var opts = body[8..];
                    while (opts.Length >= 4)
                    {
                        int code = U16(opts), len = U16(opts[2..]);
                        if (code == 0 || 4 + len > opts.Length) break;
                        var v = opts.Slice(4, len);
                        if (code == 9 && len >= 1)
                        {
                            int r = v[0] & 0x7f;
                            pow2 = (v[0] & 0x80) != 0;
                            units = pow2 ? (r < 63 ? 1L << r : 1L << 62) : (r <= 18 ? Pow10(r) : Pow10(18));
                        }
                        else if (code == 14 && len >= 8) tsOffset = _bigEndian ? BinaryPrimitives.ReadInt64BigEndian(v) : BinaryPrimitives.ReadInt64LittleEndian(v);
                        opts = opts[(4 + ((len + 3) & ~3))..];
                    }
                    _ifaces.Add(new Interface(lt, snap, units, pow2, tsOffset));
                    _linkTypes.Add(lt);
                }
                break;
            case 6: // Enhanced Packet Block
            case 2: // Packet Block (obsolete)
                {
                    if (body.Length < 20) return SetFault(off, "packet block too short");
                    uint ifId = type == 6 ? U32(body) : U16(body);
                    ulong tsRaw = ((ulong)U32(body[4..]) << 32) | U32(body[8..]);
                    int cap = (int)Math.Min(U32(body[12..]), int.MaxValue), orig = (int)Math.Min(U32(body[16..]), int.MaxValue);
                    if (cap > body.Length - 20) return SetFault(off, $"packet length {cap} exceeds its block");
                    if (ifId >= (uint)_ifaces.Count) return SetFault(off, $"packet refers to undefined interface {ifId}");
                    if (!CopyFits(batch, cap)) return Step.Full;
                    var ifc = _ifaces[(int)ifId];
                    Add(batch, IfaceTime(ifc, tsRaw), _start + 8 + 20, cap, orig, ifc.LinkType, off);
                    Packets++;
                    step = Step.Added;
                }
                break;
            case 3: // Simple Packet Block: interface 0, no timestamp
                {
                    if (body.Length < 4) return SetFault(off, "simple packet block too short");
                    if (_ifaces.Count == 0) return SetFault(off, "simple packet block before any interface");
                    var ifc = _ifaces[0];
                    int orig = (int)Math.Min(U32(body), int.MaxValue);
                    int cap = Math.Min(orig, body.Length - 4);
                    if (ifc.SnapLen > 0) cap = Math.Min(cap, ifc.SnapLen);
                    if (!CopyFits(batch, cap)) return Step.Full;
                    Add(batch, 0, _start + 8 + 4, cap, orig, ifc.LinkType, off);
                    Packets++;
                    step = Step.Added;
                }
                break;
        }
        _start += total;
        return step;
    }

    /// <summary>Bytes a record needs are not there: the batch's buffer is full (the next batch goes on), or the file ends.</summary>
    private Step Missing(long offset, string reason) => _noRoom ? Step.Full : SetFault(offset, reason);

    /// <summary>Whether a frame of <paramref name="length"/> bytes can go into the batch: always when it is read in place
    /// (Ensure found the room), otherwise when the copy fits or the batch is empty (which then grows).</summary>
    private bool CopyFits(PacketBatch batch, int length) => _inPlace != null || length <= batch.Free || batch.Count == 0;

    /// <summary>A frame at <paramref name="at"/> in _buf: pointed to when the batch reads in place, copied otherwise.</summary>
    private void Add(PacketBatch batch, long ts, int at, int length, int orig, int linkType, long fileOffset)
    {
        if (_inPlace != null) batch.AddInPlace(ts, at, length, orig, linkType, fileOffset);
        else _buf.AsSpan(at, length).CopyTo(batch.Add(ts, length, orig, linkType, fileOffset));
    }

    private static long Pow10(int n) { long v = 1; for (int i = 0; i < n; i++) v *= 10; return v; }

    private static long IfaceTime(in Interface ifc, ulong raw)
    {
        long units = ifc.UnitsPerSecond;
        long sec = (long)(raw / (ulong)units), frac = (long)(raw % (ulong)units);
        long ticks = units >= Timestamp.TicksPerSecond ? frac / (units / Timestamp.TicksPerSecond)
            : (long)((double)frac * Timestamp.TicksPerSecond / units);
        return (sec + ifc.OffsetSeconds) * Timestamp.TicksPerSecond + ticks;
    }

    private Step SetFault(long offset, string reason)
    {
        if (_corrupt) reason = "gzip data damaged; " + reason;
        Fault = new CaptureFault(Path, offset, reason, Packets);
        return Step.End;
    }

    public void Dispose() => _stream.Dispose();
}
