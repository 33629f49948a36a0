import Foundation
import HTTPTypes
import Hookline
import HooklineServer
import HummingbirdTesting
import NIOCore
import Postgres
import TestSupport
import Testing

/// The operator console over real sockets: sign-in and its cookie, the guards on every action, and the pages
/// over the domain layer. (The browser's view of it is in tests/interop/test_console.py.)
@Suite("The operator console")
struct ConsoleTests {
    @Test func aPageWithoutASessionRedirectsToTheSignInFormAndComesBackAfter() async throws {
        try await ServerFixture.run { fixture in
            try await fixture.application().test(.live) { client in
                let page = try await client.execute(uri: "/console/jobs?state=dead", method: .get)
                #expect(page.status == .seeOther)
                #expect(page.headers[.location] == "/console/signin?next=/console/jobs%3Fstate%3Ddead")
                let form = try await client.execute(uri: page.headers[.location]!, method: .get)
                #expect(form.status == .ok)
                #expect(String(buffer: form.body).contains(#"name="next" value="/console/jobs?state=dead""#))
                // A next that leaves the console is dropped.
                let away = try await client.execute(uri: "/console/signin?next=//evil.example/console", method: .get)
                #expect(String(buffer: away.body).contains(#"name="next" value="/console""#))
            }
        }
    }

    @Test func signingInSetsAStrictHttpOnlyCookieAndWrongCredentialsAreRefused() async throws {
        try await ServerFixture.run { fixture in
            let account = try await fixture.database.makeAccount()
            let console = try await fixture.clients.create(account: nil, scope: .api)
            let webhookClient = try await fixture.clients.create(account: account.id, scope: .webhook)
            try await fixture.application().test(.live) { client in
                let wrong = try await client.form(
                    "/console/signin", "client_id=\(console.client.clientID)&client_secret=hls_wrong")
                #expect(wrong.status == .unauthorized)
                #expect(wrong.headers[.setCookie] == nil)
                #expect(String(buffer: wrong.body).contains("not accepted"))
                // An account's client is not a console client, whatever its secret.
                let accountLevel = try await client.form(
                    "/console/signin",
                    "client_id=\(webhookClient.client.clientID)&client_secret=\(webhookClient.clientSecret)")
                #expect(accountLevel.status == .unauthorized)

                let good = try await client.form(
                    "/console/signin",
                    "client_id=\(console.client.clientID)&client_secret=\(console.clientSecret)&next=/console/jobs")
                #expect(good.status == .seeOther)
                #expect(good.headers[.location] == "/console/jobs")
                let cookie = try #require(good.headers[.setCookie])
                #expect(cookie.hasPrefix("hookline_console=hlt_"))
                for attribute in ["HttpOnly", "SameSite=Strict", "Path=/console", "Max-Age=1209600"] {
                    #expect(cookie.contains(attribute), "\(attribute) in \(cookie)")
                }
                #expect(!cookie.contains("Secure"), "plain HTTP from no trusted proxy")
                // The cookie carries a token, which is stored only as its hash.
                let token = String(cookie.dropFirst("hookline_console=".count).prefix { $0 != ";" })
                let stored = try await fixture.database.client.query(
                    "SELECT count(*) FROM hookline.access_tokens WHERE token_hash = \(Secrets.hash(token))")
                #expect(try stored[0].decode(Int.self, at: 0) == 1)
                let overview = try await client.execute(
                    uri: "/console", method: .get, headers: [.cookie: "hookline_console=\(token)"])
                #expect(overview.status == .ok)
                #expect(overview.headers[.contentSecurityPolicy]?.contains("frame-ancestors 'none'") == true)
                #expect(String(buffer: overview.body).contains("<h1>Overview</h1>"))
            }
        }
    }

