//! Line charts as SVG text. Written by hand rather than with a plotting crate: two
//! kinds of chart with a legend need about 150 lines, and `plotters` would add a
//! dozen crates to the lock for them (its SVG backend alone still pulls its font and
//! colour stack).

use std::fmt::Write;

/// One line of a chart.
#[derive(Debug, Clone)]
pub struct Series {
    /// Legend text.
    pub label: String,
    /// Points, in order of x.
    pub points: Vec<(f64, f64)>,
    /// Dashed (for scenarios with hostile nodes).
    pub dashed: bool,
}

/// A chart: axes, their ranges and the lines.
#[derive(Debug, Clone)]
pub struct Chart {
    /// Title above the plot.
    pub title: String,
    /// Text under the x axis.
    pub x_label: String,
    /// Text beside the y axis.
    pub y_label: String,
    /// Range of x.
    pub x_range: (f64, f64),
    /// Range of y.
    pub y_range: (f64, f64),
    /// A logarithmic x axis (base 10); the range must then be positive.
    pub x_log: bool,
    /// The lines.
    pub series: Vec<Series>,
}

const WIDTH: f64 = 760.0;
const HEIGHT: f64 = 460.0;
const LEFT: f64 = 70.0;
const RIGHT: f64 = 230.0;
const TOP: f64 = 40.0;
const BOTTOM: f64 = 55.0;
/// Distinguishable for the common kinds of colour blindness (Okabe–Ito).
const COLOURS: [&str; 8] = [
    "#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#F0E442",
];

impl Chart {
    /// The chart as an SVG document.
    pub fn to_svg(&self) -> String {
        let mut out = String::new();
        let plot_w = WIDTH - LEFT - RIGHT;
        let plot_h = HEIGHT - TOP - BOTTOM;
        let fx = |x: f64| {
            let (lo, hi) = self.x_range;
            let share = if self.x_log {
                (x.max(lo).log10() - lo.log10()) / (hi.log10() - lo.log10())
            } else {
                (x - lo) / (hi - lo)
            };
            LEFT + share.clamp(0.0, 1.0) * plot_w
        };
        let fy = |y: f64| {
            let (lo, hi) = self.y_range;
            TOP + plot_h - ((y - lo) / (hi - lo)).clamp(0.0, 1.0) * plot_h
        };
        let _ = writeln!(
            out,
            r#"<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" viewBox="0 0 {WIDTH} {HEIGHT}" font-family="sans-serif" font-size="12">"#
        );
        let _ = writeln!(out, r#"<rect width="100%" height="100%" fill="white"/>"#);
        let _ = writeln!(
            out,
            r#"<text x="{}" y="22" font-size="15" text-anchor="middle">{}</text>"#,
            LEFT + plot_w / 2.0,
            escape(&self.title)
        );
        for tick in self.x_ticks() {
            let x = fx(tick);
            let _ = writeln!(
                out,
                r##"<line x1="{x:.1}" y1="{TOP}" x2="{x:.1}" y2="{:.1}" stroke="#ddd"/><text x="{x:.1}" y="{:.1}" text-anchor="middle">{}</text>"##,
                TOP + plot_h,
                TOP + plot_h + 16.0,
                number(tick)
            );
        }
        for step in 0..=5 {
            let value = self.y_range.0 + (self.y_range.1 - self.y_range.0) * f64::from(step) / 5.0;
            let y = fy(value);
            let _ = writeln!(
                out,
                r##"<line x1="{LEFT}" y1="{y:.1}" x2="{:.1}" y2="{y:.1}" stroke="#ddd"/><text x="{:.1}" y="{:.1}" text-anchor="end">{}</text>"##,
                LEFT + plot_w,
                LEFT - 6.0,
                y + 4.0,
                number(value)
            );
        }
        let _ = writeln!(
            out,
            r##"<rect x="{LEFT}" y="{TOP}" width="{plot_w}" height="{plot_h}" fill="none" stroke="#333"/>"##
        );
        let _ = writeln!(
            out,
            r#"<text x="{:.1}" y="{:.1}" text-anchor="middle">{}</text>"#,
            LEFT + plot_w / 2.0,
            HEIGHT - 14.0,
            escape(&self.x_label)
        );
        let _ = writeln!(
            out,
            r#"<text x="16" y="{:.1}" text-anchor="middle" transform="rotate(-90 16 {:.1})">{}</text>"#,
            TOP + plot_h / 2.0,
            TOP + plot_h / 2.0,
            escape(&self.y_label)
        );
        for (i, series) in self.series.iter().enumerate() {
            let colour = COLOURS[i % COLOURS.len()];
            let dash = if series.dashed {
                r#" stroke-dasharray="6 4""#
            } else {
                ""
            };
            let points: Vec<String> = series
                .points
                .iter()
                .map(|&(x, y)| format!("{:.1},{:.1}", fx(x), fy(y)))
                .collect();
            let _ = writeln!(
                out,
                r#"<polyline fill="none" stroke="{colour}" stroke-width="2"{dash} points="{}"/>"#,
                points.join(" ")
            );
            let y = TOP + 10.0 + 20.0 * i as f64;
            let x = WIDTH - RIGHT + 12.0;
            let _ = writeln!(
                out,
                r#"<line x1="{x}" y1="{y}" x2="{}" y2="{y}" stroke="{colour}" stroke-width="2"{dash}/><text x="{}" y="{}">{}</text>"#,
                x + 24.0,
                x + 30.0,
                y + 4.0,
                escape(&series.label)
            );
        }
        out.push_str("</svg>\n");
        out
    }

    fn x_ticks(&self) -> Vec<f64> {
        let (lo, hi) = self.x_range;
        if self.x_log {
            let mut tick = 10f64.powf(lo.log10().floor());
            let mut ticks = Vec::new();
            while tick <= hi * 1.0001 {
                if tick >= lo * 0.9999 {
                    ticks.push(tick);
                }
                tick *= 10.0;
            }
            ticks
        } else {
            (0..=7)
                .map(|i| lo + (hi - lo) * f64::from(i) / 7.0)
                .collect()
        }
    }
}

fn number(value: f64) -> String {
    if value.abs() >= 100.0 || value == value.round() {
        format!("{value:.0}")
    } else {
        format!("{value:.2}")
    }
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_chart_is_one_svg_document_with_each_line() {
        let chart = Chart {
            title: "a & b".into(),
            x_label: "x".into(),
            y_label: "y".into(),
            x_range: (1.0, 1000.0),
            y_range: (0.0, 1.0),
            x_log: true,
            series: vec![Series {
                label: "one".into(),
                points: vec![(1.0, 0.0), (1000.0, 1.0)],
                dashed: true,
            }],
        };
        let svg = chart.to_svg();
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>\n"));
        assert_eq!(svg.matches("<polyline").count(), 1);
        assert!(svg.contains("a &amp; b") && svg.contains(">1000<"));
    }
}
