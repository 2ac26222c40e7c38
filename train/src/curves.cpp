// Hand-written SVG: there is no plotting library to lean on, and a few hundred bytes of paths
// render anywhere (browsers, rsvg-convert, image viewers).
#include "xgrad/train/curves.hpp"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <limits>
#include <sstream>

#include "xgrad/tensor/error.hpp"

namespace xgrad::train {
namespace {

constexpr const char* kTrainColor = "#1f77b4";
constexpr const char* kValColor = "#ff7f0e";
constexpr double kLeft = 64, kRight = 18, kTop = 36, kBottom = 48;  // plot margins inside a panel

struct Series {
  std::string name;
  const std::vector<double>* values;
  const char* color;
  bool dashed;
};

std::string escape(const std::string& text) {
  std::string out;
  for (char ch : text) {
    if (ch == '&')
      out += "&amp;";
    else if (ch == '<')
      out += "&lt;";
    else if (ch == '>')
      out += "&gt;";
    else if (ch == '"')
      out += "&quot;";
    else
      out += ch;
  }
  return out;
}

std::string num(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f", v);
  return buf;
}

// A tick label with as many decimals as the step needs.
std::string tick_label(double v, double step) {
  const int decimals = std::max(0, static_cast<int>(-std::floor(std::log10(step) + 1e-9)));
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, std::abs(v) < step * 1e-6 ? 0.0 : v);
  return buf;
}

double tick_step(const std::vector<double>& ticks) { return ticks.size() > 1 ? ticks[1] - ticks[0] : 1.0; }

void panel(std::ostringstream& svg, double x0, double y0, double width, double height, const std::string& title,
           const std::vector<Series>& series, int64_t epochs) {
  const double pw = width - kLeft - kRight, ph = height - kTop - kBottom;
  const double px = x0 + kLeft, py = y0 + kTop;

  double lo = std::numeric_limits<double>::infinity(), hi = -lo;
  for (const Series& s : series)
    for (double v : *s.values)
      if (std::isfinite(v)) {
        lo = std::min(lo, v);
        hi = std::max(hi, v);
      }
  if (!std::isfinite(lo)) lo = 0, hi = 1;
  if (hi - lo < 1e-12) {
    const double pad = std::max(std::abs(lo) * 0.05, 0.05);
    lo -= pad;
    hi += pad;
  }
  const std::vector<double> yticks = nice_ticks(lo, hi, 5);
  const double ymin = yticks.front(), ymax = yticks.back();
  const double xmax = static_cast<double>(std::max<int64_t>(epochs, 2));
  std::vector<double> xticks;  // whole epochs only
  if (xmax <= 10)
    for (double e = 1; e <= xmax; ++e) xticks.push_back(e);
  else
    xticks = nice_ticks(1, xmax, 6);
  const double xmin = 1;
  const auto sx = [&](double x) { return px + (x - xmin) / (xmax - xmin) * pw; };
  const auto sy = [&](double y) { return py + ph - (y - ymin) / (ymax - ymin) * ph; };

  svg << "<g font-family=\"sans-serif\" font-size=\"11\">\n";
  svg << "<text x=\"" << num(px + pw / 2) << "\" y=\"" << num(y0 + 22) << "\" text-anchor=\"middle\" font-size=\"14\">"
      << escape(title) << "</text>\n";
  // Grid and tick labels.
  for (double t : yticks) {
    svg << "<line x1=\"" << num(px) << "\" y1=\"" << num(sy(t)) << "\" x2=\"" << num(px + pw) << "\" y2=\""
        << num(sy(t)) << "\" stroke=\"#e4e4e4\"/>\n";
    svg << "<text x=\"" << num(px - 6) << "\" y=\"" << num(sy(t) + 4) << "\" text-anchor=\"end\">"
        << tick_label(t, tick_step(yticks)) << "</text>\n";
  }
  for (double t : xticks) {
    if (t < xmin - 1e-9 || t > xmax + 1e-9) continue;
    svg << "<line x1=\"" << num(sx(t)) << "\" y1=\"" << num(py) << "\" x2=\"" << num(sx(t)) << "\" y2=\""
        << num(py + ph) << "\" stroke=\"#f0f0f0\"/>\n";
    svg << "<line x1=\"" << num(sx(t)) << "\" y1=\"" << num(py + ph) << "\" x2=\"" << num(sx(t)) << "\" y2=\""
        << num(py + ph + 5) << "\" stroke=\"#333\"/>\n";
    svg << "<text x=\"" << num(sx(t)) << "\" y=\"" << num(py + ph + 18) << "\" text-anchor=\"middle\">"
        << tick_label(t, tick_step(xticks)) << "</text>\n";
  }
  // Axes.
  svg << "<rect x=\"" << num(px) << "\" y=\"" << num(py) << "\" width=\"" << num(pw) << "\" height=\"" << num(ph)
      << "\" fill=\"none\" stroke=\"#333\"/>\n";
  svg << "<text x=\"" << num(px + pw / 2) << "\" y=\"" << num(py + ph + 38)
      << "\" text-anchor=\"middle\">epoch</text>\n";
  svg << "<text transform=\"translate(" << num(x0 + 16) << "," << num(py + ph / 2) << ") rotate(-90)\" "
      << "text-anchor=\"middle\">" << escape(title) << "</text>\n";

  // Curves: a polyline per run of finite values, with a dot per epoch.
  for (const Series& s : series) {
    const std::vector<double>& v = *s.values;
    std::string points;
    const auto flush = [&] {
      if (!points.empty())
        svg << "<polyline fill=\"none\" stroke=\"" << s.color << "\" stroke-width=\"2\""
            << (s.dashed ? " stroke-dasharray=\"6,4\"" : "") << " points=\"" << points << "\"/>\n";
      points.clear();
    };
    for (size_t e = 0; e < v.size(); ++e) {
      if (!std::isfinite(v[e])) {
        flush();
        continue;
      }
      if (!points.empty()) points += ' ';
      points += num(sx(static_cast<double>(e + 1)));
      points += ',';
      points += num(sy(v[e]));
    }
    flush();
    for (size_t e = 0; e < v.size(); ++e)
      if (std::isfinite(v[e]))
        svg << "<circle cx=\"" << num(sx(static_cast<double>(e + 1))) << "\" cy=\"" << num(sy(v[e]))
            << "\" r=\"2.5\" fill=\"" << s.color << "\"/>\n";
  }

  // Legend in the corner the curves leave free: below them when they end high, above otherwise.
  double last_sum = 0;
  int last_count = 0;
  for (const Series& s : series)
    for (auto it = s.values->rbegin(); it != s.values->rend(); ++it)
      if (std::isfinite(*it)) {
        last_sum += (*it - ymin) / (ymax - ymin);
        ++last_count;
        break;
      }
  const bool bottom = last_count > 0 && last_sum / last_count > 0.5;
  const double lx = px + pw - 118, row = 18;
  double ly = bottom ? py + ph - 10 - row * static_cast<double>(series.size()) : py + 8;
  svg << "<rect x=\"" << num(lx - 6) << "\" y=\"" << num(ly - 2) << "\" width=\"118\" height=\""
      << num(row * static_cast<double>(series.size()) + 6)
      << "\" fill=\"white\" fill-opacity=\"0.85\" stroke=\"#ccc\"/>\n";
  for (const Series& s : series) {
    svg << "<line x1=\"" << num(lx) << "\" y1=\"" << num(ly + 9) << "\" x2=\"" << num(lx + 24) << "\" y2=\""
        << num(ly + 9) << "\" stroke=\"" << s.color << "\" stroke-width=\"2\""
        << (s.dashed ? " stroke-dasharray=\"6,4\"" : "") << "/>\n";
    svg << "<text x=\"" << num(lx + 30) << "\" y=\"" << num(ly + 13) << "\">" << escape(s.name) << "</text>\n";
    ly += row;
  }
  svg << "</g>\n";
}

}  // namespace

