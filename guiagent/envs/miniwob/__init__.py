"""MiniWoB++ (the ``miniwob`` package's tasks) in Debian's headless Chromium, as a guiagent environment.

Optional: ``pip install 'guiagent[miniwob]'`` and ``apt-get install chromium chromium-driver``.
"""

from guiagent.envs.miniwob.env import EpisodeOver, MiniWoBBrowser, MiniWoBEnv, MiniWoBResult
from guiagent.envs.miniwob.tasks import ORACLE_TASKS, all_task_names

__all__ = ["EpisodeOver", "MiniWoBBrowser", "MiniWoBEnv", "MiniWoBResult", "ORACLE_TASKS", "all_task_names"]
