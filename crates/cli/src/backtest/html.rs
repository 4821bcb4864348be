//! The backtest as one self-contained HTML file: tables and inline SVG charts (calibration curve,
//! score histogram per outcome, tier shift), no script, no external resource.

use std::fmt::Write;

use leadflow_escape::html as esc;

use super::report::{ModelFigures, Report};
use crate::unit_chart::UnitChart;

const LIVE: &str = "#7a869a";
const CAND: &str = "#0b6bcb";
const CONV: &str = "#1f9d55";
const NOT: &str = "#d64545";

/// Calibration: mean predicted (x) against observed conversion (y) per score decile, both models.
fn calibration_svg(r: &Report) -> String {
    let chart = UnitChart::new(380.0, 320.0, 40.0);
    let (x, y) = (|v| chart.x(v), |v| chart.y(v));
    let mut s = chart.calibration_frame("Calibration per score decile", "");
    for (f, colour) in [(&r.live, LIVE), (&r.candidate, CAND)] {
        let pts: Vec<(f64, f64)> = f
            .calibration
            .iter()
            .filter_map(|d| Some((d.mean_predicted?, d.observed_rate?)))
            .collect();
        let line: Vec<String> = pts
            .iter()
            .map(|(p, o)| format!("{:.1},{:.1}", x(*p), y(*o)))
            .collect();
        let _ = write!(
            s,
            r##"<polyline class="series" points="{}" fill="none" stroke="{colour}" stroke-width="2"/>"##,
            line.join(" ")
        );
        for (p, o) in pts {
            let _ = write!(
                s,
                r##"<circle cx="{:.1}" cy="{:.1}" r="3" fill="{colour}"/>"##,
                x(p),
                y(o)
            );
        }
    }
    s.push_str(&chart.close("predicted conversion"));
    s
}

/// Leads per score decile, converted and not, for one model.
fn histogram_svg(f: &ModelFigures, which: &str) -> String {
    let (w, h, m) = (380.0, 220.0, 30.0);
    let max = f
        .histogram_converted
        .iter()
        .chain(&f.histogram_not_converted)
        .copied()
        .max()
        .unwrap_or(0)
        .max(1) as f64;
    let slot = (w - 2.0 * m) / 10.0;
    let mut s = format!(
        r##"<svg data-chart="histogram-{which}" xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" viewBox="0 0 {w} {h}" role="img"><title>Score histogram per outcome ({})</title>"##,
        esc(&f.version)
    );
    for d in 0..10 {
        for (k, (v, colour)) in [
            (f.histogram_converted[d], CONV),
            (f.histogram_not_converted[d], NOT),
        ]
        .into_iter()
        .enumerate()
        {
            let bh = v as f64 / max * (h - 2.0 * m);
            let _ = write!(
                s,
                r##"<rect class="bar" x="{:.1}" y="{:.1}" width="{:.1}" height="{:.1}" fill="{colour}"><title>{}–{}: {v}</title></rect>"##,
                m + d as f64 * slot + 2.0 + k as f64 * (slot - 4.0) / 2.0,
                h - m - bh,
                (slot - 4.0) / 2.0,
                bh,
                d * 10,
                if d == 9 { 100 } else { d * 10 + 9 }
            );
        }
        let _ = write!(
            s,
            r##"<text x="{:.1}" y="{}" font-size="10" text-anchor="middle">{}</text>"##,
            m + (d as f64 + 0.5) * slot,
            h - m + 14.0,
            d * 10
        );
    }
    s.push_str("</svg>");
    s
}

/// Old tier (rows) × new tier (columns), shaded by count.
fn shift_svg(r: &Report) -> String {
    let n = r.tier_names.len();
    let (cell, m) = (70.0, 100.0);
    let (w, h) = (m + cell * n as f64 + 10.0, m + cell * n as f64 + 10.0);
    let max = r
        .tier_shift
        .iter()
        .flatten()
        .copied()
        .max()
        .unwrap_or(0)
        .max(1) as f64;
    let mut s = format!(
        r##"<svg data-chart="tier-shift" xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" viewBox="0 0 {w} {h}" role="img"><title>Tier shift: live (rows) to candidate (columns)</title>"##
    );
    for (i, name) in r.tier_names.iter().enumerate() {
        let _ = write!(
            s,
            r##"<text x="{}" y="{:.1}" font-size="11" text-anchor="end">{name}</text><text x="{:.1}" y="{}" font-size="11" text-anchor="middle">{name}</text>"##,
            m - 6.0,
            m + (i as f64 + 0.55) * cell,
            m + (i as f64 + 0.5) * cell,
            m - 8.0
        );
        for j in 0..n {
            let v = r.tier_shift[i][j];
            let alpha = 0.08 + 0.92 * v as f64 / max;
            let _ = write!(
                s,
                r##"<rect class="cell" x="{:.1}" y="{:.1}" width="{cell}" height="{cell}" fill="{CAND}" fill-opacity="{alpha:.2}" stroke="#fff"/><text x="{:.1}" y="{:.1}" font-size="12" text-anchor="middle">{v}</text>"##,
                m + j as f64 * cell,
                m + i as f64 * cell,
                m + (j as f64 + 0.5) * cell,
                m + (i as f64 + 0.55) * cell
            );
        }
    }
    let _ = write!(
        s,
        r##"<text x="{}" y="14" font-size="11" text-anchor="middle">candidate tier</text><text x="12" y="{}" font-size="11" transform="rotate(-90 12 {})" text-anchor="middle">live tier</text></svg>"##,
        m + cell * n as f64 / 2.0,
        m + cell * n as f64 / 2.0,
        m + cell * n as f64 / 2.0
    );
    s
}

