// Implementation of test_util.h.
#include "tests/support/test_util.h"

#include <unistd.h>

#include <cmath>
#include <cstring>
#include <fstream>
#include <sstream>

#include "engine/config/config.h"
#include "engine/core/rng.h"
#include "engine/parse/load_config.h"

namespace ember::test {

TempDir::TempDir(const std::string& name) {
  path =
      std::filesystem::temp_directory_path() / ("ember_" + name + "_" + std::to_string(::getpid()));
  std::filesystem::remove_all(path);
  std::filesystem::create_directories(path);
}

TempDir::~TempDir() {
  std::error_code ec;  // never throw from a destructor
  std::filesystem::remove_all(path, ec);
}

void TempDir::write(const std::string& file, const std::string& text) const {
  std::filesystem::create_directories((path / file).parent_path());
  std::ofstream(path / file, std::ios::binary) << text;
}

Tolerance tolerance(DType dt) {
  switch (dt) {
    case DType::kFloat32:
      return {1e-5, 1e-5};
    case DType::kFloat64:
      return {1e-12, 1e-10};
    default:
      return {0, 0};  // integer tensors compare exactly
  }
}

std::string compare(const Tensor& got, const Tensor& ref, Tolerance tol) {
  std::ostringstream s;
  if (got.shape() != ref.shape()) {
    s << "shape mismatch: got " << got.str() << ", expected " << ref.str();
    return s.str();
  }
  int64_t worst = -1, bad = 0;
  double worst_excess = 0;
  std::ostringstream first;
  for (int64_t i = 0; i < got.numel(); ++i) {
    double g = got.item(i), r = ref.item(i);
    double allowed = tol.atol + tol.rtol * std::fabs(r);
    double err = std::fabs(g - r);
    if (!(err <= allowed)) {  // NaN fails too
      if (bad < 5) first << "  [" << i << "] got " << g << " expected " << r << "\n";
      ++bad;
      double excess = std::isnan(err) ? INFINITY : err - allowed;
      if (worst < 0 || excess > worst_excess) {
        worst = i;
        worst_excess = excess;
      }
    }
  }
  if (bad == 0) return "";
  s.precision(10);
  double g = got.item(worst), r = ref.item(worst);
  s << bad << " of " << got.numel() << " elements differ; worst at flat index " << worst << ": got "
    << g << ", expected " << r << " (abs err " << std::fabs(g - r) << ", rel err "
    << std::fabs(g - r) / std::fmax(std::fabs(r), 1e-300) << ", atol " << tol.atol << ", rtol "
    << tol.rtol << ")\n"
    << first.str();
  return s.str();
}

Tensor random_uniform(const Shape& s, DType dt, double lo, double hi, uint64_t seed) {
  Tensor t = Tensor::empty(s, dt);
  dispatch_float(dt, "random_uniform", [&](auto tag) {
    using T = decltype(tag);
    T* d = t.data<T>();
    for (int64_t i = 0; i < t.numel(); ++i) {
      // 53-bit uniform from two draws, so float64 tests are not limited to 24 bits.
      double u = (static_cast<double>(philox_bits(seed, 0x7e57, 2 * i) >> 5) * 67108864.0 +
                  static_cast<double>(philox_bits(seed, 0x7e57, 2 * i + 1) >> 6)) /
                 9007199254740992.0;
      d[i] = static_cast<T>(lo + (hi - lo) * u);
    }
  });
  return t;
}

Tensor random_ints(const Shape& s, int32_t lo, int32_t hi_exclusive, uint64_t seed) {
  Tensor t = Tensor::empty(s, DType::kInt32);
  uint64_t span = static_cast<uint64_t>(hi_exclusive - lo);
  for (int64_t i = 0; i < t.numel(); ++i)
    t.data<int32_t>()[i] = lo + static_cast<int32_t>(philox_bits(seed, 0x1d5, i) % span);
  return t;
}

bool same_bytes(const Tensor& a, const Tensor& b) {
  return a.shape() == b.shape() && a.dtype() == b.dtype() &&
         std::memcmp(a.raw(), b.raw(), a.nbytes()) == 0;
}

std::string config_error_of(const std::string& yaml, const std::string& file) {
  try {
    parse_config(yaml, file);
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "";
}

ag::Var scale(const ag::Var& x, double a) {
  Tensor out = x.value().clone();
  for (int64_t i = 0; i < out.numel(); ++i) out.at<double>(i) *= a;
  return ag::record1("scale", {x}, out, [a](const auto& d_out, ag::GradInputs& d_in) {
    if (Tensor* dx = d_in.get(0))
      for (int64_t i = 0; i < dx->numel(); ++i) dx->at<double>(i) += a * d_out[0]->item(i);
  });
}

ag::Var weighted_sum(const ag::Var& x, const Tensor& w) {
  check_same_shape(x.value(), w, "weighted_sum");
  return dispatch_float(w.dtype(), "weighted_sum", [&](auto tag) {
    using T = decltype(tag);
    const T* xv = x.value().template data<T>();
    const T* wv = w.data<T>();
    T acc = 0;
    for (int64_t i = 0; i < w.numel(); ++i) acc += xv[i] * wv[i];
    Tensor out = Tensor::full(Shape{}, w.dtype(), static_cast<double>(acc));
    return ag::record1("weighted_sum", {x}, out,
                       [w](const std::vector<const Tensor*>& d_out, ag::GradInputs& d_in) {
                         Tensor* dx = d_in.get(0);
                         if (!dx) return;
                         T g = d_out[0]->template data<T>()[0];
                         const T* wd = w.data<T>();
                         T* d = dx->template data<T>();
                         for (int64_t i = 0; i < w.numel(); ++i) d[i] += g * wd[i];
                       });
  });
}

std::string gradcheck(const ScalarFn& f, const std::vector<Tensor>& inputs,
                      const std::vector<bool>& requires_grad, double eps, Tolerance tol) {
  std::ostringstream report;
  report.precision(12);
  auto make_vars = [&](const std::vector<Tensor>& vals) {
    std::vector<ag::Var> vars;
    for (size_t i = 0; i < vals.size(); ++i)
      vars.emplace_back(vals[i], i < requires_grad.size() && requires_grad[i] &&
                                     vals[i].dtype() == DType::kFloat64);
    return vars;
  };
  // Analytic gradients.
  std::vector<ag::Var> vars = make_vars(inputs);
  ag::Var loss = f(vars);
  if (loss.value().numel() != 1) return "gradcheck: f must return a scalar";
  loss.backward();
  bool ok = true;
  for (size_t i = 0; i < inputs.size(); ++i) {
    if (!vars[i].requires_grad()) continue;
    if (inputs[i].dtype() != DType::kFloat64) return "gradcheck: inputs must be float64";
    Tensor analytic = vars[i].grad().defined() ? vars[i].grad()
                                               : Tensor::zeros(inputs[i].shape(), DType::kFloat64);
    Tensor numeric = Tensor::zeros(inputs[i].shape(), DType::kFloat64);
    for (int64_t k = 0; k < inputs[i].numel(); ++k) {
      auto eval = [&](double delta) {
        std::vector<Tensor> shifted;
        for (const Tensor& t : inputs) shifted.push_back(t.clone());
        shifted[i].data<double>()[k] += delta;
        ag::NoGradGuard ng;
        return f(make_vars(shifted)).value().item();
      };
      numeric.data<double>()[k] = (eval(eps) - eval(-eps)) / (2 * eps);
    }
    std::string cmp = compare(analytic, numeric, tol);
    if (!cmp.empty()) {
      ok = false;
      report << "input " << i << " " << inputs[i].str() << ": analytic vs numeric\n" << cmp;
    }
  }
  return ok ? "" : report.str();
}

}  // namespace ember::test
