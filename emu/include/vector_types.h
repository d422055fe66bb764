// CPU emulator stand-in for the toolkit's vector_types.h (dim3, uint3, float4, ...).
#pragma once

#include "emu/vector_types.h"
