// FUZZ_ASSERT(cond): the fuzz targets' invariant check. A broken invariant is a finding, so it
// aborts (libFuzzer keeps the input as a crash) after naming the target (its source file) and
// the condition; ember::Error, the expected failure, never goes through here.
#pragma once

#include <cstdio>
#include <cstdlib>

#define FUZZ_ASSERT(cond)                                                  \
  do {                                                                     \
    if (!(cond)) {                                                         \
      std::fprintf(stderr, "%s: invariant failed: %s\n", __FILE__, #cond); \
      std::abort();                                                        \
    }                                                                      \
  } while (0)
