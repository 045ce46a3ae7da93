"""A disposable virtual X desktop: its own Xvfb, a light window manager, optional apps, an isolated temp HOME.

    with Sandbox(SandboxConfig(1280, 800, apps=("xterm",))) as box:
        print(box.display)          # ":170"
        ...                         # drive it with DesktopEnv(x_display=box.display)

Every process of the sandbox is started by a supervisor process (``supervisor.py``) that outlives nothing: it ends
them all when the sandbox stops, when the agent exits however it exits (Ctrl-C, a crash, SIGKILL: the supervisor
sees its stdin close), and when it is itself signalled (its children get SIGTERM through PR_SET_PDEATHSIG).
Apps see only the sandbox: DISPLAY, a temp HOME (with TMPDIR and the XDG folders inside it), a small fixed set of
variables (PATH, locale) and nothing else of the agent's environment, so tokens in the agent's environment do not
leak into the apps the model drives.
"""

from __future__ import annotations

import contextlib
import json
import os
import shlex
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from guiagent.errors import ConfigError, EnvError

SUPERVISOR = Path(__file__).with_name("supervisor.py")
MARKER_VAR = "GUIAGENT_SANDBOX_ID"
#: GUIAGENT_SANDBOX_DISPLAYS="170-199" restricts the X display numbers sandboxes may take
DISPLAYS_VAR = "GUIAGENT_SANDBOX_DISPLAYS"
DEFAULT_DISPLAYS = range(100, 200)
#: GUIAGENT_SANDBOX_VNC_PORTS="5970-5999": the ports `vnc=True` sandboxes may listen on
VNC_PORTS_VAR = "GUIAGENT_SANDBOX_VNC_PORTS"
DEFAULT_VNC_PORTS = range(5900, 6000)

#: program -> Debian package that provides it
PACKAGES = {"Xvfb": "xvfb", "openbox": "openbox", "x11vnc": "x11vnc", "xterm": "xterm"}
#: variables passed from the agent's environment to the apps (everything else is dropped)
PASSED_VARS = ("PATH", "LANG", "LC_ALL", "LC_CTYPE", "TZ", "TERM", "SHELL", "USER", "LOGNAME")


def number_range(text: str, what: str) -> range:
    """"170-199" or "170" -> range(170, 200)."""
    lo, _, hi = text.strip().partition("-")
    try:
        first, last = int(lo), int(hi or lo)
    except ValueError:
        raise ConfigError(f"{what} must look like 170-199, got {text!r}") from None
    if first < 0 or last < first:
        raise ConfigError(f"{what} must look like 170-199 (low-high), got {text!r}")
    return range(first, last + 1)


@dataclass(frozen=True)
class SandboxConfig:
    """What to start.

    Args:
        width, height: screen size in pixels (the sandbox is never HiDPI: one point is one pixel).
        window_manager: the window manager command ("openbox" by default; None for none: then focus follows
            the pointer and windows have no decorations).
        apps: commands started once the window manager is up, in order, as shell-like strings
            ("xterm -u8", "chromium --no-sandbox URL"); each is split with shlex, never run by a shell.
        displays: the X display numbers to try (default: $GUIAGENT_SANDBOX_DISPLAYS, else 100-199).
        vnc: also start x11vnc (for a person to watch, or for --env vnc) on a port from ``vnc_ports``.
        vnc_ports: ports to try for x11vnc (default: $GUIAGENT_SANDBOX_VNC_PORTS, else 5900-5999).
        app_timeout: seconds an app may take to show its first window.
        start_timeout: seconds Xvfb and the window manager may take to come up.
        locale: LANG / LC_ALL of the apps (UTF-8, so terminals take CJK text).
        env: extra variables for the apps.
        keep_home: leave the temp HOME behind at the end (to look at what the apps wrote).
    """

    width: int = 1280
    height: int = 800
    window_manager: str | None = "openbox"
    apps: tuple[str, ...] = ()
    displays: range | None = None
    vnc: bool = False
    vnc_ports: range | None = None
    app_timeout: float = 15.0
    start_timeout: float = 20.0
    locale: str = "C.UTF-8"
    env: Mapping[str, str] = field(default_factory=dict)
    keep_home: bool = False

    def __post_init__(self) -> None:
        for label, value in (("width", self.width), ("height", self.height)):
            if isinstance(value, bool) or not isinstance(value, int) or not 64 <= value <= 16384:
                raise ConfigError(f"sandbox {label} must be a whole number of pixels from 64 to 16384, got {value!r}")
        if isinstance(self.apps, str):
            raise ConfigError("sandbox apps must be a list of commands, not one string")
        for app in self.apps:
            if not isinstance(app, str) or not app.strip():
                raise ConfigError(f"each sandbox app must be a non-empty command string, got {app!r}")
            try:
                shlex.split(app)
            except ValueError as e:
                raise ConfigError(f"cannot split the sandbox app command {app!r}: {e}") from e

    def display_numbers(self) -> range:
        if self.displays is not None:
            return self.displays
        text = os.environ.get(DISPLAYS_VAR)
        return number_range(text, DISPLAYS_VAR) if text else DEFAULT_DISPLAYS

    def vnc_port_numbers(self) -> range:
        if self.vnc_ports is not None:
            return self.vnc_ports
        text = os.environ.get(VNC_PORTS_VAR)
        return number_range(text, VNC_PORTS_VAR) if text else DEFAULT_VNC_PORTS


