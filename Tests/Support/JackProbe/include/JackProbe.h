// A JACK client for the playback tests and benchmarks: it records what other clients send to it,
// with the JACK time of every cycle, so a test can see exactly what was played and when; and it
// can play a test signal itself (for a JACK-native peer such as zita-njbridge).
#ifndef JACK_PROBE_H
#define JACK_PROBE_H
#include <stdint.h>

/// Opens client `name` with two input ports; records up to `capacity_frames` frames. Returns 0,
/// or a negative value on failure (no JACK server).
int jack_probe_start(const char *name, long capacity_frames);
/// Connects the first two output ports whose names match the regular expression `pattern` to the
/// probe's inputs; returns how many it connected.
int jack_probe_connect(const char *pattern);
/// Connects the probe's two outputs to the first two input ports whose names match `pattern`;
/// returns how many it connected.
int jack_probe_connect_outputs(const char *pattern);
/// Starts the generator: an impulse every `impulse_every_frames` frames on the left output (their
/// times kept, see `jack_probe_emitted_time_usecs`), a sine of amplitude 0.5 on the right one.
void jack_probe_generate(long impulse_every_frames, double sine_hertz);
/// Impulses the generator has written since the last restart.
long jack_probe_emitted(void);
/// When impulse `index` (from 0, since the last restart) was written, in JACK microseconds (the
/// cycle's start + its offset in the cycle, as recorded frames are timed); -1 if none.
double jack_probe_emitted_time_usecs(long index);
/// The start of the latest cycle, in JACK microseconds.
double jack_probe_latest_cycle_usecs(void);
/// Starts recording from now (frames before are discarded).
void jack_probe_restart(void);
/// Frames recorded so far.
long jack_probe_frames(void);
/// Copies channel `channel` (0 or 1) of the recording into `out` (up to `max_frames`); returns the count.
long jack_probe_copy(int channel, float *out, long max_frames);
/// When recorded frame `frame` was played, in JACK microseconds (cycle start + its offset in the cycle).
double jack_probe_frame_time_usecs(long frame);
/// CLOCK_MONOTONIC − JACK time, in nanoseconds (JACK's clock is CLOCK_MONOTONIC_RAW here): the
/// reading with the tightest bracket of several.
double jack_probe_monotonic_minus_jack_nsecs(void);
/// When the pulse starting near recorded frame `onset` was played, in JACK microseconds: the energy
/// centroid of the left channel's frames around it (resampling spreads a one-sample impulse).
double jack_probe_pulse_time_usecs(long onset);
/// Frames per JACK period.
long jack_probe_period_frames(void);
/// Xruns JACK reported while recording.
long jack_probe_xruns(void);
/// The recorded frame at which xrun `index` (from 0) was reported, or -1.
long jack_probe_xrun_frame(long index);
/// Closes the client.
void jack_probe_stop(void);

#endif
