using Sensor.Analysis.Schema;

namespace Sensor.Analysis.Inventory;

/// <summary>One endpoint of a service: method + path template, what was observed of it and its merged shape.</summary>
public sealed class Endpoint
{
    public required string Service { get; init; }
    public required string Method { get; init; }
    public required string Template { get; init; }
    public IReadOnlyList<PathParam> PathParams { get; init; } = [];
    public required PathObservation Observed { get; init; }
    public required EndpointShape Shape { get; init; }
    public int DistinctPaths { get; init; }
}

/// <summary>
/// Turns the per-path observations and per-shape aggregates of one service into endpoints: learns the
/// templates from all concrete paths, then merges every path and shape into the endpoint its path
/// resolves to. Path parameter values come from the shapes' id positions and, for word-like values
/// (slugs, names) that only the templater's sibling cardinality makes variables, from the literal paths.
/// </summary>
public static class EndpointBuilder
{
    public static List<Endpoint> Build(string service, IEnumerable<PathObservation> observations, IEnumerable<EndpointShape> shapes, int slugCardinality = 8) =>
        Build(service, observations, shapes, null, slugCardinality);

    /// <summary>As <see cref="Build(string, IEnumerable{PathObservation}, IEnumerable{EndpointShape}, int)"/>; also fills the template of every observed (method, path).</summary>
    public static List<Endpoint> Build(string service, IEnumerable<PathObservation> observations, IEnumerable<EndpointShape> shapes,
        IDictionary<(string Method, string Path), string>? templateOf, int slugCardinality = 8)
    {
        var obs = observations.ToList();
        var templater = new PathTemplater { SlugCardinality = slugCardinality };
        foreach (var o in obs)
        {
            var (ok, ce) = o.Outcomes();
            templater.Observe(o.Path, o.Method, o.Count, ok, ce);
        }
        var byKey = new Dictionary<(string Method, string Template), (PathObservation Obs, EndpointShape Shape, PathTemplate? T, int Paths)>();
        foreach (var o in obs)
        {
            var t = templater.Resolve(o.Path);
            var k = (o.Method, t?.Template ?? o.Path);
            if (templateOf != null) templateOf[(o.Method, o.Path)] = k.Item2;
            ref var e = ref System.Runtime.InteropServices.CollectionsMarshal.GetValueRefOrAddDefault(byKey, k, out bool exists);
            if (!exists)
                e = (new PathObservation { Service = service, Method = o.Method, Path = k.Item2 }, new EndpointShape { Service = service, Method = o.Method, Key = k.Item2, SamplePath = o.Path }, t, 0);
            e.Obs.Merge(o);
            e.Paths++;
        }
        foreach (var s in shapes)
        {
            var t = templater.Resolve(s.SamplePath);
            var k = (s.Method, t?.Template ?? s.SamplePath);
            if (!byKey.TryGetValue(k, out var e)) continue;   // its paths were never recorded (table full): nothing to attach to
            var copy = Clone(s);
            if (t != null)
            {
                // Variable positions the shape kept literal (slugs): their values are the literal segments.
                var segs = PathTemplater.Segments(s.SamplePath);
                foreach (var p in t.Params)
                    if (!copy.PathValues.ContainsKey(p.Position) && p.Position < segs.Length)
                    {
                        var vs = new ValueStats { Values = null, Sensitive = true };
                        vs.AddText(Schema.BodyShapes.Decode(segs[p.Position]), Math.Max(1, s.Sampled));
                        copy.PathValues[p.Position] = vs;
                    }
            }
            e.Shape.Merge(copy);
        }
        return byKey.Select(kv => new Endpoint
        {
            Service = service, Method = kv.Key.Method, Template = kv.Key.Template, PathParams = kv.Value.T?.Params ?? [],
            Observed = kv.Value.Obs, Shape = kv.Value.Shape, DistinctPaths = kv.Value.Paths,
        }).OrderBy(e => e.Template, StringComparer.Ordinal).ThenBy(e => e.Method, StringComparer.Ordinal).ToList();
    }

    /// <summary>A deep copy, so merging into endpoints leaves the learned shapes as they were.</summary>
    public static EndpointShape Clone(EndpointShape s) => ShapeJson.Deserialize(ShapeJson.Serialize(s));
}
