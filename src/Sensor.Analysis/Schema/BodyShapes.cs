using System.Text;

namespace Sensor.Analysis.Schema;

/// <summary>Learns body schemas by media type: JSON walked in place, forms and multipart as fields, the rest as opaque strings.</summary>
public static class BodyShapes
{
    public const int MaxFields = 256;

    /// <summary>"application/json" from "Application/JSON; charset=utf-8"; null for none.</summary>
    public static string? MediaType(string? contentType)
    {
        if (string.IsNullOrWhiteSpace(contentType)) return null;
        int semi = contentType.IndexOf(';');
        var m = (semi >= 0 ? contentType[..semi] : contentType).Trim();
        if (m.Length == 0 || m.Length > 100 || !m.Contains('/')) return null;
        foreach (var c in m) if (char.IsAsciiLetterUpper(c)) return m.ToLowerInvariant();
        return m;
    }

    public static bool IsJson(string media) => media.EndsWith("/json", StringComparison.Ordinal) || media.EndsWith("+json", StringComparison.Ordinal);

    /// <summary>Adds one body; false when it did not parse as its media type (the node is then left as it was, or nearly).</summary>
    public static bool Add(SchemaNode node, string media, string? contentType, ReadOnlySpan<byte> body)
    {
        if (IsJson(media)) return node.AddJson(body);
        if (media == "application/x-www-form-urlencoded") { node.AddFields(Form(body)); return true; }
        if (media.StartsWith("multipart/", StringComparison.Ordinal))
        {
            var b = Boundary(contentType);
            if (b == null) return false;
            node.AddFields(Multipart(body, b));
            return true;
        }
        node.AddOpaque(body.Length);
        return true;
    }

    public static List<(string Name, string Value, bool File)> Form(ReadOnlySpan<byte> body)
    {
        var list = new List<(string, string, bool)>();
        var text = Encoding.UTF8.GetString(body.Length > 1 << 20 ? body[..(1 << 20)] : body);
        foreach (var pair in text.Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            if (list.Count >= MaxFields) break;
            int eq = pair.IndexOf('=');
            var name = Decode(eq < 0 ? pair : pair[..eq]);
            var value = eq < 0 ? "" : Decode(pair[(eq + 1)..]);
            if (name.Length > 0) list.Add((name, value, false));
        }
        return list;
    }

    /// <summary>Percent-decoding with '+' as space, tolerant of broken escapes.</summary>
    public static string Decode(string s)
    {
        if (s.IndexOfAny(['%', '+']) < 0) return s;
        try { return Uri.UnescapeDataString(s.Replace('+', ' ')); }
        catch (UriFormatException) { return s; }
    }

    public static string? Boundary(string? contentType)
    {
        if (contentType == null) return null;
        foreach (var part in contentType.Split(';'))
        {
            var p = part.Trim();
            if (p.StartsWith("boundary=", StringComparison.OrdinalIgnoreCase))
            {
                var b = p[9..].Trim('"');
                return b.Length is > 0 and <= 200 ? b : null;
            }
        }
        return null;
    }

    /// <summary>Parts of a multipart body by their Content-Disposition name; parts with a filename are files.</summary>
    public static List<(string Name, string Value, bool File)> Multipart(ReadOnlySpan<byte> body, string boundary)
    {
        var list = new List<(string, string, bool)>();
        var delim = Encoding.ASCII.GetBytes("--" + boundary);
        int pos = body.IndexOf(delim);
        while (pos >= 0 && list.Count < MaxFields)
        {
            pos += delim.Length;
            if (pos + 2 <= body.Length && body[pos] == '-' && body[pos + 1] == '-') break;
            int headEnd = body[pos..].IndexOf("\r\n\r\n"u8);
            if (headEnd < 0) break;
            var head = Encoding.UTF8.GetString(body.Slice(pos, headEnd));
            int dataStart = pos + headEnd + 4;
            int next = body[dataStart..].IndexOf(delim);
            int dataEnd = next < 0 ? body.Length : dataStart + next;
            var data = body[dataStart..dataEnd];
            if (data.EndsWith("\r\n"u8)) data = data[..^2];
            string? name = null; bool file = false;
            foreach (var line in head.Split("\r\n"))
            {
                if (!line.StartsWith("content-disposition:", StringComparison.OrdinalIgnoreCase)) continue;
                name = Param(line, "name");
                file = Param(line, "filename") != null;
            }
            if (name != null)
                list.Add((name, file ? "" : Encoding.UTF8.GetString(data.Length > 4096 ? data[..4096] : data), file));
            if (next < 0) break;
            pos = dataEnd;
        }
        return list;
    }

    private static string? Param(string line, string key)
    {
        foreach (var part in line.Split(';'))
        {
            var p = part.Trim();
            if (p.StartsWith(key + "=", StringComparison.OrdinalIgnoreCase)) return p[(key.Length + 1)..].Trim('"');
        }
        return null;
    }
}
