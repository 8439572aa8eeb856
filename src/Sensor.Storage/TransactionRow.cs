using Sensor.Core;
using Sensor.Http;

namespace Sensor.Storage;

/// <summary>
/// A transaction flattened to column values. Built on the flow workers (in parallel) so the single
/// storage thread, the throughput wall, only appends.
/// </summary>
public sealed class TransactionRow
{
    public required string Conn;
    public DateTime TsRequest;
    public DateTime? TsResponse;
    public required string Method;
    public string? Host;
    public required string Uri;
    public required string Path;
    public string? Query;
    public int? Status;
    public string? ReqHeaders, RespHeaders;
    public string? ReqContentType, RespContentType;
    public long ReqBodyLen, RespBodyLen;
    public string? ReqBodySha256, RespBodySha256;
    public bool Complete;
    public string? Flags;
    public required string ClientIp, ServerIp;
    public int ClientPort, ServerPort;
    public string? HttpVersion;

    public static TransactionRow From(HttpTransaction t)
    {
        var (path, query) = UriParts.Split(t.Request.Target, t.Request.Method);
        string flags = t.FlagsText();
        return new TransactionRow
        {
            Conn = t.Conn,
            TsRequest = Timestamp.ToDateTime(t.TsRequest),
            TsResponse = t.TsResponse is long r ? Timestamp.ToDateTime(r) : null,
            Method = t.Request.Method,
            Host = t.Request.Host,
            Uri = t.Request.Target,
            Path = path,
            Query = query,
            Status = t.Response?.Status,
            ReqHeaders = t.Request.RawHeaders,
            RespHeaders = t.Response?.RawHeaders,
            ReqContentType = t.Request.ContentType,
            RespContentType = t.Response?.ContentType,
            ReqBodyLen = t.RequestBody.Length,
            RespBodyLen = t.ResponseBody.Length,
            ReqBodySha256 = t.RequestBody.Sha256Hex,
            RespBodySha256 = t.ResponseBody.Sha256Hex,
            Complete = t.Complete,
            Flags = flags.Length == 0 ? null : flags,
            ClientIp = t.ClientIpText,
            ServerIp = t.ServerIpText,
            ClientPort = t.ClientPort,
            ServerPort = t.ServerPort,
            HttpVersion = t.Request.Version,
        };
    }
}
