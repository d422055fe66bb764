// Whole-tensor helpers the engine itself needs (gradient accumulation, optimizer bookkeeping,
// metrics). Float tensors only, CPU for now; each dispatches on the device so CUDA versions slot
// in beside the CPU loops.
#pragma once

#include "engine/core/tensor.h"

namespace ember {

void add_inplace(Tensor& dst, const Tensor& src);           // dst += src
void axpy_inplace(Tensor& dst, double a, const Tensor& x);  // dst += a * x
void scale_inplace(Tensor& dst, double a);                  // dst *= a
double sum_squares(const Tensor& t);                        // accumulated in double
double max_abs_diff(const Tensor& a, const Tensor& b);      // for tests and parity reports
bool all_finite(const Tensor& t);

}  // namespace ember
