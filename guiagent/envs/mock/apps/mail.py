"""Mail app (placeholder)."""
from __future__ import annotations

import copy
from typing import Any

from guiagent.envs.mock.apps.base import App
from guiagent.envs.mock.wm import Window

ME = "me@example.com"


class MailStore:
    def __init__(self) -> None:
        self.folders: dict[str, list[dict]] = {"inbox": [], "sent": [], "drafts": []}
        self._next = 1

    @classmethod
    def from_data(cls, data: dict) -> "MailStore":
        s = cls()
        for folder in ("inbox", "sent", "drafts"):
            for m in data.get(folder, ()):
                s.add(folder, m)
        return s

    def add(self, folder: str, m: dict) -> dict:
        msg = {"id": self._next, "from": m.get("from", ME), "to": m.get("to", ""), "cc": m.get("cc", ""),
               "subject": m.get("subject", ""), "body": m.get("body", ""), "date": m.get("date", ""),
               "read": bool(m.get("read", folder != "inbox"))}
        self._next += 1
        self.folders[folder].append(msg)
        return msg

    def state(self) -> dict:
        return copy.deepcopy(self.folders)


class MailApp(App):
    app_id = "mail"
    title = "Mail"
    icon = "mail"
    aliases = ("email", "e-mail", "mail client", "thunderbird", "outlook")

    def create_window(self, **options: Any) -> Window:
        x, y = self.d.wm.place(860, 560)
        return Window("Mail", (x, y, 860, 560), self, icon="mail")
