// Line charts as standalone SVG (a browser shows the file as it is): panels stacked one
// under another, each with a log-scale y axis (decade grid lines), a linear x axis and a
// legend. Points that are not finite or not positive cannot be drawn on a log axis: they
// end the current line segment (a run that went to NaN stops where it went). Used by
// grad_explosion and grad_vanish (common/gradient_demo.h); their tests parse it as XML.
#pragma once

#include <string>
#include <vector>

namespace tg::examples {

struct ChartSeries {
  std::string label;
  std::vector<double> x, y;
  std::string color;  // any SVG color; "" picks one from a palette
};

struct ChartPanel {
  std::string title, x_label, y_label;
  std::vector<ChartSeries> series;
};

// The whole SVG document.
std::string svg_line_chart(const std::vector<ChartPanel>& panels);

// A color from blue (t = 0) to red (t = 1), for series in an order (layers by depth).
std::string gradient_color(double t);

}  // namespace tg::examples
