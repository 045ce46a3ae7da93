"""Write one screenshot per mock-desktop app to docs/screenshots/ (optimized PNGs for the README).

    python benchmarks/mock_screenshots.py [--out docs/screenshots]

Each picture is produced by driving the desktop with ordinary actions from a fixed initial state, so the files are
reproducible byte for byte.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from guiagent.actions import types as T
from guiagent.actions.types import Click, Point, Space
from guiagent.envs.mock import MockDesktop

DOCS = "/home/user/Documents"
FILES = {
    f"{DOCS}/meeting-notes.txt": "Meeting notes — 14 March\n\n* Budget approved (€12,400)\n* Launch moved to May\n"
                                 "* 下一步: send the summary to the team\n",
    f"{DOCS}/todo.txt": "- renew passport\n- call the bank\n- buy coffee",
    f"{DOCS}/Reports/q1.txt": "Q1 revenue: 1.2M", f"{DOCS}/Reports/q2.txt": "Q2 revenue: 1.4M",
    f"{DOCS}/Photos/readme.txt": "", "/home/user/Desktop/ideas.txt": "ideas",
}
MAIL = {"inbox": [
    {"from": "alice@example.com", "subject": "Lunch on Friday?", "date": "Mar 13",
     "body": "Hi!\n\nAre you free for lunch on Friday? The new place on Main Street opens this week.\n\nAlice"},
    {"from": "bob@corp.example", "subject": "Quarterly report", "date": "Mar 12",
     "body": "Please find the Q1 numbers below."},
    {"from": "news@shop.example", "subject": "Your order has shipped", "date": "Mar 11", "read": True,
     "body": "Tracking number: 1Z999AA10123456784"},
]}


def at(d: MockDesktop, role: str, name: str) -> Point:
    x, y = d.find(role=role, name=name).center
    return Point(x, y, Space.SCREEN)


def shots() -> dict:
    out: dict = {}
    base = {"files": FILES, "mail": MAIL}

    d = MockDesktop(initial_state={**base, "open": [{"app": "editor", "path": f"{DOCS}/meeting-notes.txt"}]})
    d.execute(Click(at(d, "text_area", "Document")))
    d.execute(T.Hotkey(("ctrl", "end")))
    d.execute(T.Type("* Follow-up: Tuesday 10:00"))
    out["editor"] = d.observe().screenshot

    d = MockDesktop(initial_state={**base, "open": [{"app": "files", "path": DOCS}]})
    d.execute(Click(at(d, "list_item", "todo.txt"), button="right"))
    out["files"] = d.observe().screenshot

    d = MockDesktop(initial_state={**base, "open": ["calculator"]})
    d.execute(T.Type("1250*12="))
    d.execute(T.MoveTo(at(d, "button", "=")))
    out["calculator"] = d.observe().screenshot

    d = MockDesktop(initial_state={**base, "open": [{"app": "settings", "tab": "System"}]})
    d.execute(Click(at(d, "combo_box", "Language")))
    out["settings"] = d.observe().screenshot

    d = MockDesktop(initial_state={**base, "open": ["mail"]})
    d.execute(Click(at(d, "list_item", "alice@example.com")))
    d.execute(Click(at(d, "button", "Reply")))
    d.execute(T.Type("Friday works — see you at noon!"))
    out["mail"] = d.observe().screenshot

    d = MockDesktop(initial_state={**base, "open": [{"app": "webform", "url": "forms.example.com/register"}]})
    d.execute(Click(at(d, "text_field", "Full name")))
    d.execute(T.Type("Zoë Ōkubo"))
    d.execute(Click(at(d, "text_field", "Email")))
    d.execute(T.Type("zoe@"))
    d.execute(T.Scroll("down", Point(600, 400, Space.SCREEN), amount=9))
    d.execute(Click(at(d, "button", "Submit")))
    out["webform"] = d.observe().screenshot
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default="docs/screenshots")
    args = ap.parse_args(argv)
    folder = Path(args.out)
    folder.mkdir(parents=True, exist_ok=True)
    for app, img in shots().items():
        path = folder / f"mock-{app}.png"
        img.save(path, optimize=True)
        print(f"{path}  {path.stat().st_size // 1024} KiB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
