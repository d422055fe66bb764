// Majority-class and bag-of-words logistic-regression baselines (see baseline.h). The
// regression is small (V x K weights, a few hundred thousand at most) and convex, so it is
// fitted in double precision by L-BFGS (10 correction pairs, backtracking Armijo line search)
// over the whole training set at once: deterministic, no learning rate to choose.
#include "engine/cli/baseline.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <deque>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "engine/core/check.h"
#include "engine/eval/metrics.h"
#include "engine/pipeline/loader.h"
#include "engine/train/run_outputs.h"
#include "engine/train/trainer.h"

namespace ember {

namespace {

// Each row's distinct token ids (the binary bag of words), ascending.
std::vector<std::vector<int32_t>> bags_of(const Dataset& d, int64_t vocab) {
  const int64_t n = d.size(), t = d.tokens.size(1);
  const int32_t* tok = d.tokens.data<int32_t>();
  std::vector<std::vector<int32_t>> bags(n);
  for (int64_t i = 0; i < n; ++i) {
    std::vector<int32_t>& b = bags[i];
    for (int64_t s = 0; s < t; ++s) {
      const int32_t id = tok[i * t + s];
      if (id <= 0) continue;
      if (id >= vocab)
        throw Error("baseline: token id " + std::to_string(id) + " in row " + std::to_string(i) +
                    " is outside the vocabulary of " + std::to_string(vocab));
      b.push_back(id);
    }
    std::sort(b.begin(), b.end());
    b.erase(std::unique(b.begin(), b.end()), b.end());
  }
  return bags;
}

// Softmax of z[0..k) in place; returns log-sum-exp.
double softmax_inplace(double* z, int64_t k) {
  double m = z[0];
  for (int64_t c = 1; c < k; ++c) m = std::max(m, z[c]);
  double s = 0;
  for (int64_t c = 0; c < k; ++c) s += (z[c] = std::exp(z[c] - m));
  for (int64_t c = 0; c < k; ++c) z[c] /= s;
  return m + std::log(s);
}

// The objective and its gradient at theta = [W (V*K) | b (K)].
struct Problem {
  const std::vector<std::vector<int32_t>>* bags;
  const int32_t* y;
  int64_t vocab, k;
  double c;

