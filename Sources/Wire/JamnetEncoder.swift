import Core

/// Writes jamnet/1.x messages as compact JSON, floats in shortest round-trip form.
///
/// Each call appends one JSON object, without the newline that ends it on the wire. What it writes
/// always decodes back to the same message: it refuses input the decoder would reject. Appending to
/// a buffer with enough capacity allocates nothing. Thread: any (no shared state).
public struct JamnetEncoder: Sendable {
    /// Makes an encoder.
    public init() {}

    /// Appends a `jdat` frame.
    public func encode(
        _ header: AudioFrameHeader, samples: UnsafeBufferPointer<Float>, into output: inout [UInt8]
    ) throws(JamnetEncodingError) {
        try check(header.version)
        guard SampleRate.supported.contains(header.sampleRate.hertz) else { throw .outOfRange(.sampleRate) }
        guard ChannelCount.supported.contains(header.channelCount.rawValue) else { throw .outOfRange(.channels) }
        guard samples.count % header.channelCount.rawValue == 0 else { throw .outOfRange(.payload) }
        for (index, sample) in samples.enumerated() where !sample.isFinite { throw .nonFiniteSample(index: index) }
        try checkLength(header.sessionID, .sessionID)
        try checkLength(header.streamID, .streamID)
        switch header.timestamp {
        case .gpu(let value): try checkTimestamp(value, .timestampGPU)
        case .cpu(let value): try checkTimestamp(value, .timestampCPU)
        }

        appendRaw("{\"type\":\"jdat\"", to: &output)
        appendVersion(header.version, to: &output)
        switch header.timestamp {
        case .gpu(let value): appendKey(.timestampGPU, to: &output); appendInteger(value, to: &output)
        case .cpu(let value): appendKey(.timestampCPU, to: &output); appendInteger(value, to: &output)
        }
        appendString(header.sessionID, .sessionID, to: &output)
        appendString(header.streamID, .streamID, to: &output)
        if let sequence = header.sequence { appendKey(.seq, to: &output); appendInteger(sequence, negative: false, to: &output) }
        appendKey(.sampleRate, to: &output); appendInteger(Int64(header.sampleRate.hertz), to: &output)
        appendKey(.channels, to: &output); appendInteger(Int64(header.channelCount.rawValue), to: &output)
        appendKey(.payload, to: &output)
        output.append(UInt8(ascii: "["))
        for (index, sample) in samples.enumerated() {
            if index > 0 { output.append(UInt8(ascii: ",")) }
            // Swift's description is the shortest text that reads back to the same Float; at most
            // 15 bytes, so it stays a small string and allocates nothing.
            output.append(contentsOf: sample.description.utf8)
        }
        appendRaw("]}", to: &output)
    }

    /// Appends a `jdat` frame (convenience for arrays).
    public func encode(_ header: AudioFrameHeader, samples: [Float], into output: inout [UInt8]) throws(JamnetEncodingError) {
        try samples.withUnsafeBufferPointer { (buffer) throws(JamnetEncodingError) in
            try encode(header, samples: buffer, into: &output)
        }
    }

