import Core

/// Decodes one jamnet/1.x line into a message or a classified rejection, in a single pass.
///
/// The line must be complete RFC 8259 JSON; then the envelope and fields are checked as
/// `docs/PROTOCOL.md` says. `jdat` samples go straight into the caller's `Float` buffer. Steady
/// traffic allocates nothing: ids come from a small cache, numbers are parsed in place.
/// Thread: one ingest thread per decoder (it keeps the id cache). Not shared.
public struct JamnetDecoder {
    /// `session_id`, `stream_id` and `clock_base` longer than this (in UTF-8, unescaped) are invalid.
    public static let maximumStringBytes = 256

    private var strings = StringCache()

    /// The authentication fields (jamnet/1.2) of the line last decoded, whatever its class; nil
    /// when it had none (or was not JSON). Unchecked: only a key can tell whether they are true.
    public private(set) var signature: LineSignature?

    /// Makes a decoder with an empty id cache.
    public init() {}

    /// Decodes `line` (without its newline); a `jdat` payload is written to `samples`, the
    /// line's authentication fields to ``signature``.
    public mutating func decode(_ line: UnsafeRawBufferPointer, samples: UnsafeMutableBufferPointer<Float>) -> DecodedLine {
        signature = nil
        var reader = JSONReader(line)
        do {
            return try decodeMessage(&reader, samples: samples)
        } catch {
            return .rejected(.jsonError(error))
        }
    }

    /// Convenience for tools and tests (copies the line); the payload must fit in `samples` as it
    /// is: the array is not grown.
    public mutating func decode(_ line: some Collection<UInt8>, samples: inout [Float]) -> DecodedLine {
        let bytes = Array(line)
        return bytes.withUnsafeBytes { raw in
            samples.withUnsafeMutableBufferPointer { decode(raw, samples: $0) }
        }
    }

    // MARK: - The single pass

    private mutating func decodeMessage(
        _ reader: inout JSONReader, samples: UnsafeMutableBufferPointer<Float>
    ) throws(JSONSyntaxError) -> DecodedLine {
        reader.skipWhitespace()
        guard reader.current == UInt8(ascii: "{") else {
            try reader.skipValue()
            try finish(&reader)
            return .rejected(.notAMessage(.notAnObject))
        }
        reader.position += 1

        var fields = FieldValues()
        reader.skipWhitespace()
        if reader.current == UInt8(ascii: "}") {
            reader.position += 1
        } else {
            while true {
                reader.skipWhitespace()
                guard reader.current == UInt8(ascii: "\"") else { throw reader.error(.expectedKey) }
                let key = try reader.readString()
                reader.skipWhitespace()
                try reader.expect(UInt8(ascii: ":"), else: .expectedColon)
                reader.skipWhitespace()
                if let field = fieldName(for: key, in: reader) {
                    if fields.isPresent(field) {
                        fields.report(field, .duplicate)
                        try reader.skipValue(depth: 1)
                    } else {
                        fields.markPresent(field)
                        // Where the code's field starts: an authenticated line's signed bytes end there.
                        if field == .mac && !key.hasEscapes { fields.macKeyStart = key.start - 1 }
                        try readValue(of: field, into: &fields, from: &reader, samples: samples)
                    }
                } else {
                    try reader.skipValue(depth: 1)
                }
                reader.skipWhitespace()
                if reader.current == UInt8(ascii: ",") { reader.position += 1; continue }
                try reader.expect(UInt8(ascii: "}"), else: .expectedCommaOrEndOfObject)
                break
            }
        }
        try finish(&reader)
        signature = readSignature(&fields, reader: reader)
        return classify(fields, reader: reader)
    }

    private func finish(_ reader: inout JSONReader) throws(JSONSyntaxError) {
        reader.skipWhitespace()
        guard reader.isAtEnd else { throw reader.error(.trailingCharacters) }
    }

