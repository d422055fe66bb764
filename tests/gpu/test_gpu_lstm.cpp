// The LSTM on the GPU against the CPU reference (kernels/lstm/lstm_ref.cpp, float64):
//  - the fused kernels (kernels/lstm/lstm_gates.cu, lstm.cu) through fn::lstm and check_parity
//    (float32 and float64 on the GPU, each run twice and compared bitwise), at awkward shapes
//    (B=1, T=1, C/H of 1, 3, 5, 37, 65, 129), masks pre- and post-padded, holed and fully
//    masked rows, go_backwards, reverse_outputs, zero_output_for_mask, return_sequences both
//    ways, with and without bias, dropout and recurrent_dropout in training;
//  - the same launchers called directly: gradients accumulate into non-zero buffers, the saved
//    dropout factors equal the reference's bit for bit (same Philox draw), and so do the saved
//    cell states and recurrent operands within tolerance;
//  - cuDNN (kernels/lstm/cudnn_rnn.cpp) against the reference under every mask (sequences are
//    compacted) and against the fused path on identical weights;
//  - Bidirectional, whose two directions run on two streams, against the CPU, with fused and
//    with cuDNN directions; the implementation choice and its errors.
// The cuDNN cases are tagged [cudnn]: the CUDA emulator cannot run them (tests/gpu_main.cpp
// reports them skipped there), and checks instead that the implementation is refused by name.
// Tolerances: float64 uses the table's float64 row. float32: each output sums C + H products
// per step and the error compounds over the recurrence, each weight gradient sums B*T rows;
// the table's float32 row is scaled by 50 for the small shapes (atol 5e-4), by 200 for the
// B*T = 3840-row case.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "kernels/lstm/lstm.h"
#include "layers/functional.h"
#include "tests/support/gpu_test_util.h"
#include "tests/support/lstm_test_util.h"

using namespace ember;
using namespace ember::test;
using Catch::Matchers::Contains;

namespace {

// The sweep: awkward sizes first, then every option on small ones, then one larger shape.
std::vector<LstmCase> cases() {
  std::vector<LstmCase> v;
  auto add = [&](LstmCase c) { v.push_back(c); };
  add({1, 1, 1, 1});
  add({1, 1, 5, 3, MaskKind::kNone, true, false, false, false, /*bias=*/false});
  add({1, 4, 3, 5, MaskKind::kPost, true});
  add({3, 7, 5, 3, MaskKind::kPost, true});
  add({3, 7, 5, 3, MaskKind::kPre, false});
  add({5, 6, 37, 3, MaskKind::kMixed, false});
  add({5, 5, 3, 37, MaskKind::kMixed, true, false, false, /*zero=*/true});
  add({4, 6, 5, 3, MaskKind::kPre, true, /*back=*/true, /*rev=*/true});
  add({4, 6, 5, 3, MaskKind::kPost, true, /*back=*/true, /*rev=*/false, /*zero=*/true});
  add({5, 6, 5, 3, MaskKind::kMixed, false, /*back=*/true});
  add({6, 8, 7, 5, MaskKind::kMixed, true, false, false, false, true, 0.3, 0.25});
  add({2, 9, 4, 6, MaskKind::kNone, true, true, true, false, true, 0.5, 0.0});
  add({3, 5, 6, 4, MaskKind::kPost, false, false, false, false, false, 0.0, 0.4});
  add({5, 7, 4, 4, MaskKind::kMixed, false, true, false, true, true, 0.2, 0.2});
  add({33, 3, 129, 65, MaskKind::kPost, false, false, false, false, true, 0.1, 0.0});
  LstmCase big{32, 120, 128, 100, MaskKind::kMixed, true, false, false, false, true, 0.2, 0.2};
  big.kernel_range = 0.15;
  add(big);
  return v;
}

}  // namespace

TEST_CASE("GPU fused LSTM matches the CPU reference under every option", "[gpu][lstm]") {
  uint64_t seed = 500;
  for (const LstmCase& c : cases()) {
    INFO(c.str());
    check_lstm_parity(c, seed += 10, fn::LstmImpl::kFused);
  }
}

TEST_CASE("GPU fused launchers accumulate and save what the reference saves, dropout bit for bit",
          "[gpu][lstm]") {
  uint64_t seed = 900;
  for (const LstmCase& c : cases()) {
    INFO(c.str());
    check_lstm_launchers<double>(c, seed += 20, cuda::lstm_forward<double>,
                                 cuda::lstm_backward<double>, /*check_gates=*/false);
    check_lstm_launchers<float>(c, seed, cuda::lstm_forward<float>, cuda::lstm_backward<float>,
                                /*check_gates=*/false);
  }
}

TEST_CASE("GPU cuDNN LSTM matches the CPU reference and the fused path", "[gpu][lstm][cudnn]") {
  uint64_t seed = 1500;
  for (LstmCase c : cases()) {
    c.rdrop = 0.0;  // cuDNN has no recurrent dropout
    INFO(c.str());
    const std::vector<Tensor> in = lstm_inputs(c, seed += 10);
    const Tensor mask = make_mask(c.mask, c.b, c.t);
    const DeviceFn cudnn = lstm_fn(c, mask, fn::LstmImpl::kCudnn);
    EMBER_CHECK_PARITY(cudnn, in, std::vector<bool>(in.size(), true), tol32_for(c));
    // Against the fused path on identical (float32-rounded) weights, both in float32.
    expect_lstm_impls_agree(c, in, mask, fn::LstmImpl::kCudnn, fn::LstmImpl::kFused, seed + 7);
  }
}

