"""Low-level input: pointer, buttons, held keys, click counting on a simulated clock, capture, drag and drop.

This mirrors what pyautogui produces on a real desktop: typed actions are broken into move / down / up / wheel /
key down / key up events by ``MockDesktop.execute`` and routed here.

Timing is simulated (no wall clock): ``clock`` advances by ``MockDesktop.step_seconds`` per action and by
``SUB_STEP`` between the events inside one action. Presses of the same button within ``DOUBLE_CLICK_S`` seconds
and ``DOUBLE_CLICK_DIST`` points count up (2 = double click, 3 = triple click). With the default 1 s per action,
only ``Click(clicks=2)`` (or down/up pairs inside one action) makes a double click; two separate Click actions
don't, just as two clicks seconds apart don't on a real desktop.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from guiagent.envs.mock.widgets.base import (
    KeyEvent,
    MouseEvent,
    Widget,
    hit_test,
    within,
)

if TYPE_CHECKING:  # pragma: no cover
    from guiagent.envs.mock.services import DesktopCore

DOUBLE_CLICK_S = 0.5
DOUBLE_CLICK_DIST = 4.0
SUB_STEP = 0.05
MODIFIER_KEYS = ("ctrl", "shift", "alt", "cmd", "fn")
#: The keypad acts as with Num Lock on: its digits and operators type, its Enter is Enter.
KEYPAD_AS = {**{f"kp_{d}": str(d) for d in range(10)}, "kp_add": "+", "kp_subtract": "-", "kp_multiply": "*",
             "kp_divide": "/", "kp_decimal": ".", "kp_separator": ",", "kp_enter": "enter"}

_SHIFTED = dict(zip("`1234567890-=[]\\;',./", "~!@#$%^&*()_+{}|:\"<>?"))


def key_char(key: str, shift: bool) -> str | None:
    """The character a key types (None for non-character keys)."""
    if key == "space":
        return " "
    if len(key) != 1:
        return None
    if shift:
        return key.upper() if key.isalpha() else _SHIFTED.get(key, key)
    return key


class Input:
    def __init__(self, desktop: "DesktopCore"):
        self.d = desktop
        self.x, self.y = desktop.width / 2, desktop.height / 2
        self.buttons: set[str] = set()
        self.keys: set[str] = set()
        self.clock = 0.0
        self._last_press: tuple[float, float, float, str, int] | None = None  # t, x, y, button, count
        self.capture: Widget | None = None
        self.hover: Widget | None = None
        self.drag_payload: Any = None
        self.drag_source: Widget | None = None
        self.drop_target: Widget | None = None
        self.ghost: DragGhost | None = None   # the label that follows the pointer during drag and drop

    # ------------------------------------------------------------------ helpers
    @property
    def mods(self) -> frozenset[str]:
        return frozenset(k for k in self.keys if k in MODIFIER_KEYS)

    def tick(self, dt: float = SUB_STEP) -> None:
        self.clock += dt

    def widget_at(self, x: float, y: float) -> Widget | None:
        for layer in reversed(self.d.layers()):
            hit = hit_test(layer, x, y)
            if hit is not None:
                return hit
        return None

    def forget(self, w: Widget) -> None:
        """``w`` (and its subtree) left the screen: drop references to it."""
        if within(self.hover, w):
            self.hover = None
        if within(self.capture, w):
            self.capture = None
        if within(self.drag_source, w):
            self.drag_source = self.drag_payload = None
            self._drop_ghost()
        if within(self.drop_target, w):
            self.drop_target = None

    def _event(self, button: str = "left", clicks: int = 1, dx: float = 0.0, dy: float = 0.0) -> MouseEvent:
        return MouseEvent(self.x, self.y, button, clicks, self.mods, dx, dy)

    # ------------------------------------------------------------------ pointer
    def update_hover(self) -> None:
        target = self.widget_at(self.x, self.y) if self.capture is None else self.capture
        if target is self.hover:
            return
        old, self.hover = self.hover, target
        # leave/enter along the two ancestor chains so containers (menus, rows) hear about it
        old_chain, new_chain = [], []
        w = old
        while w is not None:
            old_chain.append(w)
            w = w.parent
        w = target
        while w is not None:
            new_chain.append(w)
            w = w.parent
        for w in old_chain:
            if w not in new_chain:
                w.hovered = False
                w.on_hover(False)
        for w in reversed(new_chain):
            if w not in old_chain:
                w.hovered = True
                w.on_hover(True)

    def move(self, x: float, y: float) -> None:
        self.x, self.y = x, y
        if self.capture is not None:
            self.capture.on_mouse_drag(self._event())
            if self.drag_payload is not None:
                self._update_drop_target()
                if self.ghost is not None:
                    self.ghost.invalidate()
                    self.ghost.x, self.ghost.y = int(x) + 14, int(y) + 10
                    self.ghost.invalidate()
        self.update_hover()

    def _update_drop_target(self) -> None:
        target = self.widget_at(self.x, self.y)
        while target is not None and not target.accepts_drop(self.drag_payload):
            target = target.parent
        if target is not self.drop_target:
            old, self.drop_target = self.drop_target, target
            for w in (old, target):
                if w is not None:
                    w.invalidate()

    def down(self, button: str) -> None:
        d = self.d
        t = self.clock
        count = 1
        if self._last_press is not None:
            lt, lx, ly, lb, lc = self._last_press
            if lb == button and t - lt <= DOUBLE_CLICK_S and abs(self.x - lx) <= DOUBLE_CLICK_DIST \
                    and abs(self.y - ly) <= DOUBLE_CLICK_DIST:
                count = lc + 1 if lc < 3 else 1
        self._last_press = (t, self.x, self.y, button, count)
        self.buttons.add(button)
        ev = self._event(button, count)
        # popups: a press outside every popup closes them and is swallowed
        target = self.widget_at(self.x, self.y)
        if d.popups and (target is None or target.top not in d.popups):
            d.close_popups()
            return
        if target is None:
            return
        top = target.top
        wm = d.wm
        if top in wm.windows:
            dialog = wm.blocking_dialog(top)
            if dialog is not None:
                wm.activate(dialog)
                return
            wm.activate(top)
        # focus follows click for widgets that take it
        w: Widget | None = target
        while w is not None:
            if w.focusable and getattr(w, "focus_on_click", False) and w.enabled:
                w.focus()
                break
            w = w.parent
        if button == "right":
            w = target
            while w is not None:
                if w.on_mouse_down(ev):
                    self.capture = w
                    return
                if w.on_context_menu(ev):
                    return
                w = w.parent
            return
        w = target
        while w is not None:
            if w.on_mouse_down(ev):
                self.capture = w
                break
            w = w.parent
        self.update_hover()

    def up(self, button: str) -> None:
        self.buttons.discard(button)
        ev = self._event(button)
        cap = self.capture
        self.capture = None
        if cap is not None:
            cap.on_mouse_up(ev)
        if self.drag_payload is not None:
            self._update_drop_target()
            target, payload = self.drop_target, self.drag_payload
            self.drag_payload = self.drag_source = self.drop_target = None
            self._drop_ghost()
            if target is not None:
                target.invalidate()
                target.on_drop(payload)
        self.update_hover()

    def wheel(self, dx: float, dy: float) -> None:
        ev = self._event("middle", 1, dx, dy)
        d = self.d
        target = self.widget_at(self.x, self.y)
        if d.popups and (target is None or target.top not in d.popups):
            d.close_popups()
            target = self.widget_at(self.x, self.y)
        w = target
        while w is not None:
            if w.on_wheel(ev):
                break
            w = w.parent
        self.update_hover()

    def start_drag(self, source: Widget, payload: Any, label: str = "") -> None:
        self.drag_source, self.drag_payload = source, payload
        if label:
            self.ghost = DragGhost(label, int(self.x) + 14, int(self.y) + 10)
            self.ghost.desktop_ref = self.d
            self.ghost.invalidate()

    def _drop_ghost(self) -> None:
        if self.ghost is not None:
            self.ghost.invalidate()
            self.ghost = None

    # ------------------------------------------------------------------ keyboard
    def key_down(self, key: str) -> None:
        key = KEYPAD_AS.get(key, key)
        if key in MODIFIER_KEYS:
            self.keys.add(key)
            return
        self.keys.add(key)
        mods = self.mods
        if "cmd" in mods and "ctrl" not in mods:  # the mock desktop follows Windows/Linux shortcuts
            mods = (mods - {"cmd"}) | {"ctrl"}
        ch = key_char(key, "shift" in mods)
        if ch is not None and not (mods & {"ctrl", "alt"}):
            self.text(ch)
        else:
            self.key(KeyEvent(key, frozenset(mods)))

    def key_up(self, key: str) -> None:
        self.keys.discard(KEYPAD_AS.get(key, key))

    def key(self, ev: KeyEvent) -> None:
        d = self.d
        if d.popups:
            if ev.combo == "esc":
                d.close_popups(top_only=True)
                return
            if d.popups[-1].on_popup_key(ev):
                return
        w = d.focus_widget()
        if w is None:
            active = d.wm.active
            w = active if active is not None else d.shell
        while w is not None:
            if w.enabled and w.on_key(ev):
                return
            w = w.parent
        d.global_key(ev)

    def text(self, s: str) -> None:
        d = self.d
        if d.popups:
            d.close_popups()
        w = d.focus_widget()
        if w is None:
            active = d.wm.active
            w = active
        while w is not None:
            if w.enabled and w.on_text(s):
                return
            w = w.parent


class DragGhost(Widget):
    """What is being dragged, drawn next to the pointer (painted above everything, never hit by the pointer,
    not in the accessibility tree)."""

    def __init__(self, label: str, x: int, y: int):
        from guiagent.envs.mock import text as textmod
        from guiagent.envs.mock.widgets.basic import REGULAR

        w = int(min(260, textmod.measure(label, REGULAR) + 40))
        super().__init__(label, (x, y, w, 26))

    def paint(self, p) -> None:
        pal = self.palette
        p.rect(0, 0, self.w, self.h, fill=pal.selection, outline=pal.accent, radius=4)
        p.icon(6, 5, "file", 16)
        p.text_in(28, 0, self.w - 32, self.h, self.name, color=pal.text)
