"""Web form app (placeholder)."""
from __future__ import annotations

from typing import Any

from guiagent.envs.mock.apps.base import App
from guiagent.envs.mock.wm import Window


class WebFormApp(App):
    app_id = "webform"
    title = "Web Form"
    icon = "webform"
    aliases = ("browser", "web browser", "web", "chrome", "firefox", "form")

    def create_window(self, **options: Any) -> Window:
        x, y = self.d.wm.place(820, 600)
        return Window("Web Form", (x, y, 820, 600), self, icon="webform")

    def can_go_back(self) -> bool:
        return False

    def go_back(self) -> None:
        pass