    /// Appends a `sync_calibration_block`.
    public func encode(_ block: SyncCalibrationBlock, into output: inout [UInt8]) throws(JamnetEncodingError) {
        try check(block.version)
        guard SyncCalibrationBlock.counterWidths.contains(block.timestampBits) else { throw .outOfRange(.timestampBits) }
        if block.timestampBits < 64 && (block.timestampGPU < 0 || block.timestampGPU >> block.timestampBits != 0) {
            throw .outOfRange(.timestampGPU)
        }
        try checkTimestamp(block.timestampCPU, .timestampCPU)
        try checkTimestamp(block.timestampGPU, .timestampGPU)
        guard let cpuTime = block.unit.nanoseconds(ofCPUTimestamp: block.timestampCPU) else { throw .outOfRange(.timestampCPU) }
        guard let gpuTime = block.unit.nanoseconds(ofGPUTimestamp: block.timestampGPU),
              Nanoseconds(gpuTime.rawValue - cpuTime.rawValue).isWithinNetworkLimit
        else { throw .outOfRange(.timestampGPU) }
        if let deviation = block.maxDeviation, !(0...block.unit.oneSecondOfDeviation).contains(deviation) { throw .outOfRange(.maxDeviation) }
        if case .ticks(let period) = block.unit, !SyncCalibrationBlock.tickPeriods.contains(period) { throw .outOfRange(.tickPeriodNanoseconds) }
        try checkLength(block.sessionID, .sessionID)
        try checkLength(block.clockBase, .clockBase)

        appendRaw("{\"type\":\"sync_calibration_block\"", to: &output)
        appendVersion(block.version, to: &output)
        appendKey(.timestampCPU, to: &output); appendInteger(block.timestampCPU, to: &output)
        appendKey(.timestampGPU, to: &output); appendInteger(block.timestampGPU, to: &output)
        appendKey(.timestampUnit, to: &output)
        switch block.unit {
        case .nanoseconds: appendRaw("\"ns\"", to: &output)
        case .microseconds: appendRaw("\"us\"", to: &output)
        case .milliseconds: appendRaw("\"ms\"", to: &output)
        case .ticks(let period):
            appendRaw("\"ticks\"", to: &output)
            appendKey(.tickPeriodNanoseconds, to: &output); output.append(contentsOf: period.description.utf8)
        }
        if block.timestampBits != 64 { appendKey(.timestampBits, to: &output); appendInteger(Int64(block.timestampBits), to: &output) }
        if let deviation = block.maxDeviation { appendKey(.maxDeviation, to: &output); output.append(contentsOf: deviation.description.utf8) }
        appendString(block.clockBase, .clockBase, to: &output)
        appendString(block.sessionID, .sessionID, to: &output)
        appendKey(.origin, to: &output); appendQuoted(block.origin.rawValue, to: &output)
        output.append(UInt8(ascii: "}"))
    }

    /// Appends a `clock_probe` (jamnet/1.1).
    public func encode(_ probe: ClockProbe, into output: inout [UInt8]) throws(JamnetEncodingError) {
        try check(probe.version)
        try checkLength(probe.sessionID, .sessionID)
        try checkChallenge(probe.challenge)
        try checkTimestamp(probe.probeSent.rawValue, .timestampProbeSent)
        appendRaw("{\"type\":\"clock_probe\"", to: &output)
        appendVersion(probe.version, to: &output)
        appendKey(.probeID, to: &output); appendInteger(probe.probeID, negative: false, to: &output)
        appendKey(.timestampProbeSent, to: &output); appendInteger(probe.probeSent.rawValue, to: &output)
        appendString(probe.sessionID, .sessionID, to: &output)
        appendString(probe.challenge, .challenge, to: &output)
        output.append(UInt8(ascii: "}"))
    }

    /// Appends a `clock_echo` (jamnet/1.1).
    public func encode(_ echo: ClockEcho, into output: inout [UInt8]) throws(JamnetEncodingError) {
        try check(echo.version)
        try checkLength(echo.sessionID, .sessionID)
        try checkChallenge(echo.challenge)
        guard echo.echoSent >= echo.probeReceived else { throw .outOfRange(.timestampEchoSent) }
        try checkTimestamp(echo.probeSent.rawValue, .timestampProbeSent)
        try checkTimestamp(echo.probeReceived.rawValue, .timestampProbeReceived)
        try checkTimestamp(echo.echoSent.rawValue, .timestampEchoSent)
        appendRaw("{\"type\":\"clock_echo\"", to: &output)
        appendVersion(echo.version, to: &output)
        appendKey(.probeID, to: &output); appendInteger(echo.probeID, negative: false, to: &output)
        appendKey(.timestampProbeSent, to: &output); appendInteger(echo.probeSent.rawValue, to: &output)
        appendKey(.timestampProbeReceived, to: &output); appendInteger(echo.probeReceived.rawValue, to: &output)
        appendKey(.timestampEchoSent, to: &output); appendInteger(echo.echoSent.rawValue, to: &output)
        appendString(echo.sessionID, .sessionID, to: &output)
        appendString(echo.challenge, .challenge, to: &output)
        output.append(UInt8(ascii: "}"))
    }

    // MARK: - Pieces

