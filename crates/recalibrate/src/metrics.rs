//! Prometheus metrics of the recalibrate stage (served by the runtime's `/metrics`). Labels are
//! bounded: six outcome stages, four attempt results, ten score deciles.

use leadflow_runtime::StageRegistry;
use prometheus::{Gauge, GaugeVec, IntCounter, IntCounterVec, IntGauge, Opts};

use crate::accuracy::{self, DecileAccuracy};

#[derive(Clone, Debug)]
pub struct RecalibrateMetrics {
    /// `leadflow_recalibrate_outcomes_total{stage}`: outcomes consumed, by funnel stage.
    pub outcomes: IntCounterVec,
    /// `leadflow_recalibrate_unknown_outcomes_total`: outcomes whose lead stayed unknown past the
    /// grace period (each sent to the exceptions topic).
    pub unknown_outcomes: IntCounter,
    /// `leadflow_recalibrate_attempts_total{result}`: promoted, rejected, skipped (not enough
    /// labels / degenerate), failed.
    pub attempts: IntCounterVec,
    /// `leadflow_recalibrate_labelled_leads`: labelled leads with known features in the window.
    pub labelled: IntGauge,
    /// `leadflow_recalibrate_retained_leads`: scored leads kept for the join.
    pub retained: IntGauge,
    /// `leadflow_recalibrate_pending_unknown_outcomes`: outcomes waiting for their lead.
    pub pending_unknown: IntGauge,
    /// `leadflow_recalibrate_calibration_gap_ratio{decile}`: |observed − predicted| conversion of
    /// each judged score decile (quality rules Q9, Q10).
    pub calibration_gap: GaugeVec,
    /// `leadflow_recalibrate_calibration_max_gap_ratio`: the largest gap of a judged decile (0
    /// when none is judged).
    pub calibration_max_gap: Gauge,
    /// `leadflow_recalibrate_calibration_judged_deciles`: deciles with enough labelled leads.
    pub calibration_judged: IntGauge,
}

impl RecalibrateMetrics {
    pub fn register(registry: &StageRegistry) -> Result<Self, prometheus::Error> {
        let calibration_gap = GaugeVec::new(
            Opts::new(
                registry.name("calibration_gap_ratio"),
                "Scoring accuracy: |observed - predicted| conversion per judged score decile (predicted = score / 100; alert above 0.15)",
            ),
            &["decile"],
        )?;
        registry.register(Box::new(calibration_gap.clone()))?;
        let calibration_max_gap = Gauge::with_opts(Opts::new(
            registry.name("calibration_max_gap_ratio"),
            "Scoring accuracy: the largest |observed - predicted| conversion of a judged score decile (0 when none is judged)",
        ))?;
        registry.register(Box::new(calibration_max_gap.clone()))?;
        Ok(Self {
            calibration_gap,
            calibration_max_gap,
            calibration_judged: registry.gauge(
                "calibration_judged_deciles",
                "Score deciles with enough labelled leads to judge their calibration",
            )?,
            outcomes: registry.counter_vec(
                "outcomes_total",
                "Outcomes consumed, by funnel stage",
                &["stage"],
            )?,
            unknown_outcomes: registry.counter(
                "unknown_outcomes_total",
                "Outcomes whose lead stayed unknown past the grace period (sent to exceptions)",
            )?,
            attempts: registry.counter_vec(
                "attempts_total",
                "Recalibration attempts by result (promoted, rejected, skipped, failed)",
                &["result"],
            )?,
            labelled: registry.gauge(
                "labelled_leads",
                "Labelled leads with known features in the retention window",
            )?,
            retained: registry.gauge("retained_leads", "Scored leads kept for the join")?,
            pending_unknown: registry.gauge(
                "pending_unknown_outcomes",
                "Outcomes waiting (grace period) for their lead to be known",
            )?,
        })
    }
}

impl RecalibrateMetrics {
    /// Sets the calibration gauges from the labelled leads (quality rules Q9, Q10); a decile no
    /// longer judged loses its series.
    pub fn set_calibration(&self, labelled: &[(i32, bool)]) -> Vec<DecileAccuracy> {
        let deciles = accuracy::by_decile(labelled);
        let mut judged = 0;
        for d in &deciles {
            let label = d.decile.to_string();
            match (d.judged, d.gap) {
                (true, Some(gap)) => {
                    judged += 1;
                    self.calibration_gap.with_label_values(&[&label]).set(gap);
                }
                _ => {
                    let _ = self.calibration_gap.remove_label_values(&[&label]);
                }
            }
        }
        self.calibration_judged.set(judged);
        self.calibration_max_gap
            .set(accuracy::max_gap(&deciles).unwrap_or(0.0));
        deciles
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    /// Quality rules Q9, Q10: a judged decile gets its gap, an unjudged one no series; the
    /// largest gap and the number of judged deciles.
    #[test]
    fn calibration_gauges() {
        let registry = StageRegistry::new("recalibrate");
        let m = RecalibrateMetrics::register(&registry).unwrap();
        // decile 5: ten leads scored 50, none converted: gap |0 − 0.5| = 0.5; decile 2: 4 leads,
        // not judged
        let mut rows: Vec<(i32, bool)> = (0..10).map(|_| (50, false)).collect();
        rows.extend((0..4).map(|_| (20, false)));
        m.set_calibration(&rows);
        let text = registry.render();
        assert!(
            text.contains("leadflow_recalibrate_calibration_gap_ratio{decile=\"5\"} 0.5"),
            "{text}"
        );
        assert!(!text.contains("decile=\"2\""), "{text}");
        assert!(
            text.contains("leadflow_recalibrate_calibration_max_gap_ratio 0.5"),
            "{text}"
        );
        assert!(
            text.contains("leadflow_recalibrate_calibration_judged_deciles 1"),
            "{text}"
        );
        // fewer labels later: no decile judged any more
        m.set_calibration(&rows[..5]);
        let text = registry.render();
        assert!(!text.contains("calibration_gap_ratio{"), "{text}");
        assert!(
            text.contains("leadflow_recalibrate_calibration_max_gap_ratio 0"),
            "{text}"
        );
    }
}