  double eval(const std::vector<double>& theta, std::vector<double>* grad) const {
    const int64_t nw = vocab * k;
    const double* w = theta.data();
    const double* b = theta.data() + nw;
    grad->assign(theta.size(), 0.0);
    double* gw = grad->data();
    double* gb = grad->data() + nw;
    double loss = 0;
    std::vector<double> z(k);
    for (size_t i = 0; i < bags->size(); ++i) {
      for (int64_t q = 0; q < k; ++q) z[q] = b[q];
      for (int32_t j : (*bags)[i])
        for (int64_t q = 0; q < k; ++q) z[q] += w[j * k + q];
      const double zy = z[y[i]];
      loss += softmax_inplace(z.data(), k) - zy;  // -log p_y
      z[y[i]] -= 1.0;                             // p - onehot
      for (int64_t q = 0; q < k; ++q) gb[q] += c * z[q];
      for (int32_t j : (*bags)[i])
        for (int64_t q = 0; q < k; ++q) gw[j * k + q] += c * z[q];
    }
    double reg = 0;
    for (int64_t i = 0; i < nw; ++i) {
      reg += w[i] * w[i];
      gw[i] += w[i];
    }
    return c * loss + 0.5 * reg;
  }
};

double dot(const std::vector<double>& a, const std::vector<double>& b) {
  double s = 0;
  for (size_t i = 0; i < a.size(); ++i) s += a[i] * b[i];
  return s;
}

double max_abs(const std::vector<double>& a) {
  double m = 0;
  for (double v : a) m = std::max(m, std::fabs(v));
  return m;
}

}  // namespace

BowLogreg fit_bow_logreg(const Dataset& train, int64_t vocab, int64_t classes, double c,
                         int max_iter) {
  EMBER_CHECK_ARG(vocab >= 1 && classes >= 2 && c > 0 && !train.empty(),
                  "fit_bow_logreg: vocab " << vocab << ", classes " << classes << ", C " << c
                                           << ", rows " << train.size());
  const std::vector<std::vector<int32_t>> bags = bags_of(train, vocab);
  for (int64_t i = 0; i < train.size(); ++i) {
    const int32_t y = train.labels.data<int32_t>()[i];
    if (y < 0 || y >= classes)
      throw Error("baseline: label " + std::to_string(y) + " of row " + std::to_string(i) +
                  " is outside [0, " + std::to_string(classes) + ")");
  }
  Problem p{&bags, train.labels.data<int32_t>(), vocab, classes, c};

  const size_t dim = static_cast<size_t>(vocab * classes + classes);
  std::vector<double> x(dim, 0.0), g, x_new(dim), g_new, d(dim);
  double f = p.eval(x, &g);
  const double g0 = std::max(max_abs(g), 1e-300);
  std::deque<std::vector<double>> s_hist, y_hist;
  std::deque<double> rho_hist;
  const size_t m = 10;
  BowLogreg out;
  out.vocab = vocab;
  out.classes = classes;
  int it = 0;
  for (; it < max_iter && max_abs(g) > 1e-5 * g0; ++it) {
    // Two-loop recursion: d = -H g.
    for (size_t i = 0; i < dim; ++i) d[i] = -g[i];
    std::vector<double> alpha(s_hist.size());
    for (size_t h = s_hist.size(); h-- > 0;) {
      alpha[h] = rho_hist[h] * dot(s_hist[h], d);
      for (size_t i = 0; i < dim; ++i) d[i] -= alpha[h] * y_hist[h][i];
    }
    const double gamma =
        s_hist.empty() ? 1.0 / std::sqrt(dot(g, g))
                       : dot(s_hist.back(), y_hist.back()) / dot(y_hist.back(), y_hist.back());
    for (double& v : d) v *= gamma;
    for (size_t h = 0; h < s_hist.size(); ++h) {
      const double beta = rho_hist[h] * dot(y_hist[h], d);
      for (size_t i = 0; i < dim; ++i) d[i] += (alpha[h] - beta) * s_hist[h][i];
    }
    double slope = dot(g, d);
    if (slope >= 0) {  // not a descent direction (numerical trouble): restart from -g
      s_hist.clear(), y_hist.clear(), rho_hist.clear();
      for (size_t i = 0; i < dim; ++i) d[i] = -g[i] / std::sqrt(dot(g, g));
      slope = dot(g, d);
    }
    // Backtracking Armijo line search from the full quasi-Newton step.
    double step = 1.0, f_new = 0;
    bool accepted = false;
    for (int ls = 0; ls < 40; ++ls, step *= 0.5) {
      for (size_t i = 0; i < dim; ++i) x_new[i] = x[i] + step * d[i];
      f_new = p.eval(x_new, &g_new);
      if (f_new <= f + 1e-4 * step * slope) {
        accepted = true;
        break;
      }
    }
    if (!accepted) break;  // no decrease left at double precision: converged as far as it goes
    std::vector<double> s(dim), yv(dim);
    for (size_t i = 0; i < dim; ++i) {
      s[i] = x_new[i] - x[i];
      yv[i] = g_new[i] - g[i];
    }
    const double sy = dot(s, yv);
    if (sy > 1e-12 * std::sqrt(dot(s, s) * dot(yv, yv))) {
      s_hist.push_back(std::move(s));
      y_hist.push_back(std::move(yv));
      rho_hist.push_back(1.0 / sy);
      if (s_hist.size() > m) s_hist.pop_front(), y_hist.pop_front(), rho_hist.pop_front();
    }
    const double change = f - f_new;
    x.swap(x_new);
    g.swap(g_new);
    f = f_new;
    if (change <= 1e-12 * std::max(1.0, std::fabs(f))) {
      ++it;
      break;
    }
  }
  out.iterations = it;
  out.objective = f;
  out.w.assign(x.begin(), x.begin() + vocab * classes);
  out.b.assign(x.begin() + vocab * classes, x.end());
  return out;
}

Scores bow_logreg_scores(const BowLogreg& m, const Dataset& d) {
  const std::vector<std::vector<int32_t>> bags = bags_of(d, m.vocab);
  Scores s;
  s.rows = d.size();
  s.classes = m.classes;
  s.probs.resize(s.rows * s.classes);
  s.pred.resize(s.rows);
  for (int64_t i = 0; i < s.rows; ++i) {
    double* z = s.probs.data() + i * s.classes;
    for (int64_t q = 0; q < s.classes; ++q) z[q] = m.b[q];
    for (int32_t j : bags[i])
      for (int64_t q = 0; q < s.classes; ++q) z[q] += m.w[j * s.classes + q];
    softmax_inplace(z, s.classes);
    s.pred[i] = static_cast<int32_t>(std::max_element(z, z + s.classes) - z);
  }
  return s;
}

Scores majority_scores(const std::vector<int64_t>& train_counts, int64_t rows) {
  const int64_t k = static_cast<int64_t>(train_counts.size());
  int64_t total = 0;
  for (int64_t n : train_counts) total += n;
  EMBER_CHECK_ARG(k >= 1 && total > 0, "majority_scores: no training rows");
  // Ties go to the lower class id, as numpy's argmax.
  const int32_t top = static_cast<int32_t>(
      std::max_element(train_counts.begin(), train_counts.end()) - train_counts.begin());
  Scores s;
  s.rows = rows;
  s.classes = k;
  s.probs.resize(rows * k);
  for (int64_t i = 0; i < rows; ++i)
    for (int64_t c = 0; c < k; ++c) s.probs[i * k + c] = double(train_counts[c]) / total;
  s.pred.assign(rows, top);
  return s;
}

int baseline_command(const Config& cfg, const BaselineOptions& opts, std::ostream& out) {
  if (!cfg.data.real())
    throw Error(cfg.data.loc.str() +
                ": data: `ember baseline` needs data files (this config "
                "uses data.synthetic)");
  data::LoadReport rep;
  DataSplits data = load_data(cfg, opts.data_dir, &rep);
  const int64_t k = static_cast<int64_t>(data.class_names.size());
  // train.validation_split (Keras's last rows) applies here as it does in training.
  Dataset train, val;
  fit_splits(data.train, data.val, cfg.train.validation_split, &train, &val);
  const int64_t vocab = rep.tokenizer.vocab_size();

  std::vector<std::pair<std::string, const Dataset*>> splits;
  if (!val.empty()) splits.emplace_back("validation", &val);
  if (!data.test.empty()) splits.emplace_back("test", &data.test);
  for (const auto& [name, ds] : data.extra_tests)
    if (!ds.empty()) splits.emplace_back(name, &ds);
  if (splits.empty())
    throw Error(cfg.path + ": the config has no validation or test rows to score baselines on");

  const BowLogreg lr = fit_bow_logreg(train, vocab, k);
  const std::vector<int64_t> counts = class_counts(train.labels, k);
  if (!opts.out_dir.empty()) std::filesystem::create_directories(opts.out_dir);
  if (!opts.json) {
    out << cfg.name << ": baselines fitted on " << train.size() << " training rows; "
        << "bag-of-words logistic regression over " << vocab - 1 << " token ids, " << lr.iterations
        << " L-BFGS iterations\n\n";
    char head[256];
    std::snprintf(head, sizeof head, "%-12s %-12s %7s %9s %9s %8s", "split", "baseline", "rows",
                  "accuracy", "macro F1", "AUC");
    out << head;
    for (const std::string& c : data.class_names) out << "  F1 " << c;
    out << "\n";
  }
  for (const auto& [name, ds] : splits) {
    for (const char* model : {"majority", "bow_logreg"}) {
      const bool maj = std::string(model) == "majority";
      const Scores sc = maj ? majority_scores(counts, ds->size()) : bow_logreg_scores(lr, *ds);
      const Evaluation ev = evaluate_scores(sc, ds->labels);
      if (!opts.out_dir.empty())
        write_evaluation(opts.out_dir, std::string("baseline_") + model + "_" + name, ev,
                         data.class_names, std::nan(""));
      if (opts.json) {
        nlohmann::ordered_json j = nlohmann::ordered_json::parse(
            evaluation_json(ev, data.class_names, {{"train_rows", double(train.size())}}));
        j["baseline"] = model;
        j["split"] = name;
        out << j.dump() << "\n";
        continue;
      }
      char line[256];
      std::snprintf(line, sizeof line, "%-12s %-12s %7lld %9.4f %9.4f %8.4f", name.c_str(), model,
                    static_cast<long long>(ev.rows), ev.report.accuracy, ev.report.macro.f1,
                    ev.auc);
      out << line;
      for (const metrics::ClassScores& cs : ev.report.per_class) {
        char cell[32];
        std::snprintf(cell, sizeof cell, "  %.4f", cs.f1);
        out << cell;
      }
      out << "\n";
    }
  }
  return 0;
}

}  // namespace ember
