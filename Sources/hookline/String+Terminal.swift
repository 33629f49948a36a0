extension String {
    /// The text with every control character but tab as a `\u` escape: what a command prints of a sender's
    /// data (a job's body, its headers, an error quoting an answer) cannot reach the terminal's escape sequences
    /// (a title, the clipboard through OSC 52, lines rewritten).
    var shownOnTerminal: String {
        var shown = ""
        for scalar in unicodeScalars {
            if scalar.properties.generalCategory == .control, scalar != "\t" {
                let hex = String(scalar.value, radix: 16)
                shown += "\\u" + String(repeating: "0", count: max(0, 4 - hex.count)) + hex
            } else {
                shown.unicodeScalars.append(scalar)
            }
        }
        return shown
    }
}
