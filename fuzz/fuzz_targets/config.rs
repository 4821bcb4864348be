//! The config loader: a TOML file layered over the defaults, extracted into a service's config and
//! validated, for each stage's settings (`ServiceConfig::load` does the same with the file on disk).
#![no_main]

use figment::Figment;
use figment::providers::{Format, Serialized, Toml};
use leadflow_runtime::{NoSettings, ServiceConfig, StageSettings};
use libfuzzer_sys::fuzz_target;

fn load<S: StageSettings>(toml: &str) {
    let fig = Figment::from(Serialized::defaults(ServiceConfig::<S>::default()))
        .merge(Toml::string(toml));
    if let Ok(cfg) = fig.extract::<ServiceConfig<S>>() {
        // validation and the client settings derived from a valid config must not panic
        if cfg.validate().is_ok() {
            let _ = cfg.client_settings();
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((pick, rest)) = data.split_first() else {
        return;
    };
    let Ok(toml) = std::str::from_utf8(rest) else {
        return;
    };
    match pick % 6 {
        0 => load::<NoSettings>(toml),
        1 => load::<leadflow_enrich::EnrichSettings>(toml),
        2 => load::<leadflow_score::ScoreSettings>(toml),
        3 => load::<leadflow_tier::TierSettings>(toml),
        4 => load::<leadflow_route::RouteSettings>(toml),
        _ => load::<leadflow_sla_watchdog::WatchdogSettings>(toml),
    }
});
