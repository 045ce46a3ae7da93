"""Calculator: an immediate-execution four-function calculator with exact decimal arithmetic."""

from __future__ import annotations

from decimal import Decimal, DivisionByZero, InvalidOperation, localcontext
from typing import Any

from guiagent.envs.mock.apps.base import App
from guiagent.envs.mock.text import TextStyle
from guiagent.envs.mock.widgets.base import KeyEvent
from guiagent.envs.mock.widgets.basic import Button, Label
from guiagent.envs.mock.wm import Window

ROWS = (("C", "⌫", "%", "÷"), ("7", "8", "9", "×"), ("4", "5", "6", "−"), ("1", "2", "3", "+"),
        ("±", "0", ".", "="))
NAMES = {"÷": "divide", "×": "multiply", "−": "subtract", "+": "add", "=": "equals", "⌫": "backspace",
         "C": "clear", "±": "negate", "%": "percent", ".": "decimal point"}
KEYS = {"*": "×", "x": "×", "/": "÷", "-": "−", "+": "+", "=": "=", "%": "%", ".": ".", ",": "."}
OPS = ("+", "−", "×", "÷")


def fmt(v: Decimal) -> str:
    """A number as the display shows it: whole numbers without decimals, long ones in at most 10 significant digits."""
    if v == v.to_integral_value() and abs(v) < Decimal("1e15"):
        return str(v.quantize(Decimal(1)))
    s = format(v.normalize(), "f")
    if len(s) > 16:
        s = format(v, ".10g")
    return s


class CalculatorApp(App):
    """The Calculator: immediate execution (``2 + 3 × 4`` is 20, as on a pocket calculator), exact decimal arithmetic.

    It has one shared logic state; the display shows ``entry``, the line above it the expression being built.
    """
    app_id = "calculator"
    title = "Calculator"
    icon = "calculator"
    aliases = ("calc",)

    def __init__(self, desktop):
        super().__init__(desktop)
        self._reset_logic()

    def _reset_logic(self) -> None:
        self.entry = "0"
        self.acc: Decimal | None = None
        self.op: str | None = None
        self.fresh = True          # next digit starts a new entry
        self.expression = ""
        self.error = False

    # ------------------------------------------------------------------ logic
    def press(self, key: str) -> None:
        """Press one calculator key, as clicking its button does.

        Args:
            key: a digit, ".", "C", "⌫", "±", "%", an operator ("+", "−", "×", "÷") or "=". After a division by
                zero only "C" clears the error; any other key starts over first.
        """
        if self.error and key != "C":
            self._reset_logic()
        if key.isdigit():
            if self.fresh or self.entry == "0":
                self.entry = key
            elif len(self.entry.replace("-", "").replace(".", "")) < 15:
                self.entry += key
            self.fresh = False
        elif key == ".":
            if self.fresh:
                self.entry, self.fresh = "0.", False
            elif "." not in self.entry:
                self.entry += "."
        elif key == "C":
            self._reset_logic()
        elif key == "⌫":
            if not self.fresh:
                self.entry = self.entry[:-1] or "0"
                if self.entry == "-":
                    self.entry = "0"
        elif key == "±":
            if self.entry != "0":
                self.entry = self.entry[1:] if self.entry.startswith("-") else "-" + self.entry
        elif key == "%":
            self.entry = fmt(Decimal(self.entry) / 100)
            self.fresh = True
        elif key in OPS:
            if self.op is not None and not self.fresh:
                self._apply()
            elif self.acc is None or self.op is None:
                self.acc = Decimal(self.entry)
            self.op = key
            self.fresh = True
            if not self.error:
                self.expression = f"{fmt(self.acc)} {key}"
        elif key == "=":
            if self.op is not None:
                left = fmt(self.acc) if self.acc is not None else "0"
                right = self.entry
                self._apply()
                if not self.error:
                    self.expression = f"{left} {self.op_symbol_used} {right} ="
                self.op = None
                self.fresh = True
        self._show()

    def _apply(self) -> None:
        a = self.acc if self.acc is not None else Decimal(0)
        b = Decimal(self.entry)
        self.op_symbol_used = self.op
        try:
            with localcontext() as ctx:
                ctx.prec = 28
                ctx.traps[DivisionByZero] = True
                ctx.traps[InvalidOperation] = True
                r = {"+": a + b, "−": a - b, "×": a * b}.get(self.op) if self.op != "÷" else a / b
        except (DivisionByZero, InvalidOperation):
            self.error = True
            self.entry = "Error"
            self.expression = "Cannot divide by zero"
            self.acc = None
            self.op = None
            return
        self.acc = r
        self.entry = fmt(r)

    def _show(self) -> None:
        for win in self.windows:
            win.display.set_text(self.entry)
            win.expr.set_text(self.expression)

    # ------------------------------------------------------------------ UI
    def create_window(self, **options: Any) -> Window:
        """The calculator window: expression line, display and the 5x4 key grid (logic reset)."""
        self._reset_logic()
        w, h = 320, 470
        x, y = self.wm.place(w, h)
        win = Window("Calculator", (x, y, w, h), self, icon="calculator", resizable=False)
        c = win.content
        win.expr = c.add(Label("", (16, 10, w - 34, 20), TextStyle("sans", 12), color="muted", align="right"))
        win.display = c.add(Label("0", (16, 30, w - 34, 48), TextStyle("sans", 32), align="right"))
        win.display.role = "text"
        win.display.name = "Display"
        win.display.a11y_value = lambda: self.entry  # type: ignore[method-assign]
        win.expr.name = "Expression"
        win.expr.a11y_value = lambda: self.expression  # type: ignore[method-assign]
        bw, bh, gap = 66, 60, 8
        top = 92
        for r, row in enumerate(ROWS):
            for col, key in enumerate(row):
                b = c.add(Button(key, (lambda k=key: self.press(k)), (16 + col * (bw + gap), top + r * (bh + gap),
                                                                       bw, bh),
                                 kind="primary" if key == "=" else "normal"))
                b.description = NAMES.get(key, "")
                b.font_size = 18
        return win

    def on_text(self, win: Window, text: str) -> bool:
        """Typed digits and operators (``*``, ``x``, ``/``, ``-``, ``+``, ``=``, ``%``, ``.``, ``,``) press keys."""
        for ch in text:
            key = ch if ch.isdigit() else KEYS.get(ch.lower())
            if key is not None:
                self.press(key)
        return True

    def on_key(self, win: Window, ev: KeyEvent) -> bool:
        """Enter is "=", backspace "⌫", Escape/Delete "C"; ctrl+c copies the display, ctrl+v types the clipboard."""
        mapping = {"enter": "=", "backspace": "⌫", "esc": "C", "delete": "C"}
        if ev.combo in mapping:
            self.press(mapping[ev.combo])
            return True
        if ev.combo == "ctrl+c":
            self.d.clipboard = self.entry
            return True
        if ev.combo == "ctrl+v":
            self.on_text(win, self.d.clipboard)
            return True
        return False

    def state(self) -> dict:
        """The display, the expression line and whether it shows an error."""
        return {"display": self.entry, "expression": self.expression, "error": self.error}
