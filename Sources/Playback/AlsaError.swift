import CALSA

/// An ALSA call that failed, with ALSA's words for why.
public struct AlsaError: Error, CustomStringConvertible {
    /// The explanation: what was attempted, on which device, and ALSA's error text.
    public let description: String
    /// The negative error code, when ALSA gave one.
    public let code: Int32

    init(_ what: String, code: Int32) {
        self.code = code
        description = "\(what): \(String(cString: snd_strerror(code)))"
    }

    init(_ description: String) {
        self.description = description
        code = 0
    }
}

/// Throws unless `result` is zero or positive.
@discardableResult
func alsaCheck(_ result: Int32, _ what: @autoclosure () -> String) throws(AlsaError) -> Int32 {
    guard result >= 0 else { throw AlsaError(what(), code: result) }
    return result
}
