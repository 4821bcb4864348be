//! The metrics handle a stage registers its own metrics through.
//!
//! The runtime creates one [`StageRegistry`] per running stage (`service_main` hands it to the build
//! closure; tests make one with [`StageRegistry::new`] and pass it in `RunOptions::metrics`). The
//! harness registers its own metrics (`leadflow_<stage>_consumed_total`, ...) in the same registry,
//! and `/metrics` serves it. Every method prefixes the name with `leadflow_<stage>_`, so a stage
//! writes `registry.counter_vec("decisions_total", ...)` and cannot get its prefix wrong, and every
//! method returns the registration error instead of dropping it (a duplicate name is a bug to report
//! at start-up, never a metric that silently goes missing).

use prometheus::core::Collector;
use prometheus::{
    Histogram, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGauge, IntGaugeVec, Opts,
    Registry,
};

/// A stage's metric registry: cheap to clone (clones share the registry).
#[derive(Clone)]
pub struct StageRegistry {
    registry: Registry,
    prefix: String,
}

impl std::fmt::Debug for StageRegistry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StageRegistry")
            .field("prefix", &self.prefix)
            .finish_non_exhaustive()
    }
}

impl StageRegistry {
    /// An empty registry for the stage `stage` (metric prefix `leadflow_<stage>_`, `-` becomes `_`).
    pub fn new(stage: &str) -> Self {
        Self {
            registry: Registry::new(),
            prefix: format!("leadflow_{}_", stage.replace('-', "_")),
        }
    }

    /// The full metric name for `name`: `leadflow_<stage>_<name>`.
    pub fn name(&self, name: &str) -> String {
        format!("{}{name}", self.prefix)
    }

    /// The underlying prometheus registry (for gathering).
    pub fn registry(&self) -> &Registry {
        &self.registry
    }

    /// Registers any collector as is (its names are not prefixed).
    pub fn register(&self, collector: Box<dyn Collector>) -> Result<(), prometheus::Error> {
        self.registry.register(collector)
    }

    /// A counter `leadflow_<stage>_<name>` (name it `..._total`).
    pub fn counter(&self, name: &str, help: &str) -> Result<IntCounter, prometheus::Error> {
        let c = IntCounter::with_opts(Opts::new(self.name(name), help))?;
        self.register(Box::new(c.clone()))?;
        Ok(c)
    }

    /// A labelled counter. Label values must be bounded (kinds, topics, partitions — never ids).
    pub fn counter_vec(
        &self,
        name: &str,
        help: &str,
        labels: &[&str],
    ) -> Result<IntCounterVec, prometheus::Error> {
        let c = IntCounterVec::new(Opts::new(self.name(name), help), labels)?;
        self.register(Box::new(c.clone()))?;
        Ok(c)
    }

    /// A gauge `leadflow_<stage>_<name>`.
    pub fn gauge(&self, name: &str, help: &str) -> Result<IntGauge, prometheus::Error> {
        let g = IntGauge::with_opts(Opts::new(self.name(name), help))?;
        self.register(Box::new(g.clone()))?;
        Ok(g)
    }

    /// A labelled gauge.
    pub fn gauge_vec(
        &self,
        name: &str,
        help: &str,
        labels: &[&str],
    ) -> Result<IntGaugeVec, prometheus::Error> {
        let g = IntGaugeVec::new(Opts::new(self.name(name), help), labels)?;
        self.register(Box::new(g.clone()))?;
        Ok(g)
    }

    /// A histogram `leadflow_<stage>_<name>` with explicit buckets.
    pub fn histogram(
        &self,
        name: &str,
        help: &str,
        buckets: Vec<f64>,
    ) -> Result<Histogram, prometheus::Error> {
        let h = Histogram::with_opts(HistogramOpts::new(self.name(name), help).buckets(buckets))?;
        self.register(Box::new(h.clone()))?;
        Ok(h)
    }

    /// A labelled histogram.
    pub fn histogram_vec(
        &self,
        name: &str,
        help: &str,
        buckets: Vec<f64>,
        labels: &[&str],
    ) -> Result<HistogramVec, prometheus::Error> {
        let h = HistogramVec::new(
            HistogramOpts::new(self.name(name), help).buckets(buckets),
            labels,
        )?;
        self.register(Box::new(h.clone()))?;
        Ok(h)
    }

    /// Prometheus text exposition of this registry plus anything registered in the process-wide
    /// default registry (libraries that know no stage).
    pub fn render(&self) -> String {
        let mut families = self.registry.gather();
        families.extend(prometheus::default_registry().gather());
        prometheus::TextEncoder::new()
            .encode_to_string(&families)
            .unwrap_or_else(|e| format!("# metrics encoding failed: {e}\n"))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn names_get_the_stage_prefix_and_duplicates_are_errors() {
        let r = StageRegistry::new("sla-watchdog");
        let c = r.counter("breaches_total", "Breaches").unwrap();
        c.inc();
        assert!(
            r.render()
                .contains("leadflow_sla_watchdog_breaches_total 1")
        );
        let again = r.counter("breaches_total", "Breaches");
        assert!(
            again.is_err(),
            "a second registration of one name is reported"
        );
        // clones share the registry
        let clone = r.clone();
        clone.gauge("open_timers", "Timers").unwrap().set(3);
        assert!(r.render().contains("leadflow_sla_watchdog_open_timers 3"));
    }
}
