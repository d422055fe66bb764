// SVG charts: well-formed (balanced tags), values and names present and escaped, non-finite
// values skipped.
#include <catch2/catch.hpp>

#include <cmath>
#include <regex>

#include "engine/eval/plots.h"

using namespace ember;
using Catch::Matchers::Contains;

namespace {
// Every opened element is closed (or self-closed), in order.
bool balanced(const std::string& svg) {
  std::vector<std::string> stack;
  std::regex tag(R"(<(/?)([a-z]+)[^>]*?(/?)>)");
  for (auto it = std::sregex_iterator(svg.begin(), svg.end(), tag); it != std::sregex_iterator();
       ++it) {
    const std::smatch& m = *it;
    if (m[3] == "/") continue;
    if (m[1] == "/") {
      if (stack.empty() || stack.back() != m[2]) return false;
      stack.pop_back();
    } else {
      stack.push_back(m[2]);
    }
  }
  return stack.empty();
}
}  // namespace

TEST_CASE("line chart of training curves", "[plots][cpu]") {
  std::string svg = plots::line_chart("Model <A> & B", "accuracy",
                                      {{"train", {0.5, 0.7, 0.9}}, {"val", {0.5, NAN, 0.8}}});
  CHECK(balanced(svg));
  CHECK_THAT(svg, Contains("Model &lt;A&gt; &amp; B"));
  CHECK_THAT(svg, Contains("train epoch 3: 0.9"));
  CHECK_THAT(svg, Contains("val epoch 3: 0.8"));
  CHECK(svg.find("val epoch 2") == std::string::npos);  // NaN left out
  CHECK(svg.find("nan") == std::string::npos);
}

TEST_CASE("confusion matrix and bar chart", "[plots][cpu]") {
  metrics::ConfusionMatrix cm = metrics::confusion_matrix({0, 0, 1, 1, 1}, {0, 1, 1, 1, 0}, 2);
  std::string svg = plots::confusion_matrix_chart("cm", cm, {"neg", "pos"});
  CHECK(balanced(svg));
  CHECK_THAT(svg, Contains(">2</text>") && Contains(">neg</text>") && Contains("predicted"));
  CHECK_THROWS(plots::confusion_matrix_chart("cm", cm, {"one"}));
  std::string bars =
      plots::bar_chart("compare", {"A", "B"}, {"accuracy", "f1"}, {{0.8, 0.7}, {0.9, 0.85}});
  CHECK(balanced(bars));
  CHECK_THAT(bars, Contains("B f1: 0.85"));
  CHECK_THROWS(plots::bar_chart("x", {"A"}, {"a", "b"}, {{1.0}}));
}