    private func fieldName(for key: StringToken, in reader: JSONReader) -> FieldName? {
        guard key.hasEscapes else { return FieldName.matching(reader.base + key.start, count: key.count) }
        // Rare: an escaped key ("typ\u0065") still names its field once unescaped.
        var buffer = InlineArray<32, UInt8>(repeating: 0)
        var length = 0
        var tooLong = false
        Self.unescape(key, in: reader) { byte in
            if length < 32 { buffer[length] = byte; length += 1 } else { tooLong = true }
        }
        guard !tooLong else { return nil }
        return buffer.span.withUnsafeBufferPointer { FieldName.matching($0.baseAddress!, count: length) }
    }

    private mutating func readValue(
        of field: FieldName, into fields: inout FieldValues, from reader: inout JSONReader,
        samples: UnsafeMutableBufferPointer<Float>
    ) throws(JSONSyntaxError) {
        switch field {
        case .payload:
            try readPayload(into: &fields, from: &reader, samples: samples)
        case .type, .version, .sessionID, .streamID, .timestampUnit, .clockBase, .origin, .challenge, .keyID, .mac:
            guard reader.current == UInt8(ascii: "\"") else {
                fields.report(field, .notAString)
                return try reader.skipValue(depth: 1)
            }
            fields.strings[Int(field.rawValue)] = try reader.readString()
        case .timestampGPU, .timestampCPU, .seq, .sampleRate, .channels, .timestampBits,
             .probeID, .timestampProbeSent, .timestampProbeReceived, .timestampEchoSent, .authCounter:
            guard reader.current == UInt8(ascii: "-") || JSONReader.isDigit(reader.current) else {
                fields.report(field, .notAnInteger)
                return try reader.skipValue(depth: 1)
            }
            fields.integers[Int(field.rawValue)] = try reader.readInteger()
        case .tickPeriodNanoseconds, .maxDeviation:
            guard reader.current == UInt8(ascii: "-") || JSONReader.isDigit(reader.current) else {
                fields.report(field, .notANumber)
                return try reader.skipValue(depth: 1)
            }
            guard let value = try reader.readDouble() else { return fields.report(field, .outOfRange(allowed: "finite numbers")) }
            if field == .tickPeriodNanoseconds { fields.tickPeriod = value } else { fields.maxDeviation = value }
        }
    }

    /// The hot loop: numbers straight into `samples`, clipped to [−1, 1] and counted.
    @inline(__always)
    private func readPayload(
        into fields: inout FieldValues, from reader: inout JSONReader, samples: UnsafeMutableBufferPointer<Float>
    ) throws(JSONSyntaxError) {
        guard reader.current == UInt8(ascii: "[") else {
            fields.report(.payload, .notAnArray)
            return try reader.skipValue(depth: 1)
        }
        // A local copy of the reader for the loop, which the compiler keeps in registers.
        var cursor = reader
        defer { reader = cursor }
        cursor.position += 1
        cursor.skipWhitespace()
        var count = 0
        var clipped = 0
        if cursor.current == UInt8(ascii: "]") {
            cursor.position += 1
        } else {
            while true {
                // The common run: a short number and a comma, again and again, with no bounds
                // check per byte (it stops a window before the line's end).
                var afterElement = false
                while cursor.end &- cursor.position >= JSONReader.shortNumberWindow, let value = cursor.readShortFloat() {
                    Self.store(value, into: samples, count: &count, clipped: &clipped, fields: &fields)
                    afterElement = cursor.base[cursor.position] != UInt8(ascii: ",")
                    if afterElement { break }
                    cursor.position &+= 1
                }
                if !afterElement {
                    if cursor.current <= 0x20 { cursor.skipWhitespace() }
                    let byte = cursor.current
                    if byte == UInt8(ascii: "-") || JSONReader.isDigit(byte) {
                        Self.store(try cursor.readSample(), into: samples, count: &count, clipped: &clipped, fields: &fields)
                    } else {
                        fields.report(.payload, .elementNotANumber(index: count))
                        count &+= 1
                        try cursor.skipValue(depth: 2)
                    }
                }
                if cursor.current <= 0x20 { cursor.skipWhitespace() }
                let separator = cursor.current
                cursor.position += 1
                if separator == UInt8(ascii: ",") { continue }
                if separator == UInt8(ascii: "]") { break }
                cursor.position -= 1
                throw cursor.error(.expectedCommaOrEndOfArray)
            }
        }
        fields.sampleCount = count
        fields.clippedSampleCount = clipped
    }

