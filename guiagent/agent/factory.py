"""Build environments by name, and rebuild the one a run was recorded on (for replay).

Every run records ``env_options`` in meta.json: the keyword arguments that rebuild its environment (for the mock
desktop: size, scale, seed, task id; for the real desktop: monitor, scale, failsafe, unicode_method and the
deny-list changes), so ``guiagent replay`` can start from the same state with the same safety settings.
A run folder is untrusted input, so replay rebuilds from the harmless recorded options only
(``SAFE_RECORDED_OPTIONS``); programs, paths, servers and looser safety settings come from the user's flags.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Mapping
from typing import Any

from guiagent.envs.base import Env
from guiagent.errors import ConfigError

ENV_KINDS = ("mock", "desktop", "sandbox", "vnc")


def get_mock_task(task_id: str, tasks_dir: str | None = None) -> Any:
    """The mock desktop task called ``task_id``, from the built-in suite or the task files in ``tasks_dir``
    (ConfigError naming the valid ids when unknown, or what is wrong with a file)."""
    try:
        from guiagent.envs.mock.tasks import get_task
    except ImportError as e:
        raise ConfigError("the mock desktop's task suite (guiagent.envs.mock.tasks) is not installed in this "
                          "build") from e
    return get_task(task_id, tasks_dir)  # ConfigError naming close matches when unknown


def make_env(kind: str, **options: Any) -> Env:
    """Create an environment, in its initial state (constructing an env resets it; no extra reset is needed).

    Args:
        kind: "mock", "desktop", "sandbox", "vnc" or "vnc:HOST:PORT" (see ``ENV_KINDS``).
        options: the env's settings; None values are dropped (mock, desktop). mock: width, height (points),
            scale, seed, task (an id), tasks_dir (a folder of task files to take the task from instead of the
            built-in suite); desktop: monitor, scale and the other DesktopEnv keyword arguments, plus
            ``allow_hotkeys`` / ``deny_hotkeys`` (lists of "key+key" strings taken off / added to the OS's
            default deny list; recorded instead of the whole list so a run replays on another OS too);
            sandbox and vnc: the options of SandboxEnv and VncEnv.

    Returns:
        The environment.

    Raises:
        ConfigError: an unknown kind or option, or a bad value (size, seed, task id).
        EnvError: the environment could not start (no display, missing packages, unreachable server).
    """
    if kind == "mock":
        from guiagent.envs.mock import MockDesktop

        opts = {k: v for k, v in options.items() if v is not None}
        task_id = opts.pop("task", None)
        tasks_dir = opts.pop("tasks_dir", None)
        if tasks_dir is not None and not task_id:
            raise ConfigError("tasks_dir (--tasks-dir) needs a task id (--task) to pick from it")
        unknown = set(opts) - {"width", "height", "scale", "seed", "step_seconds"}
        if unknown:
            raise ConfigError(f"unknown mock desktop option(s) {sorted(unknown)}")
        from guiagent.envs.mock import check_size
        from guiagent.errors import EnvError

        try:  # options from the command line or a run folder: a bad size is the user's to fix
            check_size(opts.get("width", 1280), opts.get("height", 800), opts.get("scale", 1.0))
        except EnvError as e:
            raise ConfigError(str(e)) from None
        seed = opts.get("seed", 0)
        if isinstance(seed, bool) or not isinstance(seed, int):
            raise ConfigError(f"mock desktop seed must be a whole number, got {seed!r}")
        if task_id is not None and not isinstance(task_id, str):
            raise ConfigError(f"mock desktop task must be a task id, got {task_id!r}")
        task = get_mock_task(task_id, tasks_dir) if task_id else None
        return MockDesktop(task=task, **opts)
    if kind == "desktop":
        return _make_desktop({k: v for k, v in options.items() if v is not None})
    if kind in ("sandbox", "vnc") or kind.startswith("vnc:"):  # sandbox: options of SandboxEnv; vnc: of VncEnv
        from guiagent.envs.sandbox.workers import make_remote_env

        return make_remote_env(kind, **options)
    raise ConfigError(f"unknown environment {kind!r}; choose one of: {', '.join(ENV_KINDS)}")


def _make_desktop(opts: dict[str, Any]) -> Env:
    import inspect

    from guiagent.envs.desktop import DesktopEnv
    from guiagent.envs.desktop.keymap import check_os, current_os
    from guiagent.envs.desktop.safety import adjusted_deny

    allow, deny = opts.pop("allow_hotkeys", None), opts.pop("deny_hotkeys", None)
    params = inspect.signature(DesktopEnv).parameters
    takes_any = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values())
    unknown = set() if takes_any else set(opts) - set(params)
    if unknown:
        raise ConfigError(f"unknown desktop option(s) {sorted(unknown)}")
    if allow or deny:
        if "deny" in opts:
            raise ConfigError("give either deny (the whole list) or allow_hotkeys / deny_hotkeys, not both")
        os_name = check_os(opts.get("os_name") or current_os())
        opts["deny"] = adjusted_deny(os_name, allow=list(allow or ()), deny=list(deny or ()))
    return DesktopEnv(**opts)


def _number(low: float, high: float) -> Callable[[Any], bool]:
    return lambda v: (not isinstance(v, bool) and isinstance(v, (int, float)) and math.isfinite(v)
                      and low <= v <= high)


def _anything(value: Any) -> bool:  # checked by make_env itself, with a one-line ConfigError
    return True


def _text(value: Any) -> bool:
    return isinstance(value, str) and len(value) <= 64


def _combos(value: Any) -> bool:  # extra deny-list entries: they only refuse more
    return isinstance(value, list) and len(value) <= 100 and all(isinstance(c, str) and len(c) <= 64 for c in value)


def _monitor(value: Any) -> bool:
    return value in ("all", "primary") or (isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 64)


#: The recorded env options that are plain, harmless data, per env kind, with the check a value must pass; replay
#: keeps only these. A run folder is untrusted input (people share them): an option that starts a program
#: (sandbox apps, vnc), names a path (tasks_dir) or a server / password, or loosens a safety setting (allow_hotkeys,
#: a whole deny list, failsafe off on the real desktop) is never taken from it.
SAFE_RECORDED_OPTIONS: dict[str, dict[str, Callable[[Any], bool]]] = {
    "mock": {"width": _anything, "height": _anything, "scale": _anything, "seed": _anything, "task": _anything,
             "step_seconds": _number(0, 3600)},
    "desktop": {"monitor": _monitor, "scale": _number(0.1, 16), "unicode_method": _text, "deny_hotkeys": _combos,
                "failsafe": lambda v: v is True},  # the fail-safe on is the default; off loosens it
    "sandbox": {"width": _anything, "height": _anything, "scale": _number(0.1, 16), "unicode_method": _text,
                "deny_hotkeys": _combos, "failsafe": lambda v: isinstance(v, bool)},  # a sandbox's default is off
    "vnc": {"scale": _number(0.1, 16), "unicode": _text, "deny_hotkeys": _combos},
}

#: the ``guiagent replay`` flag that supplies an option replay does not take from a run folder
REPLAY_FLAGS = {"tasks_dir": "--tasks-dir", "apps": "--sandbox-app", "vnc": "--sandbox-vnc",
                "allow_hotkeys": "--allow-hotkey", "failsafe": "--no-failsafe", "server": "--env vnc:HOST:PORT",
                "password_env": "--vnc-password-env", "timeout": "--vnc-timeout", "reconnect_s": "--vnc-reconnect",
                "remote_os": "--remote-os", "unicode": "--vnc-unicode"}

#: the options a replay may be given explicitly (from its command line), per env kind
GIVEN_OPTIONS = {"mock": {"tasks_dir"}, "desktop": {"allow_hotkeys", "failsafe"},
                 "sandbox": {"apps", "vnc", "allow_hotkeys", "failsafe"},
                 "vnc": {"password_env", "timeout", "reconnect_s", "remote_os", "unicode", "allow_hotkeys"}}


def safe_recorded_options(kind: str, recorded: Mapping[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """Split a run folder's recorded ``env_options`` into the ones safe to rebuild an env from and the rest.

    Args:
        kind: the env kind the options were recorded for ("mock", "desktop", "sandbox" or "vnc").
        recorded: meta.json's ``env_options``.

    Returns:
        (the options in ``SAFE_RECORDED_OPTIONS[kind]`` whose values pass its check, the names of the others
        in sorted order).
    """
    safe = SAFE_RECORDED_OPTIONS.get(kind, {})
    kept = {k: v for k, v in recorded.items() if k in safe and v is not None and safe[k](v)}
    return kept, sorted(str(k) for k, v in recorded.items() if k not in kept and v is not None)


def env_from_meta(meta: Mapping[str, Any], kind: str | None = None, *, given: Mapping[str, Any] | None = None,
                  warn: Callable[[str], None] | None = None) -> tuple[Env, dict[str, Any]]:
    """Rebuild the environment a run was recorded on, in the initial state of the recorded seed and task.

    Only the recorded options in ``SAFE_RECORDED_OPTIONS`` are used: nothing a run folder names is started, read,
    connected to or allowed. What the recording needed beyond them (a task folder, sandbox apps, a VNC server,
    allowed hotkeys) must come from ``given``: the options the user passed on the replay command line.

    Args:
        meta: the run's meta.json.
        kind: the env to replay on ("mock", "desktop", "sandbox", "vnc" or "vnc:HOST:PORT"); default: the recorded.
        given: options from the user, by ``make_env`` name (see ``GIVEN_OPTIONS`` and ``REPLAY_FLAGS``).
        warn: called with one line per recorded option left out (default: ``warnings.warn``).

    Returns:
        The environment and the options it was built with.

    Raises:
        ConfigError: an unknown kind, a given option that does not apply to it, a task recorded from a task
            folder without ``tasks_dir`` given, a VNC run without a server given, or a bad option value.
        EnvError: the environment could not start.
    """
    recorded = (meta.get("env") or {}).get("name")
    kind = kind or recorded
    base = "vnc" if isinstance(kind, str) and kind.startswith("vnc:") else kind
    if base not in ENV_KINDS:
        raise ConfigError(f"the run was recorded on env {recorded!r}; replay needs --env {' or --env '.join(ENV_KINDS)}")
    given = {k: v for k, v in (given or {}).items() if v is not None}
    wrong = sorted(set(given) - GIVEN_OPTIONS[base])
    if wrong:
        flags = ", ".join(REPLAY_FLAGS.get(k, k) for k in wrong)
        raise ConfigError(f"{flags} do(es) not apply to replaying on --env {base}")
    raw = meta.get("env_options") or {}
    raw = dict(raw) if isinstance(raw, Mapping) else {}
    if base == "mock" and recorded == "mock" and not raw:
        # recorded from Python without env_options: size and scale are in meta.env
        env = meta.get("env") or {}
        scale = float(env.get("scale") or 1.0)
        w, h = env.get("size") or (1280, 800)
        raw = {"width": round(w / scale), "height": round(h / scale), "scale": scale, "task": meta.get("task")}
    if base != recorded:  # options of one kind mean nothing to the other
        raw = {}
    options, dropped = safe_recorded_options(base, raw)
    if base == "mock" and raw.get("tasks_dir") is not None and options.get("task") and "tasks_dir" not in given:
        raise ConfigError(f"the run's task {str(options['task'])[:80]!r} was recorded from a task folder; replay "
                          f"reads no folder a run folder names: pass --tasks-dir DIR")
    if base == "vnc" and kind == "vnc":
        raise ConfigError("replay connects to no VNC server a run folder names: pass --env vnc:HOST:PORT")
    say = warn or (lambda line: warnings.warn(line, stacklevel=3))
    for name in dropped:
        if name in given or (name == "server" and kind != base):
            continue
        flag = REPLAY_FLAGS.get(name)
        how = f"pass {flag} to replay to supply it" if flag else "the default is used"
        say(f"ignored the recorded env option {name[:40]!r}: replay takes no programs, paths, servers or safety "
            f"changes from a run folder; {how}")
    options.update(given)
    return make_env(kind, **options), options


def task_evaluator(env: Env) -> Callable[[], dict[str, Any]] | None:
    """For a mock desktop with a task: a function checking the task on the env's current state."""
    task = getattr(env, "task", None)
    if task is None or not callable(getattr(task, "check", None)):
        return None

    def evaluate() -> dict[str, Any]:
        result = task.check(env)
        return {"success": bool(result.success), "reasons": [str(r) for r in getattr(result, "reasons", [])]}

    return evaluate
