using System.Text;
using System.Text.Json;

namespace Sensor.Analysis.Sensitive;

/// <summary>
/// Scans a decoded body by media type: JSON (walked with <see cref="Utf8JsonReader"/>; each object's scalars
/// are judged when the object closes, with its sibling names as context), urlencoded forms, multipart parts,
/// and everything else textual as free text. Bodies are cut at <see cref="SensitiveScanOptions.MaxBodyBytes"/>;
/// a cut or truncated JSON body is walked as far as it is complete; invalid JSON falls back to free text.
/// </summary>
internal static class BodyScanner
{
    public static void Scan(ReadOnlySpan<byte> body, bool truncated, string? contentType, string part, ScanState s)
    {
        if (body.IsEmpty || s.Full) return;
        if (body.Length > s.Options.MaxBodyBytes) { body = body[..s.Options.MaxBodyBytes]; truncated = true; }
        var ct = (contentType ?? "").ToLowerInvariant();
        if (body.StartsWith("\uFEFF"u8)) body = body[3..];

        if (ct.Contains("multipart/", StringComparison.Ordinal)) { Multipart(body, contentType!, part, s); return; }
        if (ct.Contains("x-www-form-urlencoded", StringComparison.Ordinal)) { Form(Encoding.UTF8.GetString(body), part, s); return; }
        if (IsBinary(ct) || !LooksTextual(body)) return;
        int first = body.IndexOfAnyExcept(" \t\r\n"u8);
        if (first >= 0 && body[first] is (byte)'{' or (byte)'[' || ct.Contains("json", StringComparison.Ordinal))
        {
            int mark = s.Mark;
            if (Json(body, truncated, part, null, s)) return;
            s.Rollback(mark);   // not JSON after all: the text is scanned as a whole
        }
        FreeText.Scan(Encoding.UTF8.GetString(body), new FieldCtx(part, "$", ValueSource.Text), s);
    }

    private static bool IsBinary(string ct) =>
        ct.StartsWith("image/", StringComparison.Ordinal) || ct.StartsWith("audio/", StringComparison.Ordinal) || ct.StartsWith("video/", StringComparison.Ordinal)
        || ct.StartsWith("font/", StringComparison.Ordinal) || ct.Contains("octet-stream", StringComparison.Ordinal) || ct.Contains("protobuf", StringComparison.Ordinal)
        || ct.Contains("grpc", StringComparison.Ordinal) || ct.Contains("application/pdf", StringComparison.Ordinal) || ct.Contains("zip", StringComparison.Ordinal)
        || ct.Contains("msgpack", StringComparison.Ordinal) || ct.Contains("wasm", StringComparison.Ordinal);

    /// <summary>Mostly printable: a body of random bytes is not worth a text scan.</summary>
    private static bool LooksTextual(ReadOnlySpan<byte> b)
    {
        var sample = b[..Math.Min(b.Length, 2048)];
        int bad = 0;
        foreach (var x in sample) if (x < 0x09 || x is > 0x0d and < 0x20 || x == 0x7f) bad++;
        return bad * 20 < sample.Length + 1;
    }

    // ---------------- JSON ----------------

    private sealed class Frame
    {
        public bool IsArray;
        public string Path = "$";
        public string? Key;          // the member name this container sits under (for array elements: the array's name)
        public KeyClass Flags, ParentFlags, AncestorFlags;
        public int Index;
        public List<(string Key, KeyClass Flags, string Value, bool Number)>? Scalars;
        // What the member names of this object say, together: the siblings' context of each of its values.
        public KeyClass Siblings;
        public int Names;
    }

