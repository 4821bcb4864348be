#!/usr/bin/env python3
"""Drives headless Chromium through the leadflow console (standard library only).

Chromium speaks the DevTools protocol over a pipe (--remote-debugging-pipe: commands on fd 3,
replies on fd 4, NUL-terminated JSON), so no WebSocket client or Playwright is needed.

Checks: the exception queue lists the seeded exception; a page from another origin
(FORGED_URL, served on another port of 127.0.0.1) that auto-submits a close form to the console is
refused (403) and the exception stays open with nothing in its history; the close action (a real
form submit in the browser, with the console's CSRF token and ticket) closes it; a lead's trace
page renders its timeline.

usage: console_check.py BASE_URL EXCEPTION_ID LEAD_ID FORGED_URL
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.parse


class Browser:
    def __init__(self):
        exe = shutil.which("chromium") or shutil.which("chromium-browser")
        if not exe:
            sys.exit("chromium not found (apt-get install chromium)")
        to_child_r, self._to_child_w = os.pipe()
        self._from_child_r, from_child_w = os.pipe()
        self._profile = tempfile.mkdtemp(prefix="leadflow-chromium-")

        def fds():
            # move both ends out of the way first: either may already be fd 3 or 4
            r, w = os.dup(to_child_r), os.dup(from_child_w)
            os.dup2(r, 3)
            os.dup2(w, 4)
            os.set_inheritable(3, True)
            os.set_inheritable(4, True)

        self._proc = subprocess.Popen(
            [exe, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
             "--disable-dev-shm-usage", "--remote-debugging-pipe",
             f"--user-data-dir={self._profile}", "about:blank"],
            close_fds=False, preexec_fn=fds,
            stdout=subprocess.DEVNULL, stderr=open(os.path.join(self._profile, "chromium.log"), "w"))
        os.close(to_child_r)
        os.close(from_child_w)
        self._buf = b""
        self._next = 0
        self._events = []
        target = self.call("Target.createTarget", {"url": "about:blank"})["targetId"]
        self._session = self.call("Target.attachToTarget",
                                  {"targetId": target, "flatten": True})["sessionId"]
        self.call("Page.enable", session=True)

    def _read(self, deadline):
        while b"\0" not in self._buf:
            if time.time() > deadline:
                raise TimeoutError("no answer from chromium")
            chunk = os.read(self._from_child_r, 65536)
            if not chunk:
                raise RuntimeError("chromium closed the pipe")
            self._buf += chunk
        msg, self._buf = self._buf.split(b"\0", 1)
        return json.loads(msg)

    def call(self, method, params=None, session=False, timeout=30):
        self._next += 1
        msg = {"id": self._next, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = self._session
        os.write(self._to_child_w, json.dumps(msg).encode() + b"\0")
        deadline = time.time() + timeout
        while True:
            reply = self._read(deadline)
            if reply.get("id") == self._next:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply.get("result", {})
            self._events.append(reply)

    def wait_load(self, timeout=30):
        deadline = time.time() + timeout
        while True:
            for i, e in enumerate(self._events):
                if e.get("method") == "Page.loadEventFired":
                    del self._events[: i + 1]
                    return
            self._events.append(self._read(deadline))

    def goto(self, url):
        self._events.clear()
        self.call("Page.navigate", {"url": url}, session=True)
        self.wait_load()

    def wait_for(self, expression, timeout=30):
        """Polls a JavaScript condition until it holds (a navigation may be under way)."""
        deadline = time.time() + timeout
        while True:
            try:
                if self.js(expression):
                    return
            except RuntimeError:
                pass  # the page was navigating
            if time.time() > deadline:
                raise TimeoutError(f"never true: {expression}")
            time.sleep(0.1)

    def js(self, expression):
        r = self.call("Runtime.evaluate",
                      {"expression": expression, "returnByValue": True}, session=True)
        if "exceptionDetails" in r:
            raise RuntimeError(f"{expression}: {r['exceptionDetails']}")
        return r["result"].get("value")

    def close(self):
        self._proc.terminate()
        try:
            self._proc.wait(10)
        except subprocess.TimeoutExpired:
            self._proc.kill()
        shutil.rmtree(self._profile, ignore_errors=True)


def check(cond, what):
    if not cond:
        raise AssertionError(what)
    print(f"ok: {what}")


def main():
    base, exception_id, lead_id, forged_url = sys.argv[1:5]
    b = Browser()
    try:
        b.goto(f"{base}/exceptions")
        ids = b.js("[...document.querySelectorAll('#queue tr[data-id]')].map(r => r.dataset.id)")
        check(exception_id in ids, f"the queue lists the seeded exception {exception_id} (rows: {ids})")

        # the browser has the console's session cookie now; a page on another origin auto-submits
        # a close form to the console (the form lands on the console's answer)
        b.goto(forged_url)
        b.wait_for(f"location.href.startsWith({json.dumps(base)})")
        b.wait_for("document.readyState === 'complete'")
        answer = b.js("document.body ? document.body.innerText : ''")
        check("cross-site request refused" in answer,
              f"the forged cross-site post is refused ({answer[:80]!r})")

        b.goto(f"{base}/exception?id={urllib.parse.quote(exception_id)}")
        check(b.js("document.querySelector('#status').textContent.trim()") == "open",
              "the exception page shows it open (the forged close changed nothing)")
        actions = b.js("[...document.querySelectorAll('#history td.status')].map(t => t.textContent.trim())")
        check(actions == ["opened"], f"its history holds only the opening ({actions})")
        b.js("""(() => { const f = document.querySelector('#close-form');
                 f.querySelector('[name=actor]').value = 'browser-test';
                 f.querySelector('[name=reason]').value = 'seeded by the browser test';
                 f.querySelector('button').click(); })()""")
        b.wait_load()
        status = b.js("document.querySelector('#status').textContent.trim()")
        check(status == "closed", f"the close action closed it (status {status!r})")
        actions = b.js("[...document.querySelectorAll('#history td.status')].map(t => t.textContent.trim())")
        check(actions[-1:] == ["closed"], f"the history ends with the close ({actions})")

        b.goto(f"{base}/exceptions")
        ids = b.js("[...document.querySelectorAll('#queue tr[data-id]')].map(r => r.dataset.id)")
        check(exception_id not in ids, "the open queue no longer lists it")

        b.goto(f"{base}/trace?lead={urllib.parse.quote(lead_id)}")
        hops = b.js("[...document.querySelectorAll('#timeline tr.step')].map(r => r.dataset.hop)")
        check("raw" in hops, f"the trace page renders the lead's timeline (hops {hops})")

        b.goto(f"{base}/queues")
        check(b.js("!!document.querySelector('#tiers')"), "the queues page renders")
    finally:
        b.close()


if __name__ == "__main__":
    main()