    /// Stores a payload element's value (NaN: valid but beyond the Float range), clipped to
    /// [−1, 1]; counts it, and the clipped ones.
    @inline(__always)
    private static func store(_ value: Float, into samples: UnsafeMutableBufferPointer<Float>, count: inout Int, clipped: inout Int,
                              fields: inout FieldValues) {
        var sample = value
        if sample.isNaN {
            fields.report(.payload, .elementOutOfRange(index: count))
        } else if count < samples.count {
            if sample > 1 { sample = 1; clipped &+= 1 } else if sample < -1 { sample = -1; clipped &+= 1 }
            samples.baseAddress.unsafelyUnwrapped[count] = sample
        } else {
            fields.report(.payload, .tooManySamples(limit: samples.count))
        }
        count &+= 1
    }

    // MARK: - Classification

    private mutating func classify(_ fields: FieldValues, reader: JSONReader) -> DecodedLine {
        // Not a message: no string `type` (its duplicate is a field error below).
        guard fields.isPresent(.type) else { return .rejected(.notAMessage(.missingType)) }
        guard let typeToken = fields.strings[Int(FieldName.type.rawValue)] else { return .rejected(.notAMessage(.typeNotAString)) }

        // The version before the type: an unsupported major wins whatever the type says.
        var version = ProtocolVersion.assumed
        if fields.isPresent(.version) {
            if let problem = fields.problems[Int(FieldName.version.rawValue)] {
                return .rejected(.invalidField(InvalidField(.version, problem)))
            }
            let token = fields.strings[Int(FieldName.version.rawValue)]!
            guard !token.hasEscapes, let parsed = ProtocolVersion(reader.bytes(of: token)) else {
                return .rejected(.invalidField(InvalidField(.version, .malformedVersion)))
            }
            guard parsed.major == ProtocolVersion.supportedMajor else { return .rejected(.unsupportedVersion(parsed)) }
            version = parsed
        }
        if let problem = fields.problems[Int(FieldName.type.rawValue)] {
            return .rejected(.invalidField(InvalidField(.type, problem)))
        }

        let type: MessageType
        if Self.token(typeToken, in: reader, is: "jdat") {
            type = .audioFrame
        } else if Self.token(typeToken, in: reader, is: "sync_calibration_block") {
            type = .syncCalibration
        } else if Self.token(typeToken, in: reader, is: "clock_probe") {
            type = .clockProbe
        } else if Self.token(typeToken, in: reader, is: "clock_echo") {
            type = .clockEcho
        } else {
            return .rejected(.unknownType(Self.decodedString(typeToken, in: reader)))
        }
        // The signature's fields, for every type, before the type's own.
        if let rejection = fields.firstProblem(among: Self.signatureFields) { return .rejected(rejection) }
        switch type {
        case .audioFrame: return decodeAudioFrame(fields, version: version, reader: reader)
        case .syncCalibration: return decodeSyncCalibration(fields, version: version, reader: reader)
        case .clockProbe: return decodeClockProbe(fields, version: version, reader: reader)
        case .clockEcho: return decodeClockEcho(fields, version: version, reader: reader)
        }
    }

    private enum MessageType {
        case audioFrame, syncCalibration, clockProbe, clockEcho
    }

    private static let signatureFields: [FieldName] = [.keyID, .authCounter, .mac]

