using System.Text;
using Sensor.Analysis.Sensitive;
using static Sensor.Analysis.Tests.Sensitive.SensitiveTestSupport;
using T = Sensor.Analysis.Sensitive.SensitiveTypes;

namespace Sensor.Analysis.Tests.Sensitive;

/// <summary>Per detector: a true positive and the near miss it must not report.</summary>
public class DetectorTests
{
    private const string Resp = SensitiveParts.RespBody, Req = SensitiveParts.ReqBody, H = SensitiveParts.ReqHeader;

    // ---------------- provider tokens ----------------

    private static string Crc62(string body)
    {
        uint crc = 0xFFFFFFFF;
        foreach (var ch in body)
        {
            crc ^= (byte)ch;
            for (int k = 0; k < 8; k++) crc = (crc & 1) != 0 ? 0xEDB88320 ^ (crc >> 1) : crc >> 1;
        }
        crc ^= 0xFFFFFFFF;
        const string A = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
        var sb = new StringBuilder();
        for (ulong v = crc; v > 0; v /= 62) sb.Insert(0, A[(int)(v % 62)]);
        return sb.ToString().PadLeft(6, '0');
    }

    private const string Body30 = "Zq8LmT2vXw9KpR4sNb7YhC1dFg6JtE";

    [Fact]
    public void GitHub_token_needs_its_crc32_checksum()
    {
        var good = "ghp_" + Body30 + Crc62(Body30);
        Has(ResponseJson($$"""{"github":"{{good}}"}"""), Resp, "$.github", T.GitHubToken);
        var bad = "ghp_" + Body30 + (Crc62(Body30) == "000000" ? "000001" : "000000");
        None(ResponseJson($$"""{"github":"{{bad}}"}"""));
        Has(Header("Authorization", "token gho_" + Body30 + Crc62(Body30)), H, "authorization", T.GitHubToken);
        Assert.Equal(T.Example, ResponseJson("""{"t":"ghp_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"}""").Single().Type);
    }

    [Fact]
    public void Npm_token_uses_the_same_checksum()
    {
        Has(RequestJson($$"""{"registry_token":"npm_{{Body30}}{{Crc62(Body30)}}"}"""), Req, "$.registry_token", T.NpmToken);
        None(RequestJson($$"""{"registry_token":"npm_{{Body30}}abcdef"}"""));
    }

    [Fact]
    public void Fine_grained_GitHub_GitLab_Slack_Google_SendGrid_and_Twilio_by_shape()
    {
        var hits = ResponseJson("""
            {"a":"github_pat_11ABCDEFG0123456789abc_QwErTyUiOpAsDfGhJkLzXcVbNm0123456789QwErTyUiOpAsDfGhJkLzX",
             "b":"glpat-Ab3dE5gH7jK9mN1pQ3sT","c":"xoxb-1234567890123-9876543210987-AbCdEfGhIjKlMnOpQrStUvWx",
             "d":"AIzaSyB3xQ7_k9mN2pR5tV8wY1zA4cE6gI0jL2n","e":"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",
             "f":"SKa1b2c3d4e5f60718293a4b5c6d7e8f90"}
            """);
        Has(hits, Resp, "$.a", T.GitHubToken);
        Has(hits, Resp, "$.b", T.GitLabToken);
        Has(hits, Resp, "$.c", T.SlackToken);
        Has(hits, Resp, "$.d", T.GoogleApiKey);
        Has(hits, Resp, "$.e", T.SendGridKey);
        Has(hits, Resp, "$.f", T.TwilioKey);
        // One character short of each format, the Slack docs token, and a Twilio placeholder.
        var near = ResponseJson("""
            {"b":"glpat-Ab3dE5gH7jK9mN1pQ3s","c":"xoxb-not-a-real-token-this-will-not-work","d":"AIzaSyB3xQ7_k9mN2pR5tV8wY1zA4cE6gI0jL2",
             "e":"SG.Ab3dE5gH7jK9mN1pQ3sT5.Xy7zA9bC1dE3fG5hI7jK9lM1nO3pQ5rS7tU9vW1xY3z","f":"SKxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"}
            """);
        None(near);
    }

