"""The real desktop: mss capture + pyautogui input, HiDPI and multi-monitor aware. Needs ``guiagent[desktop]``.

Nothing here imports mss or pyautogui until a DesktopEnv is created, so importing this package is always safe.
"""

from guiagent.envs.desktop.capture import Capture, Monitor, MssCapture
from guiagent.envs.desktop.env import DesktopEnv
from guiagent.envs.desktop.executor import FailSafeTriggered
from guiagent.envs.desktop.safety import (
    DeniedAction,
    DenyList,
    adjusted_deny,
    default_deny,
)

__all__ = [
    "Capture", "DeniedAction", "DenyList", "DesktopEnv", "FailSafeTriggered", "Monitor", "MssCapture",
    "adjusted_deny", "default_deny",
]
