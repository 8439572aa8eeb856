using System.Text;
using Sensor.Analysis.Rules;
using Sensor.Analysis.Sensitive;
using Sensor.Http;

namespace Sensor.Analysis.Tests.Rules;

public class RedactorTests
{
    private static HttpHead Request(string headers)
    {
        var raw = Encoding.UTF8.GetBytes("GET /a HTTP/1.1\r\n" + headers + "\r\n");
        Assert.Equal(HttpHeadParser.Result.Ok, HttpHeadParser.TryParse(raw, true, 65536, out var head, out _));
        return head!;
    }

    [Fact]
    public void Credentials_are_masked_and_everything_else_stays_as_sent()
    {
        var head = Request("Host: a\r\nAuthorization: Bearer s3cr3tT0kenValue42xyz\r\nAccept:  text/plain\r\nCookie: sid=abcdef123456; theme=dark\r\n");
        var redacted = Encoding.UTF8.GetString(Redactor.Headers(head, [], request: true)!);
        Assert.DoesNotContain("s3cr3tT0kenValue42xyz", redacted);
        Assert.DoesNotContain("abcdef123456", redacted);
        Assert.StartsWith("Host: a\r\nAuthorization: Bearer ", redacted);
        // Untouched fields keep their bytes (two spaces here) and the section keeps its line ends.
        Assert.Contains("\r\nAccept:  text/plain\r\nCookie: sid=", redacted);
        Assert.EndsWith("\r\n", redacted);
    }

    [Fact]
    public void Nothing_to_mask_gives_null()
    {
        var head = Request("Host: a\r\nAccept: */*\r\n");
        Assert.Null(Redactor.Headers(head, [], request: true));
    }

    [Fact]
    public void A_detected_value_in_an_ordinary_header_is_replaced_there_only()
    {
        var head = Request("Host: a\r\nX-User-Email: jane.doe@example.org\r\nX-Note: jane.doe@example.org\r\n");
        var hit = new SensitiveHit(SensitiveParts.ReqHeader, "x-user-email", SensitiveTypes.Email, "jane.doe@example.org");
        var redacted = Encoding.UTF8.GetString(Redactor.Headers(head, [hit], request: true)!);
        Assert.StartsWith("Host: a\r\nX-User-Email: ", redacted);
        Assert.DoesNotContain("jane.doe@example.org\r\nX-Note", redacted);
        Assert.EndsWith("X-Note: jane.doe@example.org\r\n", redacted);   // reported at its own location, not this one
    }
}
