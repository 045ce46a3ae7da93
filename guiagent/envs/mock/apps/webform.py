"""Web Form: a small offline "browser" with an address bar, back button, links and two validated forms.

Pages (all offline, nothing is fetched):
    https://forms.example.com/             a portal with links to the forms
    https://forms.example.com/register     conference registration (long: needs scrolling)
    https://forms.example.com/contact      contact form
Any other URL shows an offline error page. Submitting a valid form records
``{"form": id, "url": url, "values": {...}}`` in ``desktop.form_submissions`` and shows a confirmation page.
Invalid fields get a red message under them and a banner counts the errors.
"""

from __future__ import annotations

import re
from typing import Any, Callable

from guiagent.envs.mock import text as textmod
from guiagent.envs.mock import theme
from guiagent.envs.mock.apps.base import App
from guiagent.envs.mock.text import TextStyle
from guiagent.envs.mock.widgets.base import KeyEvent, MouseEvent, Widget
from guiagent.envs.mock.widgets.basic import BOLD, HEADING, SMALL, Button, Checkbox, Label, RadioGroup
from guiagent.envs.mock.widgets.containers import ScrollView
from guiagent.envs.mock.widgets.menus import Dropdown
from guiagent.envs.mock.widgets.textedit import TextArea, TextField
from guiagent.envs.mock.wm import Window

BASE = "https://forms.example.com"
HOME_URL = f"{BASE}/"
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[A-Za-z]{2,}$")
PHONE = re.compile(r"^[0-9+\-() ]{6,20}$")
COUNTRIES = ("Argentina", "Australia", "Brazil", "Canada", "China", "France", "Germany", "India", "Italy",
             "Japan", "Mexico", "Netherlands", "Spain", "Sweden", "United Kingdom", "United States")

# A field: (key, label, kind, required, options). kind: text, email, phone, textarea, dropdown, radio, checks,
# agree. ``checks`` is several checkboxes whose value is the list of ticked labels.
FORMS: dict[str, dict[str, Any]] = {
    "register": {
        "title": "Conference Registration",
        "intro": "Register for DevConf 2025 (12–14 June, Berlin). Fields marked * are required.",
        "fields": (
            ("name", "Full name", "text", True, None),
            ("email", "Email", "email", True, None),
            ("phone", "Phone", "phone", False, None),
            ("company", "Company", "text", False, None),
            ("ticket", "Ticket type", "radio", True, ("Standard", "Student", "VIP")),
            ("country", "Country", "dropdown", True, COUNTRIES),
            ("sessions", "Sessions", "checks", False, ("Workshops", "Keynote", "Networking dinner")),
            ("diet", "Dietary requirements", "dropdown", False,
             ("None", "Vegetarian", "Vegan", "Gluten-free", "Halal", "Kosher")),
            ("comments", "Comments", "textarea", False, None),
            ("terms", "I agree to the terms and conditions", "agree", True, None),
        ),
    },
    "contact": {
        "title": "Contact Us",
        "intro": "Send us a message and we will get back to you. Fields marked * are required.",
        "fields": (
            ("name", "Your name", "text", True, None),
            ("email", "Email", "email", True, None),
            ("topic", "Topic", "dropdown", True, ("Billing", "Technical support", "Sales", "Other")),
            ("message", "Message", "textarea", True, None),
        ),
    },
}
URLS = {f"{BASE}/register": "register", f"{BASE}/contact": "contact"}
PAGE_W = 640


def normalize_url(url: str) -> str:
    """A typed address made comparable: ``https://`` added if no scheme, trailing "/" dropped (but the portal's)."""
    u = url.strip()
    if not re.match(r"^[a-z]+://", u):
        u = "https://" + u
    if u.rstrip("/") == BASE:
        return HOME_URL
    return u.rstrip("/") if u != HOME_URL else u


class Link(Widget):
    """An underlined text link on a page.

    Args:
        text: the link text, also its accessible name.
        on_click: called on a left click.
        rect: ``(x, y, w, h)`` relative to the page.
    """
    role = "link"
    hover_effect = True

    def __init__(self, text: str, on_click: Callable[[], None], rect):
        super().__init__(text, rect)
        self.on_click = on_click

    def on_mouse_down(self, ev: MouseEvent) -> bool:
        """A left press follows the link."""
        if ev.button == "left":
            self.on_click()
        return True

    def paint(self, p) -> None:
        """Draw the link text underlined, darker on hover."""
        col = (20, 90, 200) if not self.hovered else (10, 60, 160)
        p.text_in(0, 0, self.w, self.h, self.name, TextStyle("sans", 14), col)
        p.hline(0, self.h - 5, min(self.w, textmod.measure(self.name, TextStyle("sans", 14))), col)


