// See cpu_isa.h. Detection by the compiler's cpuid builtins; the AVX-512 loops need the F, VL,
// BW and DQ subsets (what -mavx512{f,vl,bw,dq} lets the compiler use), AVX2 needs FMA too.
#include "engine/core/cpu_isa.h"

#include <atomic>
#include <cstdlib>
#include <cstring>

#include "engine/core/check.h"

namespace ember {

namespace {

bool machine_has(CpuIsa isa) {
#if defined(__x86_64__) && defined(__GNUC__)
  switch (isa) {
    case CpuIsa::kGeneric:
      return true;
    case CpuIsa::kAvx2:
      return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    case CpuIsa::kAvx512:
      return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl") &&
             __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512dq") &&
             __builtin_cpu_supports("fma");
  }
  return false;
#else
  return isa == CpuIsa::kGeneric;  // only the generic loops are built off x86-64
#endif
}

std::string supported_list() {
  std::string s;
  for (CpuIsa isa : supported_cpu_isas())
    s += (s.empty() ? "" : ", ") + std::string(cpu_isa_name(isa));
  return s;
}

CpuIsa from_env() {
  const char* v = std::getenv("EMBER_CPU_ISA");
  if (v && *v) {
    for (CpuIsa isa : {CpuIsa::kGeneric, CpuIsa::kAvx2, CpuIsa::kAvx512})
      if (std::strcmp(v, cpu_isa_name(isa)) == 0) {
        if (!machine_has(isa))
          throw Error(std::string("EMBER_CPU_ISA=") + v + ": this machine cannot run it (" +
                      supported_list() + " can)");
        return isa;
      }
    throw Error(std::string("EMBER_CPU_ISA='") + v + "' is not generic, avx2 or avx512");
  }
  return supported_cpu_isas().back();
}

constexpr int kUnset = -1;
std::atomic<int> g_isa{kUnset};

}  // namespace

const char* cpu_isa_name(CpuIsa isa) {
  switch (isa) {
    case CpuIsa::kGeneric:
      return "generic";
    case CpuIsa::kAvx2:
      return "avx2";
    case CpuIsa::kAvx512:
      return "avx512";
  }
  return "?";
}

std::vector<CpuIsa> supported_cpu_isas() {
  std::vector<CpuIsa> out;
  for (CpuIsa isa : {CpuIsa::kGeneric, CpuIsa::kAvx2, CpuIsa::kAvx512})
    if (machine_has(isa)) out.push_back(isa);
  return out;
}

CpuIsa cpu_isa() {
  int v = g_isa.load(std::memory_order_acquire);
  if (v == kUnset) {
    v = static_cast<int>(from_env());
    g_isa.store(v, std::memory_order_release);
  }
  return static_cast<CpuIsa>(v);
}

void set_cpu_isa(CpuIsa isa) {
  if (!machine_has(isa))
    throw Error(std::string("set_cpu_isa: this machine cannot run ") + cpu_isa_name(isa) + " (" +
                supported_list() + " can)");
  g_isa.store(static_cast<int>(isa), std::memory_order_release);
}

}  // namespace ember
