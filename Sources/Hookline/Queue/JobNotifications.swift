/// The NOTIFY channel that wakes workers when jobs become available.
public enum JobNotifications {
    public static let channel = "hookline_jobs"
}
