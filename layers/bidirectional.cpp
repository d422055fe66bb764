// Bidirectional over two LSTM layers. The sub-layers own their parameters; this layer lists
// the same Vars under prefixed names (so optimizers and the bundle see one flat list) and
// forwards through LSTM::forward_with with Keras's flags for each direction. On CUDA the two
// directions overlap: the backward one is queued first on the device's side stream, the
// forward one then on the main stream, and the main stream waits for the side stream
// (Context::join, an event, no host sync) before the merge.
#include "layers/bidirectional.h"

#include <vector>

#include "layers/functional.h"

#include "engine/core/exec.h"

namespace ember {

namespace {

LstmOptions flipped(LstmOptions o) {
  o.go_backwards = !o.go_backwards;
  return o;
}

}  // namespace

Bidirectional::Bidirectional(const BidirectionalOptions& options)
    : options_(options), forward_lstm_(options.layer), backward_lstm_(flipped(options.layer)) {}

FeatureShape Bidirectional::output_shape(const FeatureShape& in) const {
  FeatureShape out = forward_lstm_.output_shape(in);
  if (options_.merge_mode == MergeMode::kConcat) out.back() *= 2;
  return out;
}

void Bidirectional::build(const FeatureShape& in, DType dt, InitRng& rng) {
  output_shape(in);  // validates
  InitRng forward_rng = rng.fork(0);
  InitRng backward_rng = rng.fork(1);
  forward_lstm_.build(in, dt, forward_rng);
  backward_lstm_.build(in, dt, backward_rng);
  params_.clear();
  for (const Param& p : forward_lstm_.params())
    params_.push_back(Param{"forward_lstm/" + p.name, p.var});
  for (const Param& p : backward_lstm_.params())
    params_.push_back(Param{"backward_lstm/" + p.name, p.var});
}

LayerIO Bidirectional::forward(const LayerIO& in, const RunContext& ctx) {
  const LstmOptions& o = options_.layer;
  const bool seq = o.return_sequences;
  const uint32_t layer = static_cast<uint32_t>(index);
  // params_ is the list the outside world sees (optimizers, loaders); should anyone have
  // replaced a Var there rather than updated it in place, the sub-layers follow.
  const size_t n_fwd = forward_lstm_.params().size();
  EMBER_CHECK_ARG(params_.size() == n_fwd + backward_lstm_.params().size(),
                  "Bidirectional '" << name << "': forward before build");
  for (size_t i = 0; i < params_.size(); ++i)
    (i < n_fwd ? forward_lstm_.params()[i] : backward_lstm_.params()[i - n_fwd]).var =
        params_[i].var;
  // Keras: zero_output_for_mask = return_sequences for both; the backward output is reversed
  // back to the input's time order when it is a sequence.
  LayerIO fwd, bwd;
  const Device dev = in.x.defined() ? in.x.value().device() : Device::cpu();
  if (dev.is_cpu()) {
    fwd = forward_lstm_.forward_with(in, ctx, o.go_backwards, /*reverse_outputs=*/false,
                                     /*zero_output_for_mask=*/seq, layer, 0);
    bwd = backward_lstm_.forward_with(in, ctx, !o.go_backwards, /*reverse_outputs=*/seq,
                                      /*zero_output_for_mask=*/seq, layer, 2);
  } else {
    EMBER_CHECK_ARG(kern::cuda_built(), "Bidirectional: input on "
                                            << dev.str() << " but this build has no CUDA support");
    // The side stream's temporaries live until the main stream has waited for it, also when
    // the forward direction throws.
    struct JoinSide {
      kern::Exec main, side;
      std::vector<Tensor> temps;
      ~JoinSide() {
        try {
          kern::join(main, side);
        } catch (...) {  // a failed join has already made the device unusable
        }
      }
    } side{kern::Exec::of(dev), kern::Exec::side(dev), {}};
    bwd = backward_lstm_.forward_with(in, ctx, !o.go_backwards, /*reverse_outputs=*/seq,
                                      /*zero_output_for_mask=*/seq, layer, 2, &side.temps);
    fwd = forward_lstm_.forward_with(in, ctx, o.go_backwards, /*reverse_outputs=*/false,
                                     /*zero_output_for_mask=*/seq, layer, 0);
  }
  LayerIO out;
  out.x = fn::merge(fwd.x, bwd.x, options_.merge_mode);
  if (seq) out.mask = in.mask;
  return out;
}

}  // namespace ember
