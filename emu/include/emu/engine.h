// The emulator's own interface (namespace emu): what the CUDA shims call into and what tests
// and the project's launch/shared-memory macros may use. Implemented in emu/src. A kernel runs
// as one fiber per CUDA thread; the current fiber's geometry is in the thread-local threadIdx,
// blockIdx, blockDim and gridDim below (set by the scheduler before every switch, so kernel code
// reads them as plain variables).
#pragma once

#include <cstddef>
#include <string>

#include "emu/runtime_types.h"

// The built-in index variables. CUDA makes them read-only; here they are plain thread-locals
// that only the scheduler writes (a kernel assigning to them compiles but is a bug).
extern __thread uint3 threadIdx;
extern __thread uint3 blockIdx;
extern __thread dim3 blockDim;
extern __thread dim3 gridDim;

namespace emu {

// The source name of the next kernel launched from this host thread (B's launch helper calls
// it just before cudaLaunchKernelEx); diagnostics name the kernel by it. The name is remembered
// per kernel address, so later unnamed launches of the same kernel are named too.
void name_next_launch(const char* name);

// The current block's copy of the static __shared__ array declared at `site` (any address
// unique to that declaration), allocated on first use: exactly `bytes` bytes (so AddressSanitizer
// sees its bounds), aligned to at least `align`, filled with 0xFF bytes (NaN as float/double).
void* block_shared(std::size_t bytes, std::size_t align, const void* site);
// The current block's dynamic shared memory: exactly dynamicSmemBytes of the launch, poisoned
// like block_shared; a zero-byte allocation (any access is an ASan error) when the launch has
// none.
void* dynamic_shared();

// The message of the last kernel fault (empty when none since the last reset), and a reset that
// clears it and the sticky launch failure, so one test binary can check several planted defects.
// cudaDeviceReset() also resets (and frees every allocation, stream and event, as CUDA's does).
std::string last_fault();
void reset_device();

// True while the calling code runs inside an emulated kernel (a fiber).
bool in_kernel();

// How stream operations execute. Immediate (the default): each runs when issued. Deferred:
// each waits in its stream's queue until a synchronisation point, then the queues run one
// stream as far as it can before the next, in stream creation order (DeferredReverse: the
// reverse), respecting only what CUDA orders (a stream's own order, the legacy default stream,
// cudaStreamWaitEvent) — so a missing cross-stream wait shows as wrong results. The initial
// mode comes from EMBER_EMU_STREAMS (immediate, deferred, deferred-reverse). Setting the mode
// first runs whatever is queued.
enum class Streams { Immediate, Deferred, DeferredReverse };
Streams streams();
void set_streams(Streams mode);

namespace detail {

// Runs `config`'s grid of `kernel` (its address, for attributes and names); every CUDA thread
// calls invoke(kernel, params). Validates the configuration first and returns the CUDA error.
// Takes ownership of `params` (a heap copy of the arguments, freed with destroy(params)), since
// with deferred streams the grid may run after cudaLaunchKernelEx has returned.
using Invoker = void (*)(const void* kernel, void* params);
using Destroyer = void (*)(void* params);
cudaError_t launch(const cudaLaunchConfig_t* config, const void* kernel, Invoker invoke,
                   Destroyer destroy, void* params);

}  // namespace detail
}  // namespace emu
