#!/usr/bin/env python3
"""Drives headless Chromium through the console's /quality page (standard library only; the
DevTools client of console_check.py).

The topics hold the quality fold's hand-checked fixture (crates/cli/src/quality/tests.rs), so the
page must show exactly its figures: acceptance 4 of 6 answered (66.7 %, flagged), WARM 75.0 %, rep
r3 100.0 %; rejection reasons bad_data and not_a_fit; funnel 6 MQLs, 3 SQL, 2 opportunities, 1 won
(50.0 %, 66.7 %); WARM first contacts [0, 1, 1, 0, 0, 2], median 30, p90 90; decile 80–89 off (no),
30–39 within (yes), the verdict off. The seven charts are there with their marks; the navigation
links the page; a bad window is answered 400.

usage: quality_check.py BASE_URL [SCREENSHOT.png]
"""
import base64
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from console_check import Browser, check  # noqa: E402


def cells(b, selector):
    return b.js(f"[...document.querySelectorAll({json.dumps(selector)})].map(c => c.textContent.trim())")


def main():
    base = sys.argv[1]
    shot = sys.argv[2] if len(sys.argv) > 2 else ""
    b = Browser()
    try:
        b.goto(f"{base}/exceptions")
        check(b.js("!!document.querySelector('nav a[href=\"/quality\"]')"), "the navigation links /quality")

        b.goto(f"{base}/quality?since=6d")
        row = cells(b, '#acceptance tr[data-group="overall"] td')
        check(row == ["overall", "all", "7", "4", "2", "1", "66.7"],
              f"overall acceptance: 7 handoffs, 4 accepted, 2 rejected, 1 unanswered, 66.7 % ({row})")
        check(b.js("document.querySelector('#acceptance tr[data-group=\"overall\"] td.rate').classList.contains('overdue')"),
              "66.7 % is marked below the 80 % target")
        warm = cells(b, '#acceptance tr[data-group="tier"][data-name="WARM"] td')
        check(warm[-1] == "75.0", f"WARM accepts 3 of 4 answered: 75.0 % ({warm})")
        r3 = cells(b, '#acceptance tr[data-group="rep"][data-name="r3"] td')
        check(r3[-1] == "100.0", f"rep r3 (the reassignment) accepted both: 100.0 % ({r3})")
        reasons = b.js("[...document.querySelectorAll('#reasons tr[data-reason]')].map(r => r.dataset.reason)")
        check(reasons == ["bad_data", "not_a_fit"], f"rejection reasons ranked ({reasons})")
        funnel = cells(b, "#funnel tr:nth-child(2) td")
        check(funnel == ["6", "3", "2", "1", "50.0", "66.7"], f"the funnel 6 → 3 → 2 → 1 ({funnel})")
        warm_contact = cells(b, '#contact tr[data-tier="WARM"] td')
        check(warm_contact[1:10] == ["4", "0", "1", "1", "0", "0", "2", "30", "90"],
              f"WARM time to first contact ({warm_contact})")
        d8 = cells(b, '#accuracy tr[data-decile="8"] td')
        check(d8 == ["80–89", "10", "3", "80.0", "30.0", "50.0", "no"], f"decile 80–89 is off by 50 points ({d8})")
        d3 = cells(b, '#accuracy tr[data-decile="3"] td')
        check(d3[-1] == "yes" and d3[5] == "5.0", f"decile 30–39 is within ({d3})")
        verdict = b.js("document.querySelector('#accuracy-verdict').textContent")
        check(verdict.startswith("Off by more than 15 %"), f"the verdict ({verdict!r})")

        charts = b.js("[...document.querySelectorAll('svg[data-chart]')].map(s => s.dataset.chart)")
        want = ["acceptance-tier", "acceptance-source", "acceptance-rep", "rejection-reasons", "funnel",
                "first-contact", "calibration"]
        check(charts == want, f"the seven charts ({charts})")
        bar = b.js("document.querySelector('svg[data-chart=\"acceptance-tier\"] g.bar[data-label=\"WARM\"]').dataset.value")
        check(bar == "75.0 % of 4", f"the WARM acceptance bar ({bar!r})")
        width = b.js("document.querySelector('svg[data-chart=\"acceptance-tier\"] g.bar[data-label=\"WARM\"] rect').getBBox().width")
        check(abs(width - 225) < 0.5, f"the WARM bar is drawn at 75 % of 300 px ({width})")
        dots = b.js("[...document.querySelectorAll('svg[data-chart=\"calibration\"] circle.decile')].map(c => c.dataset.decile)")
        check(sorted(dots) == ["3", "8"], f"the calibration chart marks deciles 3 and 8 ({dots})")
        segs = b.js("[...document.querySelectorAll('svg[data-chart=\"first-contact\"] rect.segment[data-tier=\"WARM\"]')].map(r => r.dataset.count)")
        check(segs == ["1", "1", "2"], f"WARM's first-contact segments ({segs})")
        if shot:
            b.call("Emulation.setDeviceMetricsOverride",
                   {"width": 1400, "height": 3000, "deviceScaleFactor": 1, "mobile": False}, session=True)
            png = b.call("Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True}, session=True)
            with open(shot, "wb") as f:
                f.write(base64.b64decode(png["data"]))
            print(f"screenshot: {shot}")

        b.goto(f"{base}/quality?since=soon")
        err = b.js("(document.querySelector('#error') || {}).textContent || ''")
        check("not a window" in err, f"a bad window is refused ({err!r})")
    finally:
        b.close()


if __name__ == "__main__":
    main()
