#ifndef PHOTOVERSE_FUZZ_DRIVER_H
#define PHOTOVERSE_FUZZ_DRIVER_H
#include <stddef.h>
#include <stdint.h>

/// Runs libFuzzer (its command line in argc/argv) on `test_one_input`. SwiftPM links every
/// executable with its own entry point (`main` = `<Module>_main`), so libFuzzer's `main` never
/// runs: each fuzz target's top-level code calls this instead (libFuzzer's LLVMFuzzerRunDriver).
int pv_fuzz_run(int argc, char **argv, int (*test_one_input)(const uint8_t *data, size_t size));

#endif
