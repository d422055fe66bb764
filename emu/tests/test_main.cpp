// Catch2's main for ember_emu_tests when the emulator is built standalone (cmake -S emu); inside
// the project the binary links the shared ember_catch_main instead (tests/catch_main.cpp).
#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>