    /// The authentication fields, checked for form only (a malformed one is reported as the
    /// field's problem and left nil); nil when the line has none of them.
    private mutating func readSignature(_ fields: inout FieldValues, reader: JSONReader) -> LineSignature? {
        guard fields.isPresent(.keyID) || fields.isPresent(.authCounter) || fields.isPresent(.mac) else { return nil }
        var signature = LineSignature(codeFieldGiven: fields.isPresent(.mac))
        if fields.problems[Int(FieldName.keyID.rawValue)] == nil, let token = fields.strings[Int(FieldName.keyID.rawValue)] {
            let bytes = reader.bytes(of: token)
            if !token.hasEscapes && LineSignature.isValidKeyID(bytes) {
                signature.keyID = strings.string(for: bytes)
            } else {
                fields.report(.keyID, .unknownValue(allowed: "1 to 64 of A-Z a-z 0-9 . _ -"))
            }
        }
        if fields.problems[Int(FieldName.authCounter.rawValue)] == nil, let token = fields.integers[Int(FieldName.authCounter.rawValue)] {
            if let value = token.uint64 { signature.counter = value } else { fields.report(.authCounter, Self.integerProblem(token, allowed: Self.uint64Range)) }
        }
        if fields.problems[Int(FieldName.mac.rawValue)] == nil, let token = fields.strings[Int(FieldName.mac.rawValue)] {
            let bytes = reader.bytes(of: token)
            if !token.hasEscapes, LineSignature.isLowercaseHex(bytes, count: 2 * LineSignature.codeBytes) {
                var code = InlineArray<32, UInt8>(repeating: 0)
                for index in 0..<LineSignature.codeBytes {
                    code[index] = LineSignature.lowercaseHexValue(bytes[2 * index])! << 4 | LineSignature.lowercaseHexValue(bytes[2 * index + 1])!
                }
                signature.code = code
                // The field is the object's last member and ends the line: then, and only then,
                // the line is exactly its signed bytes and the 73-byte trailer.
                if let start = fields.macKeyStart, start + LineSignature.trailerLength == reader.end { signature.signedByteCount = start }
            } else {
                fields.report(.mac, .unknownValue(allowed: "64 lowercase hex digits"))
            }
        }
        return signature
    }

    /// Whether a string token's value is `name`; without escapes, by its bytes (no allocation).
    private static func token(_ token: StringToken, in reader: JSONReader, is name: StaticString) -> Bool {
        if token.hasEscapes { return decodedString(token, in: reader) == name.description }
        let bytes = reader.bytes(of: token)
        guard bytes.count == name.utf8CodeUnitCount else { return false }
        for index in 0..<bytes.count where bytes[index] != name.utf8Start[index] { return false }
        return true
    }

    private static let audioFrameFields: [FieldName] = [.payload, .timestampGPU, .timestampCPU, .sessionID, .streamID, .seq, .sampleRate, .channels]