def find_program(name: str, what: str) -> str:
    """The path of ``name``, or an EnvError naming the Debian package to install."""
    path = shutil.which(name)
    if path:
        return path
    package = PACKAGES.get(os.path.basename(name))
    how = f"apt install {package}" if package else "install it"
    raise EnvError(f"the sandbox needs {what}, but {name!r} is not installed ({how}; all of a sandbox: "
                   f"apt install xvfb openbox x11vnc)")


# One display number at a time is claimed in this process, so two sandboxes started by threads never race for it.
_CLAIM_LOCK = threading.Lock()


class Sandbox:
    """One running virtual desktop. ``start()`` brings it up; ``stop()`` (or leaving the ``with``) ends it."""

    def __init__(self, config: SandboxConfig | None = None):
        self.config = config or SandboxConfig()
        if sys.platform != "linux":
            raise EnvError(f"--env sandbox needs Linux (Xvfb); this is {sys.platform}. Run the sandbox in a Linux "
                           "VM or container and connect with --env vnc:HOST:PORT (docs/remote-desktops.md)")
        self.marker = uuid.uuid4().hex
        self.home: Path | None = None
        self.display: str = ""
        self.vnc_port: int | None = None
        self.pids: dict[str, int] = {}
        self._sup: subprocess.Popen[str] | None = None
        self._lock = threading.Lock()

    # ------------------------------------------------------------ lifecycle

    def start(self) -> Sandbox:
        cfg = self.config
        try:  # checked before anything starts: a missing extra must not leave a half-started desktop behind
            import Xlib  # noqa: F401
        except ImportError as e:
            raise EnvError("the sandbox needs python-xlib: pip install 'guiagent[desktop]'") from e
        xvfb = find_program("Xvfb", "an X server (Xvfb)")
        wm = shlex.split(cfg.window_manager) if cfg.window_manager else None
        if wm:
            wm[0] = find_program(wm[0], "a window manager")
        vnc = find_program("x11vnc", "a VNC server (x11vnc)") if cfg.vnc else None
        apps = [shlex.split(app) for app in cfg.apps]
        for argv in apps:
            if not shutil.which(argv[0]):
                package = PACKAGES.get(os.path.basename(argv[0]))
                raise EnvError(f"sandbox app {argv[0]!r} is not installed"
                               + (f" (apt install {package})" if package else ""))
        self.home = Path(tempfile.mkdtemp(prefix="guiagent-sandbox-"))
        try:
            self._start_supervisor()
            self._start_xvfb(xvfb)
            if wm:
                self._start_wm(wm)
            if vnc:
                self._start_vnc(vnc)
            for argv in apps:
                self.start_app(argv)
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        """End every process of the sandbox and delete its HOME (unless keep_home). Safe to call twice."""
        sup, self._sup = self._sup, None
        if sup is not None:
            with contextlib.suppress(Exception):
                self._ask_on(sup, {"op": "stop"}, timeout=30)
            with contextlib.suppress(Exception):
                sup.stdin.close()  # type: ignore[union-attr]
            try:
                sup.wait(timeout=30)
            except subprocess.TimeoutExpired:
                sup.kill()
                sup.wait()
            with contextlib.suppress(Exception):
                sup.stdout.close()  # type: ignore[union-attr]
        if self.home is not None and not self.config.keep_home:
            shutil.rmtree(self.home, ignore_errors=True)
        _release_xauthority(self)

    def __enter__(self) -> Sandbox:  # noqa: PYI034
        return self.start() if self._sup is None else self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def running(self) -> bool:
        return self._sup is not None and self._sup.poll() is None

    # ------------------------------------------------------------ what the apps see

    @property
    def xauthority(self) -> str:
        assert self.home is not None
        return str(self.home / ".Xauthority")

    def app_env(self) -> dict[str, str]:
        """The environment every process of the sandbox gets."""
        assert self.home is not None
        home = str(self.home)
        env = {k: os.environ[k] for k in PASSED_VARS if k in os.environ}
        env.setdefault("PATH", os.defpath)
        env.update(HOME=home, TMPDIR=f"{home}/tmp", XDG_RUNTIME_DIR=f"{home}/run", XDG_CONFIG_HOME=f"{home}/.config",
                   XDG_CACHE_HOME=f"{home}/.cache", XDG_DATA_HOME=f"{home}/.local/share", XAUTHORITY=self.xauthority,
                   LANG=self.config.locale, LC_ALL=self.config.locale, NO_AT_BRIDGE="1")
        if self.display:
            env["DISPLAY"] = self.display
        env.update(self.config.env)
        return env

    # ------------------------------------------------------------ starting things

    def _start_supervisor(self) -> None:
        assert self.home is not None
        for sub in ("tmp", "run", ".config", ".cache", ".local/share", "logs"):
            (self.home / sub).mkdir(parents=True, exist_ok=True)
        (self.home / "run").chmod(0o700)
        Path(self.xauthority).write_bytes(_PLACEHOLDER_XAUTH)
        argv = [sys.executable, "-I", str(SUPERVISOR), "--marker", self.marker]
        if not self.config.keep_home:
            argv += ["--home", str(self.home)]
        env = {"PATH": os.environ.get("PATH", os.defpath), MARKER_VAR: self.marker, "HOME": str(self.home),
               "TMPDIR": str(self.home / "tmp")}
        self._sup = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env,
                                     cwd=str(self.home), start_new_session=True)

    def _ask(self, msg: dict[str, Any], timeout: float = 60) -> dict[str, Any]:
        if self._sup is None:
            raise EnvError("the sandbox is not running")
        return self._ask_on(self._sup, msg, timeout)

    def _ask_on(self, sup: subprocess.Popen[str], msg: dict[str, Any], timeout: float) -> dict[str, Any]:
        import select

        with self._lock:
            assert sup.stdin is not None and sup.stdout is not None
            try:
                sup.stdin.write(json.dumps(msg) + "\n")
                sup.stdin.flush()
            except (BrokenPipeError, OSError) as e:
                raise EnvError(f"the sandbox supervisor is gone ({e})") from e
            if not select.select([sup.stdout], [], [], timeout)[0]:
                raise EnvError(f"the sandbox supervisor did not answer {msg.get('op')!r} within {timeout:g} s")
            line = sup.stdout.readline()
        if not line:
            raise EnvError("the sandbox supervisor exited")
        return json.loads(line)

    def _spawn(self, name: str, argv: Sequence[str], **extra: Any) -> dict[str, Any]:
        assert self.home is not None
        log = self.home / "logs" / f"{name}.log"
        reply = self._ask({"op": "spawn", "argv": list(argv), "env": self.app_env(), "cwd": str(self.home),
                           "log": str(log), **extra}, timeout=float(extra.get("timeout", 20)) + 10)
        if "error" in reply and "pid" not in reply:
            raise EnvError(f"the sandbox could not start {name}: {reply['error']}")
        self.pids[name] = int(reply["pid"])
        return reply

    def log_tail(self, name: str, limit: int = 600) -> str:
        if self.home is None:
            return ""
        try:
            text = (self.home / "logs" / f"{name}.log").read_text(errors="replace")
        except OSError:
            return ""
        return " ".join(text[-limit:].split())

    def _start_xvfb(self, xvfb: str) -> None:
        cfg = self.config
        tried = 0
        with _CLAIM_LOCK:
            for number in cfg.display_numbers():
                if os.path.exists(f"/tmp/.X{number}-lock") or os.path.exists(f"/tmp/.X11-unix/X{number}"):
                    continue
                tried += 1
                argv = [xvfb, f":{number}", "-screen", "0", f"{cfg.width}x{cfg.height}x24", "-nolisten", "tcp",
                        "-noreset", "+extension", "RANDR", "-dpi", "96"]
                reply = self._spawn("Xvfb", argv, displayfd=True, timeout=cfg.start_timeout)
                if "display" in reply:
                    self.display = f":{reply['display']}"
                    _claim_xauthority(self)
                    return
                if reply.get("error") == "timeout":
                    raise EnvError(f"Xvfb on :{number} did not come up within {cfg.start_timeout:g} s: "
                                   f"{self.log_tail('Xvfb')}")
                if tried >= 8:
                    break
        numbers = cfg.display_numbers()
        raise EnvError(f"no free X display for the sandbox in :{numbers.start}-:{numbers.stop - 1} "
                       f"(set {DISPLAYS_VAR}=LOW-HIGH); last Xvfb said: {self.log_tail('Xvfb') or 'nothing'}")

    def _start_wm(self, argv: list[str]) -> None:
        self._spawn("window-manager", argv)
        name = os.path.basename(argv[0])
        deadline = time.monotonic() + self.config.start_timeout
        while not self._wm_running():
            self._check_alive("window-manager", name)
            if time.monotonic() > deadline:
                raise EnvError(f"the window manager {name} did not start within {self.config.start_timeout:g} s: "
                               f"{self.log_tail('window-manager')}")
            time.sleep(0.05)

    def _start_vnc(self, x11vnc: str) -> None:
        cfg = self.config
        for port in cfg.vnc_port_numbers():
            if _port_in_use(port):
                continue
            # the flags of docs/start-vnc-desktop.sh (see there why), listening on this machine only
            argv = [x11vnc, "-display", self.display, "-rfbport", str(port), "-localhost", "-forever", "-shared",
                    "-noxdamage", "-nowireframe", "-noscrollcopyrect", "-nopw", "-quiet"]
            self._spawn("x11vnc", argv)
            deadline = time.monotonic() + cfg.start_timeout
            while time.monotonic() < deadline:
                if _port_in_use(port):
                    self.vnc_port = port
                    return
                if self._dead("x11vnc"):
                    break  # the port was taken between our check and its bind: try the next
                time.sleep(0.05)
            else:
                raise EnvError(f"x11vnc did not listen on port {port} within {cfg.start_timeout:g} s: "
                               f"{self.log_tail('x11vnc')}")
        raise EnvError(f"x11vnc found no free port for the sandbox (set {VNC_PORTS_VAR}=LOW-HIGH): "
                       f"{self.log_tail('x11vnc')}")

    def start_app(self, argv: Sequence[str] | str, wait_window: bool = True) -> int:
        """Start one more app in the sandbox; waits for it to show a new top-level window. Returns its pid."""
        argv = shlex.split(argv) if isinstance(argv, str) else list(argv)
        before = self.windows()
        name = f"app{sum(1 for k in self.pids if k.startswith('app'))}-{os.path.basename(argv[0])}"
        pid = int(self._spawn(name, argv)["pid"])
        if wait_window:
            deadline = time.monotonic() + self.config.app_timeout
            while not (self.windows() - before):
                self._check_alive(name, " ".join(argv))
                if time.monotonic() > deadline:
                    raise EnvError(f"sandbox app {' '.join(argv)!r} showed no window within "
                                   f"{self.config.app_timeout:g} s: {self.log_tail(name)}")
                time.sleep(0.05)
        return pid

    # ------------------------------------------------------------ state

    def processes(self) -> dict[str, Any]:
        """{"alive": [pid, ...], "dead": {pid: returncode}} of every process the sandbox started."""
        return self._ask({"op": "poll"})

    def _dead(self, name: str) -> bool:
        pid = self.pids.get(name)
        return pid is not None and str(pid) in self._ask({"op": "poll"})["dead"]

    def _check_alive(self, name: str, what: str) -> None:
        if self._dead(name):
            raise EnvError(f"{what} exited while the sandbox was starting it: {self.log_tail(name) or 'no output'}")

    def _x(self) -> Any:
        from Xlib import display as xdisplay

        with _xauthority_env(self):
            return xdisplay.Display(self.display)

    def _wm_running(self) -> bool:
        conn = self._x()
        try:
            atom = conn.intern_atom("_NET_SUPPORTING_WM_CHECK")
            prop = conn.screen().root.get_full_property(atom, 0)
            return bool(prop and prop.value)
        finally:
            conn.close()

    def windows(self) -> set[int]:
        """Ids of the top-level windows now mapped (the window manager's client list when there is one)."""
        from Xlib import X

        conn = self._x()
        try:
            root = conn.screen().root
            prop = root.get_full_property(conn.intern_atom("_NET_CLIENT_LIST"), X.AnyPropertyType)
            if prop is not None:
                return set(int(w) for w in prop.value)
            out = set()
            for child in root.query_tree().children:
                with contextlib.suppress(Exception):
                    if child.get_attributes().map_state == X.IsViewable:
                        out.add(child.id)
            return out
        finally:
            conn.close()

    def view_instructions(self) -> str:
        """How a person can look at this sandbox."""
        lines = [f"display {self.display} ({self.config.width}x{self.config.height}), HOME {self.home}"]
        if self.vnc_port is not None:
            lines.append(f"watch it: vncviewer localhost:{self.vnc_port}   (from another machine: "
                         f"ssh -L {self.vnc_port}:localhost:{self.vnc_port} THIS_HOST, then vncviewer "
                         f"localhost:{self.vnc_port})")
        lines.append(f"run a program in it: DISPLAY={self.display} XAUTHORITY={self.xauthority} xterm &")
        lines.append(f"drive it: guiagent run ... --env vnc:localhost:{self.vnc_port}" if self.vnc_port else
                     f"screenshot: DISPLAY={self.display} import -window root shot.png")
        return "\n".join(lines)


