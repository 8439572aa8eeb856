using Sensor.Capture.Live;

namespace Sensor.Host.Live;

/// <summary>
/// The live service's configuration, bound from appsettings-style JSON (<c>--config</c>), then environment
/// variables prefixed <c>SENSOR_</c> (<c>SENSOR_Capture__Backend=afpacket</c>), then the command line.
/// </summary>
public sealed class SensorSettings
{
    public string Database { get; set; } = "sensor.duckdb";
    public List<string> Interfaces { get; set; } = [];
    public LiveCaptureOptions Capture { get; set; } = new();
    /// <summary>Flow workers; 0 = one per core.</summary>
    public int Workers { get; set; }
    /// <summary>Decoded body bytes kept per message for analysis (0 = the default).</summary>
    public int BodyLimit { get; set; }
    /// <summary>Installation key for value hashes (default: $SENSOR_KEY_FILE or the user's data dir).</summary>
    public string? KeyFile { get; set; }
    /// <summary>OpenAPI specs (file or directory) imported at start; stored specs judge the inventory at every inventory update.</summary>
    public string? Specs { get; set; }
    public MetricsSettings Metrics { get; set; } = new();
    /// <summary>Unix socket through which <c>sensor query</c> and friends reach the running service; default: the database path + ".sock".</summary>
    public string? QuerySocket { get; set; }
    /// <summary>How often stored transactions become visible to queries and idle flows are expired.</summary>
    public double CommitIntervalSeconds { get; set; } = 2;
    /// <summary>How often counters are written to capture_stats.</summary>
    public double StatsIntervalSeconds { get; set; } = 10;
    /// <summary>How often the inventory and the traffic findings are brought up to date in the database.</summary>
    public double InventoryIntervalSeconds { get; set; } = 60;
    /// <summary>Packet batches (up to 1 MiB each) the pipeline's input queue holds.</summary>
    public int InputQueueBatches { get; set; } = 64;
    /// <summary>
    /// False (default): when the input queue is full, capture threads wait and the kernel buffer
    /// (Capture:BufferSizeMb) absorbs the burst; the kernel counts what overflows it. True: the full queue
    /// drops and counts (pipeline.input_queue_drops) and capture never waits.
    /// </summary>
    public bool DropWhenPipelineFull { get; set; }
    /// <summary>
    /// How much nicer (Linux) the decoder and flow workers run than the capture threads: in a burst the CPU
    /// empties the kernel buffers first and analysis catches up afterwards. 0 = the same priority.
    /// </summary>
    public int AnalysisNice { get; set; } = 10;
    public RetentionSettings Retention { get; set; } = new();

    public string SocketPath => string.IsNullOrEmpty(QuerySocket) ? Database + ".sock" : QuerySocket;
}

public sealed class MetricsSettings
{
    /// <summary>Prometheus <c>/metrics</c> and <c>/healthz</c>; localhost only unless configured otherwise. Empty disables.</summary>
    public string Listen { get; set; } = "127.0.0.1:9464";
}

/// <summary>
/// http_transactions and sensitive_items grow without end on a mirror port: rows older than
/// <see cref="Hours"/> (or beyond <see cref="MaxRows"/>) are exported to Parquet, then deleted.
/// </summary>
public sealed class RetentionSettings
{
    /// <summary>Keep this many hours of transactions in the database; 0 keeps everything.</summary>
    public double Hours { get; set; } = 168;
    /// <summary>Keep at most this many transactions; 0 = no limit.</summary>
    public long MaxRows { get; set; }
    /// <summary>Where expired rows go as Parquet (one file per table and sweep); empty deletes without export.</summary>
    public string? ArchiveDirectory { get; set; }
    public double CheckMinutes { get; set; } = 10;
}
