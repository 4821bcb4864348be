#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]
//! The backtest's HTML report opened in headless Chromium (`LEADFLOW_CHROMIUM`, default `chromium`;
//! the test fails when it is missing: `apt-get install chromium`): the parsed DOM holds the four
//! charts with their marks, and a screenshot of the page differs from one of the same page without
//! its charts (they were painted).

use std::path::Path;
use std::process::Command;

use leadflow_cli::backtest::report::{Row, backtest};
use leadflow_cli::backtest::write_reports;
use leadflow_enrich::provider::LocalProvider;
use leadflow_enrich::{EnrichOutcome, EnrichSettings, Enricher};
use leadflow_events::{OutcomeStage, Timestamp};
use leadflow_generate::LeadGenerator;
use leadflow_generate::outcomes::outcomes_for;
use leadflow_score::Model;

fn chromium() -> String {
    std::env::var("LEADFLOW_CHROMIUM").unwrap_or_else(|_| "chromium".into())
}

fn headless(args: &[&str]) -> std::process::Output {
    Command::new(chromium())
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--hide-scrollbars",
        ])
        .args(args)
        .output()
        .unwrap_or_else(|e| {
            panic!(
                "cannot run {} ({e}): install Chromium (apt-get install chromium) or set LEADFLOW_CHROMIUM",
                chromium()
            )
        })
}

fn screenshot(html: &Path, png: &Path) -> Vec<u8> {
    let out = headless(&[
        &format!("--screenshot={}", png.display()),
        "--window-size=1400,1400",
        &format!("file://{}", html.display()),
    ]);
    assert!(
        png.exists(),
        "no screenshot: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::read(png).unwrap()
}

#[test]
fn the_html_report_renders_its_charts_in_chromium() {
    let mut generator = LeadGenerator::new(5, Timestamp(1_763_640_000_000));
    let mut enricher = Enricher::new(&EnrichSettings::demo(), LocalProvider::demo());
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let mut rows = Vec::new();
    for _ in 0..400 {
        let lead = generator.next_lead();
        let outs = outcomes_for(5, &lead);
        let converted = if outs.iter().any(|o| o.stage == OutcomeStage::Sql) {
            Some(true)
        } else if outs.iter().any(|o| o.stage == OutcomeStage::Rejected) {
            Some(false)
        } else {
            None
        };
        if let Ok(EnrichOutcome::Lead(e)) = rt.block_on(enricher.enrich(lead.event)) {
            rows.push(Row {
                lead: *e,
                converted,
            });
        }
    }
    let live = Model::embedded("lead-priority").unwrap();
    let mut p = live.params().clone();
    p.version = "candidate-1".into();
    p.weights.insert("seniority.vp".into(), 20.0);
    let candidate = Model::from_params(p, "lead-priority").unwrap();
    let report = backtest(&rows, &live, &candidate, Some(30.0), || {});

    let dir = tempfile::tempdir().unwrap();
    let (json, html) = (dir.path().join("bt.json"), dir.path().join("bt.html"));
    write_reports(&report, &json, &html).unwrap();
    let j: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!(j["leads"], rows.len());
    assert_eq!(j["candidate"]["version"], "candidate-1");
    let page = std::fs::read_to_string(&html).unwrap();
    // self-contained: nothing fetched from elsewhere (an SVG's xmlns URL is a name, not a fetch)
    for fetch in [
        "<link",
        "<script",
        "src=\"http",
        "href=\"http",
        "url(http",
        "@import",
    ] {
        assert!(!page.contains(fetch), "no external resource: {fetch}");
    }

    let out = headless(&["--dump-dom", &format!("file://{}", html.display())]);
    let dom = String::from_utf8_lossy(&out.stdout);
    assert!(
        dom.contains("<h1>Backtest"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for chart in [
        "calibration",
        "histogram-live",
        "histogram-candidate",
        "tier-shift",
    ] {
        assert!(
            dom.contains(&format!("data-chart=\"{chart}\"")),
            "{chart} missing from the DOM"
        );
    }
    assert!(
        dom.matches("class=\"series\"").count() == 2,
        "two calibration curves"
    );
    assert!(
        dom.matches("class=\"bar\"").count() == 40,
        "2 x 10 x 2 histogram bars"
    );
    assert!(
        dom.matches("class=\"cell\"").count() == 16,
        "4 x 4 tier-shift cells"
    );

    // painted: the page with its charts differs from the same page with the charts removed
    let bare = dir.path().join("bare.html");
    let stripped = page
        .split("<div class=\"charts\">")
        .next()
        .unwrap()
        .to_owned()
        + "</body></html>";
    std::fs::write(&bare, stripped).unwrap();
    let with = screenshot(&html, &dir.path().join("with.png"));
    let without = screenshot(&bare, &dir.path().join("without.png"));
    assert!(
        with.len() > without.len() + 5_000,
        "charts add to the painted page: {} vs {} bytes",
        with.len(),
        without.len()
    );
}
