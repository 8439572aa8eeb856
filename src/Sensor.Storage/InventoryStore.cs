using System.Text.Json;
using DuckDB.NET.Data;
using Sensor.Analysis.Inventory;
using Sensor.Core;

namespace Sensor.Storage;

/// <summary>
/// Keeps the inventory in the database: the per-path aggregate of every run (endpoint_observations) and the
/// endpoints templated from all of it (endpoints). Each replay merges its observations into the aggregate and
/// re-templates the services it touched, so more traffic extends the inventory instead of starting over.
/// </summary>
public static class InventoryStore
{
    public const string Observations = """
        create table if not exists endpoint_observations(
          service varchar, method varchar, path varchar, count bigint,
          first_seen timestamp, last_seen timestamp, statuses varchar,
          with_credentials bigint, unauthenticated_2xx bigint, auth_schemes varchar, path_template varchar)
        """;

    public const string Endpoints = """
        create table if not exists endpoints(
          service varchar, method varchar, path_template varchar,
          first_seen timestamp, last_seen timestamp, count bigint, status_counts varchar,
          auth_observed varchar, unauthenticated_2xx bigint, distinct_paths bigint)
        """;

    /// <summary>Learned request/response shapes (parameters, bodies, responses, credentials) per endpoint shape, as JSON.</summary>
    public const string Shapes = """
        create table if not exists endpoint_shapes(
          service varchar, method varchar, shape_key varchar, sample_path varchar, requests bigint, shape varchar)
        """;

    /// <summary>
    /// Each endpoint as the exports, spec comparison and traffic rules read it back (path parameters, requests
    /// with credentials, merged shape as JSON), written by the same save as <c>endpoints</c>: reading it needs no
    /// re-templating of every stored path. Services saved before it existed are rebuilt from the observations.
    /// </summary>
    public const string Models = """
        create table if not exists endpoint_models(
          service varchar, method varchar, path_template varchar, path_params varchar, with_credentials bigint, shape varchar)
        """;

    /// <summary>Parameters per endpoint, derived from the shapes for analysts (the OpenAPI export holds the full schemas).</summary>
    public const string Params = """
        create table if not exists endpoint_params(
          service varchar, method varchar, path_template varchar, location varchar, name varchar,
          type varchar, format varchar, required boolean, present bigint, enum_values varchar)
        """;

    public static void Save(SensorDatabase db, IReadOnlyCollection<PathObservation> fresh) => Save(db, fresh, []);

