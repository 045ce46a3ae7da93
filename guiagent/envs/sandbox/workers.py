"""Building sandbox and VNC envs by name, and one private screen per evaluation worker.

    make_remote_env("sandbox", width=1280, height=800, apps=["xterm"])
    make_remote_env("vnc:localhost:5901")                     # or make_remote_env("vnc", server="localhost:5901")

    factory = WorkerEnvs.parse("vnc", endpoints="host:5901,host:5902")   # or WorkerEnvs("sandbox", options)
    env = factory(worker_index)       # worker 0 -> host:5901, worker 1 -> host:5902, worker 2 -> ConfigError

A ``WorkerEnvs`` is a small picklable value (Ray and multiprocessing ship it to workers as is). Each call makes a
new env: a fresh sandbox (its own Xvfb, HOME and processes) or a connection to that worker's own VNC endpoint, so
parallel workers never share a screen.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from guiagent.envs.base import Env
from guiagent.errors import ConfigError

REMOTE_KINDS = ("sandbox", "vnc")


def split_env_spec(spec: str) -> tuple[str, dict[str, Any]]:
    """"vnc:HOST:PORT" -> ("vnc", {"server": "HOST:PORT"}); any other name -> (name, {})."""
    if spec.startswith("vnc:"):
        from guiagent.envs.vnc.env import parse_server

        return "vnc", {"server": format_server(*parse_server(spec[4:]))}
    return spec, {}


def format_server(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def _deny_from(options: dict[str, Any], os_name: str) -> None:
    """``allow_hotkeys`` / ``deny_hotkeys`` (the CLI's recorded form) -> a ``deny`` list, as for the desktop."""
    from guiagent.envs.desktop.safety import adjusted_deny

    allow, deny = options.pop("allow_hotkeys", None), options.pop("deny_hotkeys", None)
    if allow or deny:
        if "deny" in options:
            raise ConfigError("give either deny (the whole list) or allow_hotkeys / deny_hotkeys, not both")
        options["deny"] = adjusted_deny(os_name, allow=list(allow or ()),  # type: ignore[arg-type]
                                        deny=list(deny or ()))


def make_remote_env(kind: str, **options: Any) -> Env:
    """A sandbox or VNC env. sandbox: width, height, apps, window_manager, vnc and DesktopEnv arguments;
    vnc: server ("HOST:PORT", or in the kind as "vnc:HOST:PORT"), password_env, timeout, reconnect_s, unicode,
    remote_os and DesktopEnv arguments. Both take ``allow_hotkeys`` / ``deny_hotkeys``."""
    kind, from_spec = split_env_spec(kind)
    opts = {k: v for k, v in {**options, **from_spec}.items() if v is not None}
    if kind == "sandbox":
        from guiagent.envs.sandbox.env import SandboxEnv

        _deny_from(opts, "linux")
        if "apps" in opts:
            opts["apps"] = tuple(opts["apps"])
        return _construct(SandboxEnv, opts, "sandbox")
    if kind == "vnc":
        from guiagent.envs.vnc.env import VncEnv

        if "server" not in opts:
            raise ConfigError("--env vnc needs a server: --env vnc:HOST:PORT")
        _deny_from(opts, opts.get("remote_os", "linux"))
        return _construct(VncEnv, opts, "VNC")
    raise ConfigError(f"unknown remote environment {kind!r}; choose sandbox or vnc:HOST:PORT")


def _construct(cls: type, opts: dict[str, Any], label: str) -> Env:
    import inspect

    known: set[str] = set()
    for klass in cls.__mro__:
        init = klass.__dict__.get("__init__")
        if init is not None:
            known |= {n for n, p in inspect.signature(init).parameters.items()
                      if p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL)}
    unknown = set(opts) - known - {"self"}
    if unknown:
        raise ConfigError(f"unknown {label} option(s) {sorted(unknown)}")
    try:
        return cls(**opts)
    except TypeError as e:  # an option that the env class refuses by type (a list where a number goes, ...)
        raise ConfigError(f"bad {label} option: {e}") from e


def parse_endpoints(text: str | Sequence[str]) -> tuple[str, ...]:
    """VNC endpoints from "h:p,h:p", a list, or "@FILE" (one HOST:PORT a line; # comments)."""
    from guiagent.envs.vnc.env import parse_server

    if isinstance(text, str):
        if text.startswith("@"):
            path = Path(text[1:])
            try:
                lines = path.read_text(encoding="utf-8").splitlines()
            except OSError as e:
                raise ConfigError(f"cannot read the VNC endpoint list {path}: {e.strerror or e}") from e
            items = [line.split("#", 1)[0].strip() for line in lines]
        else:
            items = [part.strip() for part in text.split(",")]
    else:
        items = [str(part).strip() for part in text]
    items = [item for item in items if item]
    if not items:
        raise ConfigError("the VNC endpoint list is empty")
    out = []
    for item in items:
        out.append(format_server(*parse_server(item)))
    if len(set(out)) != len(out):
        raise ConfigError(f"the VNC endpoint list names a server twice ({', '.join(out)}): two workers would "
                          "share one screen")
    return tuple(out)


@dataclass(frozen=True)
class WorkerEnvs:
    """Makes the env of evaluation worker ``i``: ``WorkerEnvs(...)(i)``.

    Args:
        kind: "sandbox" (a new sandbox per call) or "vnc" (worker i connects to ``endpoints[i]``).
        options: keyword arguments of ``make_remote_env`` shared by all workers (size, apps, password_env...).
        endpoints: for "vnc": one "HOST:PORT" per worker.
    """

    kind: str
    options: Mapping[str, Any] = field(default_factory=dict)
    endpoints: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.kind not in REMOTE_KINDS:
            raise ConfigError(f"per-worker envs are sandbox or vnc, got {self.kind!r}")
        if self.kind == "vnc" and not self.endpoints:
            raise ConfigError("per-worker VNC envs need one endpoint per worker (HOST:PORT,HOST:PORT,... or @FILE)")
        if self.kind == "sandbox" and self.endpoints:
            raise ConfigError("sandbox workers start their own desktops; endpoints are for --env vnc")
        if "server" in self.options:
            raise ConfigError("give the VNC servers as endpoints (one per worker), not as a server option")

    @classmethod
    def parse(cls, kind: str, options: Mapping[str, Any] | None = None,
              endpoints: str | Sequence[str] | None = None) -> WorkerEnvs:
        """From CLI-shaped input: kind "sandbox" or "vnc", endpoints "h:p,h:p" or "@FILE"."""
        return cls(kind, dict(options or {}), parse_endpoints(endpoints) if endpoints else ())

    @property
    def max_workers(self) -> int | None:
        """How many workers can have a screen of their own (None: as many as the machine can run)."""
        return len(self.endpoints) if self.kind == "vnc" else None

    def __call__(self, worker_index: int) -> Env:
        if isinstance(worker_index, bool) or not isinstance(worker_index, int) or worker_index < 0:
            raise ConfigError(f"worker index must be a whole number >= 0, got {worker_index!r}")
        if self.kind == "vnc":
            if worker_index >= len(self.endpoints):
                raise ConfigError(f"worker {worker_index} has no VNC endpoint of its own: {len(self.endpoints)} "
                                  f"given ({', '.join(self.endpoints)}); run at most {len(self.endpoints)} workers")
            return make_remote_env("vnc", **{**self.options, "server": self.endpoints[worker_index]})
        return make_remote_env("sandbox", **dict(self.options))
