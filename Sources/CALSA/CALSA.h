// ALSA's PCM API (libasound2-dev).
#include <alsa/asoundlib.h>

// ALSA's library prints its own line on stderr when a device cannot be opened ("ALSA lib
// pcm.c:2666: Unknown PCM x"), before jamplay's clearer one, and again on every retry. Its error
// handler is variadic, which Swift cannot define: these switch it to a silent one and back.
static void jamplay_alsa_discard_error(const char *file, int line, const char *function, int error, const char *format, ...) {
    (void)file; (void)line; (void)function; (void)error; (void)format;
}
static inline void jamplay_alsa_silence_errors(void) { snd_lib_error_set_handler(jamplay_alsa_discard_error); }
static inline void jamplay_alsa_restore_errors(void) { snd_lib_error_set_handler(NULL); }
