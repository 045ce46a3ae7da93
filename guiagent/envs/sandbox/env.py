"""SandboxEnv: the real desktop env (mss capture, pyautogui input, keysym typing, deny list) on a disposable Xvfb.

    with SandboxEnv(width=1280, height=800, apps=["xterm -u8"]) as env:
        obs = env.observe()
        env.execute(Click(Point(400, 300)))

Everything that acts on the screen is ``DesktopEnv``'s own code, bound to the sandbox's display, so clicks, drags,
typing (CJK included) and refused key combinations behave exactly as on a real screen. Closing the env (also on
Ctrl-C and crashes; see ``Sandbox``) ends every process of the sandbox and deletes its HOME.

pyautogui keeps one X connection per process: with several sandboxes in one process, each action first points
pyautogui at its own sandbox's display (under a lock), so two sandboxes never see each other's input.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence
from typing import Any

from guiagent.actions.types import Action
from guiagent.envs.base import Observation
from guiagent.envs.desktop.env import DesktopEnv
from guiagent.envs.desktop.executor import load_pyautogui
from guiagent.envs.sandbox.desktop import Sandbox, SandboxConfig, _xauthority_env
from guiagent.errors import EnvError

_GUI_LOCK = threading.RLock()


class SandboxEnv(DesktopEnv):
    """A ``DesktopEnv`` on its own virtual desktop.

    Args:
        width, height: screen size in pixels (default 1280x800).
        apps: commands to start once the window manager is up (``SandboxConfig.apps``).
        window_manager: window manager command, default "openbox"; None for none.
        vnc: also serve the screen over VNC (x11vnc) so a person can watch; see ``sandbox.vnc_port``.
        sandbox: a ``SandboxConfig`` to use instead of the arguments above.
        failsafe: pyautogui's corner fail-safe; off by default here, since nobody's hand is on a sandbox's pointer
            and a model's click in a corner would otherwise end the run.
        **desktop: any other ``DesktopEnv`` argument (deny, unicode_method, type_interval, drag_duration, ...).
    """

    name = "sandbox"

    def __init__(self, width: int = 1280, height: int = 800, *, apps: Sequence[str] = (),
                 window_manager: str | None = "openbox", vnc: bool = False, sandbox: SandboxConfig | None = None,
                 failsafe: bool = False, deny: Iterable[str] | None = None, **desktop: Any):
        for banned in ("x_display", "monitor", "capture", "gui", "os_name"):
            if banned in desktop:
                raise EnvError(f"{banned} is set by the sandbox itself")
        config = sandbox or SandboxConfig(width=width, height=height, apps=tuple(apps),
                                          window_manager=window_manager, vnc=vnc)
        self.sandbox = Sandbox(config).start()
        try:
            with _GUI_LOCK, _xauthority_env(self.sandbox):
                super().__init__(1, x_display=self.sandbox.display, failsafe=failsafe, deny=deny, os_name="linux",
                                 environ={**self.sandbox.app_env()}, **desktop)
        except BaseException:
            self.sandbox.stop()
            raise

    # Every call that sends input goes through pyautogui's one per-process X connection: bind it first.

    def _bound(self) -> Any:
        load_pyautogui("linux", self.x_display)

    def execute(self, action: Action) -> None:
        with _GUI_LOCK:
            self._bound()
            super().execute(action)

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> Observation:
        with _GUI_LOCK:
            self._bound()
            return super().reset(seed=seed, options=options)

    def close(self) -> None:
        try:
            if not self._closed:
                with _GUI_LOCK:
                    if self.sandbox.running:
                        self._bound()
                    super().close()
        finally:
            self.sandbox.stop()

    def _make_typer(self) -> Any:
        """Keysym typing with one keymap change per batch (see ``typing.py``: openbox stalls on many changes)."""
        if self.unicode_method in ("auto", "keysym"):
            from guiagent.envs.sandbox.typing import BatchedKeysymTyper

            assert self.x_display is not None
            return BatchedKeysymTyper(self.x_display)
        return super()._make_typer()

    def start_app(self, command: str | Sequence[str], wait_window: bool = True) -> int:
        """Start one more app in the sandbox (waits for its window). Returns its pid."""
        return self.sandbox.start_app(command, wait_window)

    @property
    def home(self) -> str:
        return str(self.sandbox.home)
