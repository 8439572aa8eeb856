namespace Sensor.Http;

/// <summary>
/// The hand-off after the HTTP stage: every finished transaction, with its decoded bodies, passes through
/// the analyzers of the flow worker that parsed it, before the bodies are dropped (raw bodies are never
/// stored). Analyzers (inventory, schemas, sensitive data, rules) plug in here without touching earlier
/// stages. One instance per flow worker, called only from that worker's thread, so an analyzer needs no
/// locks; <see cref="Complete"/> is called once after its last transaction, when the worker has stopped.
/// </summary>
public interface IHttpAnalyzer
{
    void OnTransaction(HttpTransaction transaction);
    void Complete();
    /// <summary>
    /// Live capture: called on the worker's thread at a checkpoint, so an analyzer that accumulates state can
    /// hand over what it learned since the previous one (the service stores it) without locks on the hot path.
    /// </summary>
    void Checkpoint() { }
}

/// <summary>Creates one analyzer per flow worker.</summary>
public interface IHttpAnalyzerFactory
{
    string Name { get; }
    IHttpAnalyzer Create(int workerId);
}
