"""Build environments by name, and rebuild the one a run was recorded on (for replay).

Every run records ``env_options`` in meta.json: the keyword arguments that rebuild its environment (for the mock
desktop: size, scale, seed, task id; for the real desktop: monitor, scale, failsafe, unicode_method and the
deny-list changes), so ``guiagent replay`` can start from the same state with the same safety settings.
"""

from __future__ import annotations

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


def env_from_meta(meta: Mapping[str, Any], kind: str | None = None) -> tuple[Env, dict[str, Any]]:
    """Rebuild the environment a run was recorded on (``kind`` overrides the recorded one); returns it, in the
    initial state of the recorded seed and task, and the options used."""
    recorded = (meta.get("env") or {}).get("name")
    kind = kind or recorded
    if kind not in ENV_KINDS:
        raise ConfigError(f"the run was recorded on env {recorded!r}; replay needs --env {' or --env '.join(ENV_KINDS)}")
    options = dict(meta.get("env_options") or {})
    if kind == "mock" and recorded == "mock" and not options:
        # recorded from Python without env_options: size and scale are in meta.env
        env = meta.get("env") or {}
        scale = float(env.get("scale") or 1.0)
        w, h = env.get("size") or (1280, 800)
        options = {"width": round(w / scale), "height": round(h / scale), "scale": scale, "task": meta.get("task")}
    if kind != recorded:  # options of one kind mean nothing to the other
        options = {}
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
