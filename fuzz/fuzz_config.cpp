// libFuzzer target for the YAML config parser and the model builder: the input bytes are a
// config file's text for parse_config. A config that parses must be usable by everything the
// trainer builds from it without a further check: its tokenizer, cleaner, optimizer and
// callbacks are constructed (none may throw at all: the parser promised they are valid), and
// its model is built (a ConfigError is the documented way to reject a model whose layers do
// not fit together). A small built model also runs forward on a tiny batch of token ids in
// inference mode. Host tensors are capped at 1 MiB, so a valid config asking for a 10^9-word
// embedding is refused with an AllocationError (an ember::Error) instead of exhausting memory,
// and no input spends seconds initialising (orthogonally) a seed-sized model under ASan.
// ember::Error is the expected way to reject input; any other exception, a sanitizer report or
// a broken invariant (checked below) is a finding.
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <variant>

#include "engine/config/config.h"
#include "engine/core/check.h"
#include "engine/core/tensor.h"
#include "engine/data/clean.h"
#include "engine/data/tokenizer.h"
#include "engine/eval/evaluate.h"
#include "engine/parse/load_config.h"
#include "engine/train/callbacks.h"
#include "fuzz/fuzz_assert.h"
#include "layers/builder.h"
#include "layers/model.h"
#include "optim/optimizer.h"

namespace {

using ember::Config;

// A forward pass costs about maxlen * params multiply-adds per row: only small models run.
constexpr int64_t kMaxForwardParams = 200000;
constexpr int64_t kMaxForwardLen = 64;

void check_parsed(const Config& cfg, const std::string& text) {
  FUZZ_ASSERT(cfg.text == text);
  if (!cfg.model.empty()) FUZZ_ASSERT(cfg.sequence.maxlen > 0);
  FUZZ_ASSERT(cfg.train.epochs >= 0 && cfg.train.batch_size > 0);
  FUZZ_ASSERT(cfg.train.optimizer.lr() >= 0);
  for (const ember::LayerConfig& lc : cfg.model) FUZZ_ASSERT(!lc.type.empty());
  // What the loader, trainer and predict construct from a parsed config without checking.
  ember::data::Tokenizer tok(cfg.tokenizer);
  ember::data::Cleaner cleaner(cfg.data.clean);
  (void)ember::make_optimizer(cfg.train.optimizer);
  try {
    FUZZ_ASSERT(ember::make_callbacks(cfg.train.callbacks).size() == cfg.train.callbacks.size());
  } catch (const ember::Error&) {
    // documented: an unknown callback type (the parser should have refused it already)
  }
}

void run_forward(ember::Model& model, const Config& cfg) {
  const int64_t maxlen = cfg.sequence.maxlen;
  if (model.param_count() > kMaxForwardParams || maxlen > kMaxForwardLen) return;
  int64_t vocab = 2;
  if (const auto* e = std::get_if<ember::EmbeddingOptions>(&cfg.model.front().options))
    vocab = e->input_dim;
  if (vocab < 1) return;
  // Row 0: all padding (an all-masked row under mask_zero); row 1: ids 1, 2, ... mod vocab.
  ember::Tensor tokens = ember::Tensor::zeros({2, maxlen}, ember::DType::kInt32);
  for (int64_t t = 0; t < maxlen; ++t)
    tokens.at<int32_t>(maxlen + t) = static_cast<int32_t>((t + 1) % vocab);
  const ember::Scores s = ember::model_scores(model, tokens, cfg.train.loss.from_logits, 2);
  FUZZ_ASSERT(s.rows == 2);
  FUZZ_ASSERT(s.classes >= 1);
  FUZZ_ASSERT(s.probs.size() == static_cast<size_t>(s.rows * s.classes));
  FUZZ_ASSERT(s.pred.size() == static_cast<size_t>(s.rows));
  for (const int32_t p : s.pred) FUZZ_ASSERT(p >= 0 && p < std::max<int64_t>(2, s.classes));
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  ember::set_host_tensor_limit(1u << 20);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  Config cfg;
  try {
    cfg = ember::parse_config(text, "fuzz.yaml");
  } catch (const ember::Error&) {
    return 0;  // documented: ConfigError naming file:line:column and the key
  }
  check_parsed(cfg, text);
  if (cfg.model.empty()) return 0;
  try {
    ember::Model model = ember::build_model(cfg, ember::DType::kFloat32);
    FUZZ_ASSERT(model.built());
    FUZZ_ASSERT(model.maxlen() == cfg.sequence.maxlen);
    FUZZ_ASSERT(model.layers().size() == cfg.model.size());
    FUZZ_ASSERT(model.param_count() >= 0);
    run_forward(model, cfg);
  } catch (const ember::Error&) {
    // documented: ConfigError (layers that do not fit together), AllocationError (over 1 MiB)
  }
  return 0;
}