def _port_in_use(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.settimeout(0.2)
        return s.connect_ex(("127.0.0.1", port)) == 0


# ---------------------------------------------------------------- the agent process's XAUTHORITY
#
# python-xlib (pyautogui) will not connect unless the file $XAUTHORITY (default ~/.Xauthority) exists, and it opens
# connections lazily (the keysym typer on the first non-ASCII text). Sandboxes need no cookie, so when the agent
# process has no such file, $XAUTHORITY points at the placeholder file in a live sandbox's HOME for as long as one runs.

_XAUTH_LOCK = threading.Lock()
_XAUTH_USERS: list[Sandbox] = []
_XAUTH_SAVED: list[str | None] = []


def _xauth_field(data: bytes) -> bytes:
    return len(data).to_bytes(2, "big") + data


#: Xvfb runs without cookies (-nolisten tcp: local connections only), but python-xlib wants the file to exist and
#: prints a warning to stdout when it has no entry at all: one entry for a display no sandbox uses (65535) keeps
#: it quiet, and since no entry matches a sandbox display, clients connect without a cookie.
_PLACEHOLDER_XAUTH = ((256).to_bytes(2, "big") + _xauth_field(b"guiagent-sandbox") + _xauth_field(b"65535")
                      + _xauth_field(b"MIT-MAGIC-COOKIE-1") + _xauth_field(bytes(16)))


def _usable_xauthority() -> bool:
    path = os.environ.get("XAUTHORITY") or os.path.join(os.path.expanduser("~"), ".Xauthority")
    return os.path.isfile(path)


def _claim_xauthority(box: Sandbox) -> None:
    with _XAUTH_LOCK:
        if not _XAUTH_USERS:
            if _usable_xauthority():
                return
            _XAUTH_SAVED[:] = [os.environ.get("XAUTHORITY")]
        _XAUTH_USERS.append(box)
        if not _usable_xauthority():
            os.environ["XAUTHORITY"] = box.xauthority


def _release_xauthority(box: Sandbox) -> None:
    with _XAUTH_LOCK:
        if box not in _XAUTH_USERS:
            return
        _XAUTH_USERS.remove(box)
        if os.environ.get("XAUTHORITY") != box.xauthority:
            return
        if _XAUTH_USERS:
            os.environ["XAUTHORITY"] = _XAUTH_USERS[-1].xauthority
        else:
            saved = _XAUTH_SAVED[0] if _XAUTH_SAVED else None
            if saved is None:
                os.environ.pop("XAUTHORITY", None)
            else:
                os.environ["XAUTHORITY"] = saved


@contextlib.contextmanager
def _xauthority_env(box: Sandbox):  # noqa: ANN202
    """For connections made before the sandbox claimed $XAUTHORITY (none needed when one is usable)."""
    if _usable_xauthority():
        yield
        return
    with _XAUTH_LOCK:
        old = os.environ.get("XAUTHORITY")
        os.environ["XAUTHORITY"] = box.xauthority
        try:
            yield
        finally:
            if old is None:
                os.environ.pop("XAUTHORITY", None)
            else:
                os.environ["XAUTHORITY"] = old