    /// <summary>Merges and stores, re-templating the services this learning touched.</summary>
    /// <param name="whileTemplating">Database work to run meanwhile on another thread (templating touches no table): e.g. <see cref="SensorDatabase.Checkpoint"/>.</param>
    public static void Save(SensorDatabase db, IReadOnlyCollection<PathObservation> fresh, IReadOnlyCollection<EndpointShape> freshShapes,
        Action? whileTemplating = null)
    {
        if (fresh.Count == 0 && freshShapes.Count == 0) return;
        var services = fresh.Select(o => o.Service).Concat(freshShapes.Select(s => s.Service)).ToHashSet();
        var merged = new Dictionary<(string, string, string), PathObservation>();
        foreach (var o in Load(db.Connection, services)) merged[(o.Service, o.Method, o.Path)] = o;
        foreach (var o in fresh)
        {
            var k = (o.Service, o.Method, o.Path);
            if (merged.TryGetValue(k, out var have)) have.Merge(o); else merged[k] = o;
        }
        var shapes = new Dictionary<(string, string, string), EndpointShape>();
        foreach (var sh in LoadShapes(db.Connection, services)) shapes[sh.Id] = sh;
        foreach (var sh in freshShapes)
        {
            if (shapes.TryGetValue(sh.Id, out var have)) have.Merge(sh); else shapes[sh.Id] = sh;
        }
        var endpoints = new List<Endpoint>();
        var obsByService = merged.Values.ToLookup(o => o.Service);
        var shapesByService = shapes.Values.ToLookup(s => s.Service);
        var templates = new Dictionary<string, Dictionary<(string, string), string>>();
        var alongside = whileTemplating == null ? null : Task.Factory.StartNew(whileTemplating, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
        try
        {
            foreach (var service in services)
            {
                var map = templates[service] = new Dictionary<(string, string), string>();
                endpoints.AddRange(EndpointBuilder.Build(service, obsByService[service], shapesByService[service], map));
            }
        }
        finally { alongside?.GetAwaiter().GetResult(); }

        using var tx = db.Connection.BeginTransaction();
        foreach (var s in services)
            foreach (var table in (string[])["endpoint_observations", "endpoints", "endpoint_shapes", "endpoint_params", "endpoint_models"])
                db.Execute($"delete from {table} where service = ?", s);
        using (var app = db.Connection.CreateAppender("endpoint_observations"))
            foreach (var o in merged.Values)
                app.CreateRow().AppendValue(o.Service).AppendValue(o.Method).AppendValue(o.Path).AppendValue(o.Count)
                    .AppendValue(Timestamp.ToDateTime(o.FirstSeen)).AppendValue(Timestamp.ToDateTime(o.LastSeen))
                    .AppendValue(StatusJson(o))
                    .AppendValue(o.WithCredentials).AppendValue(o.Unauthenticated2xx).AppendValue(o.SchemesText())
                    .AppendValue(templates[o.Service].GetValueOrDefault((o.Method, o.Path)) ?? o.Path).EndRow();
        using (var app = db.Connection.CreateAppender("endpoint_shapes"))
            foreach (var sh in shapes.Values)
                app.CreateRow().AppendValue(sh.Service).AppendValue(sh.Method).AppendValue(sh.Key).AppendValue(sh.SamplePath)
                    .AppendValue(sh.Requests).AppendValue(ShapeJson.Serialize(sh)).EndRow();
        using (var app = db.Connection.CreateAppender("endpoints"))
            foreach (var e in endpoints)
                app.CreateRow().AppendValue(e.Service).AppendValue(e.Method).AppendValue(e.Template)
                    .AppendValue(Timestamp.ToDateTime(e.Observed.FirstSeen)).AppendValue(Timestamp.ToDateTime(e.Observed.LastSeen)).AppendValue(e.Observed.Count)
                    .AppendValue(StatusJson(e.Observed))
                    .AppendValue(e.Observed.SchemesText() is { Length: > 0 } auth ? auth : "none")
                    .AppendValue(e.Observed.Unauthenticated2xx).AppendValue((long)e.DistinctPaths).EndRow();
        using (var app = db.Connection.CreateAppender("endpoint_models"))
            foreach (var e in endpoints)
                app.CreateRow().AppendValue(e.Service).AppendValue(e.Method).AppendValue(e.Template).AppendValue(PathParamsJson(e.PathParams))
                    .AppendValue(e.Observed.WithCredentials).AppendValue(ShapeJson.Serialize(e.Shape)).EndRow();
        using (var app = db.Connection.CreateAppender("endpoint_params"))
            foreach (var group in endpoints.GroupBy(e => e.Service))
            {
                var usage = new ServiceHeaderUsage(group.ToList());
                foreach (var e in group)
                foreach (var p in EndpointParams.Of(e, usage))
                    app.CreateRow().AppendValue(e.Service).AppendValue(e.Method).AppendValue(e.Template).AppendValue(p.Location).AppendValue(p.Name)
                        .AppendValue(p.Type).AppendValue(p.Format).AppendValue(p.Required).AppendValue(p.Present)
                        .AppendValue(p.Enum == null ? null : JsonArray(p.Enum)).EndRow();
            }
        tx.Commit();
    }

    /// <summary>
    /// The endpoints of the stored inventory (all services, or one), as the last save stored them
    /// (<c>endpoint_models</c>); services saved before that table existed are rebuilt from the learned state.
    /// </summary>
    public static List<Endpoint> LoadEndpoints(DuckDBConnection c, string? service = null)
    {
        var services = new HashSet<string>();
        using (var cmd = c.CreateCommand())
        {
            cmd.CommandText = "select distinct service from endpoint_observations order by 1";
            using var r = cmd.ExecuteReader();
            while (r.Read()) services.Add(r.GetString(0));
        }
        if (service != null) services.IntersectWith([service]);
        var stored = LoadModels(c, services);
        services.ExceptWith(stored.Select(e => e.Service));
        var obs = Load(c, services).ToLookup(o => o.Service);
        var shapes = LoadShapes(c, services).ToLookup(s => s.Service);
        var list = new List<Endpoint>();
        foreach (var s in services) list.AddRange(EndpointBuilder.Build(s, obs[s], shapes[s]));
        // Per service in name order, and within one as EndpointBuilder orders them.
        return [.. stored.Concat(list).OrderBy(e => e.Service, StringComparer.Ordinal).ThenBy(e => e.Template, StringComparer.Ordinal)
            .ThenBy(e => e.Method, StringComparer.Ordinal)];
    }

    private static List<Endpoint> LoadModels(DuckDBConnection c, HashSet<string> services)
    {
        var list = new List<Endpoint>();
        using (var exists = c.CreateCommand())
        {
            // A database written before the table existed, opened read-only (exports): rebuild every service.
            exists.CommandText = "select count(*) from duckdb_tables() where table_name = 'endpoint_models'";
            if (Convert.ToInt64(exists.ExecuteScalar()) == 0) return list;
        }
        using var cmd = c.CreateCommand();
        cmd.CommandText = """
            select e.service, e.method, e.path_template, e.first_seen, e.last_seen, e.count, e.status_counts, e.auth_observed,
                   e.unauthenticated_2xx, e.distinct_paths, m.path_params, m.with_credentials, m.shape
            from endpoints e join endpoint_models m using (service, method, path_template)
            """;
        using var r = cmd.ExecuteReader();
        while (r.Read())
        {
            var service = r.GetString(0);
            if (!services.Contains(service)) continue;
            var o = new PathObservation { Service = service, Method = r.GetString(1), Path = r.GetString(2) };
            o.FirstSeen = Timestamp.FromDateTime(DateTime.SpecifyKind(r.GetDateTime(3), DateTimeKind.Utc));
            o.LastSeen = Timestamp.FromDateTime(DateTime.SpecifyKind(r.GetDateTime(4), DateTimeKind.Utc));
            o.Count = r.GetInt64(5);
            ReadStatuses(r.GetString(6), o);
            var auth = r.GetString(7);
            if (auth != "none") foreach (var a in auth.Split(',', StringSplitOptions.RemoveEmptyEntries)) o.AddScheme(a);
            o.Unauthenticated2xx = r.GetInt64(8);
            o.WithCredentials = r.GetInt64(11);
            list.Add(new Endpoint
            {
                Service = service, Method = o.Method, Template = o.Path, PathParams = ReadPathParams(r.GetString(10)),
                Observed = o, Shape = ShapeJson.Deserialize(r.GetString(12)), DistinctPaths = (int)r.GetInt64(9),
            });
        }
        return list;
    }

    private static string PathParamsJson(IReadOnlyList<PathParam> ps) => Json(w =>
    {
        w.WriteStartArray();
        foreach (var p in ps)
        {
            w.WriteStartObject();
            w.WriteString("name", p.Name);
            w.WriteNumber("position", p.Position);
            w.WriteString("kind", p.Kind.ToString());
            w.WriteEndObject();
        }
        w.WriteEndArray();
    });

    private static List<PathParam> ReadPathParams(string json)
    {
        var list = new List<PathParam>();
        using var doc = JsonDocument.Parse(json);
        foreach (var p in doc.RootElement.EnumerateArray())
            list.Add(new PathParam(p.GetProperty("name").GetString()!, p.GetProperty("position").GetInt32(),
                Enum.Parse<SegmentKind>(p.GetProperty("kind").GetString()!)));
        return list;
    }

    private static List<EndpointShape> LoadShapes(DuckDBConnection c, HashSet<string> services)
    {
        var list = new List<EndpointShape>();
        using var cmd = c.CreateCommand();
        cmd.CommandText = "select service, shape from endpoint_shapes";
        using var r = cmd.ExecuteReader();
        while (r.Read())
            if (services.Contains(r.GetString(0))) list.Add(ShapeJson.Deserialize(r.GetString(1)));
        return list;
    }

    // Written and read with the JSON reader and writer directly: the reflection-based serializer costs a replay
    // or an export more in start-up (metadata, code generation) than all the rows it would write.

    /// <summary>Status counts as a JSON object ordered by status, e.g. {"200":12,"404":1}: numbers only, so written as text (one per stored path).</summary>
    private static string StatusJson(PathObservation o)
    {
        var sb = new System.Text.StringBuilder("{");
        foreach (var (status, n) in o.StatusCounts())
            sb.Append(System.Globalization.CultureInfo.InvariantCulture, $"{(sb.Length > 1 ? "," : "")}\"{status}\":{n}");
        return sb.Append('}').ToString();
    }

    private static string JsonArray(IEnumerable<string> values) => Json(w =>
    {
        w.WriteStartArray();
        foreach (var v in values) w.WriteStringValue(v);
        w.WriteEndArray();
    });

    private static string Json(Action<Utf8JsonWriter> write)
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>(128);
        using (var w = new Utf8JsonWriter(buffer)) write(w);
        return System.Text.Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    private static void ReadStatuses(string json, PathObservation into)
    {
        var r = new Utf8JsonReader(System.Text.Encoding.UTF8.GetBytes(json));
        if (!r.Read() || r.TokenType != JsonTokenType.StartObject) return;
        while (r.Read() && r.TokenType == JsonTokenType.PropertyName)
        {
            int status = int.Parse(r.GetString()!, System.Globalization.CultureInfo.InvariantCulture);
            r.Read();
            into.AddStatus(status, r.GetInt64());
        }
    }

    private static List<PathObservation> Load(DuckDBConnection c, HashSet<string> services)
    {
        var list = new List<PathObservation>();
        using var cmd = c.CreateCommand();
        cmd.CommandText = "select service, method, path, count, first_seen, last_seen, statuses, with_credentials, unauthenticated_2xx, auth_schemes from endpoint_observations";
        using var r = cmd.ExecuteReader();
        while (r.Read())
        {
            var service = r.GetString(0);
            if (!services.Contains(service)) continue;
            var o = new PathObservation { Service = service, Method = r.GetString(1), Path = r.GetString(2) };
            o.Count = r.GetInt64(3);
            o.FirstSeen = Timestamp.FromDateTime(DateTime.SpecifyKind(r.GetDateTime(4), DateTimeKind.Utc));
            o.LastSeen = Timestamp.FromDateTime(DateTime.SpecifyKind(r.GetDateTime(5), DateTimeKind.Utc));
            ReadStatuses(r.GetString(6), o);
            o.WithCredentials = r.GetInt64(7);
            o.Unauthenticated2xx = r.GetInt64(8);
            foreach (var s in r.GetString(9).Split(',', StringSplitOptions.RemoveEmptyEntries)) o.AddScheme(s);
            list.Add(o);
        }
        return list;
    }
}
