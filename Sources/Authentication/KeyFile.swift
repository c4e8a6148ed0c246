import Core
import Foundation

/// A key file: one key a line, `ID HEX-SECRET` (the secret at least 32 bytes), `#` comments and
/// blank lines ignored. It must be a regular file that no one but its owner can read or write.
public enum KeyFile {
    /// Why a key file was refused; says which file, which line and what to do.
    public struct Problem: Error, CustomStringConvertible {
        public let description: String
    }

    /// Reads and checks `path`: its permissions, then every line.
    public static func load(_ path: String) throws(Problem) -> [AuthenticationKey] {
        var status = stat()
        guard stat(path, &status) == 0 else { throw Problem(description: "\(path): \(SystemError.current)") }
        guard status.st_mode & S_IFMT == S_IFREG else { throw Problem(description: "\(path): not a regular file") }
        let mode = status.st_mode & 0o777
        guard mode & 0o077 == 0 else {
            throw Problem(description: "\(path): others may read or change it (mode \(String(mode, radix: 8))); keys must be private: chmod 600 \(path)")
        }
        guard let data = FileManager.default.contents(atPath: path) else { throw Problem(description: "\(path): cannot be read") }
        let keys = try parse(String(decoding: data, as: UTF8.self), name: path)
        guard !keys.isEmpty else { throw Problem(description: "\(path): no keys (one a line: ID HEX-SECRET)") }
        return keys
    }

    /// The keys in a key file's text; `name` names it in problems.
    public static func parse(_ text: String, name: String) throws(Problem) -> [AuthenticationKey] {
        var keys: [AuthenticationKey] = []
        for (index, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\r" })
            guard let first = fields.first, !first.hasPrefix("#") else { continue }
            let place = "\(name) line \(index + 1)"
            guard fields.count == 2 else { throw Problem(description: "\(place): expected ID HEX-SECRET") }
            guard let secret = bytes(ofHex: fields[1]) else { throw Problem(description: "\(place): the secret is not hex (two digits a byte)") }
            let key: AuthenticationKey
            do { key = try AuthenticationKey(id: String(first), secret: secret) } catch { throw Problem(description: "\(place): \(error)") }
            guard !keys.contains(where: { $0.id == key.id }) else { throw Problem(description: "\(place): key id \(key.id) given twice") }
            keys.append(key)
        }
        return keys
    }

    private static func bytes(ofHex text: Substring) -> [UInt8]? {
        let digits = Array(text.utf8)
        guard digits.count % 2 == 0 else { return nil }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(digits.count / 2)
        for index in stride(from: 0, to: digits.count, by: 2) {
            guard let high = hexValue(digits[index]), let low = hexValue(digits[index + 1]) else { return nil }
            bytes.append(high << 4 | low)
        }
        return bytes
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}
