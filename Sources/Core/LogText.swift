/// Text that came from the network, made safe to put in a log line: nothing in it can end the
/// line, forge another, move the terminal's cursor or reorder what is shown, and it is short.
///
/// Thread: any.
public enum LogText {
    /// `text` with control characters (C0, DEL, C1), line and paragraph separators and
    /// bidirectional controls written as `\u{…}`, `\` and `"` as `\\` and `\"`, cut to `limit`
    /// characters with `…` after them.
    public static func escaped(_ text: some StringProtocol, limit: Int = 80) -> String {
        var result = ""
        var count = 0
        for scalar in text.unicodeScalars {
            if count == limit { return result + "…" }
            count += 1
            switch scalar.value {
            case 0x5C: result += "\\\\"
            case 0x22: result += "\\\""
            case 0x00..<0x20, 0x7F..<0xA0, 0x2028, 0x2029, 0x200E, 0x200F, 0x202A...0x202E, 0x2066...0x2069:
                result += "\\u{\(String(scalar.value, radix: 16))}"
            default: result.unicodeScalars.append(scalar)
            }
        }
        return result
    }
}