    @Test func repeatedWrongSecretsAreBrakedLikeAtTheTokenEndpoint() async throws {
        try await ServerFixture.run { fixture in
            let console = try await fixture.clients.create(account: nil, scope: .api)
            try await fixture.application().test(.live) { client in
                var statuses: [HTTPResponse.Status] = []
                for _ in 0..<11 {
                    let wrong = try await client.form(
                        "/console/signin", "client_id=\(console.client.clientID)&client_secret=hls_wrong")
                    statuses.append(wrong.status)
                }
                #expect(statuses.prefix(10).allSatisfy { $0 == .unauthorized }, "\(statuses)")
                #expect(statuses.last == .tooManyRequests)
                // Braked, even the right secret waits: the brake cannot be used to test guesses.
                let right = try await client.form(
                    "/console/signin", "client_id=\(console.client.clientID)&client_secret=\(console.clientSecret)")
                #expect(right.status == .tooManyRequests)
                #expect(right.headers[.retryAfter] != nil)
                #expect(right.headers[.setCookie] == nil)
            }
        }
    }

    @Test func theCookieIsSecureBehindATrustedProxyThatSaysHTTPS() async throws {
        try await ServerFixture.run { fixture in
            let console = try await fixture.clients.create(account: nil, scope: .api)
            let body = "client_id=\(console.client.clientID)&client_secret=\(console.clientSecret)"
            try await fixture.application { $0.trustedProxies = [CIDR("127.0.0.1/32")!] }.test(.live) { client in
                let proxied = try await client.form("/console/signin", body, headers: [.xForwardedProtoTest: "https"])
                #expect(proxied.headers[.setCookie]?.hasSuffix("; Secure") == true)
                let plain = try await client.form("/console/signin", body)
                #expect(plain.headers[.setCookie]?.contains("Secure") == false)
            }
            // From a peer that is not a trusted proxy, the header is not believed.
            try await fixture.application().test(.live) { client in
                let claimed = try await client.form("/console/signin", body, headers: [.xForwardedProtoTest: "https"])
                #expect(claimed.headers[.setCookie]?.contains("Secure") == false)
            }
        }
    }

    @Test func aDeadJobIsRetriedFromItsPageAndForgedOrCrossOriginPostsAreRefused() async throws {
        try await ServerFixture.run { fixture in
            let (account, _) = try await fixture.accountWithCycle()
            let id = try #require(try await fixture.deadJobs(account.id, count: 1).first)
            let jobs = JobStore(database: fixture.database.client)
            // The test client sends no Host, so the console's own origin is the public URL's here (the browser
            // tests send Host and Origin as browsers do).
            try await fixture.application { $0.publicURL = "http://console.test" }.test(.live) { client in
                let session = try await ConsoleSignIn.make(fixture, client)
                let overview = String(buffer: try await session.get(client, "/console").body)
                #expect(overview.contains(#"<a href="/console/jobs/\#(id)">"#), "listed among the dead jobs")
                let page = String(buffer: try await session.get(client, "/console/jobs/\(id)").body)
                #expect(page.contains(#"<dd id="job-state">dead</dd>"#))
                #expect(page.contains(#"action="/console/jobs/\#(id)/retry""#))

                // Another origin, by Origin or by Fetch Metadata: refused before anything is done.
                let crossOrigin = try await session.post(
                    client, "/console/jobs/\(id)/retry", headers: [.origin: "http://evil.example"])
                #expect(crossOrigin.status == .forbidden)
                #expect(String(buffer: crossOrigin.body).contains("Cross-origin request refused"))
                let crossSite = try await session.post(
                    client, "/console/jobs/\(id)/retry", headers: [.secFetchSiteTest: "cross-site"])
                #expect(crossSite.status == .forbidden)
                // The same origin without the session's form value (a forged form): refused.
                let forged = try await session.post(client, "/console/jobs/\(id)/retry", csrf: "guess")
                #expect(forged.status == .forbidden)
                #expect(try await jobs.state(of: id) == .dead)

                let retried = try await session.post(
                    client, "/console/jobs/\(id)/retry", headers: [.origin: "http://console.test"])
                #expect(retried.status == .seeOther)
                #expect(retried.headers[.location] == "/console/jobs/\(id)?done=retried")
                #expect(try await jobs.state(of: id) == .available)
                let after = String(buffer: try await session.get(client, "/console/jobs/\(id)?done=retried").body)
                #expect(after.contains(#"<p id="notice" role="status">The job was put back in the queue.</p>"#))
                #expect(after.contains(#"data-refresh="2000""#), "a waiting job's page refreshes itself")
                // Now available: it can be cancelled, not retried.
                let conflict = try await session.post(client, "/console/jobs/\(id)/retry")
                #expect(conflict.status == .conflict)
                #expect(String(buffer: conflict.body).contains(#"id="signout""#), "an error page keeps the layout")
                let missing = try await session.get(client, "/console/jobs/999999999")
                #expect(missing.status == .notFound)
                #expect(String(buffer: missing.body).contains(#"id="signout""#))
                let malformed = try await session.post(client, "/console/jobs/retry", "account=not-an-id")
                #expect(malformed.status == .badRequest, "a filter that does not parse retries nothing")
                let cancelled = try await session.post(client, "/console/jobs/\(id)/cancel")
                #expect(cancelled.status == .seeOther)
                #expect(try await jobs.state(of: id) == .cancelled)
            }
        }
    }