class BrowserWindow(Window):
    """The Web Form browser window: back and reload buttons, the address field and the scrolling page.

    Args:
        app: the WebFormApp it belongs to.
        rect: ``(x, y, w, h)`` in screen points.
    """
    def __init__(self, app: "WebFormApp", rect):
        super().__init__("Web Form", rect, app, icon="webform", on_layout=lambda w: w.layout())
        c = self.content
        self.back_btn = c.add(Button("", app.go_back, (8, 7, 32, 30), kind="flat", icon="back"))
        self.back_btn.name = "Back"
        self.reload_btn = c.add(Button("", app.reload, (42, 7, 32, 30), kind="flat", icon="refresh"))
        self.reload_btn.name = "Reload"
        self.address = c.add(TextField("Address", "", (82, 8, 10, theme.FIELD_H), on_submit=app.go_typed))
        self.page = c.add(ScrollView("Page", (0, 44, 10, 10), border=False))
        self.controls: dict[str, Any] = {}
        self.errors: dict[str, Label] = {}
        self.layout()

    def layout(self) -> None:
        """Stretch the address field and the page to the window's size."""
        c = self.content
        self.address.set_rect(82, 8, c.w - 92, theme.FIELD_H)
        self.page.set_rect(0, 44, c.w, c.h - 44)

    def paint(self, p) -> None:
        """Draw the window and the line between the toolbar and the page."""
        super().paint(p)
        p.hline(1, theme.TITLE_H + 43, self.w - 2, self.palette.border_light)


