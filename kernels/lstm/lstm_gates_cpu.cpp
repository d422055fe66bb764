// See lstm_gates_cpu.h: which ISA's loops a call gets.
#include "kernels/lstm/lstm_gates_cpu.h"

#include "engine/core/check.h"

namespace ember::ref {

template <>
LstmRowKernels<float> lstm_row_kernels<float>(CpuIsa isa) {
  switch (isa) {
    case CpuIsa::kGeneric:
      return lstm_rows_generic_f32();
    case CpuIsa::kAvx2:
      return lstm_rows_avx2_f32();
    case CpuIsa::kAvx512:
      return lstm_rows_avx512_f32();
  }
  EMBER_CHECK(false, "lstm_row_kernels: unknown ISA " << static_cast<int>(isa));
}

template <>
LstmRowKernels<double> lstm_row_kernels<double>(CpuIsa) {
  return lstm_rows_generic_f64();
}

}  // namespace ember::ref
