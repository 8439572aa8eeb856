namespace Sensor.Capture;

/// <summary>The file is not a capture at all (empty, text, unknown magic): nothing can be read from it.</summary>
public sealed class CaptureFormatException(string path, string reason) : Exception($"{path}: {reason}")
{
    public string Path { get; } = path;
    public string Reason { get; } = reason;
}

/// <summary>Damage part-way through a capture: everything before <see cref="Offset"/> was read.</summary>
public sealed record CaptureFault(string Path, long Offset, string Reason, long PacketsBefore)
{
    public override string ToString() =>
        $"{Path}: {Reason} at byte offset {Offset}; kept the {PacketsBefore} packets before it";
}
