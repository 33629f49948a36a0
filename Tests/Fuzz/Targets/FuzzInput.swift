/// Cuts a fuzzer's bytes into the parts a target needs: a leading byte of options (for the targets that take
/// options), then fields separated by NUL bytes (the last field takes the rest, NULs included).
struct FuzzInput {
    /// The first byte, 0 when the input is empty: targets take switches from its bits.
    var options: UInt8
    var fields: [[UInt8]]

    init(_ bytes: [UInt8], fields count: Int, options takesOptions: Bool = true) {
        options = takesOptions ? bytes.first ?? 0 : 0
        var rest = takesOptions ? bytes.dropFirst() : bytes[...]
        var fields: [[UInt8]] = []
        while fields.count < count - 1, let nul = rest.firstIndex(of: 0) {
            fields.append(Array(rest[..<nul]))
            rest = rest[(nul + 1)...]
        }
        fields.append(Array(rest))
        while fields.count < count { fields.append([]) }
        self.fields = fields
    }

    func bit(_ index: Int) -> Bool { options & (1 << index) != 0 }

    /// A field as text, as a server would see it: invalid UTF-8 repaired.
    func text(_ index: Int) -> String { String(decoding: fields[index], as: UTF8.self) }
}
