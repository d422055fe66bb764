// Catch2's main for ember_emu_tests.
#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>