    private mutating func decodeAudioFrame(_ fields: FieldValues, version: ProtocolVersion, reader: JSONReader) -> DecodedLine {
        if let rejection = fields.firstProblem(among: Self.audioFrameFields) { return .rejected(rejection) }
        guard fields.isPresent(.payload) else { return invalid(.payload, .missing) }

        let timestamp: AudioFrameHeader.Timestamp
        switch (fields.integers[Int(FieldName.timestampGPU.rawValue)], fields.integers[Int(FieldName.timestampCPU.rawValue)]) {
        case (nil, nil): return invalid(.timestampGPU, .missing)
        case (.some, .some): return invalid(.timestampGPU, .conflictsWithTimestampCPU)
        case (let gpu?, nil):
            guard let value = Self.timestamp(gpu) else { return invalid(.timestampGPU, Self.integerProblem(gpu, allowed: Self.timestampRange)) }
            timestamp = .gpu(value)
        case (nil, let cpu?):
            guard let value = Self.timestamp(cpu) else { return invalid(.timestampCPU, Self.integerProblem(cpu, allowed: Self.timestampRange)) }
            timestamp = .cpu(value)
        }

        var sequence: UInt64?
        if let token = fields.integers[Int(FieldName.seq.rawValue)] {
            guard let value = token.uint64 else { return invalid(.seq, Self.integerProblem(token, allowed: Self.uint64Range)) }
            sequence = value
        }
        var sampleRate = SampleRate.standard
        if let token = fields.integers[Int(FieldName.sampleRate.rawValue)] {
            guard let value = Self.smallInteger(token, in: SampleRate.supported) else {
                return invalid(.sampleRate, Self.integerProblem(token, allowed: "1...768000"))
            }
            sampleRate = SampleRate(hertz: value)
        }
        var channels = ChannelCount.mono
        if let token = fields.integers[Int(FieldName.channels.rawValue)] {
            guard let value = Self.smallInteger(token, in: ChannelCount.supported) else {
                return invalid(.channels, Self.integerProblem(token, allowed: "1...64"))
            }
            channels = ChannelCount(value)
        }
        guard fields.sampleCount % channels.rawValue == 0 else {
            return invalid(.payload, .notAMultipleOfChannels(count: fields.sampleCount, channels: channels.rawValue))
        }
        guard case .valid(let sessionID) = string(fields, .sessionID, reader) else { return invalid(.sessionID, .tooLong(limit: Self.maximumStringBytes)) }
        guard case .valid(let streamID) = string(fields, .streamID, reader) else { return invalid(.streamID, .tooLong(limit: Self.maximumStringBytes)) }
        let header = AudioFrameHeader(
            version: version, timestamp: timestamp, sessionID: sessionID, streamID: streamID,
            sequence: sequence, sampleRate: sampleRate, channelCount: channels)
        return .audioFrame(header, sampleCount: fields.sampleCount, clippedSampleCount: fields.clippedSampleCount)
    }

    private static let syncCalibrationFields: [FieldName] = [
        .timestampCPU, .timestampGPU, .timestampUnit, .tickPeriodNanoseconds, .timestampBits, .maxDeviation,
        .clockBase, .sessionID, .origin,
    ]

    private mutating func decodeSyncCalibration(_ fields: FieldValues, version: ProtocolVersion, reader: JSONReader) -> DecodedLine {
        if let rejection = fields.firstProblem(among: Self.syncCalibrationFields) { return .rejected(rejection) }
        let cpu: Int64, gpu: Int64
        switch (requiredTimestamp(fields, .timestampCPU), requiredTimestamp(fields, .timestampGPU)) {
        case (.failure(let rejection), _), (_, .failure(let rejection)): return .rejected(rejection)
        case (.success(let cpuTime), .success(let gpuTime)): (cpu, gpu) = (cpuTime, gpuTime)
        }

        var bits = 64
        if let token = fields.integers[Int(FieldName.timestampBits.rawValue)] {
            guard let value = Self.smallInteger(token, in: SyncCalibrationBlock.counterWidths) else {
                return invalid(.timestampBits, Self.integerProblem(token, allowed: "16...64"))
            }
            bits = value
        }
        if bits < 64 && (gpu < 0 || gpu >> bits != 0) { return invalid(.timestampGPU, .exceedsCounterWidth(bits: bits)) }

        var unit = TimestampUnit.nanoseconds
        if let token = fields.strings[Int(FieldName.timestampUnit.rawValue)] {
            switch Self.decodedString(token, in: reader) {
            case "ns": unit = .nanoseconds
            case "us": unit = .microseconds
            case "ms": unit = .milliseconds
            case "ticks":
                guard let period = fields.tickPeriod else { return invalid(.tickPeriodNanoseconds, .requiredForTicks) }
                guard SyncCalibrationBlock.tickPeriods.contains(period) else { return invalid(.tickPeriodNanoseconds, .outOfRange(allowed: "0.01...1000000")) }
                unit = .ticks(periodNanoseconds: period)
            default: return invalid(.timestampUnit, .unknownValue(allowed: "ns, us, ms, ticks"))
            }
        }
        // Both instants within ±2^62 ns once in nanoseconds (ticks × tick_period_ns for the GPU's),
        // and so is their offset.
        guard let cpuTime = unit.nanoseconds(ofCPUTimestamp: cpu) else { return invalid(.timestampCPU, .outOfRange(allowed: Self.nanosecondsRange)) }
        guard let gpuTime = unit.nanoseconds(ofGPUTimestamp: gpu) else { return invalid(.timestampGPU, .outOfRange(allowed: Self.nanosecondsRange)) }
        guard Nanoseconds(gpuTime.rawValue - cpuTime.rawValue).isWithinNetworkLimit else {
            return invalid(.timestampGPU, .outOfRange(allowed: "within ±4611686018427387903 ns of timestamp_cpu"))
        }
        if let deviation = fields.maxDeviation, !(0...unit.oneSecondOfDeviation).contains(deviation) {
            return invalid(.maxDeviation, .outOfRange(allowed: "0 to 1 s in timestamp_unit"))
        }

        var origin = SyncCalibrationBlock.Origin.sender
        if let token = fields.strings[Int(FieldName.origin.rawValue)] {
            guard let value = SyncCalibrationBlock.Origin(rawValue: Self.decodedString(token, in: reader)) else {
                return invalid(.origin, .unknownValue(allowed: "sender, receiver, midpoint"))
            }
            origin = value
        }
        guard case .valid(let sessionID) = string(fields, .sessionID, reader) else { return invalid(.sessionID, .tooLong(limit: Self.maximumStringBytes)) }
        guard case .valid(let clockBase) = string(fields, .clockBase, reader) else { return invalid(.clockBase, .tooLong(limit: Self.maximumStringBytes)) }
        return .syncCalibration(SyncCalibrationBlock(
            version: version, timestampCPU: cpu, timestampGPU: gpu, unit: unit, timestampBits: bits,
            maxDeviation: fields.maxDeviation, clockBase: clockBase, sessionID: sessionID, origin: origin))
    }

