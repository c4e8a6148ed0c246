/// A linear predictor of one channel, fitted to a stretch of audio by Burg's method, that
/// extrapolates the audio past the stretch's end.
///
/// Burg's method estimates the reflection coefficients from forward and backward prediction
/// errors together, so a short window fits well, and the filter it yields is always stable
/// (every reflection coefficient's magnitude is at most 1): an extrapolation decays or holds
/// its level, it never grows without bound. All memory is allocated by `init`.
/// Thread: one owner at a time (the concealment worker, or a benchmark). Non-allocating after `init`.
public final class BurgPredictor {
    /// The most coefficients a fit may have.
    public let maximumOrder: Int
    /// The most samples a fit may read.
    public let maximumWindow: Int
    /// Coefficients of the last fit: x[n] ≈ Σ coefficients[i − 1] · x[n − i].
    private let coefficients: UnsafeMutablePointer<Double>
    private let previous: UnsafeMutablePointer<Double>
    private let forwardError: UnsafeMutablePointer<Double>
    private let backwardError: UnsafeMutablePointer<Double>
    /// The filter's memory while extrapolating: the last `order` samples, newest at the end.
    private let state: UnsafeMutablePointer<Double>
    /// Coefficients the last fit found (0 when the window held no signal).
    public private(set) var order = 0

    /// Prepares fits of up to `maximumOrder` coefficients over up to `maximumWindow` samples.
    public init(maximumOrder: Int, maximumWindow: Int) {
        precondition(maximumOrder > 0 && maximumWindow > maximumOrder, "a predictor needs a window longer than its order")
        self.maximumOrder = maximumOrder
        self.maximumWindow = maximumWindow
        coefficients = .allocate(capacity: maximumOrder + 1)
        coefficients.initialize(repeating: 0, count: maximumOrder + 1)
        previous = .allocate(capacity: maximumOrder + 1)
        previous.initialize(repeating: 0, count: maximumOrder + 1)
        forwardError = .allocate(capacity: maximumWindow)
        forwardError.initialize(repeating: 0, count: maximumWindow)
        backwardError = .allocate(capacity: maximumWindow)
        backwardError.initialize(repeating: 0, count: maximumWindow)
        state = .allocate(capacity: 2 * maximumOrder)
        state.initialize(repeating: 0, count: 2 * maximumOrder)
    }

    deinit {
        coefficients.deallocate()
        previous.deallocate()
        forwardError.deallocate()
        backwardError.deallocate()
        state.deallocate()
    }

    /// Fits up to `maximumOrder` coefficients to the `count` samples `samples[0]`,
    /// `samples[stride]`, … (`stride` may be negative: the stretch read backwards, for a
    /// prediction backwards in time); the last of them is the newest. Returns the order found.
    @discardableResult
    public func fit(_ samples: UnsafePointer<Float>, count: Int, stride: Int) -> Int {
        let window = min(count, maximumWindow)
        // The newest `window` samples.
        let first = samples + (count - window) * stride
        let wanted = min(maximumOrder, window / 2)
        order = 0
        guard wanted > 0 else { return 0 }
        // forwardError[j] = x[j], backwardError[j] = x[j + 1]: the errors of order 0, aligned so
        // that each stage's sums run over one index.
        var energy = 0.0
        for index in 0..<(window - 1) {
            let value = Double(first[index * stride])
            forwardError[index] = value
            backwardError[index] = Double(first[(index + 1) * stride])
            energy += value * value
        }
        guard energy > 1e-20 * Double(window) else { return 0 }
        for stage in 1...wanted {
            let span = window - stage
            var numerator = 0.0, denominator = 0.0
            for index in 0..<span {
                numerator += forwardError[index] * backwardError[index]
                denominator += forwardError[index] * forwardError[index] + backwardError[index] * backwardError[index]
            }
            guard denominator > 1e-30 else { break }
            let reflection = 2 * numerator / denominator
            coefficients[stage] = reflection
            for index in 1..<stage { coefficients[index] = previous[index] - reflection * previous[stage - index] }
            order = stage
            guard stage < wanted else { break }
            for index in 1...stage { previous[index] = coefficients[index] }
            for index in 0..<(span - 1) {
                forwardError[index] -= reflection * backwardError[index]
                backwardError[index] = backwardError[index + 1] - reflection * forwardError[index + 1]
            }
        }
        return order
    }

    /// Continues the stretch last fitted (`history`, read as ``fit(_:count:stride:)`` read it,
    /// its last sample the newest) by `count` samples written to `output[0]`, `output[stride]`, …
    /// Each sample is clamped to ±`limit`; false (and silence written) when the fit found no
    /// signal or the extrapolation stopped being finite.
    public func extrapolate(history: UnsafePointer<Float>, historyCount: Int, historyStride: Int,
                            count: Int, into output: UnsafeMutablePointer<Float>, stride: Int, limit: Float) -> Bool {
        let taps = min(order, historyCount)
        guard taps > 0 else {
            for index in 0..<count { output[index * stride] = 0 }
            return false
        }
        // The state runs in a buffer twice the order long, shifted back when full: one copy per
        // `taps` samples instead of one per sample.
        let newest = history + (historyCount - 1) * historyStride
        for index in 0..<taps { state[index] = Double(newest[(index - taps + 1) * historyStride]) }
        var end = taps
        let bound = Double(limit)
        for index in 0..<count {
            var sum = 0.0
            var tap = 1
            while tap <= taps {
                sum += coefficients[tap] * state[end - tap]
                tap += 1
            }
            guard sum.isFinite else {
                for rest in index..<count { output[rest * stride] = 0 }
                return false
            }
            let value = min(max(sum, -bound), bound)
            output[index * stride] = Float(value)
            if end == 2 * maximumOrder {
                (state).update(from: state + end - taps, count: taps)
                end = taps
            }
            state[end] = value
            end += 1
        }
        return true
    }
}