    /// <summary>Walks JSON; false when it is not valid JSON (hits already added are the caller's to undo).</summary>
    public static bool Json(ReadOnlySpan<byte> json, bool truncated, string part, string? location, ScanState s)
    {
        var reader = new Utf8JsonReader(json, isFinalBlock: !truncated, new JsonReaderState(new JsonReaderOptions
        {
            MaxDepth = s.Options.MaxJsonDepth,
            CommentHandling = JsonCommentHandling.Skip,
            AllowTrailingCommas = true,
        }));
        var stack = new List<Frame>(8);
        string? name = null;
        var nameFlags = KeyClass.None;   // of name, worked out once as it is read
        int maxChars = s.Options.MaxValueChars;
        try
        {
            while (reader.Read())
            {
                if (s.Full) return true;
                var top = stack.Count > 0 ? stack[^1] : null;
                switch (reader.TokenType)
                {
                    case JsonTokenType.PropertyName:
                        name = reader.GetString() ?? "";
                        nameFlags = KeyClassifier.Classify(name);
                        if (top is { IsArray: false } && top.Names++ < 4096) top.Siblings |= nameFlags;
                        break;
                    case JsonTokenType.StartObject:
                    case JsonTokenType.StartArray:
                    {
                        var f = new Frame { IsArray = reader.TokenType == JsonTokenType.StartArray };
                        if (top is null) f.Path = "$";
                        else if (top.IsArray) { f.Path = top.Path + "[" + top.Index++ + "]"; f.Key = top.Key; f.Flags = top.Flags; f.ParentFlags = top.ParentFlags; }
                        else { f.Path = Member(top.Path, name ?? ""); f.Key = name; f.Flags = name == null ? KeyClassifier.Classify(name) : nameFlags; f.ParentFlags = top.Flags; }
                        f.AncestorFlags = top is null ? KeyClass.None : top.AncestorFlags | top.Flags;
                        if (!f.IsArray) f.Scalars = [];
                        stack.Add(f);
                        name = null;
                        break;
                    }
                    case JsonTokenType.EndObject:
                    case JsonTokenType.EndArray:
                        stack.RemoveAt(stack.Count - 1);
                        if (top is { IsArray: false }) Flush(top, part, location, s);
                        break;
                    case JsonTokenType.String:
                    case JsonTokenType.Number:
                    {
                        bool number = reader.TokenType == JsonTokenType.Number;
                        string? value = reader.ValueSpan.Length > maxChars * 2 ? null
                            : number ? Encoding.UTF8.GetString(reader.ValueSpan) : reader.GetString();
                        if (top is null)
                        {
                            if (value is not null) ValueClassifier.Classify(new FieldCtx(part, location ?? "$", ValueSource.Json), value, number, s);
                        }
                        else if (top.IsArray)
                        {
                            int index = top.Index++;
                            if (value is not null)
                                ValueClassifier.Classify(new FieldCtx(part, location, ValueSource.Json)
                                {
                                    ContainerPath = top.Path, ElementIndex = index,
                                    Key = top.Key, KeyFlags = top.Flags, ParentFlags = top.ParentFlags, AncestorFlags = top.AncestorFlags,
                                }, value, number, s);
                        }
                        else if (value is not null && top.Scalars!.Count < 4096)
                            top.Scalars.Add((name ?? "", name == null ? KeyClassifier.Classify("") : nameFlags, value, number));
                        name = null;
                        break;
                    }
                    default:   // true, false, null, comments
                        if (top is { IsArray: true }) top.Index++;
                        name = null;
                        break;
                }
            }
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException)   // invalid JSON or invalid UTF-8 in a string
        {
            return false;
        }
        // A cut body: judge what was read of the containers still open (innermost first).
        for (int i = stack.Count - 1; i >= 0; i--) if (!stack[i].IsArray) Flush(stack[i], part, location, s);
        return true;
    }

    private static void Flush(Frame f, string part, string? location, ScanState s)
    {
        if (f.Scalars is null || f.Scalars.Count == 0) return;
        var siblings = f.Siblings;
        bool awsKey = false;
        foreach (var m in f.Scalars)
            if (m.Value.Length == 20 && (m.Value.StartsWith("AKIA", StringComparison.Ordinal) || m.Value.StartsWith("ASIA", StringComparison.Ordinal))) awsKey = true;
        foreach (var m in f.Scalars)
        {
            if (s.Full) return;
            ValueClassifier.Classify(new FieldCtx(part, location, ValueSource.Json)
            {
                ContainerPath = f.Path,
                Key = m.Key,
                KeyFlags = m.Flags,
                ParentFlags = f.Flags,
                AncestorFlags = f.AncestorFlags | f.ParentFlags,
                SiblingFlags = siblings,
                SiblingHasAwsKey = awsKey,
            }, m.Value, m.Number, s);
        }
    }

    /// <summary>$.a.b for identifier keys, $['e-mail'] otherwise.</summary>
    internal static string Member(string parent, string key)
    {
        bool ident = key.Length > 0 && (char.IsAsciiLetter(key[0]) || key[0] == '_');
        if (ident) foreach (var ch in key) if (!(char.IsAsciiLetterOrDigit(ch) || ch == '_')) { ident = false; break; }
        if (ident) return parent + "." + key;
        return parent + "['" + key.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("'", "\\'", StringComparison.Ordinal) + "']";
    }

    // ---------------- forms ----------------

    /// <summary>application/x-www-form-urlencoded (also a query string): fields by decoded name, names like card[number] or user.email give context.</summary>
    public static void Form(string text, string part, ScanState s, ValueSource source = ValueSource.Form)
    {
        var fields = new List<(string Name, string Value)>();
        foreach (var pair in text.Split('&'))
        {
            if (pair.Length == 0) continue;
            if (fields.Count >= 4096) break;
            int eq = pair.IndexOf('=');
            var n = Decode(eq < 0 ? pair : pair[..eq]);
            var v = eq < 0 ? "" : Decode(pair[(eq + 1)..]);
            fields.Add((n, v));
        }
        bool query = source == ValueSource.Query;   // ?key=… and ?auth=… are credentials in URLs, as in headers
        var siblings = KeyClass.None;
        foreach (var f in fields) siblings |= KeyClassifier.Classify(LastName(f.Name, out _), query);
        foreach (var f in fields)
        {
            if (f.Value.Length == 0 || s.Full) continue;
            var key = LastName(f.Name, out var parent);
            ValueClassifier.Classify(new FieldCtx(part, f.Name, source)
            {
                Key = key,
                KeyFlags = KeyClassifier.Classify(key, query),
                ParentFlags = KeyClassifier.Classify(parent),
                SiblingFlags = siblings,
            }, f.Value, false, s);
        }
    }

