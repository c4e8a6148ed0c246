#include "JackProbe.h"
#include <jack/jack.h>
#include <errno.h>
#include <math.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_CYCLES 65536

static jack_client_t *client;
static jack_port_t *ports[2];
static float *recording[2];
static long capacity;
static atomic_long recorded;
static atomic_long xruns;
#define MAX_XRUNS 64
static long xrun_frame[MAX_XRUNS];
static long cycle_first_frame[MAX_CYCLES];
static double cycle_start_usecs[MAX_CYCLES];
static double cycle_period_usecs[MAX_CYCLES];
static atomic_long cycles;
static atomic_int restart_requested;
#define MAX_EMITTED 65536
static jack_port_t *outputs[2];
static atomic_long impulse_every;  // 0: the generator is off (outputs silent)
static double sine_step;
static long generated;
static double emitted_usecs[MAX_EMITTED];
static atomic_long emitted;
static _Atomic double latest_cycle_usecs;

// The generator: an impulse every `impulse_every` frames on the left output (its JACK time kept),
// a sine on the right one; written in this cycle, as a JACK capture port would deliver it.
static void generate(jack_nframes_t frames, double cycle_usecs, double period_usecs) {
    float *left = jack_port_get_buffer(outputs[0], frames);
    float *right = jack_port_get_buffer(outputs[1], frames);
    long every = atomic_load(&impulse_every);
    for (jack_nframes_t frame = 0; frame < frames; frame++) {
        left[frame] = 0;
        right[frame] = 0;
        if (every <= 0) continue;
        if (generated % every == 0) {
            left[frame] = 1;
            long index = atomic_load(&emitted);
            if (index < MAX_EMITTED) {
                emitted_usecs[index] = cycle_usecs + (double)frame * period_usecs / (double)frames;
                atomic_store(&emitted, index + 1);
            }
        }
        right[frame] = (float)(0.5 * sin(sine_step * (double)generated));
        generated++;
    }
}

static int process(jack_nframes_t frames, void *argument) {
    (void)argument;
    if (atomic_exchange(&restart_requested, 0)) {
        atomic_store(&recorded, 0);
        atomic_store(&cycles, 0);
        atomic_store(&xruns, 0);
        atomic_store(&emitted, 0);
    }
    jack_nframes_t current_frames;
    jack_time_t current_usecs, next_usecs;
    float period_usecs;
    jack_get_cycle_times(client, &current_frames, &current_usecs, &next_usecs, &period_usecs);
    atomic_store(&latest_cycle_usecs, (double)current_usecs);
    generate(frames, (double)current_usecs, (double)(next_usecs - current_usecs));
    long at = atomic_load(&recorded);
    long cycle = atomic_load(&cycles);
    if (at + (long)frames > capacity || cycle >= MAX_CYCLES) return 0;
    for (int channel = 0; channel < 2; channel++) {
        memcpy(recording[channel] + at, jack_port_get_buffer(ports[channel], frames), frames * sizeof(float));
    }
    cycle_first_frame[cycle] = at;
    cycle_start_usecs[cycle] = (double)current_usecs;
    cycle_period_usecs[cycle] = (double)(next_usecs - current_usecs);
    atomic_store(&cycles, cycle + 1);
    atomic_store(&recorded, at + (long)frames);
    return 0;
}

static int xrun(void *argument) {
    (void)argument;
    long index = atomic_load(&xruns);
    if (index < MAX_XRUNS) xrun_frame[index] = atomic_load(&recorded);
    atomic_store(&xruns, index + 1);
    return 0;
}

int jack_probe_start(const char *name, long capacity_frames) {
    jack_status_t status;
    client = jack_client_open(name, JackNoStartServer, &status);
    if (!client) return -1;
    capacity = capacity_frames;
    for (int channel = 0; channel < 2; channel++) {
        recording[channel] = calloc((size_t)capacity, sizeof(float));
        ports[channel] = jack_port_register(client, channel == 0 ? "in_left" : "in_right", JACK_DEFAULT_AUDIO_TYPE, JackPortIsInput, 0);
        outputs[channel] = jack_port_register(client, channel == 0 ? "out_left" : "out_right", JACK_DEFAULT_AUDIO_TYPE, JackPortIsOutput, 0);
        if (!ports[channel] || !outputs[channel]) return -2;
    }
    atomic_store(&impulse_every, 0);
    atomic_store(&emitted, 0);
    atomic_store(&recorded, 0);
    atomic_store(&cycles, 0);
    atomic_store(&xruns, 0);
    jack_set_process_callback(client, process, NULL);
    jack_set_xrun_callback(client, xrun, NULL);
    if (jack_activate(client) != 0) return -3;
    return 0;
}

