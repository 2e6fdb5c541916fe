// The plot: speedup over the best dense fp32 baseline against sparsity, one line per format,
// a GEMV panel and a GEMM panel, hand-written SVG (no plotting dependency). The y axis is
// log2 so 0.5x and 2x sit symmetric around the dashed 1x line; hovering a point shows its
// value. The panels show the headline shape (11008x4096, N = 32) when it ran, else the
// shape (and batch) with the most sparse rows.
#include "report.hpp"

#include "machine.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <string>
#include <vector>

namespace bench {
namespace {

struct point {
    double sparsity, speedup;
};
struct series {
    std::string name;
    std::vector<point> points;
};
struct panel_data {
    std::string title;
    std::vector<series> lines;
};

bool sparse_row(const row& r) {
    return !r.id.op.empty() && r.error.empty() && r.speedup > 0 && r.id.sparsity > 0 && r.id.threads == 1;
}

std::string series_name(const case_id& c) {
    std::string name = c.format;
    if (c.dtype != "fp32") name += " " + c.dtype;
    if (c.format == "eigen-csr") name += " (peer)";
    return name;
}

// The group (op/shape/batch) a panel shows: the preferred one if it ran, else the busiest.
std::string pick_group(const summary& s, const std::string& op, const std::string& preferred) {
    std::map<std::string, int> count;
    for (const row& r : s.rows)
        if (sparse_row(r) && r.id.op == op) ++count[r.id.group_key()];
    if (count.count(preferred)) return preferred;
    std::string best;
    for (const auto& [group, n] : count)
        if (best.empty() || n > count[best]) best = group;
    return best;
}

panel_data collect(const summary& s, const std::string& group) {
    panel_data p;
    std::map<std::string, std::size_t> index;
    for (const row& r : s.rows) {
        if (!sparse_row(r) || r.id.group_key() != group) continue;
        if (p.title.empty())
            p.title = r.id.op == "gemv" ? fmt::format("GEMV {}x{} (decode, batch 1)", r.id.s.rows, r.id.s.cols)
                                        : fmt::format("GEMM {}x{}, N = {}", r.id.s.rows, r.id.s.cols, r.id.batch);
        const std::string name = series_name(r.id);
        const auto [it, added] = index.emplace(name, p.lines.size());
        if (added) p.lines.push_back({name, {}});
        p.lines[it->second].points.push_back({static_cast<double>(r.id.sparsity), r.speedup});
    }
    for (series& line : p.lines)
        std::sort(line.points.begin(), line.points.end(), [](point a, point b) { return a.sparsity < b.sparsity; });
    return p;
}

std::string xml(std::string text) {
    std::string out;
    for (char c : text) {
        if (c == '&') out += "&amp;";
        else if (c == '<') out += "&lt;";
        else if (c == '>') out += "&gt;";
        else out += c;
    }
    return out;
}

// Tableau 10, then darker companions for --all's longer list; the peer is grey.
const char* colour(std::size_t i, const std::string& name) {
    static const char* palette[] = {"#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948",
                                    "#b07aa1", "#ff9da7", "#9c755f", "#17becf", "#1b3a6b", "#8c2d04",
                                    "#4a1486", "#006d2c", "#a50f15", "#525200"};
    constexpr std::size_t size = sizeof(palette) / sizeof(palette[0]);
    return name.find("(peer)") != std::string::npos ? "#7f7f7f" : palette[i % size];
}

// 4x, 2x, 1x, 0.5x, 0.25x, then 1/8x, 1/16x...: short labels for a log2 axis.
std::string speedup_label(double v) {
    return v >= 0.25 ? fmt::format("{:g}x", v) : fmt::format("1/{:g}x", 1 / v);
}

struct frame {
    double left, top, width, height;
    double x_lo, x_hi, y_lo, y_hi;  // y in log2
    double x(double sparsity) const { return left + (sparsity - x_lo) / (x_hi - x_lo) * width; }
    double y(double speedup) const { return top + height - (std::log2(speedup) - y_lo) / (y_hi - y_lo) * height; }
};

void draw_panel(std::string& svg, const panel_data& p, double left, double top, const std::map<std::string, std::size_t>& colours) {
    frame f{left, top, 380, 300, 45, 100, -1, 1};
    for (const series& line : p.lines)
        for (const point& pt : line.points) {
            f.x_lo = std::min(f.x_lo, std::floor((pt.sparsity - 5) / 10) * 10);
            f.y_lo = std::min(f.y_lo, std::floor(std::log2(pt.speedup)));
            f.y_hi = std::max(f.y_hi, std::ceil(std::log2(pt.speedup)));
        }
    svg += fmt::format(R"(<text x="{}" y="{}" class="title">{}</text>)"
                       "\n",
                       left, top - 12, xml(p.title.empty() ? "(no sparse rows in this run)" : p.title));
    svg += fmt::format(R"(<rect x="{}" y="{}" width="{}" height="{}" class="frame"/>)"
                       "\n",
                       f.left, f.top, f.width, f.height);
    for (double s = std::ceil(f.x_lo / 10) * 10; s <= f.x_hi; s += 10)
        svg += fmt::format(R"(<line x1="{0:.1f}" y1="{1}" x2="{0:.1f}" y2="{2}" class="grid"/>)"
                           R"(<text x="{0:.1f}" y="{3}" class="tick" text-anchor="middle">{4}</text>)"
                           "\n",
                           f.x(s), f.top, f.top + f.height, f.top + f.height + 16, s);
    for (double e = f.y_lo; e <= f.y_hi; e += 1) {
        const double v = std::exp2(e);
        svg += fmt::format(R"(<line x1="{0}" y1="{1:.1f}" x2="{2}" y2="{1:.1f}" class="grid"/>)"
                           R"(<text x="{3}" y="{4:.1f}" class="tick" text-anchor="end">{5}</text>)"
                           "\n",
                           f.left, f.y(v), f.left + f.width, f.left - 6, f.y(v) + 4, speedup_label(v));
    }
    svg += fmt::format(R"(<line x1="{0}" y1="{1:.1f}" x2="{2}" y2="{1:.1f}" class="one"/>)"
                       R"(<text x="{3}" y="{4:.1f}" class="note">best dense fp32</text>)"
                       "\n",
                       f.left, f.y(1), f.left + f.width, f.left + 6, f.y(1) - 5);
    svg += fmt::format(R"(<text x="{}" y="{}" class="axis" text-anchor="middle">sparsity (% of weights removed)</text>)"
                       "\n",
                       f.left + f.width / 2, f.top + f.height + 36);
    svg += fmt::format(R"~(<text transform="translate({},{}) rotate(-90)" class="axis" text-anchor="middle">)~"
                       "speedup over the best dense fp32 (log scale)</text>\n",
                       f.left - 48, f.top + f.height / 2);
    for (const series& line : p.lines) {
        const char* c = colour(colours.at(line.name), line.name);
        const bool peer = line.name.find("(peer)") != std::string::npos;
        std::string points;
        for (const point& pt : line.points) points += fmt::format("{:.1f},{:.1f} ", f.x(pt.sparsity), f.y(pt.speedup));
        if (line.points.size() > 1)
            svg += fmt::format(R"(<polyline points="{}" fill="none" stroke="{}" stroke-width="2"{}/>)"
                               "\n",
                               points, c, peer ? R"( stroke-dasharray="5 3")" : "");
        for (const point& pt : line.points)
            svg += fmt::format(R"(<circle cx="{:.1f}" cy="{:.1f}" r="4" fill="{}"><title>{} at {}%: {:.2f}x</title></circle>)"
                               "\n",
                               f.x(pt.sparsity), f.y(pt.speedup), c, xml(line.name), pt.sparsity, pt.speedup);
    }
}

// The dense reference of a panel, which has no sparsity to sit at: which baseline was the
// fastest, and where sieve's own dense kernels (each dtype) stand against it.
std::string dense_note(const summary& s, const std::string& group) {
    const auto best = s.best_dense.find(group);
    if (best == s.best_dense.end()) return "";
    std::string note = fmt::format("1x = {} {:.3f} ms; sieve dense:", best->second.format, best->second.ms);
    for (const row& r : s.rows)
        if (r.error.empty() && r.id.format == "dense" && r.id.group_key() == group)
            note += fmt::format(" {} {:.2f}x", r.id.dtype, r.speedup);
    return note;
}

}  // namespace

bool write_svg(const summary& s, const std::string& path) {
    const std::string gemv = pick_group(s, "gemv", "gemv/11008x4096/n1/t1");
    const std::string gemm = pick_group(s, "gemm", "gemm/11008x4096/n32/t1");
    const panel_data panels[2] = {collect(s, gemv), collect(s, gemm)};
    std::map<std::string, std::size_t> colours;  // the same format, the same colour in both panels
    for (const panel_data& p : panels)
        for (const series& line : p.lines) colours.emplace(line.name, colours.size());

    const machine_info& m = machine();
    std::string svg = R"(<svg xmlns="http://www.w3.org/2000/svg" width="1080" height="470" viewBox="0 0 1080 470" font-family="sans-serif">)"
                      "\n<style>.title{font-size:14px;font-weight:bold}.tick{font-size:11px;fill:#444}"
                      ".axis{font-size:12px;fill:#222}.note{font-size:11px;fill:#666}.legend{font-size:12px}"
                      ".frame{fill:none;stroke:#888}.grid{stroke:#e4e4e4}.one{stroke:#222;stroke-dasharray:6 4}</style>\n"
                      R"(<rect width="1080" height="470" fill="white"/>)"
                      "\n";
    svg += fmt::format(R"(<text x="20" y="24" class="title">sieve: speedup over the best dense fp32 baseline against sparsity</text>)"
                       "\n"
                       R"(<text x="20" y="42" class="note">{} | {} | one thread | cold weights | {}</text>)"
                       "\n",
                       xml(m.cpu), xml(m.isa), xml(m.date));
    draw_panel(svg, panels[0], 80, 90, colours);
    draw_panel(svg, panels[1], 550, 90, colours);
    const std::string notes[2] = {dense_note(s, gemv), dense_note(s, gemm)};
    for (int i = 0; i < 2; ++i)
        if (!notes[i].empty())
            svg += fmt::format(R"(<text x="{}" y="460" class="note">{}</text>)"
                               "\n",
                               80 + 470 * i, xml(notes[i]));
    double y = 100;
    for (const auto& [name, index] : colours) {
        const bool peer = name.find("(peer)") != std::string::npos;
        svg += fmt::format(R"(<line x1="950" y1="{0}" x2="970" y2="{0}" stroke="{1}" stroke-width="2"{2}/>)"
                           R"(<circle cx="960" cy="{0}" r="4" fill="{1}"/><text x="976" y="{3}" class="legend">{4}</text>)"
                           "\n",
                           y, colour(index, name), peer ? R"( stroke-dasharray="5 3")" : "", y + 4, xml(name));
        y += 20;
    }
    svg += "</svg>\n";
    std::FILE* f = std::fopen(path.c_str(), "w");
    if (f == nullptr) return false;
    const bool ok = std::fwrite(svg.data(), 1, svg.size(), f) == svg.size();
    return std::fclose(f) == 0 && ok;
}

}  // namespace bench
