// libFuzzer target for predict's text path: the input bytes, split into texts at '\n' plus
// the whole input as one more text, are answered by two fixed bundles written once per
// process (randomly initialised, never trained): a binary one (Embedding, LSTM, Dense 1
// sigmoid, the synthetic tokenizer, no cleaning, pre padding) and a three-class one (masked
// Embedding, Bidirectional LSTM, Dense 3 softmax, a fitted tokenizer with an OOV token, five
// cleaning steps (the seed presets among them), post padding and truncation). Each goes through
// predict() and through predict_command, which `ember predict` runs, in both its tab-separated and
// its
// --json form. Invariants: one answer per text, finite probabilities in [0, 1] summing to 1,
// the label their argmax and a class id; the printed lines agree with predict(), and every
// JSON line parses back with the text it answers (with U+FFFD for ill-formed UTF-8).
// Nothing here may throw at all: any text is a valid input to predict.
#include <unistd.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine/cli/commands.h"
#include "engine/config/config.h"
#include "engine/data/unicode.h"
#include "engine/io/bundle.h"
#include "engine/parse/load_config.h"
#include "engine/pipeline/synthetic.h"
#include "fuzz/fuzz_assert.h"
#include "layers/builder.h"
#include "tests/support/tiny_config.h"

namespace {

using ember::Bundle;
using ember::Prediction;
using json = nlohmann::json;

struct Fixture {
  std::string path;
  Bundle bundle;
};

Fixture make_fixture(const std::string& yaml, const std::string& path,
                     const ember::data::Tokenizer& tok, const std::vector<std::string>& classes,
                     const std::vector<std::string>& clean) {
  const ember::Config cfg = ember::parse_config(yaml, "fuzz_predict.yaml");
  ember::Model model = ember::build_model(cfg, ember::DType::kFloat32);
  ember::BundleContents c;
  c.config_text = cfg.text;
  c.config_name = "fuzz_predict.yaml";
  c.tokenizer = &tok;
  c.clean_steps = clean;  // a synthetic config has none of its own
  c.class_names = classes;
  c.maxlen = cfg.sequence.maxlen;
  ember::save_bundle(path, model, c);
  return {path, ember::load_bundle(path)};
}

std::vector<Fixture>& fixtures() {
  static std::vector<Fixture> f = [] {
    const std::string base = "/tmp/fuzz_predict." + std::to_string(getpid());
    ember::TokenizerConfig tc;
    tc.num_words = 20;
    tc.oov_token = "<OOV>";
    ember::data::Tokenizer fitted(tc);
    fitted.fit_on_texts({"the movie was good", "the film was not bad", "never dull always fun",
                         "caf\xc3\xa9 na\xc3\xafve \xf0\x9f\x98\x80 good"});
    std::vector<Fixture> v;
    v.push_back(make_fixture(ember::test::kTinyYaml, base + ".binary.ember",
                             ember::synthetic_tokenizer(), {"negative", "positive"}, {}));
    v.push_back(make_fixture(ember::test::kTinyMultiYaml, base + ".multi.ember", fitted,
                             {"neg", "neu", "pos"},
                             {"strip_html", "remove_urls", "remove_mentions", "seed002_clean_text",
                              "seed004_preprocess"}));
    return v;
  }();
  return f;
}

void remove_fixtures() {
  for (const Fixture& f : fixtures()) std::remove(f.path.c_str());
}

std::vector<std::string> split_lines(const std::string& s) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= s.size()) {
    size_t end = s.find('\n', start);
    if (end == std::string::npos) end = s.size();
    out.push_back(s.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

void check_predictions(const Bundle& b, const std::vector<std::string>& texts,
                       const std::vector<Prediction>& preds) {
  const size_t classes = b.class_names.size();
  FUZZ_ASSERT(preds.size() == texts.size());
  for (const Prediction& p : preds) {
    FUZZ_ASSERT(p.probabilities.size() == classes);
    FUZZ_ASSERT(p.label >= 0 && static_cast<size_t>(p.label) < classes);
    double sum = 0;
    for (const double q : p.probabilities) {
      FUZZ_ASSERT(std::isfinite(q) && q >= 0 && q <= 1);
      sum += q;
    }
    FUZZ_ASSERT(std::fabs(sum - 1) < 1e-5);
    for (const double q : p.probabilities) FUZZ_ASSERT(q <= p.probabilities[p.label]);
  }
}

// The same predictions, printed: "label<TAB>p0 p1 ..." with four decimals.
void check_plain(const Bundle& b, const std::vector<std::string>& texts,
                 const std::vector<Prediction>& preds, const std::string& out) {
  FUZZ_ASSERT(!out.empty() && out.back() == '\n');
  const std::vector<std::string> lines = split_lines(out.substr(0, out.size() - 1));
  FUZZ_ASSERT(lines.size() == texts.size());
  for (size_t i = 0; i < lines.size(); ++i) {
    const std::string& label = b.class_names[preds[i].label];
    FUZZ_ASSERT(lines[i].compare(0, label.size() + 1, label + "\t") == 0);
    std::istringstream nums(lines[i].substr(label.size() + 1));
    for (const double q : preds[i].probabilities) {
      double printed = -1;
      FUZZ_ASSERT(nums >> printed);
      FUZZ_ASSERT(std::fabs(printed - q) <= 5.01e-5);
    }
    FUZZ_ASSERT(nums.eof() || (nums >> std::ws).eof());
  }
}

void check_json(const Bundle& b, const std::vector<std::string>& texts,
                const std::vector<Prediction>& preds, const std::string& out) {
  FUZZ_ASSERT(!out.empty() && out.back() == '\n');
  const std::vector<std::string> lines = split_lines(out.substr(0, out.size() - 1));
  FUZZ_ASSERT(lines.size() == texts.size());
  for (size_t i = 0; i < lines.size(); ++i) {
    // One object a line: no raw newline, and no U+2028/U+2029 (line breaks to JavaScript).
    FUZZ_ASSERT(lines[i].find('\r') == std::string::npos);
    FUZZ_ASSERT(lines[i].find("\xe2\x80\xa8") == std::string::npos);
    FUZZ_ASSERT(lines[i].find("\xe2\x80\xa9") == std::string::npos);
    const json j = json::parse(lines[i]);  // must not throw
    FUZZ_ASSERT(j.is_object() && j.size() == 3);
    const std::string text = j.at("text").get<std::string>();
    FUZZ_ASSERT(ember::data::unicode::is_valid(text));
    if (ember::data::unicode::is_valid(texts[i])) FUZZ_ASSERT(text == texts[i]);
    FUZZ_ASSERT(j.at("label").get<std::string>() == b.class_names[preds[i].label]);
    const json& probs = j.at("probabilities");
    FUZZ_ASSERT(probs.is_object() && probs.size() == b.class_names.size());
    for (size_t c = 0; c < b.class_names.size(); ++c)
      FUZZ_ASSERT(probs.at(b.class_names[c]).get<double>() == preds[i].probabilities[c]);
  }
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  (void)fixtures();
  std::atexit(remove_fixtures);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string input(reinterpret_cast<const char*>(data), size);
  std::vector<std::string> texts = split_lines(input);
  texts.push_back(input);
  for (Fixture& f : fixtures()) {
    const std::vector<Prediction> preds = ember::predict(f.bundle, texts);
    check_predictions(f.bundle, texts, preds);
    // A text's answer does not depend on the others in its batch (up to BLAS rounding).
    const std::vector<Prediction> alone = ember::predict(f.bundle, {texts.back()});
    for (size_t c = 0; c < alone[0].probabilities.size(); ++c)
      FUZZ_ASSERT(std::fabs(alone[0].probabilities[c] - preds.back().probabilities[c]) < 1e-5);
    std::ostringstream plain, as_json;
    FUZZ_ASSERT(ember::predict_command(f.path, texts, false, plain) == 0);
    check_plain(f.bundle, texts, preds, plain.str());
    FUZZ_ASSERT(ember::predict_command(f.path, texts, true, as_json) == 0);
    check_json(f.bundle, texts, preds, as_json.str());
  }
  return 0;
}