    @Test func aBulkRetryRequeuesTheFiltersDeadJobsOnly() async throws {
        try await ServerFixture.run { fixture in
            let (account, _) = try await fixture.accountWithCycle()
            let other = try await fixture.database.makeAccount()
            try await fixture.deadJobs(account.id, count: 30)
            try await fixture.deadJobs(other.id, count: 1)
            try await fixture.application().test(.live) { client in
                let session = try await ConsoleSignIn.make(fixture, client)
                let list = String(
                    buffer: try await session.get(client, "/console/jobs?state=dead&account=\(account.id.lowercased)")
                        .body)
                #expect(list.components(separatedBy: #"data-state="dead""#).count - 1 == 30)
                #expect(list.contains(#"id="bulk-retry""#))
                let retried = try await session.post(client, "/console/jobs/retry", "account=\(account.id.lowercased)")
                #expect(retried.status == .seeOther)
                #expect(retried.headers[.location]?.hasSuffix("done=bulk-retried&n=30") == true)
                let stats = try await JobStore(database: fixture.database.client).stats(account: account.id)
                #expect(stats[.available] == 30)
                let others = try await JobStore(database: fixture.database.client).stats(account: other.id)
                #expect(others[.dead] == 1, "another account's dead job stays")

                // A mistyped filter is refused, not dropped: dropped, the page listed every account's dead jobs
                // under a button that retried them all.
                let mistyped = try await session.get(client, "/console/jobs?state=dead&account=not-an-id")
                #expect(mistyped.status == .badRequest)
                // Without an account or a cycle, a bulk retry reaches every account only when the form says so.
                let unfiltered = try await session.post(client, "/console/jobs/retry", "account=&cycle=")
                #expect(unfiltered.status == .badRequest)
                #expect(try await JobStore(database: fixture.database.client).stats(account: other.id)[.dead] == 1)
                let everyone = String(buffer: try await session.get(client, "/console/jobs?state=dead").body)
                #expect(everyone.contains(#"name="all" value="yes""#))
                let all = try await session.post(client, "/console/jobs/retry", "account=&cycle=&all=yes")
                #expect(all.status == .seeOther)
                #expect(try await JobStore(database: fixture.database.client).stats(account: other.id)[.dead] == 0)
            }
        }
    }

