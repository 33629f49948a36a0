import HTTPTypes
import Hummingbird
import Mustache

/// Renders the console's pages from its Mustache templates, which the build embeds in the binary (the
/// `Console/Web` resources), so that `hookline` serves its console with no files beside it.
///
/// Every page goes out with headers that keep it to itself: a content security policy that allows only this
/// origin's styles and scripts and no framing, no caching (pages show secrets once and live data), and no
/// referrer beyond this origin.
struct ConsoleRenderer: Sendable {
    static let shared = ConsoleRenderer()

    private let library: MustacheLibrary

    private init() {
        var library = MustacheLibrary()
        // Every template escapes with the console's own escaping (see ``ConsoleHTMLEscaping``), named in a
        // pragma put before each one here, so that no template can be added without it.
        MustacheContentTypes.register(ConsoleHTMLEscaping(), named: ConsoleHTMLEscaping.name)
        let pragma = "{{% CONTENT_TYPE: \(ConsoleHTMLEscaping.name)}}"
        let templates: [(String, [UInt8])] = [
            ("layout", PackageResources.layout_mustache), ("signin", PackageResources.signin_mustache),
            ("overview", PackageResources.overview_mustache), ("accounts", PackageResources.accounts_mustache),
            ("account", PackageResources.account_mustache),
            ("client_created", PackageResources.client_created_mustache),
            ("jobs", PackageResources.jobs_mustache), ("job", PackageResources.job_mustache),
            ("message", PackageResources.message_mustache),
        ]
        for (name, bytes) in templates {
            do {
                try library.register(pragma + String(decoding: bytes, as: UTF8.self), named: name)
            } catch {
                // The templates are part of the build; the console's tests render every one of them.
                preconditionFailure("the console template \(name) does not parse: \(error)")
            }
        }
        self.library = library
    }

    /// The headers of every console answer.
    static let headers: HTTPFields = [
        .contentSecurityPolicy:
            "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self'; connect-src 'self'; "
            + "form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        .cacheControl: "no-store",
        HTTPField.Name("Referrer-Policy")!: "same-origin",
        HTTPField.Name("X-Content-Type-Options")!: "nosniff",
        HTTPField.Name("X-Frame-Options")!: "DENY",
    ]

    /// The page `template` rendered with `view`.
    func page(
        _ template: String, _ view: Any, status: HTTPResponse.Status = .ok, headers extra: HTTPFields = [:]
    ) -> Response {
        let html = library.render(view, withTemplate: template) ?? "<!doctype html><title>Hookline</title>"
        var headers = Self.headers
        headers[.contentType] = "text/html; charset=utf-8"
        headers.append(contentsOf: extra)
        return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: html)))
    }

    /// A page with a heading and one paragraph (refusals, errors, not found).
    func message(
        _ title: String, _ text: String, status: HTTPResponse.Status, signedIn: ConsoleSession? = nil
    ) -> Response {
        page("message", MessageView(title: title, text: text, csrf: signedIn?.csrf), status: status)
    }

    struct MessageView {
        var title: String
        var text: String
        var csrf: String?
        var signedIn: Bool { csrf != nil }
    }

    /// A static file of the console (its stylesheet and script), cached for an hour.
    static func asset(_ bytes: [UInt8], type: String) -> Response {
        Response(
            status: .ok,
            headers: [
                .contentType: type, .cacheControl: "public, max-age=3600",
                HTTPField.Name("X-Content-Type-Options")!: "nosniff",
            ],
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: bytes)))
    }
}