std::vector<double> nice_ticks(double low, double high, int count) {
  if (!std::isfinite(low) || !std::isfinite(high) || high < low)
    throw ValueError("nice_ticks: expected finite low <= high, got " + std::to_string(low) + " and " +
                     std::to_string(high));
  count = std::max(count, 1);
  if (high - low < 1e-12) high = low + 1;
  const double rough = (high - low) / count;
  const double magnitude = std::pow(10.0, std::floor(std::log10(rough)));
  const double residual = rough / magnitude;
  const double step = (residual < 1.5 ? 1 : residual < 3 ? 2 : residual < 7 ? 5 : 10) * magnitude;
  std::vector<double> ticks;
  const double first = std::floor(low / step + 1e-9), last = std::ceil(high / step - 1e-9);
  for (double k = first; k <= last + 0.5; ++k) ticks.push_back(k * step);
  return ticks;
}

std::string curves_svg(const History& history, const CurvesOptions& options) {
  if (history.empty()) throw ValueError("curves_svg: the history has no epochs");
  if (!history.has("loss")) throw ValueError("curves_svg: the history has no 'loss'");
  std::vector<std::vector<Series>> panels;
  std::vector<std::string> titles;
  const auto add = [&](const std::string& metric, const std::string& title) {
    if (!history.has(metric)) return;
    std::vector<Series> s = {{"training", &history[metric], kTrainColor, false}};
    if (history.has("val_" + metric)) s.push_back({"validation", &history["val_" + metric], kValColor, true});
    panels.push_back(std::move(s));
    titles.push_back(title);
  };
  add("loss", "Loss");
  add("accuracy", "Accuracy");

  const int header = options.title.empty() ? 0 : 30;
  const double width = options.panel_width * static_cast<double>(panels.size());
  const double height = options.panel_height + header;
  std::ostringstream svg;
  svg << "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
      << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << width << "\" height=\"" << height
      << "\" viewBox=\"0 0 " << width << " " << height << "\">\n"
      << "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n";
  if (header)
    svg << "<text x=\"" << num(width / 2) << "\" y=\"22\" text-anchor=\"middle\" font-family=\"sans-serif\" "
        << "font-size=\"16\" font-weight=\"bold\">" << escape(options.title) << "</text>\n";
  for (size_t i = 0; i < panels.size(); ++i)
    panel(svg, options.panel_width * static_cast<double>(i), header, options.panel_width, options.panel_height,
          titles[i], panels[i], history.epochs());
  svg << "</svg>\n";
  return svg.str();
}

void write_curves_svg(const History& history, const std::string& path, const CurvesOptions& options) {
  const std::string text = curves_svg(history, options);
  std::ofstream out(path, std::ios::binary);
  if (!out) throw IOError("write_curves_svg: " + path + ": cannot open for writing: " + std::strerror(errno));
  out << text;
  out.close();
  if (!out) throw IOError("write_curves_svg: " + path + ": write failed");
}

}  // namespace xgrad::train
