// CPU emulator stand-in for the CUDA toolkit's cuda_runtime.h (emu/README.md): with emu/include
// first on the include path, CUDA sources compile as plain C++ and their kernels run as one fiber
// per CUDA thread. Kernels are launched with cudaLaunchKernelEx (no <<<>>> syntax).
#pragma once

#include "emu/device_functions.h"
#include "emu/device_math.h"
#include "emu/engine.h"
#include "emu/launch.h"
#include "emu/runtime_api.h"
#include "emu/runtime_types.h"
#include "emu/vector_types.h"
