//! Small SVG charts for the harnesses' reports: lines over time and a histogram. Written by hand:
//! two chart kinds do not justify a plotting crate and its font and image dependencies.

use std::fmt::Write as _;

const W: f64 = 900.0;
const H: f64 = 420.0;
const LEFT: f64 = 70.0;
const RIGHT: f64 = 170.0;
const TOP: f64 = 40.0;
const BOTTOM: f64 = 50.0;
const COLOURS: [&str; 8] = [
    "#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf",
];

/// A named series of (x, y) points.
pub struct Series {
    pub name: String,
    pub points: Vec<(f64, f64)>,
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// A "nice" upper bound for an axis (1, 2 or 5 times a power of ten).
fn nice_max(v: f64) -> f64 {
    if v <= 0.0 {
        return 1.0;
    }
    let p = 10f64.powf(v.log10().floor());
    [1.0, 2.0, 5.0, 10.0]
        .into_iter()
        .map(|m| m * p)
        .find(|c| *c >= v)
        .unwrap_or(10.0 * p)
}

fn frame(out: &mut String, title: &str, x_label: &str, y_label: &str, x_max: f64, y_max: f64) {
    let (pw, ph) = (W - LEFT - RIGHT, H - TOP - BOTTOM);
    let _ = write!(
        out,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" font-family="sans-serif" font-size="12"><rect width="100%" height="100%" fill="white"/><text x="{}" y="22" font-size="15" text-anchor="middle">{}</text>"#,
        W / 2.0,
        escape(title)
    );
    for i in 0..=5 {
        let f = f64::from(i) / 5.0;
        let y = TOP + ph * (1.0 - f);
        let x = LEFT + pw * f;
        let _ = write!(
            out,
            r##"<line x1="{LEFT}" y1="{y}" x2="{}" y2="{y}" stroke="#ddd"/><text x="{}" y="{}" text-anchor="end">{}</text><text x="{x}" y="{}" text-anchor="middle">{}</text>"##,
            LEFT + pw,
            LEFT - 6.0,
            y + 4.0,
            trim(y_max * f),
            TOP + ph + 18.0,
            trim(x_max * f)
        );
    }
    let _ = write!(
        out,
        r#"<rect x="{LEFT}" y="{TOP}" width="{pw}" height="{ph}" fill="none" stroke="black"/><text x="{}" y="{}" text-anchor="middle">{}</text><text x="16" y="{}" text-anchor="middle" transform="rotate(-90 16 {})">{}</text>"#,
        LEFT + pw / 2.0,
        H - 10.0,
        escape(x_label),
        TOP + ph / 2.0,
        TOP + ph / 2.0,
        escape(y_label)
    );
}

fn trim(v: f64) -> String {
    if v >= 100.0 || v == v.round() {
        format!("{v:.0}")
    } else {
        format!("{v:.1}")
    }
}

/// One line per series over a shared x axis.
pub fn lines(title: &str, x_label: &str, y_label: &str, series: &[Series]) -> String {
    let x_max = nice_max(
        series
            .iter()
            .flat_map(|s| s.points.iter().map(|p| p.0))
            .fold(0.0, f64::max),
    );
    let y_max = nice_max(
        series
            .iter()
            .flat_map(|s| s.points.iter().map(|p| p.1))
            .fold(0.0, f64::max),
    );
    let (pw, ph) = (W - LEFT - RIGHT, H - TOP - BOTTOM);
    let mut out = String::new();
    frame(&mut out, title, x_label, y_label, x_max, y_max);
    for (i, s) in series.iter().enumerate() {
        let colour = COLOURS[i % COLOURS.len()];
        let points: Vec<String> = s
            .points
            .iter()
            .map(|(x, y)| {
                format!(
                    "{:.1},{:.1}",
                    LEFT + pw * x / x_max,
                    TOP + ph * (1.0 - y / y_max)
                )
            })
            .collect();
        let _ = write!(
            out,
            r#"<polyline fill="none" stroke="{colour}" stroke-width="1.5" points="{}"/><rect x="{}" y="{}" width="12" height="3" fill="{colour}"/><text x="{}" y="{}">{}</text>"#,
            points.join(" "),
            W - RIGHT + 12.0,
            TOP + 10.0 + 18.0 * i as f64,
            W - RIGHT + 30.0,
            TOP + 15.0 + 18.0 * i as f64,
            escape(&s.name)
        );
    }
    out.push_str("</svg>\n");
    out
}

/// Bars of `counts` over buckets `[edges[i], edges[i + 1])`, with a label per bucket.
pub fn histogram(title: &str, x_label: &str, labels: &[String], counts: &[u64]) -> String {
    let y_max = nice_max(counts.iter().copied().max().unwrap_or(0) as f64);
    let (pw, ph) = (W - LEFT - RIGHT, H - TOP - BOTTOM);
    let n = counts.len().max(1) as f64;
    let mut out = String::new();
    frame(&mut out, title, x_label, "leads", n, y_max);
    // the frame's x ticks are bucket indices: cover them with the bucket labels
    let _ = write!(
        out,
        r#"<rect x="{}" y="{}" width="{}" height="24" fill="white"/>"#,
        LEFT - 20.0,
        TOP + ph + 2.0,
        pw + 40.0
    );
    for (i, c) in counts.iter().enumerate() {
        let x = LEFT + pw * i as f64 / n;
        let h = ph * *c as f64 / y_max;
        let _ = write!(
            out,
            r##"<rect x="{:.1}" y="{:.1}" width="{:.1}" height="{h:.1}" fill="#1f77b4"/>"##,
            x + 1.0,
            TOP + ph - h,
            pw / n - 2.0
        );
        if let Some(l) = labels.get(i) {
            let _ = write!(
                out,
                r#"<text x="{:.1}" y="{}" text-anchor="middle" font-size="10">{}</text>"#,
                x + pw / n / 2.0,
                TOP + ph + 14.0,
                escape(l)
            );
        }
    }
    out.push_str("</svg>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn axes_round_up_to_a_nice_bound() {
        assert_eq!(nice_max(0.0), 1.0);
        assert_eq!(nice_max(7.0), 10.0);
        assert_eq!(nice_max(130.0), 200.0);
        assert_eq!(nice_max(4_100.0), 5_000.0);
    }

    #[test]
    fn charts_are_svg_with_every_series_and_bucket() {
        let svg = lines(
            "lag",
            "s",
            "records",
            &[
                Series {
                    name: "enrich".into(),
                    points: vec![(0.0, 1.0), (10.0, 5.0)],
                },
                Series {
                    name: "a<b".into(),
                    points: vec![(0.0, 0.0)],
                },
            ],
        );
        assert!(svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"));
        assert_eq!(svg.matches("<polyline").count(), 2);
        assert!(svg.contains("a&lt;b"));
        let h = histogram("latency", "ms", &["<50".into(), "<100".into()], &[3, 9]);
        assert_eq!(h.matches(r##"fill="#1f77b4""##).count(), 2);
    }
}
