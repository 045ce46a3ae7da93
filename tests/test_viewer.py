"""The HTML report in a real headless Chromium: no script errors, markers on the recorded pixels, key navigation.

Uses Debian's chromium + chromedriver through Selenium with explicit paths, so Selenium Manager never downloads.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from PIL import Image, ImageDraw

from guiagent.agent.trajectory import StepRecord, TrajectoryWriter, load_run
from guiagent.agent.viewer import render_html, write_report

CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"

STEPS = [
    # (actions in screenshot pixels, statuses)
    ([{"type": "click", "x": 101.5, "y": 57.25}], ["executed"]),
    ([{"type": "drag", "x": 300.0, "y": 400.0, "to_x": 1100.0, "to_y": 650.0}], ["executed"]),
    ([{"type": "double_click", "x": 1279.0, "y": 799.0},
      {"type": "type", "text": "<script>alert(1)</script> & \"quotes\"", "submit": True},
      {"type": "right_click", "x": 0.0, "y": 0.0}], ["executed", "executed", "skipped"]),
    ([{"type": "scroll", "x": 640.0, "y": 400.0, "direction": "down"}, {"type": "finished", "content": "done"}],
     ["executed", "terminal"]),
]


def _make_run(tmp_path: Path, size=(1280, 800)) -> Path:
    w = TrajectoryWriter.create(tmp_path, {"instruction": "Rename <b>notes</b> & save", "task": "demo",
                                           "model": "m", "family": "ui-tars-1.5",
                                           "env": {"name": "mock", "size": list(size), "scale": 1.0}})
    for i, (actions, status) in enumerate(STEPS):
        img = Image.new("RGB", size, (240, 240, 240))
        ImageDraw.Draw(img).rectangle([10 * i, 10, 200 + 10 * i, 100], fill=(50, 90, 200))
        name = w.add_screenshot(i, img)
        w.add_step(StepRecord(index=i, started=float(i), ended=i + 0.5, screenshot=name, screenshot_size=size,
                              response=f"Thought: step {i} </pre><img src=x onerror=alert(1)>\nAction: ...",
                              thought=f"thinking about step {i}", actions=actions,
                              actions_model=[dict(a) for a in actions], status=status,
                              latency={"model": 0.5, "parse": 0.0001, "execute": 0.01}))
    w.finish(outcome="success", reason="the model said the task is finished", answer="done")
    return w.run_dir


def test_report_is_self_contained_and_escapes_model_text(tmp_path: Path):
    run_dir = _make_run(tmp_path)
    page = render_html(load_run(run_dir))
    assert page.count("data:image/png;base64,") == len(STEPS)
    assert "<script>alert(1)" not in page and "<img src=x" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "Rename &lt;b&gt;notes&lt;/b&gt; &amp; save" in page
    for ref in ("http://", "https://", "src=\"step_"):
        assert ref not in page.replace('xmlns="http://www.w3.org/2000/svg"', "")
    out = write_report(run_dir)
    assert out == run_dir / "report.html" and out.read_text(encoding="utf-8") == page


def _driver():
    if not (Path(CHROMIUM).exists() and Path(CHROMEDRIVER).exists()):
        pytest.fail(f"the viewer test needs {CHROMIUM} and {CHROMEDRIVER} (apt-get install chromium chromium-driver)")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
                 "--disable-dev-shm-usage", "--window-size=1100,900", "--force-device-scale-factor=1"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    # collect script errors from the very first line the page runs
    driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": (
        "window.__errors = [];"
        "window.addEventListener('error', function (e) { window.__errors.push(String(e.message)); });"
        "window.addEventListener('unhandledrejection', function (e) { window.__errors.push(String(e.reason)); });")})
    return driver


@pytest.fixture(scope="module")
def browser():
    driver = _driver()
    yield driver
    driver.quit()


MARKER_POSITIONS_JS = """
const out = [];
for (const sec of document.querySelectorAll('section.step')) {
  const img = sec.querySelector('img');
  const r = img.getBoundingClientRect();
  const sx = r.width / img.naturalWidth, sy = r.height / img.naturalHeight;
  for (const g of sec.querySelectorAll('g.action')) {
    const c = g.querySelector('circle').getBoundingClientRect();
    const item = {step: +sec.dataset.index, type: g.dataset.type,
                  x: +g.dataset.x, y: +g.dataset.y,
                  expected: [r.left + (+g.dataset.x) * sx, r.top + (+g.dataset.y) * sy],
                  actual: [c.left + c.width / 2, c.top + c.height / 2], scale: sx};
    const line = g.querySelector('line.drag');
    if (line) {
      const m = line.getScreenCTM();
      const p = new DOMPoint(line.x2.baseVal.value, line.y2.baseVal.value).matrixTransform(m);
      item.end_expected = [r.left + (+g.dataset.toX) * sx, r.top + (+g.dataset.toY) * sy];
      item.end_actual = [p.x, p.y];
    }
    out.push(item);
  }
}
return out;
"""


def test_page_loads_without_errors_and_markers_sit_on_the_recorded_pixels(tmp_path: Path, browser):
    run_dir = _make_run(tmp_path)
    report = write_report(run_dir, tmp_path / "report.html")
    browser.get(report.as_uri())
    assert browser.execute_script("return document.readyState") == "complete"
    assert browser.execute_script("return Array.from(document.images).every(i => i.complete && i.naturalWidth)")

    markers = browser.execute_script(MARKER_POSITIONS_JS)
    recorded = [(i, a["x"], a["y"]) for i, (acts, _) in enumerate(STEPS) for a in acts if "x" in a]
    assert sorted((m["step"], m["x"], m["y"]) for m in markers) == sorted(recorded)
    assert markers[0]["scale"] < 0.9  # the screenshot is shown scaled down, so the overlay really scales
    for m in markers:
        for got, want in zip(m["actual"], m["expected"]):
            assert abs(got - want) <= 1.0, m
        if "end_expected" in m:
            for got, want in zip(m["end_actual"], m["end_expected"]):
                assert abs(got - want) <= 1.0, m
    assert any("end_expected" in m for m in markers)

    assert browser.execute_script("return window.__errors") == []
    severe = [e for e in browser.get_log("browser") if e["level"] == "SEVERE"]
    assert severe == []


def test_keyboard_moves_between_steps(tmp_path: Path, browser):
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.keys import Keys

    report = write_report(_make_run(tmp_path), tmp_path / "nav.html")
    browser.get(report.as_uri())
    current = lambda: browser.execute_script(
        "return Array.from(document.querySelectorAll('section.step')).findIndex(s => s.classList.contains('current'))")
    assert current() == 0
    keys = ActionChains(browser)
    keys.send_keys("j").perform()
    assert current() == 1
    keys.send_keys(Keys.ARROW_DOWN).perform()
    keys.send_keys(Keys.ARROW_RIGHT).perform()
    assert current() == 3
    keys.send_keys("j").perform()
    assert current() == 3  # stays on the last step
    keys.send_keys("k").perform()
    keys.send_keys(Keys.ARROW_UP).perform()
    assert current() == 1
    top = browser.execute_script("return document.getElementById('step-1').getBoundingClientRect().top")
    nav_bottom = browser.execute_script("return document.querySelector('nav.steps').getBoundingClientRect().bottom")
    assert top < 200 + nav_bottom  # the current step was scrolled into view
    assert browser.execute_script("return window.__errors") == []


def test_incomplete_run_still_renders(tmp_path: Path):
    run_dir = _make_run(tmp_path)
    meta = json.loads((run_dir / "meta.json").read_text())
    meta.update(finished=False, outcome="running")
    (run_dir / "meta.json").write_text(json.dumps(meta))
    (run_dir / "step_001.png").unlink()
    with open(run_dir / "trajectory.jsonl", "ab") as f:
        f.write(b'{"index": 4, "trunc')
    page = render_html(load_run(run_dir))
    assert "incomplete" in page and "truncated" in page and "screenshot step_001.png is missing" in page
    assert page.count('class="step"') + page.count("class=\"step\" ") >= 4
    shutil.rmtree(run_dir)