    private func check(_ version: ProtocolVersion) throws(JamnetEncodingError) {
        guard version.major == ProtocolVersion.supportedMajor, version.minor >= 0 else { throw .unsupportedVersion(version) }
    }

    private func checkTimestamp(_ value: Int64, _ field: FieldName) throws(JamnetEncodingError) {
        guard Nanoseconds(value).isWithinNetworkLimit else { throw .outOfRange(field) }
    }

    private func checkLength(_ value: String?, _ field: FieldName) throws(JamnetEncodingError) {
        if let value, value.utf8.count > JamnetDecoder.maximumStringBytes { throw .outOfRange(field) }
    }

    private func checkChallenge(_ value: String?) throws(JamnetEncodingError) {
        guard let value else { return }
        let valid = Array(value.utf8).withUnsafeBufferPointer { LineSignature.isLowercaseHex($0, count: 2 * LineSignature.challengeBytes) }
        if !valid { throw .outOfRange(.challenge) }
    }

    private func appendRaw(_ text: StaticString, to output: inout [UInt8]) {
        output.append(contentsOf: UnsafeBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount))
    }

    private func appendKey(_ field: FieldName, to output: inout [UInt8]) {
        output.append(contentsOf: [UInt8(ascii: ","), UInt8(ascii: "\"")])
        appendRaw(field.wireName, to: &output)
        output.append(contentsOf: [UInt8(ascii: "\""), UInt8(ascii: ":")])
    }

    private func appendVersion(_ version: ProtocolVersion, to output: inout [UInt8]) {
        appendKey(.version, to: &output)
        appendRaw("\"jamnet/", to: &output)
        appendInteger(Int64(version.major), to: &output)
        output.append(UInt8(ascii: "."))
        appendInteger(Int64(version.minor), to: &output)
        output.append(UInt8(ascii: "\""))
    }

    private func appendString(_ value: String?, _ field: FieldName, to output: inout [UInt8]) {
        guard let value else { return }
        appendKey(field, to: &output)
        appendQuoted(value, to: &output)
    }

    /// A JSON string: quote, backslash and control characters escaped, the rest as UTF-8.
    private func appendQuoted(_ value: String, to output: inout [UInt8]) {
        output.append(UInt8(ascii: "\""))
        for byte in value.utf8 {
            switch byte {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"): output.append(UInt8(ascii: "\\")); output.append(byte)
            case 0x08: output.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "b")])
            case 0x09: output.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "t")])
            case 0x0A: output.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "n")])
            case 0x0C: output.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "f")])
            case 0x0D: output.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "r")])
            case 0..<0x20:
                let hex: StaticString = "0123456789abcdef"
                output.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0"),
                                           hex.utf8Start[Int(byte >> 4)], hex.utf8Start[Int(byte & 15)]])
            default: output.append(byte)
            }
        }
        output.append(UInt8(ascii: "\""))
    }

    private func appendInteger(_ value: Int64, to output: inout [UInt8]) {
        appendInteger(value.magnitude, negative: value < 0, to: &output)
    }

    private func appendInteger(_ magnitude: UInt64, negative: Bool, to output: inout [UInt8]) {
        if negative { output.append(UInt8(ascii: "-")) }
        var digits = InlineArray<20, UInt8>(repeating: 0)
        var remaining = magnitude
        var start = 20
        repeat {
            start -= 1
            digits[start] = UInt8(ascii: "0") + UInt8(remaining % 10)
            remaining /= 10
        } while remaining > 0
        for index in start..<20 { output.append(digits[index]) }
    }
}

/// Why the encoder refused a message: it would not decode back to itself.
public enum JamnetEncodingError: Error, Hashable, Sendable, CustomStringConvertible {
    /// NaN or infinity at `index` of the payload.
    case nonFiniteSample(index: Int)
    /// A field outside what the protocol accepts.
    case outOfRange(FieldName)
    /// Not a `jamnet/1.x` version.
    case unsupportedVersion(ProtocolVersion)

    /// A short explanation.
    public var description: String {
        switch self {
        case .nonFiniteSample(let index): "payload element \(index) is not finite"
        case .outOfRange(let field): "\(field) is outside what jamnet accepts"
        case .unsupportedVersion(let version): "cannot write \(version)"
        }
    }
}
