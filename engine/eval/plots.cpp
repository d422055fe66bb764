// SVG charts (see plots.h). Layout constants are in pixels of a 640x400 canvas.
#include "engine/eval/plots.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <sstream>

#include "engine/core/check.h"

namespace ember::plots {

namespace {
constexpr double kW = 640, kH = 400, kLeft = 70, kRight = 150, kTop = 40, kBottom = 50;
const char* const kColors[] = {"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e",
                               "#9467bd", "#8c564b", "#e377c2", "#7f7f7f"};

std::string num(double v) {
  char b[32];
  std::snprintf(b, sizeof b, "%.3g", v);
  return b;
}

std::string header(const std::string& title) {
  std::ostringstream o;
  o << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << kW << "\" height=\"" << kH
    << "\" viewBox=\"0 0 " << kW << ' ' << kH << "\" font-family=\"sans-serif\" font-size=\"12\">\n"
    << "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"
    << "<text x=\"" << kW / 2 << "\" y=\"24\" text-anchor=\"middle\" font-size=\"16\">"
    << xml_escape(title) << "</text>\n";
  return o.str();
}

// Axis frame with 5 horizontal grid lines labelled from lo to hi.
std::string y_axis(double lo, double hi, const std::string& label) {
  std::ostringstream o;
  const double ph = kH - kTop - kBottom;
  for (int i = 0; i <= 4; ++i) {
    const double v = lo + (hi - lo) * i / 4, y = kTop + ph * (1 - i / 4.0);
    o << "<line x1=\"" << kLeft << "\" x2=\"" << kW - kRight << "\" y1=\"" << y << "\" y2=\"" << y
      << "\" stroke=\"#ddd\"/>\n<text x=\"" << kLeft - 6 << "\" y=\"" << y + 4
      << "\" text-anchor=\"end\">" << num(v) << "</text>\n";
  }
  o << "<text transform=\"translate(16," << kTop + ph / 2
    << ") rotate(-90)\" text-anchor=\"middle\">" << xml_escape(label) << "</text>\n";
  return o.str();
}

void range_of(const std::vector<double>& v, double* lo, double* hi) {
  for (double x : v)
    if (std::isfinite(x)) {
      *lo = std::min(*lo, x);
      *hi = std::max(*hi, x);
    }
}
}  // namespace

std::string xml_escape(const std::string& s) {
  std::string o;
  for (char c : s) {
    switch (c) {
      case '<':
        o += "&lt;";
        break;
      case '>':
        o += "&gt;";
        break;
      case '&':
        o += "&amp;";
        break;
      case '"':
        o += "&quot;";
        break;
      default:
        o += c;
    }
  }
  return o;
}

std::string line_chart(const std::string& title, const std::string& y_label,
                       const std::vector<Series>& series) {
  double lo = INFINITY, hi = -INFINITY;
  size_t n = 0;
  for (const Series& s : series) {
    range_of(s.values, &lo, &hi);
    n = std::max(n, s.values.size());
  }
  if (!std::isfinite(lo)) lo = 0, hi = 1;
  if (hi - lo < 1e-12) lo -= 0.5, hi += 0.5;
  const double pad = (hi - lo) * 0.05;
  lo -= pad;
  hi += pad;
  const double pw = kW - kLeft - kRight, ph = kH - kTop - kBottom;
  auto x_of = [&](size_t i) { return kLeft + (n > 1 ? pw * i / (n - 1) : pw / 2); };
  auto y_of = [&](double v) { return kTop + ph * (1 - (v - lo) / (hi - lo)); };
  std::ostringstream o;
  o << header(title) << y_axis(lo, hi, y_label);
  for (size_t i = 0; i < n; ++i)
    o << "<text x=\"" << x_of(i) << "\" y=\"" << kH - kBottom + 16 << "\" text-anchor=\"middle\">"
      << i + 1 << "</text>\n";
  o << "<text x=\"" << kLeft + pw / 2 << "\" y=\"" << kH - 12
    << "\" text-anchor=\"middle\">epoch</text>\n";
  for (size_t k = 0; k < series.size(); ++k) {
    const char* color = kColors[k % 8];
    std::ostringstream pts;
    for (size_t i = 0; i < series[k].values.size(); ++i) {
      const double v = series[k].values[i];
      if (!std::isfinite(v)) continue;
      pts << x_of(i) << ',' << y_of(v) << ' ';
      o << "<circle cx=\"" << x_of(i) << "\" cy=\"" << y_of(v) << "\" r=\"3\" fill=\"" << color
        << "\"><title>" << xml_escape(series[k].name) << " epoch " << i + 1 << ": " << num(v)
        << "</title></circle>\n";
    }
    o << "<polyline fill=\"none\" stroke=\"" << color << "\" stroke-width=\"2\" points=\""
      << pts.str() << "\"/>\n";
    const double ly = kTop + 16 * k + 8;
    o << "<rect x=\"" << kW - kRight + 12 << "\" y=\"" << ly - 8
      << "\" width=\"12\" height=\"4\" fill=\"" << color << "\"/><text x=\"" << kW - kRight + 30
      << "\" y=\"" << ly << "\">" << xml_escape(series[k].name) << "</text>\n";
  }
  o << "</svg>\n";
  return o.str();
}

std::string confusion_matrix_chart(const std::string& title, const metrics::ConfusionMatrix& cm,
                                   const std::vector<std::string>& names) {
  const int64_t k = cm.num_classes;
  EMBER_CHECK_ARG(static_cast<int64_t>(names.size()) == k,
                  "confusion_matrix_chart: " << names.size() << " names for " << k << " classes");
  int64_t max_count = 1;
  for (int64_t c : cm.counts) max_count = std::max(max_count, c);
  const double side = std::min(kW - 2 * kLeft - kRight / 2, kH - kTop - kBottom - 20);
  const double cell = side / static_cast<double>(k);
  const double x0 = kLeft + 60, y0 = kTop + 20;
  std::ostringstream o;
  o << header(title);
  for (int64_t t = 0; t < k; ++t) {
    for (int64_t p = 0; p < k; ++p) {
      const int64_t c = cm.at(t, p);
      const double shade = static_cast<double>(c) / static_cast<double>(max_count);
      const int level = static_cast<int>(255 - 200 * shade);
      char fill[16];
      std::snprintf(fill, sizeof fill, "#%02x%02xff", level, level);
      const double x = x0 + p * cell, y = y0 + t * cell;
      o << "<rect x=\"" << x << "\" y=\"" << y << "\" width=\"" << cell << "\" height=\"" << cell
        << "\" fill=\"" << fill << "\" stroke=\"white\"/>\n<text x=\"" << x + cell / 2 << "\" y=\""
        << y + cell / 2 + 5 << "\" text-anchor=\"middle\" fill=\""
        << (shade > 0.6 ? "white" : "black") << "\">" << c << "</text>\n";
    }
    o << "<text x=\"" << x0 - 6 << "\" y=\"" << y0 + t * cell + cell / 2 + 4
      << "\" text-anchor=\"end\">" << xml_escape(names[t]) << "</text>\n";
  }
  for (int64_t p = 0; p < k; ++p)
    o << "<text x=\"" << x0 + p * cell + cell / 2 << "\" y=\"" << y0 + side + 16
      << "\" text-anchor=\"middle\">" << xml_escape(names[p]) << "</text>\n";
  o << "<text x=\"" << x0 + side / 2 << "\" y=\"" << y0 + side + 34
    << "\" text-anchor=\"middle\">predicted</text>\n<text transform=\"translate(" << kLeft - 40
    << "," << y0 + side / 2 << ") rotate(-90)\" text-anchor=\"middle\">true</text>\n</svg>\n";
  return o.str();
}

std::string bar_chart(const std::string& title, const std::vector<std::string>& groups,
                      const std::vector<std::string>& series_names,
                      const std::vector<std::vector<double>>& values) {
  EMBER_CHECK_ARG(values.size() == groups.size(), "bar_chart: " << values.size()
                                                                << " value rows for "
                                                                << groups.size() << " groups");
  double hi = 0;
  for (const auto& row : values) {
    EMBER_CHECK_ARG(row.size() == series_names.size(), "bar_chart: a row has "
                                                           << row.size() << " values for "
                                                           << series_names.size() << " series");
    for (double v : row)
      if (std::isfinite(v)) hi = std::max(hi, v);
  }
  if (hi <= 0) hi = 1;
  const double pw = kW - kLeft - kRight, ph = kH - kTop - kBottom;
  const double group_w = pw / std::max<size_t>(groups.size(), 1);
  const double bar_w = group_w * 0.8 / std::max<size_t>(series_names.size(), 1);
  std::ostringstream o;
  o << header(title) << y_axis(0, hi, "");
  for (size_t g = 0; g < groups.size(); ++g) {
    for (size_t s = 0; s < series_names.size(); ++s) {
      const double v = values[g][s];
      if (!std::isfinite(v)) continue;
      const double h = ph * v / hi;
      const double x = kLeft + g * group_w + group_w * 0.1 + s * bar_w;
      o << "<rect x=\"" << x << "\" y=\"" << kTop + ph - h << "\" width=\"" << bar_w * 0.95
        << "\" height=\"" << h << "\" fill=\"" << kColors[s % 8] << "\"><title>"
        << xml_escape(groups[g]) << ' ' << xml_escape(series_names[s]) << ": " << num(v)
        << "</title></rect>\n<text x=\"" << x + bar_w / 2 << "\" y=\"" << kTop + ph - h - 3
        << "\" text-anchor=\"middle\" font-size=\"9\">" << num(v) << "</text>\n";
    }
    o << "<text x=\"" << kLeft + g * group_w + group_w / 2 << "\" y=\"" << kH - kBottom + 16
      << "\" text-anchor=\"middle\">" << xml_escape(groups[g]) << "</text>\n";
  }
  for (size_t s = 0; s < series_names.size(); ++s)
    o << "<rect x=\"" << kW - kRight + 12 << "\" y=\"" << kTop + 16 * s
      << "\" width=\"12\" height=\"10\" fill=\"" << kColors[s % 8] << "\"/><text x=\""
      << kW - kRight + 30 << "\" y=\"" << kTop + 16 * s + 9 << "\">" << xml_escape(series_names[s])
      << "</text>\n";
  o << "</svg>\n";
  return o.str();
}

}  // namespace ember::plots
