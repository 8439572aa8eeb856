using System.Security.Cryptography;
using System.Text;
using Sensor.Analysis.Inventory;
using Sensor.Analysis.Sensitive;
using Sensor.Core;
using Sensor.Http;

namespace Sensor.Analysis.Rules;

/// <summary>
/// Finds personal data and secrets in every part of each transaction and tags the transaction with them,
/// redacted on the spot: a masked preview and an HMAC-SHA256 of the value under the installation key. The
/// raw value never leaves this method; storage writes the tags (sensitive_items), rules aggregate them.
/// </summary>
public sealed class SensitiveDataAnalyzerFactory(byte[] key, CounterRegistry? counters = null) : IHttpAnalyzerFactory
{
    private readonly Counter _items = (counters ?? new CounterRegistry()).Create("sensitive", "items", "sensitive items found (PII and secrets)");
    private readonly Counter _bodiesSkipped = (counters ?? new CounterRegistry()).Create("sensitive", "bodies_sampled_out", "transactions whose bodies were not scanned (busy endpoint, see sampling)");
    private readonly Counter _transactions = (counters ?? new CounterRegistry()).Create("sensitive", "transactions", "transactions carrying at least one sensitive item");
    public string Name => "sensitive";

    public IHttpAnalyzer Create(int workerId) => new Analyzer(this);

    /// <summary>HMAC-SHA256 of type and value, hex, under the installation key: equal values hash alike, nothing can be read back.</summary>
    public static string Hash(byte[] key, string type, string value)
    {
        Span<byte> mac = stackalloc byte[32];
        var bytes = Encoding.UTF8.GetBytes(type + "\u001f" + value);
        HMACSHA256.HashData(key, bytes, mac);
        return Convert.ToHexStringLower(mac[..16]);
    }

    private sealed class Analyzer(SensitiveDataAnalyzerFactory f) : IHttpAnalyzer
    {
        private readonly List<SensitiveHit> _hits = [];
        private readonly ValueMemo<(string, UInt128), (string Preview, string Hmac)> _redacted = new(2 << 20);
        private readonly Dictionary<EndpointRef, BodySampling> _sampling = new(ReferenceEqualityComparer.Instance);
        private static readonly SensitiveScanOptions NoBodies = SensitiveScanOptions.Default with { Bodies = false };

        /// <summary>
        /// Bodies of an endpoint are scanned in full for its first 64 requests, then one in 16 (one in 256 past
        /// 128 scanned, some thousand requests in), and again in full for 64 requests (4 once past 128 scanned) after
        /// a body showed a new kind of item at a new place. Paths, queries, headers and cookies are scanned on every
        /// request: they are what storage redacts.
        /// </summary>
        private sealed class BodySampling
        {
            public long Seen, Scanned;
            public int Boost;
            public readonly HashSet<(string, string, string)> Known = [];
            public bool Next()
            {
                Seen++;
                if (Boost > 0) { Boost--; return true; }
                long every = Scanned < 64 ? 1 : Scanned < 128 ? 16 : 256;
                return Seen % every == 0;
            }
        }

        public void OnTransaction(HttpTransaction t)
        {
            _hits.Clear();
            var key = ShapeKeys.Of(t, t.Path);
            if (!_sampling.TryGetValue(key, out var sampling))
            {
                if (_sampling.Count >= 20_000) _sampling.Clear();
                _sampling[key] = sampling = new BodySampling();
            }
            bool bodies = sampling.Next();
            TransactionScanner.Scan(t, _hits, bodies ? SensitiveScanOptions.Default : NoBodies);
            if (bodies)
            {
                sampling.Scanned++;
                foreach (var h in _hits)
                    if (sampling.Known.Count < 512 && sampling.Known.Add((h.Part, Place(h.Location), h.Type)) && sampling.Scanned > 1) sampling.Boost = sampling.Scanned < 128 ? 64 : 4;
            }
            else f._bodiesSkipped.Inc();
            // What storage writes as sent is redacted here, while the raw values are at hand.
            t.RedactedTarget = Redactor.Target(t, _hits);
            t.RedactedRequestHeaders = Redactor.Headers(t.Request, _hits, request: true);
            if (t.Response != null) t.RedactedResponseHeaders = Redactor.Headers(t.Response, _hits, request: false);
            if (_hits.Count == 0) return;
            var tags = t.Sensitive ??= new List<SensitiveTag>(_hits.Count);
            foreach (var h in _hits)
            {
                // The same values come back request after request (a client's token, a user's email): masked and hashed once.
                var valueKey = (h.Type, Digest.Of(h.Value));
                if (!_redacted.TryGet(valueKey, out var r))
                {
                    r = (Masking.Preview(h.Type, h.Value), Hash(f.Key, h.Type, h.Value));
                    _redacted.Add(valueKey, r, 8 + r.Preview.Length + r.Hmac.Length);
                }
                tags.Add(new SensitiveTag(h.Part, h.Location, h.Type, r.Preview, r.Hmac));
            }
            _hits.Clear();   // drop the raw values now
            f._items.Add(tags.Count);
            f._transactions.Inc();
        }

        public void Complete() { }

        /// <summary>
        /// A location with its array indexes dropped ($.data[7].email → $.data[].email): a list one item longer
        /// than before is the same place, not a new one worth 64 full scans.
        /// </summary>
        private static string Place(string location)
        {
            int open = location.IndexOf('[');
            if (open < 0) return location;
            var sb = new StringBuilder(location.Length);
            int from = 0;
            for (; open >= 0; open = location.IndexOf('[', from))
            {
                int close = open + 1;
                while (close < location.Length && char.IsAsciiDigit(location[close])) close++;
                if (close == open + 1 || close >= location.Length || location[close] != ']') { sb.Append(location, from, close - from); from = close; continue; }
                sb.Append(location, from, open + 1 - from).Append(']');
                from = close + 1;
            }
            return sb.Append(location, from, location.Length - from).ToString();
        }
    }

    private byte[] Key => key;
}
