import Foundation
import Hookline

/// The overview's chart: jobs completed and jobs dead in each minute of the last hour, as an SVG bar chart
/// drawn on the server (no script, no library). Only numbers go into the drawing, so it is safe to embed.
struct ThroughputChart {
    let minutes: [QueueActivity.Minute]
    /// The minute the chart ends with (the database's clock, truncated to the minute).
    let end: Date
    let span = 60

    static let width = 720
    static let height = 180
    static let top = 16
    static let bottom = 24
    static let left = 44

    var svg: String {
        let byStart = Dictionary(
            minutes.map { (Int($0.start.timeIntervalSince1970) / 60, $0) }, uniquingKeysWith: { a, _ in a })
        let last = Int(end.timeIntervalSince1970) / 60
        let series = (0..<span).map { byStart[last - span + 1 + $0] }
        let peak = max(1, series.map { ($0?.completed ?? 0) + ($0?.dead ?? 0) }.max() ?? 1)
        let plotHeight = Double(Self.height - Self.top - Self.bottom)
        let slot = Double(Self.width - Self.left) / Double(span)
        let totalCompleted = series.reduce(0) { $0 + ($1?.completed ?? 0) }
        let totalDead = series.reduce(0) { $0 + ($1?.dead ?? 0) }
        var parts = [
            """
            <svg id="throughput" role="img" viewBox="0 0 \(Self.width) \(Self.height)" \
            aria-labelledby="throughput-title"><title id="throughput-title">Jobs finished per minute over the last \
            hour: \(totalCompleted) completed, \(totalDead) dead; at most \(peak) in one minute</title>
            """
        ]
        // The scale: the peak and zero.
        let baseline = Double(Self.height - Self.bottom)
        parts.append(
            """
            <line class="axis" x1="\(Self.left)" y1="\(baseline)" x2="\(Self.width)" y2="\(baseline)"/>\
            <text class="label" x="\(Self.left - 6)" y="\(Self.top + 4)" text-anchor="end">\(peak)</text>\
            <text class="label" x="\(Self.left - 6)" y="\(Int(baseline))" text-anchor="end">0</text>\
            <text class="label" x="\(Self.left)" y="\(Self.height - 6)">−60 min</text>\
            <text class="label" x="\(Self.width)" y="\(Self.height - 6)" text-anchor="end">now</text>
            """)
        for (index, minute) in series.enumerated() {
            guard let minute else { continue }
            let x = Double(Self.left) + Double(index) * slot + 1
            let barWidth = max(1, slot - 2)
            let completedHeight = plotHeight * Double(minute.completed) / Double(peak)
            let deadHeight = plotHeight * Double(minute.dead) / Double(peak)
            parts.append(
                rect("completed", x, baseline - completedHeight, barWidth, completedHeight)
                    + rect("dead", x, baseline - completedHeight - deadHeight, barWidth, deadHeight))
        }
        parts.append("</svg>")
        return parts.joined()
    }

    private func rect(_ kind: String, _ x: Double, _ y: Double, _ width: Double, _ height: Double) -> String {
        guard height > 0 else { return "" }
        func f(_ value: Double) -> String { String(format: "%.1f", value) }
        return "<rect class=\"\(kind)\" x=\"\(f(x))\" y=\"\(f(y))\" width=\"\(f(width))\" height=\"\(f(height))\"/>"
    }
}
