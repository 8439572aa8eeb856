namespace Sensor.Capture;

/// <summary>One captured frame inside a <see cref="PacketBatch"/> buffer.</summary>
public struct PacketRecord
{
    public long Timestamp;      // Sensor.Core.Timestamp ticks
    public int Offset;          // into PacketBatch.Buffer
    public int Length;          // captured bytes
    public int OriginalLength;  // bytes on the wire
    public int LinkType;
    public long FileOffset;     // where the record starts, for diagnostics
}

/// <summary>
/// Many frames in one buffer: the unit handed between pipeline stages, so queues move a few
/// objects per thousand packets and buffers are reused instead of allocated per packet.
/// </summary>
public sealed class PacketBatch
{
    public const int DefaultBufferSize = 1 << 20;
    public byte[] Buffer { get; private set; }
    public PacketRecord[] Records { get; private set; }
    public int Count;
    public int Used;

    public PacketBatch(int bufferSize = DefaultBufferSize, int maxRecords = 8192)
    {
        Buffer = new byte[bufferSize];
        Records = new PacketRecord[maxRecords];
    }

    public void Reset() { Count = 0; Used = 0; }
    public bool IsFull => Count == Records.Length;
    public int Free => Buffer.Length - Used;
    public ReadOnlySpan<byte> Data(PacketRecord r) => Buffer.AsSpan(r.Offset, r.Length);

    /// <summary>
    /// Records a frame whose bytes a file reader read straight into <see cref="Buffer"/> (see
    /// <see cref="UseBuffer"/>), so they are not copied again.
    /// </summary>
    public void AddInPlace(long ts, int offset, int length, int origLength, int linkType, long fileOffset)
    {
        ref var r = ref Records[Count++];
        r.Timestamp = ts; r.Offset = offset; r.Length = length; r.OriginalLength = origLength;
        r.LinkType = linkType; r.FileOffset = fileOffset;
        if (offset + length > Used) Used = offset + length;
    }

    /// <summary>Gives an empty batch a larger buffer (a record bigger than the one it has).</summary>
    public void UseBuffer(byte[] buffer)
    {
        if (Count > 0) throw new InvalidOperationException("only an empty batch can change its buffer");
        Buffer = buffer;
    }

    /// <summary>Reserves space for a frame; the caller copies the bytes into the returned span.</summary>
    public Span<byte> Add(long ts, int length, int origLength, int linkType, long fileOffset)
    {
        if (length > Buffer.Length) // an oversized frame gets a buffer of its own size
        {
            if (Count > 0) throw new InvalidOperationException("oversized frame must start an empty batch");
            Buffer = new byte[length];
        }
        ref var r = ref Records[Count++];
        r.Timestamp = ts; r.Offset = Used; r.Length = length; r.OriginalLength = origLength;
        r.LinkType = linkType; r.FileOffset = fileOffset;
        var span = Buffer.AsSpan(Used, length);
        Used += length;
        return span;
    }
}