    [Fact]
    public void Stripe_secret_and_restricted_keys_but_not_publishable_or_test_keys()
    {
        var hits = RequestJson("""{"a":"sk_live_51HqLyjWDarjtT1zdp7dc4eC39","b":"rk_live_51HqLyjWDarjtT1zdp7dc4eC39","c":"pk_live_51HqLyjWDarjtT1zdp7dc4eC39","d":"sk_test_51HqLyjWDarjtT1zdp7dc4eC39"}""");
        Has(hits, Req, "$.a", T.StripeKey);
        Has(hits, Req, "$.b", T.StripeKey);
        NoneAt(hits, "$.c");
        NoneAt(hits, "$.d");
        Assert.Equal(T.Example, ResponseJson("""{"k":"sk_test_4eC39HqLyjWDarjtT1zdp7dc"}""").Single().Type);   // the Stripe docs key
    }

    [Fact]
    public void OpenAI_keys_by_marker_or_project_prefix()
    {
        var hits = RequestJson("""{"a":"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","b":"sk-proj-Ab3dE5gH7jK9mN1pQ3sT5vXy7zA9bC1dE3fG5hI7jK9lM1nO3pQ5rS7tU9v"}""");
        Has(hits, Req, "$.a", T.OpenAiKey);
        Has(hits, Req, "$.b", T.OpenAiKey);
        None(RequestJson("""{"a":"sk-Ab3dE5gH7jK9mN1pQ3sTXy7zA9bC1dE3fG5hI7jK9lM"}"""));
    }

    [Fact]
    public void Aws_access_key_and_its_paired_secret_but_documented_examples_are_examples()
    {
        var hits = ResponseJson("""{"aws":{"key_id":"AKIAZ7QX4WB2MN5TKL3D","secret":"p9Q+xR3vT7wY1zA5bC8dE2fG6hJ0kL4mN/oP7qS1"}}""");
        Has(hits, Resp, "$.aws.key_id", T.AwsAccessKey);
        Has(hits, Resp, "$.aws.secret", T.AwsSecretKey);
        var docs = ResponseJson("""{"id":"AKIAIOSFODNN7EXAMPLE","aws_secret_access_key":"wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"}""");
        Assert.All(docs, h => Assert.Equal(T.Example, h.Type));
        // A random 40-character string with no AWS context is not an AWS secret.
        None(ResponseJson("""{"blob":"p9Q+xR3vT7wY1zA5bC8dE2fG6hJ0kL4mN/oP7qS1"}"""));
    }

    [Fact]
    public void Aws_sigv4_authorization_yields_the_access_key_id()
    {
        var hits = Header("Authorization", "AWS4-HMAC-SHA256 Credential=AKIAZ7QX4WB2MN5TKL3D/20241104/eu-west-1/s3/aws4_request, SignedHeaders=host;x-amz-date, Signature=" + new string('a', 64));
        var h = Assert.Single(hits);
        Assert.Equal((H, "authorization", T.AwsAccessKey, "AKIAZ7QX4WB2MN5TKL3D"), (h.Part, h.Location, h.Type, h.Value));
    }

    // ---------------- keys, JWTs, auth headers ----------------

