#!/usr/bin/env python3
"""The status page in a real browser (Debian's headless chromium through python3-selenium).

Starts `ruleeval run` on the bundled demo (examples/demo, embedded backend: DemoHighErrorRate goes
pending ~35 s after start-up and fires 20 s later), waits until it fires and its notification is
logged, then loads / and checks what a person sees: the firing alert with its summary, runbook
link and relative time, the receiver's outcome; creates a silence through the page's form, checks
it shows on the page (and in /api/v2/silences) and that the alert is marked silenced, expires it
through the page; no console errors. Screenshots (desktop and phone width) go to SCREENSHOT_DIR.

usage: status_page_browser_test.py RULEEVAL_BINARY SOURCE_DIR SCREENSHOT_DIR
exit 77 = skipped (chromium, chromedriver or selenium missing)
"""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from itest import free_port, get

try:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
except ImportError:
    # Debian's python3-selenium lives in the system interpreter; `python3` may be another one.
    if os.path.exists("/usr/bin/python3") and os.path.realpath(sys.executable) != \
            os.path.realpath("/usr/bin/python3"):
        os.execv("/usr/bin/python3", ["/usr/bin/python3"] + sys.argv)
    print("skipped: python3-selenium is not installed")
    sys.exit(77)

CHROMIUM = shutil.which("chromium")
DRIVER = shutil.which("chromedriver")
if not CHROMIUM or not DRIVER:
    print("skipped: chromium / chromedriver (Debian packages chromium, chromium-driver) missing")
    sys.exit(77)


def wait(what, fn, timeout, proc):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"ruleeval exited ({proc.returncode}) while waiting for {what}")
        try:
            v = fn()
            if v:
                return v
        except OSError:
            pass
        time.sleep(0.5)
    raise SystemExit(f"timed out waiting for {what}")


def check(cond, msg):
    if not cond:
        raise AssertionError(msg)
    print("ok:", msg)


