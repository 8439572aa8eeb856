namespace Sensor.Reassembly;

/// <summary>
/// What a TCP connection delivers to the protocol layer: ordered bytes per direction, explicit gaps
/// where bytes were never seen (so the parser can resynchronise instead of reading garbage), and ends.
/// Directions are named by endpoint: fromA is true for bytes sent by <see cref="Core.FlowKey.AddrA"/>.
/// </summary>
public interface IStreamReceiver
{
    void OnData(bool fromA, ReadOnlySpan<byte> data, long ts);
    void OnGap(bool fromA, long missingBytes, long ts);
    /// <summary>That direction ended: FIN reached in order, RST, or the connection was flushed.</summary>
    void OnEnd(bool fromA, EndReason reason, long ts);
    /// <summary>The connection is gone from the table: finish whatever is pending.</summary>
    void OnClose(long ts);
}

public enum EndReason { Fin, Reset, Timeout, Flush, Evicted }