    private static string B64Url(string s) => Convert.ToBase64String(Encoding.UTF8.GetBytes(s)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
    private static readonly string Jwt = B64Url("""{"alg":"RS256","typ":"JWT"}""") + "." + B64Url("""{"sub":"u-81723","exp":1893456000}""") + ".c2lnbmF0dXJlLWJ5dGVzLWhlcmUtMTIzNDU2Nzg5MA";

    [Fact]
    public void Jwt_needs_header_and_payload_that_decode_to_json_objects()
    {
        Has(Header("Authorization", "Bearer " + Jwt), H, "authorization", T.Jwt);
        Has(Scan(new SensitiveTestSupport.Req("GET", "/reset?token=" + Jwt)), SensitiveParts.Query, "token", T.Jwt);
        Has(Header("Cookie", "theme=dark; access_token=" + Jwt), SensitiveParts.ReqCookie, "access_token", T.Jwt);
        var fake = "eyJhbGciOiJIUzI1NiJ9." + B64Url("not json at all, just text") + ".c2ln";
        None(ResponseJson($$"""{"token_like":"{{fake}}"}"""));
        None(Header("Authorization", "Bearer " + fake));   // JWT-shaped, does not decode: not a JWT, not an opaque key either
        const string jwtIo = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c";
        Assert.Equal(T.Example, ResponseJson($$"""{"sample":"{{jwtIo}}"}""").Single().Type);
    }

    [Fact]
    public void Prose_without_at_equals_or_colon_is_still_read_for_tokens()
    {
        // Such text is only read for words as long as a token: the tokens, JWTs and "Bearer <key>" in it are still found.
        var token = "ghp_" + Body30 + Crc62(Body30);
        Has(RequestJson($$"""{"note":"please rotate {{token}} before friday, the old one leaked"}"""), Req, "$.note", T.GitHubToken);
        Has(RequestJson($$"""{"note":"send it with Bearer Xq3vT8mZ1pL6rW9sK2dF5gH0jN4bC7yA in the header"}"""), Req, "$.note", T.ApiKey);
        Has(RequestJson($$"""{"note":"the session was {{Jwt}} yesterday"}"""), Req, "$.note", T.Jwt);
        None(RequestJson("""{"note":"lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor incididunt"}"""));
    }

    [Fact]
    public void Jwt_claims_may_start_with_json_whitespace()
    {
        // The claims part is told from its first base64url character before decoding: '{' and JSON whitespace.
        foreach (var lead in new[] { "", " ", "\n", "\t", "\r\n" })
        {
            var token = B64Url("""{"alg":"HS256"}""") + "." + B64Url(lead + """{"sub":"u-1","exp":1893456000}""") + ".c2lnbmF0dXJlLWJ5dGVz";
            Has(Header("Authorization", "Bearer " + token), H, "authorization", T.Jwt);
        }
        Assert.False(Validators.B64MayBeJsonObject(B64Url("[1,2]")));
        Assert.False(Validators.B64MayBeJsonObject(""));
    }

    [Fact]
    public void Short_numeric_path_segments_under_ordinary_names_hold_nothing()
    {
        // The scanner skips short numbers after names outside ShortDigitKeys without judging them: judged, they find nothing.
        string[] names = ["users", "orders", "items", "v1", "api", "products", "accounts", "customers", "page", "files", "tenants", "id", "code",
            "zip", "postcode", "number", "year", "month", "day", "amount", "qty", "version", "pin", "dob", "birthdate", "phone", "card", "ssn", "password", "secret", "token"];
        string[] values = ["0", "7", "42", "123", "1234", "12345", "120590", "999999", "010190"];
        int skipped = 0;
        foreach (var name in names)
        {
            if ((KeyClassifier.Classify(name) & TransactionScanner.ShortDigitKeys) != 0) continue;
            skipped++;
            foreach (var v in values)
            {
                var hits = new List<SensitiveHit>();
                var s = new ScanState(SensitiveScanOptions.Default, hits, 2026);
                ValueClassifier.Classify(new FieldCtx(SensitiveParts.Path, "1", ValueSource.Path) { Key = name, KeyFlags = KeyClassifier.Classify(name) }, v, false, s);
                Assert.True(hits.Count == 0, $"/{name}/{v}: {string.Join(", ", hits.Select(h => h.Type))}");
            }
        }
        Assert.True(skipped > 20);
        // And through the scanner: ids at several depths, the names after them judged alike.
        None(Scan(new SensitiveTestSupport.Req("GET", "/api/v1/users/123/orders/4567/items/89")));
    }

    [Fact]
    public void Private_key_blocks_but_not_public_keys_or_certificates()
    {
        var pem = "-----BEGIN EC PRIVATE KEY-----\\nMHcCAQEEIB1Vea4R7qBhmRQLAqssLbMmsIGSWn+oBBJ1Bq2+3sTDoAoGCCqGSM49\\nAwEHoUQDQgAEIRoCBsyFXJAxmSENBC9eVVEZiFS7GHGC6ckWOhDeb5QZpPBMUabc\\n-----END EC PRIVATE KEY-----\\n";
        var hit = RequestJson($$$"""{"deploy":{"pem":"{{{pem}}}"}}""").Single();
        Assert.Equal((Req, "$.deploy.pem", T.PrivateKey), (hit.Part, hit.Location, hit.Type));
        Assert.StartsWith("-----BEGIN EC PRIVATE KEY-----", hit.Value);
        None(RequestJson("""{"public_key":"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIEMaNdsEhTrTpIFjQPAn8iFeuVQT0IQcpoCl deploy@ci","cert":"-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIUabcdefghijklmnopqrstuvwxyz0123456789\n-----END CERTIFICATE-----"}"""));
    }

    [Fact]
    public void Basic_auth_is_the_base64_credential()
    {
        var cred = Convert.ToBase64String(Encoding.UTF8.GetBytes("svc-reports:Qm7!vX2#pL9z"));
        var h = Assert.Single(Header("Authorization", "Basic " + cred));
        Assert.Equal((T.BasicAuth, cred), (h.Type, h.Value));
        None(Header("Authorization", "Basic not~base64!"));
    }

    [Fact]
    public void Opaque_bearer_and_named_keys_are_api_keys_placeholders_are_not()
    {
        Has(Header("Authorization", "Bearer Xq3vT8mZ1pL6rW9sK2dF5gH0jN4bC7yA"), H, "authorization", T.ApiKey);
        Has(Header("X-Goog-Api-Key", "Xq3vT8mZ1pL6rW9sK2dF5gH0jN4bC7yA"), H, "x-goog-api-key", T.ApiKey);
        Has(Scan(new SensitiveTestSupport.Req("GET", "/geo?q=x&key=Xq3vT8mZ1pL6rW9sK2dF5gH0jN4bC7yA")), SensitiveParts.Query, "key", T.ApiKey);
        Has(ResponseJson("""{"integration":{"client_secret":"Xq3vT8mZ1pL6rW9sK2dF5gH0jN4bC7yA"}}"""), Resp, "$.integration.client_secret", T.ApiKey);
        None(Header("Authorization", "Bearer <token>"));
        None(Header("X-Api-Key", "your-api-key-here"));
        None(Header("X-Request-Id", "Xq3vT8mZ1pL6rW9sK2dF5gH0jN4bC7yA"));
        None(Header("X-Hub-Signature-256", "sha256=Xq3vT8mZ1pL6rW9sK2dF5gH0jN4bC7yA"));
        None(ResponseJson("""{"api_key":"${API_KEY}","secret":"********","token":"npm_…Xk2d","token_preview":"Xq3vT8mZ…","prefix":"ak_live_…","key_id":"Xq3vT8mZ1pL6rW9sK2dF5gH0jN4bC7yA","refresh_token":"Xq3vT8mZ1pL6rW9sK2dF5gH0jN4bC7yA"}"""));
    }

    [Fact]
    public void Passwords_by_name_in_any_language_but_not_placeholders_hashes_or_policies()
    {
        var hits = RequestJson("""{"contraseña":"Sol&Sombra2024!","user":{"passwort":"Zugspitze_1962"}}""");
        Has(hits, Req, "$['contraseña']", T.Password);
        Has(hits, Req, "$.user.passwort", T.Password);
        Has(Scan(new SensitiveTestSupport.Req("POST", "/login") { Body = "user=ana&password=kT9%23mQ2vLp", ContentType = "application/x-www-form-urlencoded" }), Req, "password", T.Password);
        None(RequestJson("""{"password":"changeme","admin_password":"<password>","smtp_password":"${SMTP_PASS}","password_hash":"$2b$12$abcdefghijklmnopqrstuuv0123456789abcdefghijklmnopqrs","password_policy":"min 12 chars","password":"********"}"""));
    }

    [Fact]
    public void Connection_strings_only_with_a_password()
    {
        var hits = ResponseJson("""{"db":"postgresql://app:Xk29mZq7pL@db.internal:5432/app","sql":"Server=tcp:sql1,1433;Initial Catalog=App;User ID=app;Password=Xk29!mZq7pL;Encrypt=True;"}""");
        Has(hits, Resp, "$.db", T.ConnectionString);
        Has(hits, Resp, "$.sql", T.ConnectionString);
        None(ResponseJson("""{"replica":"postgres://replica.internal:5432/app","cache":"redis://cache:6379/0","sql":"Server=sql1;Database=App;Password=changeme;"}"""));
        // A provider token used as the password is reported as that token (the most specific type).
        var git = ResponseJson("""{"remote":"https://oauth2:glpat-Ab3dE5gH7jK9mN1pQ3sT@gitlab.example.org/x.git"}""").Single();
        Assert.Equal((T.GitLabToken, "glpat-Ab3dE5gH7jK9mN1pQ3sT"), (git.Type, git.Value));
    }

    // ---------------- personal data ----------------

    [Fact]
    public void Email_anywhere_but_not_masked_uri_userinfo_or_git_remotes()
    {
        Has(Scan(new SensitiveTestSupport.Req("GET", "/api/v1/users/by-email/ana.lopez%40correo.es/prefs")), SensitiveParts.Path, "4", T.Email);
        Has(Scan(new SensitiveTestSupport.Req("GET", "/search?customer=ana.lopez%40correo.es")), SensitiveParts.Query, "customer", T.Email);
        Has(RequestJson("""{"nota":"Escribir a ana.lopez@correo.es mañana."}"""), Req, "$.nota", T.Email);
        Has(ResponseJson("""{"html":"<a href=\"mailto:ventas@tienda.es\">Escríbenos</a>"}"""), Resp, "$.html", T.Email);
        None(ResponseJson("""{"masked":"a***@correo.es","remote":"git@github.com:acme/app.git","icon":"logo@2x.png","mirror":"ftp://anonymous@mirror.correo.es/pub"}"""));
        Assert.Equal(T.Example, ResponseJson("""{"contact":"support@example.com"}""").Single().Type);   // documentation domain
    }

    [Fact]
    public void Phones_by_libphonenumber_with_context()
    {
        var hits = ResponseJson("""{"telefono":"612 38 60 36","mobile":"+49 151 23456789","contact":{"phone":{"number":"020 7946 0958"}},"note":"Llámame al 0664 4563410, gracias"}""");
        Has(hits, Resp, "$.telefono", T.Phone);
        Has(hits, Resp, "$.mobile", T.Phone);
        Has(hits, Resp, "$.contact.phone.number", T.Phone);
        Has(hits, Resp, "$.note", T.Phone);
        // Ids, timestamps and order references are not phone numbers.
        None(ResponseJson("""{"order":"4155550123","ts":"1731035756","ref":"ORD-2024-61050","at":"2024-10-28","note":"Order 2024-11-08 shipped, 3 items"}"""));
    }

    [Fact]
    public void Phone_context_stays_within_its_sentence()
    {
        var hits = RequestJson("""{"mensaje":"Ref 612 38 60 36. Tel. de la tienda: 912 34 56 78"}""");
        var h = Assert.Single(hits);
        Assert.Equal((T.Phone, "912 34 56 78"), (h.Type, h.Value));
    }

    [Fact]
    public void Cards_pass_luhn_and_an_issuer_range_as_strings_or_numbers()
    {
        var hits = RequestJson("""{"payment":{"card":{"number":"3792 451959 26484"}},"pan":5256007128430886,"cc":"2223 7986 8307 8486"}""");
        Has(hits, Req, "$.payment.card.number", T.CreditCard);
        Has(hits, Req, "$.pan", T.CreditCard);
        Assert.DoesNotContain(hits, h => h.Location == "$.cc" && h.Type == T.CreditCard);   // fails Luhn
        None(ResponseJson("""{"card":{"masked":"**** **** **** 4242","last4":"4242","bin":"424242"},"order_number":"4532015112830366","receipt":"4917761465334942"}"""));
        Assert.Equal(T.Example, RequestJson("""{"card":{"number":"4242424242424242"}}""").Single().Type);   // documented test card
    }

    [Fact]
    public void Iban_by_mod97_compact_or_grouped()
    {
        var hits = ResponseJson("""{"iban":"ES91 2100 0418 4502 0005 1332","payee":{"account":"IT60X0542811101000000123456"}}""");
        Has(hits, Resp, "$.iban", T.Iban);
        Has(hits, Resp, "$.payee.account", T.Iban);
        None(ResponseJson("""{"iban":"ES92 2100 0418 4502 0005 1332","masked":"ES91 **** **** 1332","bic":"CAIXESBBXXX"}"""));
    }

    [Fact]
    public void Ssn_in_valid_ranges_with_its_name_or_context()
    {
        Has(RequestJson("""{"applicant":{"ssn":"219-45-6780"}}"""), Req, "$.applicant.ssn", T.Ssn);
        Has(RequestJson("""{"note":"SSN 219-45-6780 verified"}"""), Req, "$.note", T.Ssn);
        None(RequestJson("""{"ssn":"666-45-6780","ssn_masked":"***-**-6780","ein":"12-3456789","ref":"219-45-6780"}"""));
    }

    [Fact]
    public void Birth_dates_in_several_formats_only_under_birth_names()
    {
        var hits = ResponseJson("""{"dob":"11/17/1985","fecha_de_nacimiento":"17.11.1985","birthDate":"17 March 1985","geburtsdatum":"1985-11-17"}""");
        foreach (var loc in new[] { "$.dob", "$.fecha_de_nacimiento", "$.birthDate", "$.geburtsdatum" }) Has(hits, Resp, loc, T.DateOfBirth);
        None(ResponseJson("""{"created_at":"1985-11-17","dob":"not given","birth_place":"Sevilla"}"""));
    }

    [Fact]
    public void Person_names_by_key_in_several_languages_and_by_context_for_a_bare_name()
    {
        var hits = ResponseJson("""
            {"cliente":{"nombre":"Lucía","apellidos":"García Fernández"},"vorname":"Jürgen","nachname":"Müller",
             "card":{"name":"ANA LOPEZ"},"contact":{"name":"Seán O'Brien","email":"sean@correo.ie"},"account_holder":"Marie van der Berg"}
            """);
        Has(hits, Resp, "$.cliente.nombre", T.PersonName);
        Has(hits, Resp, "$.cliente.apellidos", T.PersonName);
        Has(hits, Resp, "$.vorname", T.PersonName);
        Has(hits, Resp, "$.nachname", T.PersonName);
        Has(hits, Resp, "$.card.name", T.PersonName);
        Has(hits, Resp, "$.contact.name", T.PersonName);
        Has(hits, Resp, "$.account_holder", T.PersonName);
        Has(ResponseJson("""{"user":{"id":5,"name":"José García"}}"""), Resp, "$.user.name", T.PersonName);
        // Products, companies and other named things.
        None(ResponseJson("""
            {"items":[{"sku":"SKU-1","name":"Grace Hopper Biography","price":12.5}],"company":{"name":"Acme Logistics GmbH"},
             "integration":{"name":"Slack Alerts","enabled":true},"user":{"name":"admin"},"bank_name":"Deutsche Bank","file_name":"John Smith CV.pdf"}
            """));
    }

    [Fact]
    public void Addresses_as_a_street_line_or_a_whole_address()
    {
        var hits = ResponseJson("""{"direccion":"Calle Mayor 12, 28013 Madrid","shipping":{"address":{"line1":"12 rue de la Paix","city":"Paris","zip":"75002"}}}""");
        Has(hits, Resp, "$.direccion", T.Address);
        Has(hits, Resp, "$.shipping.address.line1", T.Address);
        None(ResponseJson("""{"email_address":"x","ip_address":"10.0.0.1","wallet_address":"0x742d35Cc6634C0532925a3b844Bc454e4438f44e","address":{"city":"Paris","zip":"75002","country":"FR"}}"""));
    }

    [Fact]
    public void Public_client_ips_in_bodies_not_private_upstreams_or_versions()
    {
        var hits = ResponseJson("""{"events":[{"client_ip":"81.2.69.160"},{"ipv6":"2a00:1450:4001:81b::200e"}]}""");
        Has(hits, Resp, "$.events[0].client_ip", T.IpAddress);
        Has(hits, Resp, "$.events[1].ipv6", T.IpAddress);
        None(ResponseJson("""{"ip":"10.0.3.4","upstream_ip":"81.2.69.160","version":"81.2.69.160","ua":"Mozilla/5.0 Chrome/130.0.0.0","addr":"192.168.1.1"}"""));
    }

    // ---------------- placements ----------------

    [Fact]
    public void Form_and_multipart_fields_are_located_by_name()
    {
        var form = Scan(new SensitiveTestSupport.Req("POST", "/signup")
        {
            Body = "user%5Bemail%5D=ana%40correo.es&card%5Bnumber%5D=5256093013728733&remember=on",
            ContentType = "application/x-www-form-urlencoded",
        });
        Has(form, Req, "user[email]", T.Email);
        Has(form, Req, "card[number]", T.CreditCard);

        const string b = "XyZ123";
        var body = $"--{b}\r\nContent-Disposition: form-data; name=\"email\"\r\n\r\nana@correo.es\r\n" +
                   $"--{b}\r\nContent-Disposition: form-data; name=\"meta\"\r\nContent-Type: application/json\r\n\r\n{{\"ssn\":\"219-45-6780\"}}\r\n" +
                   $"--{b}\r\nContent-Disposition: form-data; name=\"cv\"; filename=\"cv.pdf\"\r\nContent-Type: application/pdf\r\n\r\n%PDF-1.4 ana@correo.es\r\n--{b}--\r\n";
        var mp = Scan(new SensitiveTestSupport.Req("POST", "/apply") { Body = body, ContentType = "multipart/form-data; boundary=" + b });
        Has(mp, Req, "email", T.Email);
        Has(mp, Req, "meta", T.Ssn);
        Assert.DoesNotContain(mp, h => h.Location == "cv");   // uploaded files are not scanned
    }

    [Fact]
    public void Json_paths_bracket_keys_that_are_not_identifiers_and_index_arrays()
    {
        var hits = ResponseJson("""[{"e-mail":"ana@correo.es","tags":["x","ana@correo.es"]}]""");
        Has(hits, Resp, "$[0]['e-mail']", T.Email);
        Has(hits, Resp, "$[0].tags[1]", T.Email);
    }

    [Fact]
    public void Invalid_json_falls_back_to_free_text()
    {
        var hits = ResponseJson("""{"broken": "ana@correo.es", """);
        Has(hits, Resp, "$", T.Email);
    }

    [Fact]
    public void Set_cookie_values_by_format_session_cookies_are_not_reported()
    {
        var hits = Scan(new SensitiveTestSupport.Req("GET", "/x") { RespHeaders = [("Set-Cookie", "session=Xq3vT8mZ1pL6rW9sK2dF5gH0jN4bC7yA; HttpOnly"), ("Set-Cookie", "id_token=" + Jwt + "; Secure")] });
        Has(hits, SensitiveParts.RespCookie, "id_token", T.Jwt);
        Assert.DoesNotContain(hits, h => h.Location == "session");
    }

    // ---------------- masking ----------------

    [Fact]
    public void Previews_never_reveal_the_value()
    {
        Assert.Equal("ghp_…" + Crc62(Body30)[^4..], Masking.Preview(T.GitHubToken, "ghp_" + Body30 + Crc62(Body30)));
        Assert.Equal("****1548", Masking.Preview(T.CreditCard, "5256 0020 9346 1548"));
        Assert.Equal("a***@correo.es", Masking.Preview(T.Email, "ana.lopez@correo.es"));
        Assert.Equal("********", Masking.Preview(T.Password, "Sol&Sombra2024!"));
        Assert.Equal("ES**…1332", Masking.Preview(T.Iban, "ES91 2100 0418 4502 0005 1332"));
        Assert.Equal("****", Masking.Preview(T.ApiKey, "short"));
        Assert.Equal("eyJ…" + Jwt[^4..], Masking.Preview(T.Jwt, Jwt));
        Assert.Equal("postgresql://***", Masking.Preview(T.ConnectionString, "postgresql://app:Xk29mZq7pL@db/app"));
        Assert.Equal("+***89", Masking.Preview(T.Phone, "+49 151 23456789"));
        Assert.Equal("***-**-6780", Masking.Preview(T.Ssn, "219-45-6780"));
        Assert.Equal("**/**/****", Masking.Preview(T.DateOfBirth, "1985-11-17"));
        Assert.Equal("A*** L***", Masking.Preview(T.PersonName, "Ana López"));
    }
}