class WebFormApp(App):
    """The Web Form offline browser (single window): a portal page, two validated forms and an offline error page."""
    app_id = "webform"
    title = "Web Form"
    icon = "webform"
    aliases = ("browser", "web browser", "web", "chrome", "firefox", "form", "web form", "forms")

    def __init__(self, desktop):
        super().__init__(desktop)
        self.url = HOME_URL
        self.history: list[str] = []
        self.errors: dict[str, str] = {}
        self.submitted: dict | None = None
        self.prefill: dict[str, Any] = {}

    @property
    def win(self) -> BrowserWindow | None:
        """The browser window, or None when it is not open."""
        return self.windows[0] if self.windows else None  # type: ignore[return-value]

    # ------------------------------------------------------------------ lifecycle / navigation
    def create_window(self, **options: Any) -> Window:
        """A new browser window with an empty back history."""
        area = self.wm.work_area()
        w, h = min(820, area.w - 40), min(620, area.h - 20)
        x, y = self.wm.place(w, h)
        self.history = []
        return BrowserWindow(self, (x, y, w, h))

    def after_open(self, win: Window, **options: Any) -> None:
        """Load ``url=`` (default: the portal), with ``values=`` pre-filled into the form's fields."""
        self.prefill = dict(options.get("values") or {})
        self.load(normalize_url(options.get("url") or HOME_URL), remember=False)

    def apply_options(self, win: Window, **options: Any) -> None:
        """When launched again: take new ``values=`` to pre-fill and load ``url=``, if given."""
        if options.get("values"):
            self.prefill = dict(options["values"])
        if options.get("url"):
            self.load(normalize_url(options["url"]))

    def load(self, url: str, remember: bool = True) -> None:
        """Show the page at ``url`` (already normalised), clearing errors and any confirmation.

        Args:
            url: the page's address.
            remember: push the current page on the back history.
        """
        win = self.win
        if win is None:
            return
        if remember and url != self.url:
            self.history.append(self.url)
        self.url = url
        self.errors = {}
        self.submitted = None
        self.render()

    def go_typed(self) -> None:
        """Load the address field's text and move the focus to the page."""
        win = self.win
        if win is not None:
            self.load(normalize_url(win.address.text))
            win.set_focus(win.page)

    def can_go_back(self) -> bool:
        """True when there is a page to go back to."""
        return bool(self.history)

    def go_back(self) -> None:
        """Load the previous page of the history, if any."""
        if self.history:
            self.load(self.history.pop(), remember=False)

    def reload(self) -> None:
        """Load the current page again; a form shows its pre-filled values again, not what was typed since."""
        self.load(self.url, remember=False)

    # ------------------------------------------------------------------ pages
    def render(self) -> None:
        """Rebuild the page's widgets for the current URL: confirmation, portal, form or offline page."""
        win = self.win
        assert win is not None
        page = win.page
        page.clear()
        page.scroll_to(0, 0)
        win.controls, win.errors = {}, {}
        win.address.set_text(self.url)
        win.back_btn.set_enabled(bool(self.history))
        x0 = max(24, (page.w - PAGE_W) // 2)
        form_id = URLS.get(self.url)
        if self.submitted is not None:
            title = self._render_thanks(page, x0)
        elif self.url == HOME_URL:
            title = self._render_home(page, x0)
        elif form_id is not None:
            title = self._render_form(page, x0, form_id)
        else:
            title = "Offline"
            page.add(Label("This site can’t be reached", (x0, 40, PAGE_W, 34), HEADING))
            page.add(Label(f"{self.url} is not available offline. Only pages on forms.example.com can be "
                           "opened.", (x0, 84, PAGE_W, 44), wrap=True))
            page.add(Link("Go to forms.example.com", lambda: self.load(HOME_URL), (x0, 136, 220, 26)))
        win.set_title(f"{title} — Web Form")
        page.invalidate()

    def _render_home(self, page: ScrollView, x0: int) -> str:
        page.add(Label("Example Forms", (x0, 30, PAGE_W, 34), HEADING))
        page.add(Label("Choose a form:", (x0, 74, PAGE_W, 22)))
        y = 104
        for url, fid in URLS.items():
            page.add(Link(FORMS[fid]["title"], (lambda u=url: self.load(u)), (x0 + 12, y, 260, 26)))
            y += 32
        return "Example Forms"

    def _render_thanks(self, page: ScrollView, x0: int) -> str:
        sub = self.submitted or {}
        form = FORMS[sub["form"]]
        page.add(Label("Thank you!", (x0, 30, PAGE_W, 34), HEADING))
        page.add(Label(f"Your {form['title'].lower()} was received. Confirmation number: {sub['confirmation']}.",
                       (x0, 74, PAGE_W, 44), wrap=True, color="success"))
        y = 126
        for key, label, *_ in form["fields"]:
            v = sub["values"].get(key)
            shown = ", ".join(v) if isinstance(v, list) else ("Yes" if v is True else str(v or "—"))
            page.add(Label(f"{label}: {shown}", (x0, y, PAGE_W, 22), SMALL))
            y += 24
        page.add(Link("Back to forms", lambda: self.load(HOME_URL), (x0, y + 12, 160, 26)))
        return "Thank you"

    def _render_form(self, page: ScrollView, x0: int, form_id: str) -> str:
        form = FORMS[form_id]
        win = self.win
        assert win is not None
        pre = self.prefill
        page.add(Label(form["title"], (x0, 24, PAGE_W, 34), HEADING))
        page.add(Label(form["intro"], (x0, 64, PAGE_W, 40), wrap=True, color="muted"))
        y = 108
        if self.errors:
            n = len(self.errors)
            page.add(Label(f"Please correct the {n} error{'s' if n != 1 else ''} below.", (x0, y, PAGE_W, 24),
                           BOLD, color="error"))
            y += 32
        for key, label, kind, required, options in form["fields"]:
            star = " *" if required else ""
            value = pre.get(key)
            if kind == "agree":
                ctl = page.add(Checkbox(label + star, bool(value), None, (x0, y, PAGE_W, 26)))
                y += 30
            else:
                page.add(Label(label + star, (x0, y, PAGE_W, 20), BOLD))
                y += 24
                if kind in ("text", "email", "phone"):
                    ctl = page.add(TextField(label, str(value or ""), (x0, y, 380, theme.FIELD_H)))
                    y += theme.FIELD_H + 4
                elif kind == "textarea":
                    ctl = page.add(TextArea(label, str(value or ""), (x0, y, PAGE_W - 40, 96)))
                    y += 100
                elif kind == "dropdown":
                    ctl = page.add(Dropdown(label, options, value, (x0, y, 260, theme.FIELD_H + 2)))
                    y += theme.FIELD_H + 6
                elif kind == "radio":
                    ctl = page.add(RadioGroup(label, options, value, (x0, y, 390, 26), horizontal=True,
                                              item_w=130))
                    y += 30
                else:  # checks
                    ticked = set(value or ())
                    boxes = []
                    for i, opt in enumerate(options):
                        boxes.append(page.add(Checkbox(opt, opt in ticked, None, (x0 + i * 170, y, 165, 26))))
                    ctl = boxes
                    y += 30
            win.controls[key] = ctl
            msg = self.errors.get(key, "")
            if msg:
                win.errors[key] = page.add(Label(msg, (x0, y, PAGE_W, 18), SMALL, color="error"))
                if isinstance(ctl, (TextField, TextArea, Dropdown)):
                    ctl.invalid = True
                y += 20
            y += 10
        page.add(Button("Submit", lambda: self.submit(form_id), (x0, y + 6, 110, 34), kind="primary"))
        page.add(Button("Reset", lambda: self.reset_form(form_id), (x0 + 120, y + 6, 90, 34)))
        page.add(Widget("", (x0, y + 40, 10, 30))).a11y_hidden = True  # bottom margin
        return form["title"]

    # ------------------------------------------------------------------ form logic
    def values(self) -> dict[str, Any]:
        """The current form's values by field key: text, selected option, checkbox state or checked options."""
        win = self.win
        if win is None:
            return {}
        out: dict[str, Any] = {}
        for key, ctl in win.controls.items():
            if isinstance(ctl, list):
                out[key] = [c.name for c in ctl if c.checked]
            elif isinstance(ctl, (TextField, TextArea)):
                out[key] = ctl.text
            elif isinstance(ctl, (Dropdown, RadioGroup)):
                out[key] = ctl.selected
            elif isinstance(ctl, Checkbox):
                out[key] = ctl.checked
        return out

    def validate(self, form_id: str, values: dict[str, Any]) -> dict[str, str]:
        """Check a form's values against its fields.

        Args:
            form_id: the form ("register" or "contact").
            values: the values, as ``values()`` returns them.

        Returns:
            Field key -> error message, for each required field left empty and each malformed email or phone
            number; empty when the form is valid.
        """
        errors: dict[str, str] = {}
        for key, label, kind, required, _ in FORMS[form_id]["fields"]:
            v = values.get(key)
            text = v.strip() if isinstance(v, str) else v
            if required and (text in (None, "", False) or text == []):
                errors[key] = ("You must accept the terms and conditions." if kind == "agree"
                               else f"Please choose a {label.lower()}." if kind in ("dropdown", "radio")
                               else f"{label} is required.")
            elif kind == "email" and text and not EMAIL.match(text):
                errors[key] = "Enter a valid email address, like name@example.com."
            elif kind == "phone" and text and not PHONE.match(text):
                errors[key] = "A phone number may contain only digits, spaces, +, - and parentheses."
        return errors

    def submit(self, form_id: str) -> None:
        """Validate and submit the form ``form_id``.

        A valid form is recorded in ``form_submissions`` with a confirmation number and the confirmation page is
        shown; otherwise the page is shown again with the errors (values kept).
        """
        values = self.values()
        self.prefill = values
        self.errors = self.validate(form_id, values)
        if not self.errors:
            n = sum(1 for s in self.d.form_submissions if s["form"] == form_id) + 1
            single_line = {k for k, _, kind, _, _ in FORMS[form_id]["fields"] if kind in ("text", "email", "phone")}
            clean = {k: (v.strip() if k in single_line else v) for k, v in values.items()}
            record = {"form": form_id, "url": self.url, "values": clean,
                      "confirmation": f"{form_id[:3].upper()}-{n:04d}"}
            self.d.form_submissions.append(record)
            self.submitted = record
            self.prefill = {}
        self.render()

    def reset_form(self, form_id: str) -> None:
        """Clear the form's values and errors."""
        self.prefill = {}
        self.errors = {}
        self.render()

    def on_key(self, win: Window, ev: KeyEvent) -> bool:
        """The browser shortcuts; returns True when one was used.

        alt+left (back), F5/ctrl+r (reload), ctrl+l/alt+d (address field); Enter in a form's single-line field
        submits the form.
        """
        if ev.combo in ("alt+left", "browserback"):
            self.go_back()
            return True
        if ev.combo in ("f5", "ctrl+r"):
            self.reload()
            return True
        if ev.combo in ("ctrl+l", "alt+d") and isinstance(win, BrowserWindow):
            win.set_focus(win.address)
            win.address.select_all()
            return True
        if ev.combo == "enter" and isinstance(win, BrowserWindow):
            fid = URLS.get(self.url)
            if fid is not None and self.submitted is None and isinstance(win.focus_widget, TextField) \
                    and win.focus_widget is not win.address:
                self.submit(fid)
                return True
        return False

    def state(self) -> dict:
        """The URL, the form's current values and errors, and whether the page shows a confirmation."""
        return {"url": self.url, "fields": self.values(), "errors": dict(self.errors),
                "submitted": self.submitted is not None}