namespace {
const LstmCase kChoiceCase{3, 5, 4, 6, MaskKind::kMixed, true, false, false, false, true, 0.2, 0.3};
}  // namespace

TEST_CASE("GPU LSTM implementation choice: reference on CUDA, devices", "[gpu][lstm]") {
  const LstmCase& c = kChoiceCase;
  const std::vector<Tensor> in = lstm_inputs(c, 77);
  const Tensor mask = make_mask(c.mask, c.b, c.t);
  // "reference" on CUDA tensors runs the CPU code through host copies: the CPU's results.
  EMBER_CHECK_PARITY(lstm_fn(c, mask, fn::LstmImpl::kReference), in,
                     std::vector<bool>(in.size(), true), gpu_f32_tol(10), Tolerance{0.0, 0.0});
  std::vector<ag::Var> v;
  for (const Tensor& t : in) v.emplace_back(to_device(t), true);
  // A host mask beside device tensors is moved over; weights on another device are refused.
  const fn::LstmCall call = c.call(fn::LstmImpl::kFused);
  const Tensor with_host_mask = fn::lstm(v[0], v[1], v[2], v[3], mask, call).value();
  const Tensor with_dev_mask = fn::lstm(v[0], v[1], v[2], v[3], to_device(mask), call).value();
  CHECK(bitwise_equal(with_host_mask, with_dev_mask));
  ag::Var host_kernel(in[1], true);
  CHECK_THROWS_WITH(fn::lstm(v[0], host_kernel, v[2], v[3], mask, call),
                    Contains("lstm") && Contains("cpu") && Contains("cuda:0"));
}

TEST_CASE("GPU cuDNN LSTM refuses recurrent_dropout by name", "[gpu][lstm][cudnn]") {
  const LstmCase& c = kChoiceCase;
  const Tensor mask = make_mask(c.mask, c.b, c.t);
  std::vector<ag::Var> v;
  for (const Tensor& t : lstm_inputs(c, 77)) v.emplace_back(to_device(t), true);
  // cuDNN cannot apply recurrent dropout: an error naming it, only when it would apply.
  fn::LstmCall call = c.call(fn::LstmImpl::kCudnn);
  CHECK_THROWS_AS(fn::lstm(v[0], v[1], v[2], v[3], to_device(mask), call), std::invalid_argument);
  CHECK_THROWS_WITH(fn::lstm(v[0], v[1], v[2], v[3], to_device(mask), call),
                    Contains("recurrent_dropout") && Contains("cudnn"));
  call.training = false;  // inference: no dropout, cuDNN is fine
  CHECK_NOTHROW(fn::lstm(v[0], v[1], v[2], v[3], to_device(mask), call));
}

#ifdef EMBER_CUDA_EMU
TEST_CASE("Emulator: the cudnn implementation is refused by name", "[gpu][lstm][emu]") {
  const LstmCase& c = kChoiceCase;
  std::vector<ag::Var> v;
  for (const Tensor& t : lstm_inputs(c, 77)) v.emplace_back(to_device(t), true);
  for (bool training : {true, false}) {
    fn::LstmCall call = c.call(fn::LstmImpl::kCudnn);
    call.training = training;
    CHECK_THROWS_AS(fn::lstm(v[0], v[1], v[2], v[3], Tensor(), call), std::invalid_argument);
    CHECK_THROWS_WITH(fn::lstm(v[0], v[1], v[2], v[3], Tensor(), call),
                      Contains("implementation 'cudnn' is not available under the CUDA emulator") &&
                          Contains("use fused or persistent"));
  }
  // The same layer on the same device runs with the fused path.
  CHECK_NOTHROW(fn::lstm(v[0], v[1], v[2], v[3], Tensor(), c.call(fn::LstmImpl::kFused)));
}
#endif

TEST_CASE("GPU Bidirectional (two streams) matches the CPU", "[gpu][lstm][bidirectional]") {
  const int64_t nh = 9;
  const BidiCase bcases[] = {{true, "concat", "auto", 0.1, MaskKind::kMixed, nh},
                             {false, "concat", "fused", 0.0, MaskKind::kPre, nh},
                             {true, "sum", "fused", 0.2, MaskKind::kPost, nh},
                             {false, "ave", "auto", 0.0, MaskKind::kNone, nh}};
  uint64_t seed = 2100;
  for (const BidiCase& bc : bcases) check_bidirectional(bc, seed += 10);
}

TEST_CASE("GPU Bidirectional with cuDNN directions (two streams) matches the CPU",
          "[gpu][lstm][bidirectional][cudnn]") {
  const int64_t nh = 9;
  const BidiCase bcases[] = {{true, "concat", "cudnn", 0.0, MaskKind::kMixed, nh},
                             {false, "mul", "cudnn", 0.0, MaskKind::kPost, nh}};
  uint64_t seed = 2140;
  for (const BidiCase& bc : bcases) check_bidirectional(bc, seed += 10);
}
