// Layer base: parameter bookkeeping and shape printing.
#include "layers/layer.h"

#include <sstream>

namespace ember {

std::string feature_shape_str(const FeatureShape& s) {
  std::ostringstream o;
  o << "(None";
  for (int64_t d : s) {
    o << ", ";
    if (d < 0)
      o << "None";
    else
      o << d;
  }
  o << ')';
  return o.str();
}

void Layer::build(const FeatureShape&, DType, InitRng&) {}

int64_t Layer::param_count() const {
  int64_t n = 0;
  for (const Param& p : params_) n += p.var.value().numel();
  return n;
}

ag::Var& Layer::add_param(const std::string& pname, Tensor value) {
  params_.push_back(Param{pname, ag::Var(std::move(value), /*requires_grad=*/true)});
  return params_.back().var;
}

}  // namespace ember
