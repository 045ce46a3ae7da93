"""Settings: tabs of switches, sliders, dropdowns, a radio group and a checkbox over ``desktop.settings``.

Changes apply immediately (no Apply button); dark mode re-themes the whole desktop.
"""

from __future__ import annotations

from typing import Any, Callable

from guiagent.envs.mock import theme
from guiagent.envs.mock.apps.base import App
from guiagent.envs.mock.widgets.base import KeyEvent, Widget
from guiagent.envs.mock.widgets.basic import BOLD, Checkbox, Label, RadioGroup, Slider, Switch
from guiagent.envs.mock.widgets.containers import Tabs
from guiagent.envs.mock.widgets.menus import Dropdown
from guiagent.envs.mock.wm import Window

LANGUAGES = ("English", "Deutsch", "Español", "Français", "Italiano", "Nederlands", "Polski", "Português",
             "Русский", "Türkçe", "日本語", "中文", "한국어")
TIMEZONES = ("UTC", "Europe/London", "Europe/Berlin", "Europe/Paris", "Europe/Madrid", "America/New_York",
             "America/Chicago", "America/Denver", "America/Los_Angeles", "America/Sao_Paulo", "Asia/Tokyo",
             "Asia/Shanghai", "Asia/Kolkata", "Asia/Singapore", "Australia/Sydney")
TIMEOUTS = ("1 minute", "5 minutes", "15 minutes", "30 minutes", "Never")
DATE_FORMATS = ("YYYY-MM-DD", "DD/MM/YYYY", "MM/DD/YYYY")

DEFAULTS: dict[str, Any] = {
    "wifi": True, "bluetooth": False, "airplane_mode": False, "dark_mode": False, "night_light": False,
    "notifications": True, "do_not_disturb": False, "volume": 50, "brightness": 70, "language": "English",
    "timezone": "UTC", "date_format": "YYYY-MM-DD", "auto_update": True, "screen_timeout": "5 minutes",
}

#: (tab, [(kind, key, label, extra)]) — kind is switch / slider / dropdown / radio / checkbox.
LAYOUT: tuple[tuple[str, tuple[tuple[str, str, str, Any], ...]], ...] = (
    ("Network", (("switch", "wifi", "Wi-Fi", None), ("switch", "bluetooth", "Bluetooth", None),
                 ("switch", "airplane_mode", "Airplane mode", None))),
    ("Display", (("switch", "dark_mode", "Dark mode", None), ("switch", "night_light", "Night light", None),
                 ("slider", "brightness", "Brightness", (0, 100)),
                 ("dropdown", "screen_timeout", "Turn off screen after", TIMEOUTS))),
    ("Sound", (("slider", "volume", "Volume", (0, 100)), ("switch", "notifications", "Notifications", None),
               ("switch", "do_not_disturb", "Do not disturb", None))),
    ("System", (("dropdown", "language", "Language", LANGUAGES), ("dropdown", "timezone", "Time zone", TIMEZONES),
                ("radio", "date_format", "Date format", DATE_FORMATS),
                ("checkbox", "auto_update", "Install updates automatically", None))),
)


def default_settings() -> dict[str, Any]:
    """A fresh copy of the settings every desktop starts with (before its initial state is applied)."""
    return dict(DEFAULTS)


class SettingsApp(App):
    """System settings in four tabs (Network, Display, Sound, System); controls write the desktop's settings."""
    app_id = "settings"
    title = "Settings"
    icon = "settings"
    aliases = ("system settings", "preferences", "control panel", "system preferences")

    def create_window(self, **options: Any) -> Window:
        """The settings window: one tab page per section, one control per setting."""
        w, h = 640, 500
        x, y = self.wm.place(w, h)
        win = Window("Settings", (x, y, w, h), self, icon="settings", resizable=False)
        c = win.content
        tabs = c.add(Tabs("Settings sections", [t for t, _ in LAYOUT], (16, 14, c.w - 32, c.h - 30), tab_w=110))
        win.tabs = tabs
        win.controls = {}
        for tab, rows in LAYOUT:
            page = tabs.pages[tab]
            page.add(Label(tab, (24, 16, 300, 28), BOLD))
            y = 56
            for kind, key, label, extra in rows:
                ctl = self._control(kind, key, label, extra, page, y)
                win.controls[key] = ctl
                y += 56 if kind != "radio" else 40 + 26 * len(extra)
        return win

    def _setter(self, key: str) -> Callable[[Any], None]:
        def set_value(v: Any) -> None:
            if self.d.settings.get(key) != v:
                self.d.settings[key] = v
                self.d.settings_changed(key)
        return set_value

    def _control(self, kind: str, key: str, label: str, extra: Any, page: Widget, y: int) -> Widget:
        value = self.d.settings[key]
        cw = page.w - 48
        if kind == "switch":
            return page.add(Switch(label, bool(value), self._setter(key), (24, y, cw, 32)))
        if kind == "checkbox":
            return page.add(Checkbox(label, bool(value), self._setter(key), (24, y, cw, 28)))
        page.add(Label(label, (24, y, 200, 32)))
        if kind == "slider":
            lo, hi = extra
            return page.add(Slider(label, lo, hi, int(value), (230, y, cw - 206, 32), on_change=self._setter(key)))
        if kind == "dropdown":
            return page.add(Dropdown(label, extra, value, (230, y, 240, theme.FIELD_H + 2), self._setter(key)))
        if kind == "radio":
            return page.add(RadioGroup(label, extra, value, (230, y + 4, 240, 26 * len(extra)),
                                       on_change=self._setter(key)))
        raise ValueError(kind)

    def after_open(self, win: Window, **options: Any) -> None:
        """Open on the tab given as ``tab=`` (e.g. "Display"), if any."""
        self.apply_options(win, **options)

    def apply_options(self, win: Window, **options: Any) -> None:
        """Switch to the tab given as ``tab=`` when launched again."""
        tab = options.get("tab")
        if tab:
            win.tabs.select(tab)  # type: ignore[attr-defined]

    def sync(self) -> None:
        """Reflect settings changed elsewhere (e.g. by a task's setup) in the controls."""
        for win in self.windows:
            for key, ctl in win.controls.items():  # type: ignore[attr-defined]
                v = self.d.settings[key]
                if isinstance(ctl, (Switch, Checkbox)) and ctl.checked != bool(v):
                    ctl.set_checked(bool(v), notify=False)
                elif isinstance(ctl, Slider) and ctl.value != v:
                    ctl.value = int(v)
                    ctl.invalidate()
                elif isinstance(ctl, (Dropdown, RadioGroup)) and ctl.selected != v:
                    ctl.select(v, notify=False)

    def on_key(self, win: Window, ev: KeyEvent) -> bool:
        """Ctrl+tab and ctrl+shift+tab switch tabs from anywhere in the window."""
        if ev.combo in ("ctrl+tab", "ctrl+shift+tab"):
            return win.tabs.on_key(ev)  # type: ignore[attr-defined]
        return False

    def state(self) -> dict:
        """The selected tab, while the window is open."""
        return {"tab": self.windows[0].tabs.selected} if self.windows else {}  # type: ignore[attr-defined]


__all__ = ["DEFAULTS", "SettingsApp", "default_settings"]
