"""A blocking RFB (VNC) client for the agent, on top of vncdotool's protocol implementation.

vncdotool (https://github.com/sibson/vncdotool, MIT) is the maintained Python RFB client: VNC password and Apple
auth, raw/hextile/ZRLE/RRE decoding, desktop resize, cursor pseudo-encoding. It is built on Twisted, so its
protocol runs in a Twisted reactor; guiagent runs that reactor in one daemon thread per process and calls into it
from the agent's thread through ``_call``, which waits for each call's own result with a timeout. (vncdotool's
own threaded proxy, ``vncdotool.api``, shares one result queue between calls, so a call that timed out would hand
its late answer to the next call; it also has no way to notice a dropped connection.)

What this module adds:
- connection-lost detection, and reconnection with exponential backoff (``reconnect_s`` in all);
- a timeout on every round trip: a server that stops answering is a ``VncConnectionError`` (fatal: the agent ends
  the run with that message) instead of a hang;
- input as raw keysyms and pointer events, batched into one reactor call per action;
- screenshots as full (non-incremental) framebuffer updates, copied in the reactor thread. The cursor is asked for
  as a separate shape (pseudo-encoding) and not drawn, so a screenshot shows what the X server's own capture shows.
"""

from __future__ import annotations

import contextlib
import queue
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

from PIL import Image

from guiagent.errors import ConfigError, EnvError

#: one input event: ("key", keysym, down) or ("pointer", x, y, button_mask) or ("sleep", seconds)
Event = tuple[Any, ...]


class VncConnectionError(EnvError):
    """The VNC server could not be reached, dropped the connection for good, or stopped answering. Ends a run."""

    fatal = True


def _import_vncdotool() -> tuple[Any, Any, Any]:
    try:
        from twisted.internet import reactor
        from vncdotool import client as vclient
    except ImportError as e:
        raise EnvError(f"--env vnc needs vncdotool: pip install 'guiagent[vnc]' ({e})") from e
    return reactor, vclient, vclient.VNCDoToolFactory


_REACTOR_LOCK = threading.Lock()
_REACTOR_THREAD: threading.Thread | None = None


def _ensure_reactor(reactor: Any) -> None:
    """Run Twisted's reactor in a daemon thread (once per process; a reactor cannot be restarted)."""
    global _REACTOR_THREAD
    with _REACTOR_LOCK:
        if reactor.running:
            return
        if _REACTOR_THREAD is None or not _REACTOR_THREAD.is_alive():
            _REACTOR_THREAD = threading.Thread(target=reactor.run, kwargs={"installSignalHandlers": False},
                                               name="guiagent-vnc-reactor", daemon=True)
            _REACTOR_THREAD.start()
        deadline = time.monotonic() + 10
        while not reactor.running:
            if time.monotonic() > deadline:
                raise EnvError("the Twisted reactor that runs the VNC client did not start")
            time.sleep(0.005)


def _classes() -> tuple[type, type]:
    """vncdotool's client and factory, extended (built on first use so importing guiagent needs no vncdotool)."""
    global _CLASSES
    if _CLASSES is not None:
        return _CLASSES
    _, vclient, base_factory = _import_vncdotool()

    class Client(vclient.VNCDoToolClient):  # type: ignore[misc,name-defined]
        grabbed: Image.Image | None = None

        def grab(self) -> Any:
            """A full framebuffer update, then a copy of the screen (made here, in the reactor thread)."""
            d = self.refreshScreen(incremental=False)

            def copy(_: object) -> Image.Image:
                if self.screen is None:
                    raise EnvError("the VNC server sent no screen contents")
                return self.screen.convert("RGB") if self.screen.mode != "RGB" else self.screen.copy()

            return d.addCallback(copy)

        def send(self, events: Sequence[Event]) -> Any:
            """Send input events in order; ("sleep", s) waits between them without blocking the reactor."""
            from twisted.internet import reactor as r
            from twisted.internet.defer import Deferred

            events = list(events)
            done: Deferred = Deferred()

            def run(i: int) -> None:
                try:
                    while i < len(events):
                        ev = events[i]
                        i += 1
                        if ev[0] == "key":
                            self.keyEvent(int(ev[1]), down=bool(ev[2]))
                        elif ev[0] == "pointer":
                            self.x, self.y, self.buttons = int(ev[1]), int(ev[2]), int(ev[3])
                            self.pointerEvent(self.x, self.y, self.buttons)
                        elif ev[0] == "sleep" and ev[1] > 0:
                            r.callLater(float(ev[1]), run, i)
                            return
                    done.callback(None)
                except Exception as e:  # noqa: BLE001 (hand it to the waiting thread)
                    done.errback(e)

            run(0)
            return done

    class Factory(base_factory):  # type: ignore[misc,valid-type]
        protocol = Client
        nocursor = True          # ask for the cursor shape separately and never draw it into screenshots
        pseudocursor = False
        shared = True

        def __init__(self) -> None:
            super().__init__()
            self.ready = threading.Event()   # connected, or failed
            self.lost = threading.Event()    # the connection is gone
            self.failure: Any = None
            self.proto: Any = None

        def clientConnectionMade(self, protocol: Any) -> None:
            self.proto = protocol
            self.ready.set()
            with contextlib.suppress(Exception):
                super().clientConnectionMade(protocol)

        def clientConnectionFailed(self, connector: Any, reason: Any) -> None:
            self.failure = reason
            self.lost.set()
            self.ready.set()
            if not self.deferred.called:
                self.deferred.addErrback(lambda _: None)  # we report it; Twisted need not log it as unhandled
                super().clientConnectionFailed(connector, reason)

        def clientConnectionLost(self, connector: Any, reason: Any) -> None:
            if self.failure is None:
                self.failure = reason
            self.lost.set()
            self.ready.set()
            super().clientConnectionLost(connector, reason)

    _CLASSES = (Client, Factory)
    return _CLASSES


