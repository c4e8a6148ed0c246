import Ingest
import Testing

/// `--listen` values.
@Suite struct ListenAddressTests {
    @Test(arguments: [
        (":9000", nil as String?, 9000, false),
        ("0.0.0.0:9000", "0.0.0.0", 9000, false),
        ("127.0.0.1:9001", "127.0.0.1", 9001, false),
        ("[::]:9000", "::", 9000, false),
        ("[::1]:65535", "::1", 65535, false),
        ("127.0.0.1:0", "127.0.0.1", 0, false),
        ("239.1.2.3:9000", "239.1.2.3", 9000, true),
        ("224.0.0.1:1", "224.0.0.1", 1, true),
        ("[ff02::1]:9000", "ff02::1", 9000, true),
    ])
    func validAddressesParse(text: String, host: String?, port: Int, multicast: Bool) throws {
        let address = try ListenAddress(parsing: text)
        #expect(address.host == host && address.port == port && address.isMulticast == multicast)
        #expect(address.description == text)
    }

    @Test(arguments: ["9000", "239.1.2.3:0", ":65536", ":port", "localhost:9000", "1.2.3:9000", "256.1.1.1:9000", "::1:9000", "[::1:9000", "[]:9000", "1.2.3.4.5:80"])
    func invalidAddressesSayWhatWasExpected(text: String) {
        #expect(throws: ListenAddressError.self) { try ListenAddress(parsing: text) }
        do { _ = try ListenAddress(parsing: text) } catch { #expect(error.description.hasPrefix("--listen '\(text)': ")) }
    }
}