    private static let clockProbeFields: [FieldName] = [.probeID, .timestampProbeSent, .sessionID, .challenge]

    private mutating func decodeClockProbe(_ fields: FieldValues, version: ProtocolVersion, reader: JSONReader) -> DecodedLine {
        if let rejection = fields.firstProblem(among: Self.clockProbeFields) { return .rejected(rejection) }
        let probeID: UInt64, sent: Int64
        switch (requiredUInt64(fields, .probeID), requiredTimestamp(fields, .timestampProbeSent)) {
        case (.failure(let rejection), _), (_, .failure(let rejection)): return .rejected(rejection)
        case (.success(let id), .success(let time)): (probeID, sent) = (id, time)
        }
        guard case .valid(let sessionID) = string(fields, .sessionID, reader) else { return invalid(.sessionID, .tooLong(limit: Self.maximumStringBytes)) }
        guard case .valid(let challenge) = challenge(fields, reader) else { return invalid(.challenge, .unknownValue(allowed: "32 lowercase hex digits")) }
        return .clockProbe(ClockProbe(version: version, probeID: probeID, probeSent: Nanoseconds(sent), sessionID: sessionID, challenge: challenge))
    }

    private static let clockEchoFields: [FieldName] = [.probeID, .timestampProbeSent, .timestampProbeReceived, .timestampEchoSent, .sessionID, .challenge]

