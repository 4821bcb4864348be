//! The quality report as text tables (rule Q11), in the manner of `leadflow sla report`.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use leadflow_recalibrate::accuracy::{MIN_LABELLED, TOLERANCE};

use super::fold::{
    Acceptance, CONTACT_BUCKET_LABELS, MQL_TO_SQL_TARGET, QualityReport, SLA_TARGET,
    SQL_TO_OPPORTUNITY_TARGET,
};

/// A share as a percentage with one decimal, `-` when there is none.
pub fn pct(x: Option<f64>) -> String {
    x.map_or("-".to_owned(), |v| format!("{:.1}", v * 100.0))
}

/// `!` after a figure below its target.
fn flag(x: Option<f64>, target: f64, strictly_above: bool) -> &'static str {
    match x {
        Some(v) if v < target || (strictly_above && v <= target) => " !",
        _ => "",
    }
}

fn acceptance_table(out: &mut String, group: &str, rows: &BTreeMap<String, Acceptance>) {
    let _ = writeln!(
        out,
        "{:<24} {:>8} {:>8} {:>8} {:>10} {:>9}",
        group, "handoffs", "accepted", "rejected", "unanswered", "accept %"
    );
    for (name, a) in rows {
        let _ = writeln!(
            out,
            "{:<24} {:>8} {:>8} {:>8} {:>10} {:>9}{}",
            name,
            a.handoffs,
            a.accepted,
            a.rejected,
            a.unanswered,
            pct(a.rate),
            if a.below_target { " !" } else { "" }
        );
    }
}

/// Renders the report as text.
pub fn text(r: &QualityReport) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "Funnel quality of handoffs created since {} (as of {}); `!` marks a figure below its target",
        r.since, r.now
    );
    let _ = writeln!(
        out,
        "\nAcceptance: accepted / (accepted + rejected) of each handoff's first answer (target at least 80 %)"
    );
    let mut all = BTreeMap::new();
    all.insert("all".to_owned(), r.acceptance.clone());
    acceptance_table(&mut out, "overall", &all);
    for (group, rows) in [
        ("tier", &r.acceptance_by_tier),
        ("source", &r.acceptance_by_source),
        ("rep", &r.acceptance_by_rep),
    ] {
        out.push('\n');
        acceptance_table(&mut out, group, rows);
    }

    let _ = writeln!(
        out,
        "\nRejection reasons, most first ({} rejected)",
        r.acceptance.rejected
    );
    let _ = writeln!(out, "{:<24} {:>8} {:>8}", "reason", "count", "share %");
    if r.rejection_reasons.is_empty() {
        let _ = writeln!(out, "(none)");
    }
    for c in &r.rejection_reasons {
        let _ = writeln!(
            out,
            "{:<24} {:>8} {:>8}",
            c.reason,
            c.count,
            pct(Some(c.share))
        );
    }

    let f = &r.funnel;
    let _ = writeln!(out, "\nFunnel (leads handed off in the window)");
    let _ = writeln!(
        out,
        "{:>8} {:>8} {:>12} {:>8} {:>20} {:>26}",
        "MQLs", "SQL", "opportunity", "won", "MQL→SQL % (>40 %)", "SQL→opportunity % (>60 %)"
    );
    let _ = writeln!(
        out,
        "{:>8} {:>8} {:>12} {:>8} {:>20} {:>26}",
        f.mqls,
        f.sqls,
        f.opportunities,
        f.won,
        format!(
            "{}{}",
            pct(f.mql_to_sql),
            flag(f.mql_to_sql, MQL_TO_SQL_TARGET, true)
        ),
        format!(
            "{}{}",
            pct(f.sql_to_opportunity),
            flag(f.sql_to_opportunity, SQL_TO_OPPORTUNITY_TARGET, true)
        )
    );

    let _ = writeln!(
        out,
        "\nTime to first contact per tier (handoffs; minutes of event time) and SLA met (business time, target > 90 %)"
    );
    let mut header = format!("{:<14} {:>8}", "tier", "handoffs");
    for l in CONTACT_BUCKET_LABELS {
        let _ = write!(header, " {l:>13}");
    }
    let _ = writeln!(
        out,
        "{header} {:>7} {:>7} {:>9}",
        "median", "p90", "SLA met %"
    );
    for (tier, c) in &r.contact_by_tier {
        let mut line = format!("{:<14} {:>8}", tier, c.handoffs);
        for n in c.buckets {
            let _ = write!(line, " {n:>13}");
        }
        let m = |x: Option<i64>| x.map_or("-".to_owned(), |v| v.to_string());
        let _ = writeln!(
            out,
            "{line} {:>7} {:>7} {:>9}{}",
            m(c.median_minutes),
            m(c.p90_minutes),
            pct(c.sla_met_rate),
            flag(c.sla_met_rate, SLA_TARGET, true)
        );
    }

    let a = &r.accuracy;
    let _ = writeln!(
        out,
        "\nScoring accuracy per score decile: predicted = score / 100, observed = converted / labelled; \
within {:.0} points when judged (at least {MIN_LABELLED} labelled); {} scored leads, {} labelled",
        TOLERANCE * 100.0,
        a.scored_leads,
        a.labelled
    );
    let _ = writeln!(
        out,
        "{:<8} {:>8} {:>9} {:>11} {:>10} {:>7} {:>7}",
        "decile", "labelled", "converted", "predicted %", "observed %", "gap", "within"
    );
    for d in &a.deciles {
        let _ = writeln!(
            out,
            "{:<8} {:>8} {:>9} {:>11} {:>10} {:>7} {:>7}",
            format!("{}-{}", d.lower, d.upper),
            d.labelled,
            d.converted,
            pct(d.predicted),
            pct(d.observed),
            pct(d.gap),
            match d.within {
                Some(true) => "yes",
                Some(false) => "NO !",
                None => "-",
            }
        );
    }
    let _ = writeln!(
        out,
        "scoring accuracy: {}",
        match a.within {
            Some(true) => format!("within 15 % (largest gap {} points)", pct(a.max_gap)),
            Some(false) => format!(
                "OFF by more than 15 % (largest gap {} points) !",
                pct(a.max_gap)
            ),
            None => format!("not enough data (no decile with {MIN_LABELLED} labelled leads)"),
        }
    );
    out
}
