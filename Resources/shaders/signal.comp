#version 450
// jamsend's signal renderer: one invocation per sample frame, writing every channel of it.
// The CPU reference (Sources/Sender/Signals/CPUSignalRenderer.swift) does the same arithmetic step for step,
// so the two agree within float rounding of sin(). Phases are 32-bit fixed point (2^32 = one
// cycle): integer wrap-around is the phase's fractional part, so phases never lose precision.
layout(local_size_x = 64) in;

layout(std430, set = 0, binding = 0) writeonly buffer Output { float samples[]; } outputBuffer;
layout(std430, set = 0, binding = 1) readonly buffer Source { float samples[]; } fileBuffer;

const uint SIGNAL_SILENCE = 0u;
const uint SIGNAL_SINE = 1u;
const uint SIGNAL_CHIRP = 2u;
const uint SIGNAL_NOISE = 3u;
const uint SIGNAL_IMPULSE = 4u;
const uint SIGNAL_FILE = 5u;
const uint MAX_IMPULSES = 16u;

layout(push_constant) uniform Parameters {
    uint signal;
    uint frameCount;       // sample frames in this message
    uint channels;
    float amplitude;
    uint phase;            // sine/chirp phase of the first sample frame
    uint phaseStep;        // phase advance from the first to the second sample frame
    uint phaseStepDelta;   // chirp: how much the step grows per sample frame
    uint noiseSeed;
    uint sampleIndexLow;   // the stream's index of the first sample frame (noise)
    uint sampleIndexHigh;
    uint fileFrame;        // file: source frame of the first sample frame
    uint fileFrames;       // file: frames in the source (it loops)
    uint impulseCount;     // impulse: sample frames (within this message) that are full scale
    uint impulseIndex[MAX_IMPULSES];
} parameters;

uint hash(uint value) {
    // PCG-style integer hash: exact and identical on every device.
    uint state = value * 747796405u + 2891336453u;
    uint word = ((state >> ((state >> 28u) + 4u)) ^ state) * 277803737u;
    return (word >> 22u) ^ word;
}

float phaseSine(uint phase) {
    // int(phase) maps the cycle to [-1/2, 1/2): the argument of sin stays within ±π.
    return sin(6.2831855 * (float(int(phase)) * 2.3283064e-10));
}

void main() {
    uint frame = gl_GlobalInvocationID.x;
    if (frame >= parameters.frameCount) { return; }
    uint channels = parameters.channels;
    uint base = frame * channels;
    if (parameters.signal == SIGNAL_SINE || parameters.signal == SIGNAL_CHIRP) {
        uint phase = parameters.phase + frame * parameters.phaseStep;
        if (parameters.signal == SIGNAL_CHIRP && frame > 0u) {
            // Σ_{k<frame} k·delta = frame(frame−1)/2 · delta; frame(frame−1)/2 is exact for frame < 2^16.
            phase += (frame * (frame - 1u) / 2u) * parameters.phaseStepDelta;
        }
        float value = parameters.amplitude * phaseSine(phase);
        for (uint channel = 0u; channel < channels; channel++) { outputBuffer.samples[base + channel] = value; }
    } else if (parameters.signal == SIGNAL_NOISE) {
        uint low = parameters.sampleIndexLow + frame;
        uint high = parameters.sampleIndexHigh + (low < frame ? 1u : 0u);
        uint key = hash(low ^ hash(high ^ parameters.noiseSeed));
        for (uint channel = 0u; channel < channels; channel++) {
            uint word = hash(key ^ (channel * 2654435769u));
            float unit = float(word >> 8u) * 5.9604645e-8;   // [0, 1) in steps of 2^-24
            outputBuffer.samples[base + channel] = parameters.amplitude * (unit * 2.0 - 1.0);
        }
    } else if (parameters.signal == SIGNAL_IMPULSE) {
        float value = 0.0;
        for (uint index = 0u; index < parameters.impulseCount && index < MAX_IMPULSES; index++) {
            if (parameters.impulseIndex[index] == frame) { value = parameters.amplitude; }
        }
        for (uint channel = 0u; channel < channels; channel++) { outputBuffer.samples[base + channel] = value; }
    } else if (parameters.signal == SIGNAL_FILE) {
        uint source = ((parameters.fileFrame + frame) % parameters.fileFrames) * channels;
        for (uint channel = 0u; channel < channels; channel++) {
            outputBuffer.samples[base + channel] = fileBuffer.samples[source + channel];
        }
    } else {
        for (uint channel = 0u; channel < channels; channel++) { outputBuffer.samples[base + channel] = 0.0; }
    }
}
