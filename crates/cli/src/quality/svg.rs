//! The quality report's charts as inline SVG (no script, no external resource), for the console's
//! `/quality` page. Every text is escaped with `leadflow_escape::html`.

use std::fmt::Write as _;

use leadflow_escape::html as esc;
use leadflow_recalibrate::accuracy::TOLERANCE;

use super::fold::{ACCEPTANCE_TARGET, Acceptance, CONTACT_BUCKET_LABELS, QualityReport};
use crate::unit_chart::UnitChart;
use std::collections::BTreeMap;

const BAR: &str = "#0b6bcb";
const LOW: &str = "#d64545";
const BUCKETS: [&str; 6] = [
    "#1f9d55", "#6cc24a", "#f2c94c", "#f2994a", "#d64545", "#b0b7c3",
];

/// One bar: label, length as a share of the chart's maximum, the text printed after it, and
/// whether it is below its target.
struct Bar {
    label: String,
    share: f64,
    text: String,
    low: bool,
}

/// Horizontal bars, with an optional dashed target line at `target` (a share of the width).
fn hbars(chart: &str, title: &str, bars: &[Bar], target: Option<f64>) -> String {
    let (label_w, bar_w, row, top) = (170.0, 300.0, 22.0, 10.0);
    let w = label_w + bar_w + 90.0;
    let h = top * 2.0 + row * bars.len().max(1) as f64;
    let mut s = format!(
        r##"<svg data-chart="{chart}" xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" viewBox="0 0 {w} {h}" role="img"><title>{}</title>"##,
        esc(title)
    );
    for (i, b) in bars.iter().enumerate() {
        let y = top + i as f64 * row;
        let len = (b.share.clamp(0.0, 1.0) * bar_w).max(1.0);
        let _ = write!(
            s,
            r##"<g class="bar" data-label="{l}" data-value="{t}"><text x="{}" y="{:.1}" font-size="11" text-anchor="end">{l}</text><rect x="{label_w}" y="{:.1}" width="{len:.1}" height="{:.1}" fill="{}"/><text x="{:.1}" y="{:.1}" font-size="11">{t}</text></g>"##,
            label_w - 6.0,
            y + row * 0.65,
            y + 3.0,
            row - 6.0,
            if b.low { LOW } else { BAR },
            label_w + len + 4.0,
            y + row * 0.65,
            l = esc(&b.label),
            t = esc(&b.text),
        );
    }
    if let Some(t) = target {
        let x = label_w + t * bar_w;
        let _ = write!(
            s,
            r##"<line class="target" x1="{x:.1}" y1="2" x2="{x:.1}" y2="{:.1}" stroke="#1d2330" stroke-dasharray="4 3"/>"##,
            h - 2.0
        );
    }
    s.push_str("</svg>");
    s
}

fn pct(x: f64) -> String {
    format!("{:.1} %", x * 100.0)
}

/// Acceptance rate per group, with the 80 % target line (Q3).
pub fn acceptance(chart: &str, title: &str, rows: &BTreeMap<String, Acceptance>) -> String {
    let bars: Vec<Bar> = rows
        .iter()
        .map(|(name, a)| Bar {
            label: name.clone(),
            share: a.rate.unwrap_or(0.0),
            text: match a.rate {
                Some(r) => format!("{} of {}", pct(r), a.accepted + a.rejected),
                None => format!("no answer ({} unanswered)", a.unanswered),
            },
            low: a.below_target,
        })
        .collect();
    hbars(chart, title, &bars, Some(ACCEPTANCE_TARGET))
}

/// Rejection reasons, most first (Q4).
pub fn reasons(r: &QualityReport) -> String {
    let max = r.rejection_reasons.first().map_or(1, |c| c.count.max(1)) as f64;
    let bars: Vec<Bar> = r
        .rejection_reasons
        .iter()
        .map(|c| Bar {
            label: c.reason.to_owned(),
            share: c.count as f64 / max,
            text: format!("{} ({})", c.count, pct(c.share)),
            low: false,
        })
        .collect();
    hbars(
        "rejection-reasons",
        "Rejection reasons, most first",
        &bars,
        None,
    )
}

