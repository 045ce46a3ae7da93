"""A small Tk window for the desktop tests: every input it receives is logged as one JSON line.

    python tk_app.py --log FILE [--geometry 700x520+40+60] [--target X,Y,SIZE] [--log-keys]

Widgets, placed at fixed offsets inside the window:
    button  "Press me"         logs {"ev": "button"} when activated
    entry                      logs {"ev": "entry", "value": ...} on every change, and after each left-button
                               release {"ev": "selection", "text": ...}: what its selection holds
    canvas  (bg #3366cc)       logs presses and releases (button number, canvas and root coordinates, the
                               modifier keys held: "mods"), {"ev": "double"} / {"ev": "triple"} on a double /
                               triple click (as Tk counts them), one {"ev": "drag", num, start, end, motions,
                               path} per drag with any of buttons 1-3 (path: every motion position), and
                               {"ev": "wheel", "dir": up|down|left|right, "mods"}
    keys (with --log-keys)     every key press anywhere: {"ev": "key", "keysym": ..., "mods": [...]}
    target  (optional)         an orange square on the canvas, for tests that find it in a screenshot

Once the window is mapped it logs {"ev": "ready", "widgets": {name: [root_x, root_y, width, height]}}.
Tk on X11 turns wheel buttons 6/7 (horizontal) into shift+button 4/5, so shift on a wheel event means horizontal.
"""

from __future__ import annotations

import argparse
import json
import sys
import tkinter as tk

CANVAS_BG = "#3366cc"
TARGET_FILL = "#ff8800"


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--log", required=True)
    ap.add_argument("--geometry", default="700x520+40+60")
    ap.add_argument("--target", default=None, help="X,Y,SIZE of an orange square in canvas coordinates")
    ap.add_argument("--title", default="guiagent-tk-test")
    ap.add_argument("--log-keys", action="store_true", help="log every key press (keysym and modifiers)")
    args = ap.parse_args(argv)

    log_file = open(args.log, "a", encoding="utf-8")  # noqa: SIM115 (open for the life of the window)

    def log(**fields: object) -> None:
        log_file.write(json.dumps(fields, ensure_ascii=False) + "\n")
        log_file.flush()

    root = tk.Tk(className="GuiagentTkTest")
    root.title(args.title)
    root.geometry(args.geometry)

    button = tk.Button(root, text="Press me", command=lambda: log(ev="button"))
    button.place(x=20, y=20, width=160, height=40)

    text = tk.StringVar(root)
    text.trace_add("write", lambda *_: log(ev="entry", value=text.get()))
    entry = tk.Entry(root, textvariable=text, font=("DejaVu Sans", 14))
    entry.place(x=200, y=20, width=400, height=40)

    def selection() -> None:
        # what the entry's own class bindings selected (a triple click selects the whole line)
        log(ev="selection", text=entry.selection_get() if entry.selection_present() else "")

    entry.bind("<ButtonRelease-1>", lambda e: root.after(30, selection), add="+")

    canvas = tk.Canvas(root, bg=CANVAS_BG, highlightthickness=0, borderwidth=0)
    canvas.place(x=20, y=80, width=640, height=420)
    if args.target:
        tx, ty, size = (int(v) for v in args.target.split(","))
        canvas.create_rectangle(tx, ty, tx + size - 1, ty + size - 1, fill=TARGET_FILL, outline=TARGET_FILL)

    drag: dict[str, object] = {}

    def where(e: tk.Event) -> dict[str, object]:
        state = int(e.state) if isinstance(e.state, int) else 0
        mods = [name for bit, name in ((0x1, "shift"), (0x4, "ctrl"), (0x8, "alt"), (0x40, "super")) if state & bit]
        return {"x": e.x, "y": e.y, "x_root": e.x_root, "y_root": e.y_root, "mods": mods}

    def press(e: tk.Event) -> None:
        if e.num in (4, 5):
            horizontal = bool(e.state & 0x1)
            direction = {(4, False): "up", (5, False): "down", (4, True): "left", (5, True): "right"}
            log(ev="wheel", dir=direction[(e.num, horizontal)], **where(e))
            return
        log(ev="press", num=e.num, time=e.time, **where(e))
        if e.num in (1, 2, 3):
            drag.update(num=e.num, start=[e.x, e.y], motions=0, path=[])

    def motion(e: tk.Event) -> None:
        if "start" in drag:
            drag["motions"] = int(drag["motions"]) + 1  # type: ignore[arg-type]
            drag["path"].append([e.x, e.y])  # type: ignore[union-attr]

    def release(e: tk.Event) -> None:
        if e.num in (4, 5):
            return
        log(ev="release", num=e.num, **where(e))
        if e.num == drag.get("num"):
            if drag["motions"] and drag["start"] != [e.x, e.y]:
                log(ev="drag", num=e.num, start=drag["start"], end=[e.x, e.y], motions=drag["motions"],
                    path=drag["path"])
            drag.clear()

    canvas.bind("<ButtonPress>", press)
    canvas.bind("<Motion>", motion)
    canvas.bind("<ButtonRelease>", release)
    # Tk runs the most specific binding of a sequence: a triple click's third press fires <Triple-Button-1>
    canvas.bind("<Double-Button-1>", lambda e: log(ev="double", **where(e)))
    canvas.bind("<Triple-Button-1>", lambda e: log(ev="triple", **where(e)))
    if args.log_keys:
        root.bind_all("<KeyPress>", lambda e: log(ev="key", keysym=e.keysym, mods=where(e)["mods"]), add="+")

    def ready() -> None:
        if not (canvas.winfo_viewable() and canvas.winfo_width() > 1):
            root.after(20, ready)
            return
        root.update_idletasks()
        widgets = {name: [w.winfo_rootx(), w.winfo_rooty(), w.winfo_width(), w.winfo_height()]
                   for name, w in (("button", button), ("entry", entry), ("canvas", canvas))}
        log(ev="ready", widgets=widgets)

    root.after(10, ready)
    root.mainloop()
    log_file.close()


if __name__ == "__main__":
    main(sys.argv[1:])