def main():
    binary, src, outdir = sys.argv[1], sys.argv[2], sys.argv[3]
    os.makedirs(outdir, exist_ok=True)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    state = tempfile.mkdtemp(prefix="ruleeval-status-")
    out = open(os.path.join(state, "stdout"), "w")
    err = open(os.path.join(state, "stderr"), "w")
    # The demo's Prometheus rule alone (its Grafana rule fires too and would be a second card):
    # the demo configuration with rule_files narrowed, its relative paths made absolute.
    demo = os.path.join(src, "examples/demo")
    cfg_text = open(os.path.join(demo, "ruleeval.yaml")).read()
    cfg_text = re.sub(r"(?m)^rule_files:.*$", f"rule_files: [{demo}/rules.yaml]", cfg_text)
    cfg_text = cfg_text.replace("series_files: [incident.series]",
                                f"series_files: [{demo}/incident.series]")
    # A second integration of the console receiver whose email cannot be rendered (a template
    # error): it fails for good, goes to outbox/failed and pages the fallback receiver "ops"; the
    # page must say "failed to the fallback".
    cfg_text = cfg_text.replace("receivers:\n  - name: console\n", f"""fallback_receiver: ops
receivers:
  - name: ops
    file_configs: [{{path: "{state}/ops.jsonl"}}]
  - name: console
    email_configs:
      - to: oncall@example.org
        from: ruleeval@example.org
        smarthost: 127.0.0.1:1
        headers: {{Subject: '{{{{ .NoSuchField }}}}'}}
""")
    assert "fallback_receiver: ops" in cfg_text, cfg_text
    cfg_path = os.path.join(state, "ruleeval.yaml")
    open(cfg_path, "w").write(cfg_text)
    proc = subprocess.Popen(
        [binary, "run", "--config", cfg_path,
         "--state-dir", state, "--listen-address", f"127.0.0.1:{port}", "--duration", "300"],
        stdout=out, stderr=err)
    driver = None
    try:
        def firing():
            alerts = json.loads(get(base + "/api/v1/alerts"))["data"]["alerts"]
            return [a for a in alerts if a["state"] == "firing"]
        wait("DemoHighErrorRate to fire", firing, 120, proc)
        # The notification log records the delivery right after group_wait (1 s).
        wait("the notification to be logged",
             lambda: 'class="ok outcome"' in get(base + "/?refresh=0"), 30, proc)

        opts = webdriver.ChromeOptions()
        opts.binary_location = CHROMIUM
        for a in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                  "--window-size=1280,1600", "--no-first-run", "--disable-extensions",
                  "--disable-background-networking"):
            opts.add_argument(a)
        opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
        driver = webdriver.Chrome(service=Service(DRIVER), options=opts)
        driver.set_page_load_timeout(30)
        driver.get(base + "/?refresh=0")

        cards = driver.find_elements(By.CSS_SELECTOR, "#alerts .card.firing")
        check(len(cards) == 1, f"one firing alert card (got {len(cards)})")
        card = cards[0]
        text = card.text
        check("DemoHighErrorRate" in text, "the firing card names DemoHighErrorRate")
        summary = card.find_element(By.CSS_SELECTOR, ".summary").text
        check(re.fullmatch(r"api is failing [0-9.]+% of requests", summary) is not None,
              f"the summary annotation is shown: {summary!r}")
        runbook = card.find_element(By.CSS_SELECTOR, "a.runbook")
        check(runbook.get_attribute("href") == "https://runbooks.example/demo-high-error-rate",
              "the runbook link points at runbook_url")
        check(card.find_element(By.CSS_SELECTOR, "a.source").get_attribute("href")
              .startswith("http://127.0.0.1:9095/graph?"), "the generatorURL link is shown")
        check(re.search(r"active since \d+(s|m\d*s?) ago", text) is not None,
              "the relative active-since time is shown")
        value = card.find_element(By.CSS_SELECTOR, ".v")
        check(re.fullmatch(r"0\.\d+", value.text) is not None and value.get_attribute("title"),
              f"the value is a plain Go float with a humanized tooltip: {value.text}")
        outcome = card.find_element(By.CSS_SELECTOR, ".delivery").text
        check("console" in outcome and "sent" in outcome,
              f"the receiver's outcome is shown on the alert: {outcome!r}")
        check("console/email/0" in outcome and "failed to the fallback ops" in outcome
              and "NoSuchField" in outcome,
              f"the email that could not be rendered shows as failed to the fallback: {outcome!r}")
        check(any(f.endswith(".reason") for f in os.listdir(os.path.join(state, "notify", "outbox",
                                                                          "failed"))),
              "the failed email is kept in outbox/failed")
        check("ReceiverFailing" in open(os.path.join(state, "ops.jsonl")).read(),
              "the fallback receiver got ReceiverFailing")
        driver.save_screenshot(os.path.join(outdir, "status_page.png"))

        # Filter errors are shown, not ignored.
        driver.get(base + "/?refresh=0&state=bogus&label=a%20b%3Dc")
        errs = driver.find_element(By.ID, "filter-errors").text
        check("bogus" in errs and "a b" in errs, f"bad filters are reported on the page: {errs!r}")

        # Silence it through the form, with JavaScript disabled: a plain form post (303 back).
        driver.execute_cdp_cmd("Emulation.setScriptExecutionDisabled", {"value": True})
        driver.get(base + "/?refresh=0")
        card = driver.find_element(By.CSS_SELECTOR, "#alerts .card.firing")
        card.find_element(By.CSS_SELECTOR, "details summary").click()
        form = card.find_element(By.CSS_SELECTOR, "form.silence")
        check("alertname=DemoHighErrorRate" in form.find_element(By.NAME, "matchers")
              .get_attribute("value"), "the silence form is prefilled from the alert's labels")
        form.find_element(By.NAME, "createdBy").send_keys("browser-test")
        form.find_element(By.NAME, "comment").send_keys("<b>investigating</b>")
        form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()

        def silence_row():
            rows = driver.find_elements(By.CSS_SELECTOR, "#silences tr.silence-row")
            return [r for r in rows if "browser-test" in r.text]
        rows = wait("the silence to show on the page", silence_row, 15, proc)
        check(driver.current_url.startswith(base + "/") and "silences" in driver.current_url,
              f"the form post without JavaScript redirected back to the page: "
              f"{driver.current_url}")
        driver.execute_cdp_cmd("Emulation.setScriptExecutionDisabled", {"value": False})
        check("alertname=\"DemoHighErrorRate\"" in rows[0].text and "active" in rows[0].text,
              f"the new silence is listed as active: {rows[0].text!r}")
        check("<b>investigating</b>" in rows[0].text, "the comment is shown escaped, as text")
        sil = json.loads(get(base + "/api/v2/silences"))
        check(any(s.get("createdBy") == "browser-test" and s["status"]["state"] == "active"
                  for s in sil), "the silence exists in /api/v2/silences")
        card = driver.find_element(By.CSS_SELECTOR, "#alerts .card.firing")
        check("silenced by" in card.text, "the alert is marked as silenced")
        driver.save_screenshot(os.path.join(outdir, "status_page_silenced.png"))

        # The silence hides the alert from notifications: when the incident ends (the demo's
        # errors stop ~70 s after they started) no resolved notification goes out for it.
        out.flush()

        def demo_notes():
            # The console receiver's webhook documents about this alert (the demo has other rules,
            # e.g. its Grafana rule, whose notifications are not silenced).
            text, docs, i = open(os.path.join(state, "stdout")).read(), [], 0
            dec = json.JSONDecoder()
            while True:
                while i < len(text) and text[i].isspace():
                    i += 1
                if i >= len(text):
                    break
                doc, i = dec.raw_decode(text, i)
                if any(a["labels"].get("alertname") == "DemoHighErrorRate" for a in doc["alerts"]):
                    docs.append(doc)
            return docs
        notes_before = len(demo_notes())
        wait("the alert to resolve", lambda: not firing(), 120, proc)
        time.sleep(8)  # group_interval 5s: a resolved notification would be out by now
        after = demo_notes()
        check(len(after) == notes_before and all(d["status"] != "resolved" for d in after),
              "no notification for the silenced alert after the silence was created")
        driver.get(base + "/?refresh=0")
        check(len(driver.find_elements(By.CSS_SELECTOR, "#alerts .card.resolved")) == 1,
              "the resolved alert is listed under 'resolved in the last 15 minutes'")

        # Filters in the URL.
        driver.get(base + "/?refresh=0&state=pending")
        check(not driver.find_elements(By.CSS_SELECTOR, "#alerts .card"),
              "?state=pending hides the resolved alert")
        driver.get(base + "/?refresh=0&label=severity%3Dpage&q=demohigh")
        check(len(driver.find_elements(By.CSS_SELECTOR, "#alerts .card.resolved")) == 1,
              "?label=severity=page&q=demohigh keeps it")
        driver.get(base + "/?refresh=0&label=severity%3Dticket")
        check(not driver.find_elements(By.CSS_SELECTOR, "#alerts .card"),
              "?label=severity=ticket hides it")

        # Expire through the page.
        driver.get(base + "/?refresh=0")
        driver.find_element(By.CSS_SELECTOR, "#silences button.expire").click()
        wait("the silence to expire",
             lambda: all(s["status"]["state"] == "expired"
                         for s in json.loads(get(base + "/api/v2/silences"))), 15, proc)
        print("ok: the expire button expires the silence")

        # A phone-sized view (device emulation: headless windows are at least 500 px wide): the
        # page itself does not scroll sideways (wide tables scroll inside their own box).
        driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                               {"width": 390, "height": 1500, "deviceScaleFactor": 1,
                                "mobile": True})
        driver.get(base + "/?refresh=0")
        sw, cw = driver.execute_script("return [document.documentElement.scrollWidth, "
                                       "document.documentElement.clientWidth]")
        check(sw <= cw, f"readable on a phone: page width {sw}px in a {cw}px viewport")
        driver.save_screenshot(os.path.join(outdir, "status_page_phone.png"))
        driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})

        logs = [l for l in driver.get_log("browser") if l["level"] in ("SEVERE", "WARNING")]
        check(not logs, f"no console errors: {logs}")
        print("PASS; screenshots in", outdir)
        return 0
    finally:
        if driver:
            driver.quit()
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
        out.close()
        err.close()
        shutil.rmtree(state, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
