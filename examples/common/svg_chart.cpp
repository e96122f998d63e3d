// svg_line_chart (examples/common/svg_chart.h).
#include "svg_chart.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <sstream>

namespace tg::examples {

namespace {

constexpr double kWidth = 900, kHeight = 380;                        // one panel
constexpr double kLeft = 70, kRight = 190, kTop = 40, kBottom = 50;  // margins; legend right
const char* const kPalette[] = {"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd",
                                "#8c564b", "#e377c2", "#17becf", "#7f7f7f", "#bcbd22"};

std::string escape(const std::string& text) {
  std::string out;
  for (char c : text) {
    if (c == '&')
      out += "&amp;";
    else if (c == '<')
      out += "&lt;";
    else if (c == '>')
      out += "&gt;";
    else if (c == '"')
      out += "&quot;";
    else
      out += c;
  }
  return out;
}

std::string number(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f", v);
  return buf;
}

bool drawable(double x, double y) { return std::isfinite(x) && std::isfinite(y) && y > 0; }

void draw_panel(std::ostringstream& svg, const ChartPanel& panel, double top) {
  double x_min = std::numeric_limits<double>::infinity(), x_max = -x_min;
  double y_min = x_min, y_max = -x_min;
  for (const ChartSeries& s : panel.series) {
    for (size_t i = 0; i < std::min(s.x.size(), s.y.size()); ++i) {
      if (!drawable(s.x[i], s.y[i])) continue;
      x_min = std::min(x_min, s.x[i]), x_max = std::max(x_max, s.x[i]);
      y_min = std::min(y_min, s.y[i]), y_max = std::max(y_max, s.y[i]);
    }
  }
  if (!(x_min <= x_max)) x_min = 0, x_max = 1, y_min = 1, y_max = 10;  // nothing drawable
  if (x_max == x_min) x_max = x_min + 1;
  const double lo = std::floor(std::log10(y_min)),
               hi = std::max(lo + 1, std::ceil(std::log10(y_max)));
  const double plot_w = kWidth - kLeft - kRight, plot_h = kHeight - kTop - kBottom;
  auto px = [&](double x) { return kLeft + (x - x_min) / (x_max - x_min) * plot_w; };
  auto py = [&](double y) { return top + kTop + (hi - std::log10(y)) / (hi - lo) * plot_h; };

  svg << "<g>\n<text x=\"" << number(kWidth / 2) << "\" y=\"" << number(top + 24)
      << "\" text-anchor=\"middle\" font-size=\"16\">" << escape(panel.title) << "</text>\n";
  svg << "<rect x=\"" << number(kLeft) << "\" y=\"" << number(top + kTop) << "\" width=\""
      << number(plot_w) << "\" height=\"" << number(plot_h)
      << "\" fill=\"none\" stroke=\"#444\"/>\n";
  const int decades = static_cast<int>(hi - lo);
  const int label_every = std::max(1, decades / 8);
  for (int d = 0; d <= decades; ++d) {
    const double y = py(std::pow(10.0, lo + d));
    svg << "<line x1=\"" << number(kLeft) << "\" y1=\"" << number(y) << "\" x2=\""
        << number(kLeft + plot_w) << "\" y2=\"" << number(y) << "\" stroke=\"#ddd\"/>\n";
    if (d % label_every == 0) {
      svg << "<text x=\"" << number(kLeft - 6) << "\" y=\"" << number(y + 4)
          << "\" text-anchor=\"end\" font-size=\"11\">1e" << static_cast<int>(lo + d)
          << "</text>\n";
    }
  }
  for (int t = 0; t <= 5; ++t) {
    const double x = x_min + (x_max - x_min) * t / 5;
    char label[32];
    std::snprintf(label, sizeof label, "%g", std::round(x));
    svg << "<text x=\"" << number(px(x)) << "\" y=\"" << number(top + kTop + plot_h + 16)
        << "\" text-anchor=\"middle\" font-size=\"11\">" << label << "</text>\n";
  }
  svg << "<text x=\"" << number(kLeft + plot_w / 2) << "\" y=\"" << number(top + kHeight - 12)
      << "\" text-anchor=\"middle\" font-size=\"12\">" << escape(panel.x_label) << "</text>\n";
  svg << "<text x=\"16\" y=\"" << number(top + kTop + plot_h / 2)
      << "\" text-anchor=\"middle\" font-size=\"12\" transform=\"rotate(-90 16 "
      << number(top + kTop + plot_h / 2) << ")\">" << escape(panel.y_label) << "</text>\n";

  for (size_t k = 0; k < panel.series.size(); ++k) {
    const ChartSeries& s = panel.series[k];
    const std::string color = s.color.empty() ? kPalette[k % 10] : s.color;
    std::string points;
    auto flush = [&] {
      if (!points.empty()) {
        svg << "<polyline fill=\"none\" stroke=\"" << color << "\" stroke-width=\"1.5\" points=\""
            << points << "\"><title>" << escape(s.label) << "</title></polyline>\n";
      }
      points.clear();
    };
    for (size_t i = 0; i < std::min(s.x.size(), s.y.size()); ++i) {
      if (!drawable(s.x[i], s.y[i])) {
        flush();
        continue;
      }
      points += (points.empty() ? "" : " ") + number(px(s.x[i])) + "," + number(py(s.y[i]));
    }
    flush();
    const double ly = top + kTop + 6 + 14.0 * static_cast<double>(k);
    const double lx = kWidth - kRight + 12;
    svg << "<line x1=\"" << number(lx) << "\" y1=\"" << number(ly) << "\" x2=\"" << number(lx + 18)
        << "\" y2=\"" << number(ly) << "\" stroke=\"" << color << "\" stroke-width=\"2\"/>\n";
    svg << "<text x=\"" << number(lx + 24) << "\" y=\"" << number(ly + 4) << "\" font-size=\"11\">"
        << escape(s.label) << "</text>\n";
  }
  svg << "</g>\n";
}

}  // namespace

std::string gradient_color(double t) {
  t = std::clamp(t, 0.0, 1.0);
  char buf[16];
  std::snprintf(buf, sizeof buf, "#%02x%02x%02x", static_cast<int>(30 + 200 * t), 60,
                static_cast<int>(230 - 200 * t));
  return buf;
}

std::string svg_line_chart(const std::vector<ChartPanel>& panels) {
  std::ostringstream svg;
  const double height = kHeight * static_cast<double>(std::max<size_t>(panels.size(), 1));
  svg << "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
      << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << number(kWidth) << "\" height=\""
      << number(height) << "\" viewBox=\"0 0 " << number(kWidth) << " " << number(height)
      << "\" font-family=\"sans-serif\">\n"
      << "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n";
  for (size_t p = 0; p < panels.size(); ++p) draw_panel(svg, panels[p], kHeight * p);
  svg << "</svg>\n";
  return svg.str();
}

}  // namespace tg::examples
