// libFuzzer's driver, for a harness whose own main starts it (SwiftPM executables have their own
// entry point). Provided by -sanitize=fuzzer.
#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*callback)(const uint8_t *data, size_t size));