    private mutating func decodeClockEcho(_ fields: FieldValues, version: ProtocolVersion, reader: JSONReader) -> DecodedLine {
        if let rejection = fields.firstProblem(among: Self.clockEchoFields) { return .rejected(rejection) }
        let probeID: UInt64, sent: Int64, received: Int64, echoed: Int64
        switch (requiredUInt64(fields, .probeID), requiredTimestamp(fields, .timestampProbeSent),
                requiredTimestamp(fields, .timestampProbeReceived), requiredTimestamp(fields, .timestampEchoSent)) {
        case (.failure(let rejection), _, _, _), (_, .failure(let rejection), _, _), (_, _, .failure(let rejection), _),
             (_, _, _, .failure(let rejection)):
            return .rejected(rejection)
        case (.success(let id), .success(let t1), .success(let t2), .success(let t3)): (probeID, sent, received, echoed) = (id, t1, t2, t3)
        }
        guard echoed >= received else { return invalid(.timestampEchoSent, .outOfRange(allowed: ">= timestamp_probe_received")) }
        guard case .valid(let sessionID) = string(fields, .sessionID, reader) else { return invalid(.sessionID, .tooLong(limit: Self.maximumStringBytes)) }
        guard case .valid(let challenge) = challenge(fields, reader) else { return invalid(.challenge, .unknownValue(allowed: "32 lowercase hex digits")) }
        return .clockEcho(ClockEcho(
            version: version, probeID: probeID, probeSent: Nanoseconds(sent), probeReceived: Nanoseconds(received),
            echoSent: Nanoseconds(echoed), sessionID: sessionID, challenge: challenge))
    }

    // MARK: - Field helpers

    /// A required timestamp's value (an integer within ±2^62), or the rejection naming it.
    private func requiredTimestamp(_ fields: FieldValues, _ field: FieldName) -> Result<Int64, LineRejection> {
        guard let token = fields.integers[Int(field.rawValue)] else { return .failure(.invalidField(InvalidField(field, .missing))) }
        guard let value = Self.timestamp(token) else { return .failure(.invalidField(InvalidField(field, Self.integerProblem(token, allowed: Self.timestampRange)))) }
        return .success(value)
    }

    /// A timestamp token's value when it is an integer within ±``Nanoseconds/networkLimit``.
    private static func timestamp(_ token: IntegerToken) -> Int64? {
        guard let value = token.int64, Nanoseconds(value).isWithinNetworkLimit else { return nil }
        return value
    }

    /// A required uint64 field's value, or the rejection naming it.
    private func requiredUInt64(_ fields: FieldValues, _ field: FieldName) -> Result<UInt64, LineRejection> {
        guard let token = fields.integers[Int(field.rawValue)] else { return .failure(.invalidField(InvalidField(field, .missing))) }
        guard let value = token.uint64 else { return .failure(.invalidField(InvalidField(field, Self.integerProblem(token, allowed: Self.uint64Range)))) }
        return .success(value)
    }

    private func invalid(_ field: FieldName, _ problem: FieldProblem) -> DecodedLine {
        .rejected(.invalidField(InvalidField(field, problem)))
    }

    private static let timestampRange: AllowedValues = "-4611686018427387903...4611686018427387903"
    private static let nanosecondsRange: AllowedValues = "within ±4611686018427387903 ns once in nanoseconds"
    private static let uint64Range: AllowedValues = "0...18446744073709551615"

    private static func smallInteger(_ token: IntegerToken, in range: ClosedRange<Int>) -> Int? {
        guard let value = token.int64, value >= range.lowerBound, value <= range.upperBound else { return nil }
        return Int(value)
    }

    /// Why an integer field's token was refused: not an integer token, or outside `allowed`.
    private static func integerProblem(_ token: IntegerToken, allowed: AllowedValues) -> FieldProblem {
        if case .notAnInteger = token { return .notAnInteger }
        return .outOfRange(allowed: allowed)
    }

    /// An optional string field's value (nil when absent), unless it is over the length limit or malformed.
    private enum StringField {
        case valid(String?)
        case invalid
    }

    private mutating func string(_ fields: FieldValues, _ field: FieldName, _ reader: JSONReader) -> StringField {
        guard let token = fields.strings[Int(field.rawValue)] else { return .valid(nil) }
        // The limit is on the value: escapes make the token longer, never shorter.
        if token.hasEscapes {
            let value = Self.decodedString(token, in: reader)
            return value.utf8.count <= Self.maximumStringBytes ? .valid(value) : .invalid
        }
        guard token.count <= Self.maximumStringBytes else { return .invalid }
        return .valid(strings.string(for: reader.bytes(of: token)))
    }

