import Foundation
import HTTPTypes
import Hookline
import HummingbirdTesting
import NIOCore
import Testing

/// A signed-in console session in tests: its cookie and the anti-forgery value of its forms.
struct ConsoleSignIn {
    let cookie: String
    let csrf: String

    /// Signs in with a new console client of `fixture`, as the form does.
    static func make(_ fixture: ServerFixture, _ client: some TestClientProtocol) async throws -> ConsoleSignIn {
        let console = try await fixture.clients.create(account: nil, scope: .api)
        let response = try await client.form(
            "/console/signin", "client_id=\(console.client.clientID)&client_secret=\(console.clientSecret)")
        #expect(response.status == .seeOther)
        let setCookie = try #require(response.headers[.setCookie])
        let cookie = String(try #require(setCookie.split(separator: ";").first))
        let page = try await client.execute(uri: "/console", method: .get, headers: [.cookie: cookie])
        let csrf = try #require(Self.csrf(in: String(buffer: page.body)))
        return ConsoleSignIn(cookie: cookie, csrf: csrf)
    }

    /// The first form's `csrf` value in a page.
    static func csrf(in html: String) -> String? {
        guard let range = html.range(of: #"name="csrf" value=""#) else { return nil }
        return String(html[range.upperBound...].prefix { $0 != "\"" })
    }

    func get(_ client: some TestClientProtocol, _ uri: String) async throws -> TestResponse {
        try await client.execute(uri: uri, method: .get, headers: [.cookie: cookie])
    }

    /// POSTs a console form with this session's cookie and anti-forgery value (unless `csrf` says otherwise).
    func post(
        _ client: some TestClientProtocol, _ uri: String, _ fields: String = "", csrf: String? = nil,
        headers: HTTPFields = [:]
    ) async throws -> TestResponse {
        var all = headers
        all[.cookie] = cookie
        let body = "csrf=\(csrf ?? self.csrf)" + (fields.isEmpty ? "" : "&" + fields)
        return try await client.form(uri, body, headers: all)
    }
}
