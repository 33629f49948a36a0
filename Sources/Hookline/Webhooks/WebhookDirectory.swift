import Foundation
import Postgres

/// The webhooks that the ingress serves, cached in memory and evicted through NOTIFY: finding a webhook
/// costs no database round trip after an instance's first request to it.
public final class WebhookDirectory: Sendable {
    private let store: WebhookStore
    private let cache: NotifiedCache<UUID, Webhook>

    /// Webhooks cached at most (`hookline serve --cache-entries`).
    public static let defaultMaxEntries = 100_000

    public init(
        store: WebhookStore, maxEntries: Int = defaultMaxEntries,
        timeToLive: Duration = NotifiedCacheDefaults.timeToLive
    ) {
        self.store = store
        self.cache = NotifiedCache(maxEntries: maxEntries, timeToLive: timeToLive)
    }

    /// The live webhook with `id`, if any.
    public func webhook(_ id: UUID) async throws -> Webhook? {
        try await cache.value(for: id) { try await store.find(id) }
    }

    /// The webhook with `id` as the cache knows it, without waiting: `.some(nil)` when there is none, `nil`
    /// when only ``webhook(_:)`` can tell.
    public func cachedWebhook(_ id: UUID) -> Webhook?? { cache.cachedValue(for: id) }

    /// Applies an event of the LISTEN connection on ``ConfigNotifications/channel``.
    public func handle(_ event: PostgresListener.Event) {
        guard let notification = cache.apply(event), notification.channel == ConfigNotifications.channel else {
            return
        }
        if case .webhook(let id)? = ConfigNotifications.Subject(payload: notification.payload) { cache.evict(id) }
    }
}
