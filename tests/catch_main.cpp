// Catch2's implementation and main, built once as the object library ember_catch_main (root
// CMakeLists) for the test binaries that need nothing else: ember_tests and the emulator's
// ember_emu_tests. The GPU suite has its own runner (gpu_main.cpp).
#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>