    @Test func accountPagesShowAndChangeCyclesAndClientsAndSigningOutEndsTheSession() async throws {
        try await ServerFixture.run { fixture in
            let (account, cycle) = try await fixture.accountWithCycle()
            _ = try await WebhookStore(database: fixture.database.client).create(
                account: account.id, cycle: cycle.id, scheme: .none)
            try await fixture.application().test(.live) { client in
                let session = try await ConsoleSignIn.make(fixture, client)
                let list = String(buffer: try await session.get(client, "/console/accounts").body)
                #expect(list.contains(account.id.lowercased))
                let page = String(
                    buffer: try await session.get(client, "/console/accounts/\(account.id.lowercased)").body)
                #expect(page.contains(cycle.id.lowercased) && page.contains("/webhooks/"))

                let stopped = try await session.post(client, "/console/cycles/\(cycle.id.lowercased)/stop")
                #expect(stopped.status == .seeOther)
                #expect(
                    try await CycleStore(database: fixture.database.client).list(account: account.id)[0].active == false
                )

                // The API's rules hold here too: a U+0000 was a 500 (PostgreSQL's refusal), and any length passed.
                let long = String(repeating: "a", count: 201)
                for description in ["%00", long] {
                    let refused = try await session.post(
                        client, "/console/accounts/\(account.id.lowercased)/clients",
                        "scope=mcp&description=\(description)")
                    #expect(refused.status == .badRequest, "\(description.prefix(8))")
                }
                let created = try await session.post(
                    client, "/console/accounts/\(account.id.lowercased)/clients",
                    "scope=mcp&token_lifetime_minutes=30&description=agent")
                #expect(created.status == .ok)
                let html = String(buffer: created.body)
                let secret = try #require(html.firstMatch(of: /id="new-client-secret">(hls_[A-Za-z0-9_-]+)</)?.1)
                let clientID = try #require(html.firstMatch(of: /id="new-client-id">(hlc_[A-Za-z0-9_-]+)</)?.1)
                let made = try #require(try await fixture.clients.find(clientID: String(clientID)))
                #expect(made.scope == .mcp && made.accountID == account.id && made.tokenLifetimeSeconds == 1800)
                #expect(
                    try await fixture.clients.authenticate(clientID: String(clientID), secret: String(secret)) != nil)
                let again = String(
                    buffer: try await session.get(client, "/console/accounts/\(account.id.lowercased)").body)
                #expect(!again.contains(String(secret)), "the secret is shown once")

                let revoked = try await session.post(client, "/console/clients/\(clientID)/revoke")
                #expect(revoked.status == .seeOther)
                #expect(try await fixture.clients.find(clientID: String(clientID))?.revokedAt != nil)

                let out = try await session.post(client, "/console/signout")
                #expect(out.status == .seeOther)
                #expect(out.headers[.setCookie]?.contains("Max-Age=0") == true)
                let afterwards = try await session.get(client, "/console")
                #expect(afterwards.status == .seeOther, "the token was revoked, not only the cookie dropped")
            }
        }
    }

    /// A sender's bytes reach the job page as text, whatever characters surround the markup: the template
    /// library escapes by grapheme cluster, in which U+0600 (a prepended mark) takes the `<` after it, and a
    /// combining mark the `>` before it, so "<" alone never matched and the tag went out as HTML.
    @Test func aBodyWhoseMarkupHidesInGraphemeClustersIsShownAsText() async throws {
        try await ServerFixture.run { fixture in
            let (account, _) = try await fixture.accountWithCycle()
            let hostile = "\u{600}<meta http-equiv=refresh content=0;url=https://evil.example/>\u{301} x<\u{301}b>"
            let id = try #require(
                try await JobQueue(database: fixture.database.client).insert([
                    NewJob(accountID: account.id, body: Data(hostile.utf8))
                ]).first)
            try await fixture.application().test(.live) { client in
                let session = try await ConsoleSignIn.make(fixture, client)
                let page = Array(try await session.get(client, "/console/jobs/\(id)").body.readableBytesView)
                // Compared as bytes: String comparisons go by grapheme cluster, the very thing that hid the markup.
                func has(_ text: String) -> Bool { page.firstRange(of: Array(text.utf8)) != nil }
                #expect(!has("<meta http-equiv"), "the markup went out as HTML")
                #expect(!has("x<"))
                #expect(has(#"<pre id="job-body">\#u{600}&lt;meta http-equiv=refresh"#), "shown as text")
                #expect(has("evil.example/&gt;\u{301} x&lt;\u{301}b&gt;</pre>"))
            }
        }
    }

    @Test func anAccountTokenInTheCookieIsNoSession() async throws {
        try await ServerFixture.run { fixture in
            let account = try await fixture.database.makeAccount()
            let webhookClient = try await fixture.clients.create(account: account.id, scope: .webhook)
            try await fixture.application().test(.live) { client in
                let token = try #require(
                    try await client.token(clientID: webhookClient.client.clientID, secret: webhookClient.clientSecret)
                        .accessToken)
                let page = try await client.execute(
                    uri: "/console", method: .get, headers: [.cookie: "hookline_console=\(token)"])
                #expect(page.status == .seeOther)
            }
        }
    }
}

extension HTTPField.Name {
    fileprivate static let xForwardedProtoTest = HTTPField.Name("X-Forwarded-Proto")!
    fileprivate static let secFetchSiteTest = HTTPField.Name("Sec-Fetch-Site")!
}
