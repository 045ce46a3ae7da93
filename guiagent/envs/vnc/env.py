"""VncEnv: a remote desktop over RFB (VNC), driven through the real desktop env's own checks and executor.

    env = VncEnv("10.0.0.5:5901")            # password, if any, from $GUIAGENT_VNC_PASSWORD
    obs = env.observe()                      # the remote framebuffer
    env.execute(Click(Point(640, 400)))      # a point in that screenshot

The env is a ``DesktopEnv`` whose capture is the framebuffer and whose pyautogui is ``VncGui``: coordinates go
through the same ``Display`` conversion and off-screen refusal, keys through the same deny list (for the remote
OS, ``remote_os``), actions through the same executor. What differs is only the wire.

Connection trouble ends a run cleanly: a dropped connection is retried with backoff for ``reconnect_s`` seconds;
after that, or when the server stops answering for ``timeout`` seconds, every call raises ``VncConnectionError``
(fatal), so the agent loop ends the run with that message and the run folder is finished as usual.
"""

from __future__ import annotations

import os
import re
import unicodedata
from collections.abc import Iterable
from typing import Any

from guiagent.actions import types as t
from guiagent.actions.types import Action
from guiagent.envs.desktop.env import DesktopEnv
from guiagent.envs.desktop.keymap import OsName, check_os
from guiagent.envs.vnc.client import VncClient, VncConnectionError
from guiagent.envs.vnc.gui import _PRINTABLE, VncCapture, VncGui
from guiagent.errors import ConfigError, UnsupportedAction

DEFAULT_PASSWORD_ENV = "GUIAGENT_VNC_PASSWORD"
UNICODE_MODES = ("auto", "keysym", "off")
#: servers that map keysyms through a fixed keymap and drop the rest (matched in the RFB desktop name)
NO_UNICODE_SERVERS = ("qemu",)


#: a host name or IPv4 address (RFC 1123 letters), or inside [...] an IPv6 address with an optional zone
_HOST = re.compile(r"(?!-)[A-Za-z0-9._-]{1,253}")
_IPV6 = re.compile(r"[0-9A-Fa-f:.]{2,45}(%[A-Za-z0-9._-]{1,64})?")


def parse_server(text: str) -> tuple[str, int]:
    """"HOST:PORT" (or "[IPv6]:PORT") -> (host, port). PORT is the TCP port (5900, not display 0)."""
    text = (text or "").strip()
    if text.startswith("["):
        host, sep, rest = text[1:].partition("]")
        port_text = rest[1:] if rest.startswith(":") else ""
        ok = bool(sep)
    else:
        host, _, port_text = text.rpartition(":")
        ok = ":" not in host
    ok = ok and bool((_IPV6 if text.startswith("[") else _HOST).fullmatch(host))
    if not (ok and port_text.isascii() and port_text.isdigit() and 0 < int(port_text) < 65536):
        raise ConfigError(f"a VNC server is HOST:PORT with a TCP port (e.g. localhost:5901), got {text!r}")
    return host, int(port_text)


