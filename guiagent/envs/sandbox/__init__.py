"""Disposable virtual desktops (Linux): own Xvfb, a window manager, optional apps, an isolated HOME, every process
ended with the run. ``SandboxEnv`` drives one with the real desktop's executor and capture. Needs
``guiagent[desktop]`` and the Debian packages xvfb and openbox (x11vnc to watch one)."""

from guiagent.envs.sandbox.desktop import Sandbox, SandboxConfig
from guiagent.envs.sandbox.env import SandboxEnv

__all__ = ["Sandbox", "SandboxConfig", "SandboxEnv"]