// Connects the first two ports matching `pattern` (of the direction `flags` names) with the
// probe's `own` ports, in order: first to left, second to right; one connected before counts.
static int connect_in_order(const char *pattern, unsigned long flags, jack_port_t **own) {
    const char **names = jack_get_ports(client, pattern, JACK_DEFAULT_AUDIO_TYPE, flags);
    int connected = 0;
    for (int index = 0; names && names[index] && index < 2; index++) {
        const char *mine = jack_port_name(own[index]);
        int result = flags == JackPortIsOutput ? jack_connect(client, names[index], mine) : jack_connect(client, mine, names[index]);
        if (result == 0 || result == EEXIST) connected++;
    }
    if (names) jack_free(names);
    return connected;
}

int jack_probe_connect(const char *pattern) { return connect_in_order(pattern, JackPortIsOutput, ports); }

int jack_probe_connect_outputs(const char *pattern) { return connect_in_order(pattern, JackPortIsInput, outputs); }

void jack_probe_generate(long impulse_every_frames, double sine_hertz) {
    sine_step = 2 * M_PI * sine_hertz / (double)jack_get_sample_rate(client);
    atomic_store(&impulse_every, impulse_every_frames);
}

long jack_probe_emitted(void) { return atomic_load(&emitted); }

double jack_probe_emitted_time_usecs(long index) { return index >= 0 && index < atomic_load(&emitted) ? emitted_usecs[index] : -1; }

double jack_probe_latest_cycle_usecs(void) { return atomic_load(&latest_cycle_usecs); }

void jack_probe_restart(void) { atomic_store(&restart_requested, 1); }

long jack_probe_frames(void) { return atomic_load(&recorded); }

long jack_probe_copy(int channel, float *out, long max_frames) {
    long count = atomic_load(&recorded);
    if (count > max_frames) count = max_frames;
    memcpy(out, recording[channel], (size_t)count * sizeof(float));
    return count;
}

double jack_probe_frame_time_usecs(long frame) {
    long count = atomic_load(&cycles);
    long low = 0, high = count - 1;
    if (count == 0) return 0;
    while (low < high) {  // the last cycle whose first frame is at or before `frame`
        long middle = (low + high + 1) / 2;
        if (cycle_first_frame[middle] <= frame) low = middle; else high = middle - 1;
    }
    long frames_in_cycle = (low + 1 < count ? cycle_first_frame[low + 1] : atomic_load(&recorded)) - cycle_first_frame[low];
    if (frames_in_cycle <= 0) frames_in_cycle = 1;
    return cycle_start_usecs[low] + (double)(frame - cycle_first_frame[low]) * cycle_period_usecs[low] / (double)frames_in_cycle;
}

static int64_t monotonic_nsecs(void) {
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (int64_t)now.tv_sec * 1000000000 + now.tv_nsec;
}

double jack_probe_monotonic_minus_jack_nsecs(void) {
    int64_t best_width = INT64_MAX;
    double best = 0;
    for (int attempt = 0; attempt < 50; attempt++) {
        int64_t before = monotonic_nsecs();
        jack_time_t jack = jack_get_time();
        int64_t after = monotonic_nsecs();
        if (after - before < best_width) {
            best_width = after - before;
            best = (double)(before + best_width / 2) - (double)jack * 1000.0;
        }
    }
    return best;
}

double jack_probe_pulse_time_usecs(long onset) {
    long frames = atomic_load(&recorded);
    double weight = 0, moment = 0;
    for (long frame = onset - 4 < 0 ? 0 : onset - 4; frame <= onset + 6 && frame < frames; frame++) {
        double energy = (double)recording[0][frame] * (double)recording[0][frame];
        weight += energy;
        moment += energy * jack_probe_frame_time_usecs(frame);
    }
    return weight > 0 ? moment / weight : jack_probe_frame_time_usecs(onset);
}

long jack_probe_period_frames(void) { return client ? (long)jack_get_buffer_size(client) : 0; }

long jack_probe_xruns(void) { return atomic_load(&xruns); }

long jack_probe_xrun_frame(long index) { return index >= 0 && index < MAX_XRUNS && index < atomic_load(&xruns) ? xrun_frame[index] : -1; }

void jack_probe_stop(void) {
    if (!client) return;
    jack_deactivate(client);
    jack_client_close(client);
    client = NULL;
    for (int channel = 0; channel < 2; channel++) { free(recording[channel]); recording[channel] = NULL; }
}
