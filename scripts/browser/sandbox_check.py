#!/usr/bin/env python3
"""Clicks Accept on the sandbox's Slack message in headless Chromium (standard library only).

The sandbox page renders notify's Accept / Contacted / Reject controls as forms; a click posts to
the sandbox, which sends the click to leadflow-ingest exactly as Slack would (signed), and
leadflow's answer on response_url updates the message in place. This script clicks the first
Accept button, as a rep would, and waits until the page shows the message updated
("Accepted by ..."), the Accept button gone.

usage: sandbox_check.py SANDBOX_URL
"""
import sys

from console_check import Browser, check


def main():
    base = sys.argv[1]
    b = Browser()
    try:
        b.goto(f"{base}/")
        b.wait_for("!!document.querySelector('button[data-action=accept]')", timeout=60)
        check(True, "the sandbox page shows the message with an Accept button")
        b.js("document.querySelector('button[data-action=accept]').click()")
        # the form posts, the sandbox redirects to the page; leadflow's answer arrives on
        # response_url within moments, and the page refreshes every 3 s
        b.wait_for("document.body && document.body.innerText.includes('Accepted by')", timeout=60)
        text = b.js("document.body.innerText")
        check("Accepted by" in text, "the message now says who accepted it")
        gone = b.js("!document.querySelector('button[data-action=accept]')")
        check(gone, "the Accept button is gone from the message")
        check(b.js("!!document.querySelector('button[data-action=contacted]')"),
              "Contacted and Reject stay for the owner")
    finally:
        b.close()


if __name__ == "__main__":
    main()
