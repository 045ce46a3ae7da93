"""Settings app (placeholder; filled in below)."""
from __future__ import annotations

from typing import Any

from guiagent.envs.mock.apps.base import App
from guiagent.envs.mock.wm import Window

DEFAULTS: dict[str, Any] = {
    "wifi": True, "bluetooth": False, "airplane_mode": False, "dark_mode": False, "notifications": True,
    "do_not_disturb": False, "volume": 50, "brightness": 70, "language": "English", "timezone": "UTC",
    "date_format": "YYYY-MM-DD", "auto_update": True, "screen_timeout": "5 minutes",
}


def default_settings() -> dict[str, Any]:
    return dict(DEFAULTS)


class SettingsApp(App):
    app_id = "settings"
    title = "Settings"
    icon = "settings"
    aliases = ("system settings", "preferences", "control panel")

    def create_window(self, **options: Any) -> Window:
        x, y = self.d.wm.place(700, 520)
        return Window("Settings", (x, y, 700, 520), self, icon="settings")