/// MQL → SQL → opportunity → won (Q5).
pub fn funnel(r: &QualityReport) -> String {
    let f = &r.funnel;
    let max = f.mqls.max(1) as f64;
    let bars: Vec<Bar> = [
        ("MQLs", f.mqls, None),
        ("SQL", f.sqls, f.mql_to_sql),
        ("opportunity", f.opportunities, f.sql_to_opportunity),
        ("won", f.won, None),
    ]
    .into_iter()
    .map(|(label, n, rate)| Bar {
        label: label.to_owned(),
        share: n as f64 / max,
        text: match rate {
            Some(r) => format!("{n} ({} of the step before)", pct(r)),
            None => n.to_string(),
        },
        low: false,
    })
    .collect();
    hbars("funnel", "MQL → SQL → opportunity → won", &bars, None)
}

/// Time to first contact per tier: one stacked bar per tier over the Q6 buckets.
pub fn contact(r: &QualityReport) -> String {
    let (label_w, bar_w, row, top) = (120.0, 400.0, 24.0, 30.0);
    let w = label_w + bar_w + 20.0;
    let h = top + row * r.contact_by_tier.len().max(1) as f64 + 10.0;
    let mut s = format!(
        r##"<svg data-chart="first-contact" xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" viewBox="0 0 {w} {h}" role="img"><title>Time to first contact per tier</title>"##
    );
    let mut x = 10.0;
    for (label, colour) in CONTACT_BUCKET_LABELS.iter().zip(BUCKETS) {
        let _ = write!(
            s,
            r##"<rect x="{x:.1}" y="4" width="10" height="10" fill="{colour}"/><text x="{:.1}" y="13" font-size="10">{}</text>"##,
            x + 13.0,
            esc(label)
        );
        x += 84.0;
    }
    for (i, (tier, c)) in r.contact_by_tier.iter().enumerate() {
        let y = top + i as f64 * row;
        let _ = write!(
            s,
            r##"<text x="{}" y="{:.1}" font-size="11" text-anchor="end">{}</text>"##,
            label_w - 6.0,
            y + row * 0.65,
            esc(tier)
        );
        let total = c.handoffs.max(1) as f64;
        let mut x = label_w;
        for (k, n) in c.buckets.iter().enumerate() {
            let len = *n as f64 / total * bar_w;
            if *n > 0 {
                let _ = write!(
                    s,
                    r##"<rect class="segment" data-tier="{}" data-bucket="{k}" data-count="{n}" x="{x:.1}" y="{:.1}" width="{len:.1}" height="{:.1}" fill="{}"><title>{}: {n}</title></rect>"##,
                    esc(tier),
                    y + 3.0,
                    row - 6.0,
                    BUCKETS[k],
                    esc(CONTACT_BUCKET_LABELS[k])
                );
            }
            x += len;
        }
    }
    s.push_str("</svg>");
    s
}

/// Predicted (x) against observed (y) conversion per score decile, with the ±15-point band (Q9).
pub fn calibration(r: &QualityReport) -> String {
    let chart = UnitChart::new(340.0, 320.0, 40.0);
    let (x, y) = (|v| chart.x(v), |v| chart.y(v));
    let t = TOLERANCE;
    // the ±15-point band around the diagonal
    let band = format!(
        r##"<polygon points="{:.1},{:.1} {:.1},{:.1} {:.1},{:.1} {:.1},{:.1} {:.1},{:.1} {:.1},{:.1}" fill="#1f9d55" fill-opacity="0.12"/>"##,
        x(0.0),
        y(t),
        x(0.0),
        y(0.0),
        x(t),
        y(0.0),
        x(1.0),
        y(1.0 - t),
        x(1.0),
        y(1.0),
        x(1.0 - t),
        y(1.0)
    );
    let mut s = chart.calibration_frame(
        "Predicted against observed conversion per score decile",
        &band,
    );
    for d in &r.accuracy.deciles {
        let (Some(p), Some(o)) = (d.predicted, d.observed) else {
            continue;
        };
        let colour = match d.within {
            Some(true) => "#1f9d55",
            Some(false) => LOW,
            None => "#b0b7c3",
        };
        let _ = write!(
            s,
            r##"<circle class="decile" data-decile="{}" data-labelled="{}" cx="{:.1}" cy="{:.1}" r="{}" fill="{colour}"><title>{}–{}: predicted {}, observed {} ({} labelled)</title></circle>"##,
            d.decile,
            d.labelled,
            x(p),
            y(o),
            if d.judged { 5 } else { 3 },
            d.lower,
            d.upper,
            pct(p),
            pct(o),
            d.labelled
        );
    }
    s.push_str(&chart.close("predicted conversion (score / 100)"));
    s
}
