// cudaLaunchKernelEx for the CPU emulator: the C++ template of the CUDA runtime (same
// signature), which converts the arguments to the kernel's parameter types once, as a GPU copies
// them into its parameter space, then runs the grid with every CUDA thread calling the kernel
// on its own copy of those values.
#pragma once

#include <tuple>
#include <type_traits>
#include <utility>

#include "emu/engine.h"

template <class... Exp, class... Act>
cudaError_t cudaLaunchKernelEx(const cudaLaunchConfig_t* config, void (*kernel)(Exp...),
                               Act&&... args) {
  static_assert(sizeof...(Exp) == sizeof...(Act),
                "cudaLaunchKernelEx: the number of arguments differs from the kernel's parameters");
  using Params = std::tuple<std::decay_t<Exp>...>;
  struct Thunk {
    static void run(const void* fn, void* p) {
      // Each thread passes copies: the kernel's by-value parameters live on its own stack.
      std::apply(reinterpret_cast<void (*)(Exp...)>(const_cast<void*>(fn)),
                 *static_cast<Params*>(p));
    }
    static void destroy(void* p) { delete static_cast<Params*>(p); }
  };
  return ::emu::detail::launch(config, reinterpret_cast<const void*>(kernel), &Thunk::run,
                               &Thunk::destroy, new Params(std::forward<Act>(args)...));
}
