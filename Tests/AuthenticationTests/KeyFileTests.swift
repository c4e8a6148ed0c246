import Authentication
import Foundation
import Testing

@Suite struct KeyFileTests {
    static let secret = String(repeating: "ab", count: 32)

    static func write(_ text: String, mode: Int) throws -> String {
        let path = NSTemporaryDirectory() + "jamplay-keys-\(UUID().uuidString)"
        _ = FileManager.default.createFile(atPath: path, contents: Data(text.utf8), attributes: [.posixPermissions: mode])
        try FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: path)
        return path
    }

    @Test func severalKeysWithCommentsAndBlankLinesAreRead() throws {
        let keys = try KeyFile.parse("# the studio's keys\n\nstage-2025 \(Self.secret)\n  old.key\t\(Self.secret)00  \n", name: "keys")
        #expect(keys.map(\.id) == ["stage-2025", "old.key"])
    }

    @Test(arguments: [
        ("a \(String(repeating: "ab", count: 31))", "31 bytes"),
        ("a \(String(repeating: "zz", count: 32))", "not hex"),
        ("a \(String(repeating: "a", count: 65))", "not hex"),
        ("bad/id \(String(repeating: "ab", count: 32))", "key id"),
        ("a", "expected ID HEX-SECRET"),
        ("a \(String(repeating: "ab", count: 32)) extra", "expected ID HEX-SECRET"),
        ("a \(String(repeating: "ab", count: 32))\na \(String(repeating: "cd", count: 32))", "given twice"),
    ])
    func aBadLineIsRefusedWithItsNumberAndReason(text: String, reason: String) {
        #expect {
            _ = try KeyFile.parse(text, name: "keys")
        } throws: { error in
            "\(error)".contains("keys line") && "\(error)".contains(reason)
        }
    }

    @Test func aFileOthersCanReadIsRefused() throws {
        let path = try Self.write("a \(Self.secret)\n", mode: 0o644)
        defer { try? FileManager.default.removeItem(atPath: path) }
        #expect { _ = try KeyFile.load(path) } throws: { "\($0)".contains("chmod 600") && "\($0)".contains("644") }
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: path)
        #expect(try KeyFile.load(path).map(\.id) == ["a"])
    }

    @Test func aFileWithNoKeysOrNoFileAtAllIsRefused() throws {
        let path = try Self.write("# nothing yet\n", mode: 0o600)
        defer { try? FileManager.default.removeItem(atPath: path) }
        #expect { _ = try KeyFile.load(path) } throws: { "\($0)".contains("no keys") }
        #expect { _ = try KeyFile.load(path + ".missing") } throws: { "\($0)".contains("No such file") }
    }
}
