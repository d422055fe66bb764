// The CPU LSTM gate loops built for avx512 (flags: cmake/ember_cpu_isa.cmake). See
// lstm_gates_cpu.h.
#include "kernels/lstm/lstm_gates_cpu_body.h"

EMBER_LSTM_ROWS_F32(avx512)
