"""File manager (placeholder)."""
from __future__ import annotations

from typing import Any

from guiagent.envs.mock.apps.base import App
from guiagent.envs.mock.wm import Window


class FilesApp(App):
    app_id = "files"
    title = "Files"
    icon = "files"
    aliases = ("file manager", "explorer", "finder", "nautilus")

    def create_window(self, **options: Any) -> Window:
        x, y = self.d.wm.place(820, 540)
        return Window("Files", (x, y, 820, 540), self, icon="files")

    def new_folder_in(self, folder: str) -> None:
        pass

    def new_file_in(self, folder: str) -> None:
        pass

    def shell_drop_ok(self, target, payload) -> bool:
        return False

    def shell_drop(self, target, payload) -> None:
        pass
