//! The backtest's figures: both models score the same leads (the score stage's own code), compared on
//! the leads' outcomes. Pure.

use leadflow_events::{EnrichedLead, Timestamp};
use leadflow_recalibrate::evaluate::{auc, band, brier, ece};
use leadflow_recalibrate::fit::{platt, sigmoid};
use leadflow_score::{Model, assess};
use serde::Serialize;

/// The default four-band policy's bands (crates/tier/POLICY.md): lower bounds, highest first.
pub const TIERS: [(&str, i32); 4] = [
    ("HOT", 85),
    ("WARM", 70),
    ("NURTURE_24H", 50),
    ("NURTURE", 0),
];

/// One lead of the backtest.
#[derive(Clone, Debug)]
pub struct Row {
    pub lead: EnrichedLead,
    /// Converted (SQL or later), not (rejected), or not known yet.
    pub converted: Option<bool>,
}

/// One lead of the backtest once both models scored it: all the figures need of it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Scored {
    pub occurred_at: Timestamp,
    /// Converted (SQL or later), not (rejected), or not known yet.
    pub converted: Option<bool>,
    /// The live model's score.
    pub live: i32,
    /// The candidate's score.
    pub candidate: i32,
}

impl Scored {
    /// `lead` scored by both models (the score stage's `assess`).
    pub fn of(
        lead: &EnrichedLead,
        live: &Model,
        candidate: &Model,
        converted: Option<bool>,
    ) -> Self {
        Scored {
            occurred_at: lead.lead.occurred_at,
            converted,
            live: assess(lead, live, 0).score,
            candidate: assess(lead, candidate, 0).score,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TierFigures {
    pub tier: &'static str,
    pub leads: usize,
    pub share: f64,
    pub labelled: usize,
    pub converted: usize,
    pub conversion_rate: Option<f64>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct DecileFigures {
    /// Score range `lower..=upper`.
    pub lower: i32,
    pub upper: i32,
    pub labelled: usize,
    pub mean_predicted: Option<f64>,
    pub observed_rate: Option<f64>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ModelFigures {
    pub version: String,
    pub auc: f64,
    pub brier: f64,
    pub ece: f64,
    pub calibration: Vec<DecileFigures>,
    pub tiers: Vec<TierFigures>,
    /// Leads per score decile (0–9, …, 90–100), converted and not converted.
    pub histogram_converted: Vec<usize>,
    pub histogram_not_converted: Vec<usize>,
    /// HOT + WARM leads per business day (Mon–Fri) of the range.
    pub hot_warm_per_business_day: f64,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Report {
    pub from: Option<String>,
    pub to: Option<String>,
    pub leads: usize,
    pub labelled: usize,
    pub converted: usize,
    pub business_days: usize,
    /// Roster capacity in leads per business day, when known.
    pub capacity_per_business_day: Option<f64>,
    pub live: ModelFigures,
    pub candidate: ModelFigures,
    /// `tier_shift[i][j]`: leads in tier `i` under the live model and `j` under the candidate.
    pub tier_names: Vec<&'static str>,
    pub tier_shift: Vec<Vec<usize>>,
    /// Share of leads whose tier changes.
    pub tier_change_share: f64,
}

fn decile(score: i32) -> usize {
    (score.clamp(0, 100) / 10).min(9) as usize
}

fn business_days(rows: &[Scored]) -> usize {
    use chrono::Datelike;
    let mut days: Vec<chrono::NaiveDate> = rows
        .iter()
        .map(|r| r.occurred_at.to_datetime().date_naive())
        .collect();
    let (Some(first), Some(last)) = (days.iter().min().copied(), days.iter().max().copied()) else {
        return 0;
    };
    days.clear();
    let mut d = first;
    let mut n = 0;
    while d <= last {
        if d.weekday().num_days_from_monday() < 5 {
            n += 1;
        }
        match d.succ_opt() {
            Some(next) => d = next,
            None => break,
        }
    }
    n
}

fn figures(
    rows: &[Scored],
    score: impl Fn(&Scored) -> i32,
    version: &str,
    days: usize,
) -> ModelFigures {
    let boundaries: Vec<i32> = TIERS[..3].iter().map(|t| t.1).collect();
    let scores: Vec<i32> = rows.iter().map(score).collect();
    let (mut ls, mut ys) = (Vec::new(), Vec::new());
    for (r, s) in rows.iter().zip(&scores) {
        if let Some(y) = r.converted {
            ls.push(f64::from(*s));
            ys.push(y);
        }
    }
    let (a, b) = platt(&ls, &ys).unwrap_or((0.0, 0.0));
    let probs: Vec<f64> = ls.iter().map(|s| sigmoid(a + b * s)).collect();
    let mut hist_c = vec![0; 10];
    let mut hist_n = vec![0; 10];
    let mut dec = vec![(0usize, 0.0f64, 0usize); 10];
    for (s, (p, y)) in ls.iter().zip(probs.iter().zip(&ys)) {
        let d = decile(*s as i32);
        if *y {
            hist_c[d] += 1;
        } else {
            hist_n[d] += 1;
        }
        dec[d].0 += 1;
        dec[d].1 += p;
        dec[d].2 += usize::from(*y);
    }
    let calibration = dec
        .iter()
        .enumerate()
        .map(|(i, (n, p, c))| DecileFigures {
            lower: i as i32 * 10,
            upper: if i == 9 { 100 } else { i as i32 * 10 + 9 },
            labelled: *n,
            mean_predicted: (*n > 0).then(|| p / *n as f64),
            observed_rate: (*n > 0).then(|| *c as f64 / *n as f64),
        })
        .collect();
    let mut tiers: Vec<TierFigures> = TIERS
        .iter()
        .map(|(t, _)| TierFigures {
            tier: t,
            leads: 0,
            share: 0.0,
            labelled: 0,
            converted: 0,
            conversion_rate: None,
        })
        .collect();
    for (r, s) in rows.iter().zip(&scores) {
        let t = &mut tiers[band(*s, &boundaries)];
        t.leads += 1;
        if let Some(y) = r.converted {
            t.labelled += 1;
            t.converted += usize::from(y);
        }
    }
    for t in &mut tiers {
        t.share = t.leads as f64 / rows.len().max(1) as f64;
        t.conversion_rate = (t.labelled > 0).then(|| t.converted as f64 / t.labelled as f64);
    }
    let hot_warm = tiers[0].leads + tiers[1].leads;
    ModelFigures {
        version: version.to_owned(),
        auc: auc(&ls, &ys),
        brier: brier(&probs, &ys),
        ece: ece(&probs, &ys),
        calibration,
        tiers,
        histogram_converted: hist_c,
        histogram_not_converted: hist_n,
        hot_warm_per_business_day: hot_warm as f64 / days.max(1) as f64,
    }
}

/// Scores every row with both models and compares them. `progress` is called after each row.
pub fn backtest(
    rows: &[Row],
    live: &Model,
    candidate: &Model,
    capacity_per_business_day: Option<f64>,
    mut progress: impl FnMut(),
) -> Report {
    let scored: Vec<Scored> = rows
        .iter()
        .map(|r| {
            let s = Scored::of(&r.lead, live, candidate, r.converted);
            progress();
            s
        })
        .collect();
    report(
        &scored,
        live.version(),
        candidate.version(),
        capacity_per_business_day,
    )
}

/// Compares the two models' scores of `rows` (in the order the figures are summed in: the command
/// sorts them by lead time, then lead id).
pub fn report(
    rows: &[Scored],
    live_version: &str,
    candidate_version: &str,
    capacity_per_business_day: Option<f64>,
) -> Report {
    let days = business_days(rows);
    let boundaries: Vec<i32> = TIERS[..3].iter().map(|t| t.1).collect();
    let mut shift = vec![vec![0usize; TIERS.len()]; TIERS.len()];
    for r in rows {
        shift[band(r.live, &boundaries)][band(r.candidate, &boundaries)] += 1;
    }
    let changed: usize = (0..TIERS.len())
        .flat_map(|i| (0..TIERS.len()).map(move |j| (i, j)))
        .filter(|(i, j)| i != j)
        .map(|(i, j)| shift[i][j])
        .sum();
    let from = rows.iter().map(|r| r.occurred_at).min();
    let to = rows.iter().map(|r| r.occurred_at).max();
    Report {
        from: from.map(|t| t.to_rfc3339()),
        to: to.map(|t| t.to_rfc3339()),
        leads: rows.len(),
        labelled: rows.iter().filter(|r| r.converted.is_some()).count(),
        converted: rows.iter().filter(|r| r.converted == Some(true)).count(),
        business_days: days,
        capacity_per_business_day,
        live: figures(rows, |r| r.live, live_version, days),
        candidate: figures(rows, |r| r.candidate, candidate_version, days),
        tier_names: TIERS.iter().map(|t| t.0).collect(),
        tier_shift: shift,
        tier_change_share: changed as f64 / rows.len().max(1) as f64,
    }
}

/// The one-screen summary printed at the end.
pub fn summary(r: &Report) -> String {
    let mut s = String::new();
    let pct = |x: Option<f64>| {
        x.map(|v| format!("{:5.1} %", v * 100.0))
            .unwrap_or_else(|| "    -  ".into())
    };
    s.push_str(&format!(
        "backtest: {} leads ({} labelled, {} converted) from {} to {}, {} business days\n\n",
        r.leads,
        r.labelled,
        r.converted,
        r.from.as_deref().unwrap_or("-"),
        r.to.as_deref().unwrap_or("-"),
        r.business_days
    ));
    s.push_str(&format!(
        "{:<14}{:>22}{:>22}\n",
        "",
        format!("live {}", r.live.version),
        format!("candidate {}", r.candidate.version)
    ));
    s.push_str(&format!(
        "{:<14}{:>22.3}{:>22.3}\n",
        "AUC", r.live.auc, r.candidate.auc
    ));
    s.push_str(&format!(
        "{:<14}{:>22.3}{:>22.3}\n",
        "Brier", r.live.brier, r.candidate.brier
    ));
    s.push_str(&format!(
        "{:<14}{:>22.3}{:>22.3}\n",
        "ECE", r.live.ece, r.candidate.ece
    ));
    for (l, c) in r.live.tiers.iter().zip(&r.candidate.tiers) {
        s.push_str(&format!(
            "{:<14}{:>13} {}{:>13} {}\n",
            l.tier,
            format!("{} leads", l.leads),
            pct(l.conversion_rate),
            format!("{} leads", c.leads),
            pct(c.conversion_rate)
        ));
    }
    s.push_str(&format!(
        "{:<14}{:>22.1}{:>22.1}   (roster capacity {})\n",
        "HOT+WARM/day",
        r.live.hot_warm_per_business_day,
        r.candidate.hot_warm_per_business_day,
        r.capacity_per_business_day
            .map(|c| format!("{c:.0}"))
            .unwrap_or_else(|| "unknown".into())
    ));
    s.push_str(&format!(
        "{:.1} % of leads change tier\n",
        r.tier_change_share * 100.0
    ));
    s
}

#[cfg(test)]
mod tests {
    use leadflow_events::{Timestamp, samples};

    use super::*;

    fn rows() -> Vec<Row> {
        (0..40)
            .map(|i| {
                let mut lead = samples::enriched_lead();
                lead.lead.lead_id = format!("l{i}");
                lead.lead.occurred_at = Timestamp(samples::T0.0 + i64::from(i) * 3_600_000 * 12);
                if i % 2 == 0 {
                    lead.lead.activities.clear();
                }
                Row {
                    lead,
                    converted: (i % 5 != 0).then_some(i % 2 == 1),
                }
            })
            .collect()
    }

    #[test]
    fn compares_both_models_on_the_same_leads() {
        let live = Model::embedded("lead-priority").unwrap();
        let mut p = live.params().clone();
        p.version = "cand".into();
        for (code, w) in p.weights.iter_mut() {
            if code.starts_with("activity.") {
                *w = 0.0;
            }
        }
        let cand = Model::from_params(p, "lead-priority").unwrap();
        let rows = rows();
        let mut ticks = 0;
        let r = backtest(&rows, &live, &cand, Some(12.0), || ticks += 1);
        assert_eq!(ticks, 40);
        assert_eq!(r.leads, 40);
        assert_eq!(r.labelled, 32);
        assert_eq!(r.live.tiers.iter().map(|t| t.leads).sum::<usize>(), 40);
        assert_eq!(r.tier_shift.iter().flatten().sum::<usize>(), 40);
        // activity carries the signal in these rows: the live model ranks better than one without it
        assert!(
            r.live.auc > r.candidate.auc,
            "{} {}",
            r.live.auc,
            r.candidate.auc
        );
        assert!(
            r.business_days >= 14 && r.business_days <= 16,
            "{}",
            r.business_days
        );
        let s = summary(&r);
        assert!(s.contains("AUC") && s.contains("roster capacity 12"), "{s}");
    }
}
