"""Remote desktops over RFB (VNC), through vncdotool. ``VncEnv`` is the real desktop env with the remote framebuffer
as its capture and RFB key/pointer events as its input. Needs ``guiagent[vnc]``."""

from guiagent.envs.vnc.client import VncClient, VncConnectionError
from guiagent.envs.vnc.env import VncEnv, parse_server

__all__ = ["VncClient", "VncConnectionError", "VncEnv", "parse_server"]