    /// <summary>The innermost name of card[number] / user.address.street / data[0][email], and the one before it.</summary>
    private static string LastName(string name, out string? parent)
    {
        if (name.AsSpan().IndexOfAny('[', ']', '.') < 0) { parent = null; return name; }   // the common case: a plain name
        var parts = name.Split(['[', ']', '.'], StringSplitOptions.RemoveEmptyEntries);
        var words = parts.Where(p => !Validators.AllDigits(p)).ToList();
        parent = words.Count >= 2 ? words[^2] : null;
        return words.Count > 0 ? words[^1] : name;
    }

    public static string Decode(string s)
    {
        if (s.IndexOf('%') < 0 && s.IndexOf('+') < 0) return s;
        try { return Uri.UnescapeDataString(s.Replace('+', ' ')); }
        catch (UriFormatException) { return s.Replace('+', ' '); }
    }

    // ---------------- multipart ----------------

    private static void Multipart(ReadOnlySpan<byte> body, string contentType, string part, ScanState s)
    {
        string? boundary = null;
        foreach (var p in contentType.Split(';'))
        {
            var t = p.Trim();
            if (t.StartsWith("boundary=", StringComparison.OrdinalIgnoreCase)) boundary = t[9..].Trim('"');
        }
        if (string.IsNullOrEmpty(boundary) || boundary.Length > 200) return;
        var delim = Encoding.ASCII.GetBytes("--" + boundary);
        int pos = body.IndexOf(delim);
        int parts = 0;
        while (pos >= 0 && parts++ < s.Options.MaxParts && !s.Full)
        {
            int start = pos + delim.Length;
            if (start + 2 <= body.Length && body[start] == '-' && body[start + 1] == '-') return;   // closing delimiter
            int nextRel = body[start..].IndexOf(delim);
            var section = nextRel < 0 ? body[start..] : body.Slice(start, nextRel);
            pos = nextRel < 0 ? -1 : start + nextRel;
            int headEnd = section.IndexOf("\r\n\r\n"u8);
            int skip = 4;
            if (headEnd < 0) { headEnd = section.IndexOf("\n\n"u8); skip = 2; }
            if (headEnd < 0) continue;
            var head = Encoding.UTF8.GetString(section[..headEnd]);
            var content = section[(headEnd + skip)..];
            if (content.EndsWith("\r\n"u8)) content = content[..^2];
            else if (content.EndsWith("\n"u8)) content = content[..^1];
            string? name = null, filename = null, type = null;
            foreach (var line in head.Split('\n'))
            {
                var l = line.Trim();
                if (l.StartsWith("content-disposition:", StringComparison.OrdinalIgnoreCase))
                {
                    name = Param(l, "name");
                    filename = Param(l, "filename");
                }
                else if (l.StartsWith("content-type:", StringComparison.OrdinalIgnoreCase)) type = l[13..].Trim().ToLowerInvariant();
            }
            if (name is null) continue;
            if (filename is not null && type is not null && !type.StartsWith("text/", StringComparison.Ordinal) && !type.Contains("json", StringComparison.Ordinal)
                && !type.Contains("xml", StringComparison.Ordinal)) continue;   // an uploaded file
            if (!LooksTextual(content)) continue;
            int first = content.IndexOfAnyExcept(" \t\r\n"u8);
            if (type?.Contains("json", StringComparison.Ordinal) == true || first >= 0 && content[first] is (byte)'{' or (byte)'[' && filename is null)
            {
                int mark = s.Mark;
                if (Json(content, false, part, name, s)) continue;
                s.Rollback(mark);
            }
            var text = Encoding.UTF8.GetString(content[..Math.Min(content.Length, s.Options.MaxValueChars)]);
            if (filename is not null)
                FreeText.Scan(text, new FieldCtx(part, name, ValueSource.Multipart), s);
            else
                ValueClassifier.Classify(new FieldCtx(part, name, ValueSource.Multipart) { Key = name, KeyFlags = KeyClassifier.Classify(name) }, text, false, s);
        }
    }

    private static string? Param(string header, string param)
    {
        int i = 0;
        while (true)
        {
            i = header.IndexOf(param + "=", i, StringComparison.OrdinalIgnoreCase);
            if (i < 0) return null;
            bool boundary = i > 0 && (header[i - 1] == ';' || header[i - 1] == ' ');
            i += param.Length + 1;
            if (!boundary) continue;
            if (i < header.Length && header[i] == '"')
            {
                int end = header.IndexOf('"', i + 1);
                return end < 0 ? header[(i + 1)..] : header[(i + 1)..end];
            }
            int semi = header.IndexOf(';', i);
            return (semi < 0 ? header[i..] : header[i..semi]).Trim();
        }
    }
}
