"""Debian's headless Chromium, started for MiniWoB++ (never a downloaded browser).

MiniWoB's own ``SeleniumInstance`` starts Chrome with its own flags and whatever browser Selenium finds. This
module subclasses it only to build the driver: the system's ``chromium`` and ``chromedriver`` (paths from
``GUIAGENT_CHROMIUM`` / ``GUIAGENT_CHROMEDRIVER``, else ``/usr/bin``, else ``PATH``), headless, sandbox off (the
browser runs inside our own process limits), no first-run or background network traffic, and a fixed device
pixel ratio, so screenshots have a known size.
"""

from __future__ import annotations

import atexit
import os
import shutil
import sys
from dataclasses import dataclass

from guiagent.errors import ConfigError

#: the flags every browser we start gets (the device pixel ratio and window size are added per browser)
CHROMIUM_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
                  "--disable-dev-shm-usage", "--hide-scrollbars", "--mute-audio")
#: the window is bigger than MiniWoB's 500x320 so that the 160x210 task area fits in the viewport
WINDOW_SIZE = (640, 480)


@dataclass(frozen=True)
class BrowserPaths:
    chromium: str
    chromedriver: str


def find_browser() -> BrowserPaths:
    """The Chromium and chromedriver binaries to use.

    Raises:
        ConfigError: one of them is missing (naming the Debian packages that provide them).
    """
    found = []
    for env_var, names in (("GUIAGENT_CHROMIUM", ("chromium", "chromium-browser")),
                           ("GUIAGENT_CHROMEDRIVER", ("chromedriver",))):
        path = os.environ.get(env_var) or next((p for n in names for p in (f"/usr/bin/{n}", shutil.which(n))
                                                if p and os.access(p, os.X_OK)), None)
        if not path or not os.access(path, os.X_OK):
            raise ConfigError(f"{names[0]} is not installed: the MiniWoB suite runs Debian's headless Chromium "
                              f"(apt-get install chromium chromium-driver), or set {env_var} to its path")
        found.append(path)
    return BrowserPaths(*found)


def _die_with_parent_kw() -> dict:
    """Popen options that make chromedriver exit when the process that started it dies (Linux): a worker killed
    at its episode deadline must not leave its browser running. Chromium exits with chromedriver."""
    if not sys.platform.startswith("linux"):
        return {}
    import ctypes
    import signal

    try:
        libc = ctypes.CDLL(None, use_errno=True)
    except OSError:
        return {}

    def set_pdeathsig() -> None:  # runs in the child between fork and exec
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG

    return {"preexec_fn": set_pdeathsig}


_LAUNCHERS: dict[str, str] = {}


def _tied_launcher(chromium: str) -> str:
    """A launcher that runs ``chromium`` so that it exits when chromedriver (its parent) does, where util-linux's
    ``setpriv`` is there (Debian): chromedriver's own exit is tied to our process (``_die_with_parent_kw``), so a
    killed worker leaves no browser behind. Elsewhere, ``chromium`` itself."""
    setpriv = shutil.which("setpriv")
    if not sys.platform.startswith("linux") or setpriv is None:
        return chromium
    if chromium not in _LAUNCHERS:
        import shlex
        import tempfile

        folder = tempfile.mkdtemp(prefix="guiagent-chromium-")
        path = os.path.join(folder, "chromium")
        with open(path, "w", encoding="utf-8") as f:
            f.write(f'#!/bin/sh\nexec {shlex.quote(setpriv)} --pdeathsig TERM {shlex.quote(chromium)} "$@"\n')
        os.chmod(path, 0o755)
        atexit.register(shutil.rmtree, folder, True)
        _LAUNCHERS[chromium] = path
    return _LAUNCHERS[chromium]


def make_instance_class():
    """``SeleniumInstance`` with our ``create_driver`` (built lazily: selenium and miniwob are optional)."""
    from miniwob.selenium_instance import SeleniumInstance
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as EC
    from selenium.webdriver.support.wait import WebDriverWait

    class ChromiumInstance(SeleniumInstance):
        """A MiniWoB instance in the system's headless Chromium at a given device pixel ratio."""

        device_scale: float = 1.0

        def create_driver(self) -> None:
            paths = find_browser()
            options = webdriver.ChromeOptions()
            for flag in CHROMIUM_FLAGS:
                options.add_argument(flag)
            options.add_argument(f"--window-size={WINDOW_SIZE[0]},{WINDOW_SIZE[1]}")
            options.add_argument(f"--force-device-scale-factor={self.device_scale:g}")
            options.binary_location = _tied_launcher(paths.chromium)
            service = Service(executable_path=paths.chromedriver, popen_kw=_die_with_parent_kw())
            self.driver = webdriver.Chrome(service=service, options=options)
            self.driver.implicitly_wait(0)
            self.load_page()

        def load_page(self) -> None:
            """Open ``self.url`` (a task's page) and wait for MiniWoB's start screen."""
            self.driver.get(self.url)
            WebDriverWait(self.driver, 10).until(EC.element_to_be_clickable((By.ID, self.SYNC_SCREEN_ID)))
            self.inner_width, self.inner_height = self.driver.execute_script(
                "return [window.innerWidth, window.innerHeight];")

    return ChromiumInstance
