// Which instruction set the CPU path's hand-vectorised loops run with (the LSTM gate loops,
// kernels/lstm/lstm_gates_cpu*.cpp, compiled once per ISA). Chosen once: EMBER_CPU_ISA
// (generic | avx2 | avx512) when set, else the widest the machine has. Each ISA's loops are
// deterministic on their own, but their bits differ from each other's (FMA contraction), so a
// test that compares against checked-in numbers pins one (tests/CMakeLists.txt: generic).
#pragma once

#include <string>
#include <vector>

namespace ember {

enum class CpuIsa { kGeneric, kAvx2, kAvx512 };

// "generic", "avx2", "avx512".
const char* cpu_isa_name(CpuIsa isa);

// The ISAs this build has loops for and this machine can run, generic first.
std::vector<CpuIsa> supported_cpu_isas();

// The ISA in use (EMBER_CPU_ISA, else the widest supported). An EMBER_CPU_ISA this machine
// or build cannot run is an ember::Error naming it and the supported ones.
CpuIsa cpu_isa();

// Overrides the choice (tests compare every supported ISA); throws ember::Error if unsupported.
void set_cpu_isa(CpuIsa isa);

}  // namespace ember
