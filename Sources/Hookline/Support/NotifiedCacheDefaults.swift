/// What the caches that NOTIFY keeps honest (``NotifiedCache``) are built with unless told otherwise.
public enum NotifiedCacheDefaults {
    /// How long a cached row is trusted at most, notified of or not (`hookline serve --cache-seconds`).
    public static let timeToLive: Duration = .seconds(300)
}