class VncEnv(DesktopEnv):
    """A remote screen over VNC as an ``Env``.

    Args:
        server: "HOST:PORT" (TCP port).
        password_env: name of the environment variable holding the VNC password (unset: no password).
        timeout: seconds a screenshot or a batch of input may take before the server counts as not answering.
        connect_timeout: seconds one connection attempt may take.
        reconnect_s: how long to keep reconnecting (with backoff) after a dropped connection.
        unicode: how non-ASCII text is typed: "keysym" (Unicode keysyms; X-based servers such as x11vnc and
            TigerVNC bind them to spare keys), "off" (refuse such text with a clear error), "auto" (keysym, except
            on servers known to drop keysyms outside their keymap, such as QEMU's).
        remote_os: the OS on the other end ("linux", "macos", "windows"): picks key names and the deny list.
        deny: key combinations to refuse; None: the remote OS's default list.
        switch_pause: seconds between pointer and key events that follow each other (x11vnc queues pointer events
            briefly, so a key sent at once after a click could overtake it); 0 for servers that keep the order.
        hscroll_buttons: send horizontal wheel turns as buttons 6/7 (TigerVNC) instead of shift + wheel.
        environ: where ``password_env`` is looked up (default ``os.environ``).
        **desktop: other ``DesktopEnv`` arguments (scale, drag_duration, type_interval, scroll_amount, ...).
    """

    name = "vnc"

    def __init__(self, server: str, *, password_env: str = DEFAULT_PASSWORD_ENV, timeout: float = 15.0,
                 connect_timeout: float = 10.0, reconnect_s: float = 30.0, unicode: str = "auto",
                 remote_os: OsName = "linux", deny: Iterable[str] | None = None, switch_pause: float = 0.1,
                 hscroll_buttons: bool = False, environ: dict[str, str] | None = None, **desktop: Any):
        for banned in ("x_display", "capture", "gui", "os_name", "unicode_method", "failsafe", "monitor"):
            if banned in desktop:
                raise ConfigError(f"{banned} does not apply to a VNC desktop")
        if unicode not in UNICODE_MODES:
            raise ConfigError(f"unicode must be one of {list(UNICODE_MODES)}, got {unicode!r}")
        host, port = parse_server(server)
        environ = os.environ if environ is None else environ
        password = environ.get(password_env) if password_env else None
        self.server = f"{host}:{port}"
        self.client = VncClient(host, port, password or None, timeout=timeout, connect_timeout=connect_timeout,
                                reconnect_s=reconnect_s).connect()
        try:
            remote = check_os(remote_os)
            super().__init__(1, deny=deny, os_name=remote, capture=VncCapture(self.client),
                             gui=VncGui(self.client, switch_pause=switch_pause, hscroll_buttons=hscroll_buttons),
                             failsafe=False, environ={}, **desktop)
        except BaseException:
            self.client.close()
            raise
        name = self.client.desktop_name
        self.unicode = unicode
        self.unicode_keysyms = unicode == "keysym" or (
            unicode == "auto" and not any(s in name.lower() for s in NO_UNICODE_SERVERS))
        self.desktop_name = name

    def observe(self):  # noqa: ANN201 (an Observation, with the connection's facts in info)
        obs = super().observe()
        obs.info.update(server=self.server, reconnects=self.client.reconnects)
        return obs

    def check(self, action: Action) -> Action:
        if isinstance(action, t.Type):
            self._check_text(action.text)
        return super().check(action)

    def _check_text(self, text: str) -> None:
        for ch in text:
            if ch in _PRINTABLE:
                continue
            category = unicodedata.category(ch)
            if category in ("Cc", "Cs", "Co", "Cn"):
                raise UnsupportedAction(f"cannot type {ch!r} ({category}: a control, surrogate or unassigned "
                                        "character) over VNC; nothing was sent")
            if not self.unicode_keysyms:
                why = (f"the server ({self.desktop_name!r}) is known to drop keysyms outside its keymap"
                       if self.unicode == "auto" else "unicode='off'")
                raise UnsupportedAction(f"cannot type non-ASCII text ({ch!r}) over this VNC connection: {why}; "
                                        "nothing was sent (pass unicode='keysym' to try anyway)")

    def _make_typer(self) -> Any:
        gui: VncGui = self.executor.gui
        interval = self.executor.type_interval

        class KeysymTyper:
            @staticmethod
            def type(text: str) -> None:
                gui.write(text, interval)

        return KeysymTyper()

    def close(self) -> None:
        try:
            if not self._closed and not self.client._closed:
                try:
                    super().close()
                except VncConnectionError:
                    self._closed = True
        finally:
            self._closed = True
            self.client.close()


__all__ = ["VncConnectionError", "VncEnv", "parse_server"]
