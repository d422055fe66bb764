// CPU emulator stand-in for the toolkit header of the same name: everything the emulator
// provides is in cuda_runtime.h (the driver API itself is not emulated).
#pragma once

#include <cuda_runtime.h>
