// ALSA's PCM API (libasound2-dev).
#include <alsa/asoundlib.h>