_CLASSES: tuple[type, type] | None = None


def _failure_text(failure: Any) -> str:
    value = getattr(failure, "value", failure)
    name = type(value).__name__
    text = str(value).strip() or name
    return text if name in text else f"{name}: {text}"


class VncClient:
    """One RFB connection, used from ordinary (non-Twisted) code.

    Args:
        host, port: the VNC server (port is the TCP port, e.g. 5900).
        password: the VNC password (None: the server must not ask for one).
        timeout: seconds any round trip (a screenshot, a batch of input) may take before the server counts as
            not answering.
        connect_timeout: seconds one connection attempt may take (TCP plus the RFB handshake).
        reconnect_s: after a dropped connection, seconds to keep trying to connect again (with backoff from
            ``backoff_s`` doubling up to ``backoff_max_s``) before giving up.
    """

    def __init__(self, host: str, port: int, password: str | None = None, *, timeout: float = 15.0,
                 connect_timeout: float = 10.0, reconnect_s: float = 30.0, backoff_s: float = 0.25,
                 backoff_max_s: float = 4.0):
        if not host or isinstance(port, bool) or not isinstance(port, int) or not 0 < port < 65536:
            raise ConfigError(f"a VNC server is HOST:PORT with a TCP port 1..65535, got {host!r}:{port!r}")
        for label, value in (("timeout", timeout), ("connect_timeout", connect_timeout),
                             ("reconnect_s", reconnect_s), ("backoff_s", backoff_s), ("backoff_max_s", backoff_max_s)):
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not value >= 0:
                raise ConfigError(f"{label} must be a number of seconds >= 0, got {value!r}")
        self.host, self.port, self.password = host, int(port), password
        self.timeout, self.connect_timeout = float(timeout), float(connect_timeout)
        self.reconnect_s, self.backoff_s = float(reconnect_s), float(backoff_s)
        self.backoff_max_s = float(backoff_max_s)
        self.reconnects = 0
        self._reactor, self._vclient, _ = _import_vncdotool()
        self._factory: Any = None
        self._closed = False
        self._lock = threading.RLock()

    @property
    def where(self) -> str:
        return f"{self.host}:{self.port}"

    # ------------------------------------------------------------ connecting

    def connect(self) -> VncClient:
        """Connect now; EnvError (VncConnectionError) saying why not."""
        with self._lock:
            self._factory = self._attempt()
        return self

    def _attempt(self) -> Any:
        _ensure_reactor(self._reactor)
        _, factory_cls = _classes()
        factory = factory_cls()
        if self.password is not None:
            factory.password = self.password
        import socket

        self._reactor.callFromThread(self._vclient.factory_connect, factory, self.host, self.port, socket.AF_INET)
        if not factory.ready.wait(self.connect_timeout):
            self._abort(factory)
            raise VncConnectionError(f"the VNC server at {self.where} did not complete the RFB handshake within "
                                     f"{self.connect_timeout:g} s")
        if factory.proto is None or factory.lost.is_set():
            self._abort(factory)
            raise VncConnectionError(self._explain(factory.failure))
        return factory

    def _explain(self, failure: Any) -> str:
        value = getattr(failure, "value", failure)
        name = type(value).__name__
        if name == "AuthenticationError":
            if self.password is None:
                return (f"the VNC server at {self.where} asks for a password: put it in the environment variable "
                        "named by --vnc-password-env (default GUIAGENT_VNC_PASSWORD)")
            return f"the VNC server at {self.where} refused the password ({_failure_text(failure)})"
        if "refused" in str(value).lower() or name == "ConnectionRefusedError":
            return f"cannot connect to the VNC server at {self.where}: connection refused (is the server running?)"
        return f"cannot connect to the VNC server at {self.where}: {_failure_text(failure)}"

    def _abort(self, factory: Any) -> None:
        proto = getattr(factory, "proto", None)
        if proto is not None and getattr(proto, "transport", None) is not None:
            with contextlib.suppress(Exception):
                self._reactor.callFromThread(proto.transport.abortConnection)

    def _ensure(self) -> Any:
        """The live connection, reconnecting (with backoff) if it was dropped."""
        if self._closed:
            raise EnvError(f"the VNC connection to {self.where} is closed")
        factory = self._factory
        if factory is not None and not factory.lost.is_set():
            return factory
        why = _failure_text(factory.failure) if factory is not None and factory.failure is not None else "not connected"
        deadline = time.monotonic() + self.reconnect_s
        delay, tries, last = self.backoff_s, 0, why
        while True:
            tries += 1
            try:
                self._factory = self._attempt()
                self.reconnects += 1
                return self._factory
            except VncConnectionError as e:
                last = str(e)
                if "password" in last:
                    raise
            if time.monotonic() + delay > deadline:
                self._factory = None
                raise VncConnectionError(f"the VNC server at {self.where} dropped the connection ({why}) and "
                                         f"{tries} reconnection attempt(s) over {self.reconnect_s:g} s failed; "
                                         f"last: {last}")
            time.sleep(delay)
            delay = min(delay * 2, self.backoff_max_s)

    # ------------------------------------------------------------ calls into the reactor

    def _call(self, what: str, fn: Callable[[Any], Any]) -> Any:
        """Run ``fn(protocol)`` in the reactor thread and wait for its (possibly deferred) result."""
        from twisted.internet.defer import maybeDeferred

        with self._lock:
            factory = self._ensure()
            answer: queue.Queue[tuple[bool, Any]] = queue.Queue(maxsize=1)

            def run() -> None:
                d = maybeDeferred(fn, factory.proto)
                d.addCallbacks(lambda v: answer.put((True, v)), lambda f: answer.put((False, f)))

            self._reactor.callFromThread(run)
            deadline = time.monotonic() + self.timeout
            while True:
                try:
                    ok, value = answer.get(timeout=0.05)
                    break
                except queue.Empty:
                    if factory.lost.is_set():
                        raise VncConnectionError(f"the VNC server at {self.where} dropped the connection during "
                                                 f"{what}: {_failure_text(factory.failure)}") from None
                    if time.monotonic() > deadline:
                        self._factory = None
                        self._abort(factory)
                        raise VncConnectionError(f"the VNC server at {self.where} stopped answering: no reply to "
                                                 f"{what} within {self.timeout:g} s") from None
            if not ok:
                if isinstance(value.value, EnvError):
                    raise value.value
                raise VncConnectionError(f"VNC {what} failed: {_failure_text(value)}")
            return value

    # ------------------------------------------------------------ what the env uses

    def screen_size(self) -> tuple[int, int]:
        """(width, height) of the remote framebuffer, in pixels."""
        proto = self._ensure().proto
        screen = proto.screen
        return screen.size if screen is not None else (int(proto.width), int(proto.height))

    @property
    def desktop_name(self) -> str:
        name = getattr(self._ensure().proto, "name", b"")
        return name.decode("utf-8", "replace") if isinstance(name, bytes) else str(name)

    def capture(self) -> Image.Image:
        """The whole remote screen now, as an RGB image."""
        return self._call("a screenshot request", lambda proto: proto.grab())

    def send(self, events: Sequence[Event]) -> None:
        """Send input events (keysyms, pointer moves/buttons, pauses) in order."""
        if not events:
            return
        pause = sum(float(e[1]) for e in events if e[0] == "sleep")
        old = self.timeout
        self.timeout = old + pause  # the pauses are ours, not the server's
        try:
            self._call("sending input", lambda proto: proto.send(events))
        finally:
            self.timeout = old

    def close(self) -> None:
        """Drop the connection (without waiting on the server). Safe to call twice."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            factory, self._factory = self._factory, None
            if factory is not None and factory.proto is not None and not factory.lost.is_set():
                transport = factory.proto.transport
                with contextlib.suppress(Exception):
                    self._reactor.callFromThread(transport.loseConnection)
                    factory.lost.wait(1.0)
                if not factory.lost.is_set():
                    self._abort(factory)