fn pct(x: Option<f64>) -> String {
    x.map(|v| format!("{:.1} %", v * 100.0))
        .unwrap_or_else(|| "–".into())
}

/// The whole report page.
pub fn render(r: &Report, json_name: &str) -> String {
    let mut s = String::from(
        r##"<!doctype html><html lang="en"><head><meta charset="utf-8"><title>leadflow backtest</title><style>body{font:14px/1.4 system-ui,sans-serif;margin:24px;color:#1d2330}table{border-collapse:collapse;margin:8px 0 16px}td,th{border:1px solid #dde;padding:4px 10px;text-align:right}th{background:#f3f5f8}.charts{display:flex;flex-wrap:wrap;gap:24px}.key span{display:inline-block;width:10px;height:10px;margin:0 4px 0 12px}</style></head><body>"##,
    );
    let _ = write!(
        s,
        "<h1>Backtest: {} vs {}</h1><p>{} leads from {} to {} ({} labelled, {} converted), {} business days. Figures: <code>{}</code>.</p>",
        esc(&r.candidate.version),
        esc(&r.live.version),
        r.leads,
        esc(r.from.as_deref().unwrap_or("-")),
        esc(r.to.as_deref().unwrap_or("-")),
        r.labelled,
        r.converted,
        r.business_days,
        esc(json_name)
    );
    let _ = write!(
        s,
        "<table><tr><th></th><th>live {}</th><th>candidate {}</th></tr><tr><td>AUC</td><td>{:.3}</td><td>{:.3}</td></tr><tr><td>Brier</td><td>{:.3}</td><td>{:.3}</td></tr><tr><td>ECE</td><td>{:.3}</td><td>{:.3}</td></tr><tr><td>HOT+WARM per business day</td><td>{:.1}</td><td>{:.1}</td></tr><tr><td>roster capacity per business day</td><td colspan=2>{}</td></tr><tr><td>leads changing tier</td><td colspan=2>{:.1} %</td></tr></table>",
        esc(&r.live.version),
        esc(&r.candidate.version),
        r.live.auc,
        r.candidate.auc,
        r.live.brier,
        r.candidate.brier,
        r.live.ece,
        r.candidate.ece,
        r.live.hot_warm_per_business_day,
        r.candidate.hot_warm_per_business_day,
        r.capacity_per_business_day
            .map(|c| format!("{c:.0}"))
            .unwrap_or_else(|| "unknown".into()),
        r.tier_change_share * 100.0
    );
    s.push_str("<h2>Tiers</h2><table><tr><th>tier</th><th>live leads</th><th>live conversion</th><th>candidate leads</th><th>candidate conversion</th></tr>");
    for (l, c) in r.live.tiers.iter().zip(&r.candidate.tiers) {
        let _ = write!(
            s,
            "<tr><td>{}</td><td>{} ({:.1} %)</td><td>{}</td><td>{} ({:.1} %)</td><td>{}</td></tr>",
            l.tier,
            l.leads,
            l.share * 100.0,
            pct(l.conversion_rate),
            c.leads,
            c.share * 100.0,
            pct(c.conversion_rate)
        );
    }
    s.push_str("</table><h2>Charts</h2>");
    let _ = write!(
        s,
        r##"<p class="key"><span style="background:{LIVE}"></span>live<span style="background:{CAND}"></span>candidate<span style="background:{CONV}"></span>converted<span style="background:{NOT}"></span>not converted</p><div class="charts"><figure>{}<figcaption>Calibration per score decile</figcaption></figure><figure>{}<figcaption>Score histogram, live</figcaption></figure><figure>{}<figcaption>Score histogram, candidate</figcaption></figure><figure>{}<figcaption>Tier shift (live → candidate)</figcaption></figure></div>"##,
        calibration_svg(r),
        histogram_svg(&r.live, "live"),
        histogram_svg(&r.candidate, "candidate"),
        shift_svg(r)
    );
    s.push_str("</body></html>\n");
    s
}