    /// A probe's or echo's `challenge` (nil when absent), unless it is not 32 lowercase hex digits.
    private func challenge(_ fields: FieldValues, _ reader: JSONReader) -> StringField {
        guard let token = fields.strings[Int(FieldName.challenge.rawValue)] else { return .valid(nil) }
        let bytes = reader.bytes(of: token)
        guard !token.hasEscapes, LineSignature.isLowercaseHex(bytes, count: 2 * LineSignature.challengeBytes) else { return .invalid }
        return .valid(String(decoding: bytes, as: UTF8.self))
    }

    /// The token's value with escapes resolved (a lone surrogate becomes U+FFFD).
    static func decodedString(_ token: StringToken, in reader: JSONReader) -> String {
        guard token.hasEscapes else { return String(decoding: reader.bytes(of: token), as: UTF8.self) }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(token.count)
        unescape(token, in: reader) { bytes.append($0) }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Feeds the UTF-8 of a validated string token's value to `emit`, escapes resolved.
    static func unescape(_ token: StringToken, in reader: JSONReader, _ emit: (UInt8) -> Void) {
        let base = reader.base
        var index = token.start
        func hex4(_ at: Int) -> UInt32 {
            (0..<4).reduce(0) { $0 << 4 | JSONReader.hexValue(base[at + $1])! }
        }
        while index < token.end {
            let byte = base[index]
            guard byte == UInt8(ascii: "\\") else { emit(byte); index += 1; continue }
            let escape = base[index + 1]
            index += 2
            switch escape {
            case UInt8(ascii: "b"): emit(0x08)
            case UInt8(ascii: "f"): emit(0x0C)
            case UInt8(ascii: "n"): emit(0x0A)
            case UInt8(ascii: "r"): emit(0x0D)
            case UInt8(ascii: "t"): emit(0x09)
            case UInt8(ascii: "u"):
                var scalar = hex4(index)
                index += 4
                if scalar & 0xFC00 == 0xD800, index + 6 <= token.end, base[index] == UInt8(ascii: "\\"),
                   base[index + 1] == UInt8(ascii: "u") {
                    let low = hex4(index + 2)
                    if low & 0xFC00 == 0xDC00 {
                        scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                        index += 6
                    }
                }
                for unit in UTF8.encode(Unicode.Scalar(scalar) ?? "\u{FFFD}")! { emit(unit) }
            default: emit(escape)  // " \ /
            }
        }
    }
}

/// What the single pass collected, per field: presence, the first problem, the raw token.
struct FieldValues {
    /// One slot per ``FieldName`` (a test checks that they all fit).
    static let capacity = 32
    var present: UInt32 = 0
    var problems = InlineArray<32, FieldProblem?>(repeating: nil)
    var strings = InlineArray<32, StringToken?>(repeating: nil)
    var integers = InlineArray<32, IntegerToken?>(repeating: nil)
    var tickPeriod: Double?
    var maxDeviation: Double?
    var sampleCount = 0
    var clippedSampleCount = 0
    /// Where the `mac` key's opening quote is, when it was given without escapes.
    var macKeyStart: Int?

    func isPresent(_ field: FieldName) -> Bool { present & (1 << UInt32(field.rawValue)) != 0 }
    mutating func markPresent(_ field: FieldName) { present |= 1 << UInt32(field.rawValue) }

    /// Keeps the first problem seen for a field.
    mutating func report(_ field: FieldName, _ problem: FieldProblem) {
        if problems[Int(field.rawValue)] == nil { problems[Int(field.rawValue)] = problem }
    }

    /// The first problem among the fields a message type defines, in the type's field order.
    func firstProblem(among fields: [FieldName]) -> LineRejection? {
        for index in 0..<fields.count {
            if let problem = problems[Int(fields[index].rawValue)] { return .invalidField(InvalidField(fields[index], problem)) }
        }
        return nil
    }
}

extension JSONReader {
    /// The raw bytes of a string token.
    func bytes(of token: StringToken) -> UnsafeBufferPointer<UInt8> {
        UnsafeBufferPointer(start: base + token.start, count: token.count)
    }
}
