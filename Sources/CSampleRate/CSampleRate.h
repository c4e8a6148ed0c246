// libsamplerate (libsamplerate0-dev): band-limited sinc resampling with a variable ratio.
#include <samplerate.h>
