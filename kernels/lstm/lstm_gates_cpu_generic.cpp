// The CPU LSTM gate loops built for the baseline ISA (no extra flags), float and double. See
// lstm_gates_cpu.h.
#include "kernels/lstm/lstm_gates_cpu_body.h"

EMBER_LSTM_ROWS_F32(generic)
EMBER_LSTM_ROWS_F64(generic)
