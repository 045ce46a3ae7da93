"""Deeper checks for task files that users write themselves (``--tasks-dir DIR``, ``load_suite(DIR)``).

``parse_task`` checks a file's shape (keys, predicate names, plan steps). A task written by hand can still be
wrong in ways only the desktop shows: a setting that does not exist or has the wrong type, an app that is not
installed, a mail message with a misspelt field, or a check that *already passes* before the agent did anything
(so every agent "succeeds"). ``check_task_setup`` catches these by type-checking ``initial_state`` and then
building the desktop from it and running the check once, turning every problem into one ConfigError that names
the file and what to change.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from guiagent.errors import ConfigError

#: the options each app accepts in an ``initial_state.open`` entry (besides "app")
OPEN_OPTIONS: dict[str, frozenset[str]] = {
    "files": frozenset({"path"}),
    "editor": frozenset({"path", "text", "new"}),
    "calculator": frozenset(),
    "settings": frozenset({"tab"}),
    "mail": frozenset({"folder", "search", "compose"}),
    "webform": frozenset({"url", "values"}),
}
MAIL_FOLDERS = ("inbox", "sent", "drafts")
MAIL_FIELDS = frozenset({"from", "to", "cc", "subject", "body", "date", "read"})
TRASH_FIELDS = frozenset({"path", "content", "is_dir", "files"})


def check_task_setup(task: Any) -> None:
    """Raise ConfigError when ``task``'s initial state cannot be set up or its check already passes in it.

    Args:
        task: a ``Task`` from ``parse_task`` / ``load_task_file``.

    Raises:
        ConfigError: naming the task's file and the problem.
    """
    from guiagent.envs.mock.desktop import MockDesktop

    where = f"{task.source or '<task>'} ({task.id})"
    check_initial_state(task.initial_state, f"{where}: initial_state")
    try:
        desk = MockDesktop(task=task)
    except Exception as e:  # noqa: BLE001 - any failure to build the desktop is a problem of this file
        raise ConfigError(f"{where}: initial_state cannot be set up on the mock desktop: {e}") from None
    try:
        result = task.check(desk)
    finally:
        desk.close()
    if result.success:
        reasons = "; ".join(r.removeprefix("ok: ") for r in result.reasons)
        raise ConfigError(f"{where}: the check already passes in the initial state ({reasons}), so any agent "
                          f"would succeed without doing anything; change initial_state or check")


def check_initial_state(init: Mapping[str, Any], where: str) -> None:
    """Type-check the parts of an initial state that the desktop would otherwise take silently."""
    files = init.get("files", {})
    if not isinstance(files, Mapping) or not all(isinstance(v, str) for v in files.values()):
        raise ConfigError(f"{where}.files must map paths to text contents (strings)")
    dirs = init.get("dirs", [])
    if not isinstance(dirs, list) or not all(isinstance(d, str) for d in dirs):
        raise ConfigError(f"{where}.dirs must be a list of folder paths")
    _check_trash(init.get("trash", []), f"{where}.trash")
    _check_settings(init.get("settings", {}), f"{where}.settings")
    _check_mail(init.get("mail", {}), f"{where}.mail")
    if not isinstance(init.get("clipboard", ""), str):
        raise ConfigError(f"{where}.clipboard must be a string")
    clock = init.get("time", 0.0)
    if isinstance(clock, bool) or not isinstance(clock, (int, float)) or clock < 0:
        raise ConfigError(f"{where}.time must be a number of seconds >= 0")
    _check_open(init.get("open", []), f"{where}.open")


def _check_trash(trash: Any, where: str) -> None:
    if not isinstance(trash, list):
        raise ConfigError(f"{where} must be a list of {{path, content}} or {{path, is_dir, files}} objects")
    for i, item in enumerate(trash):
        if not isinstance(item, Mapping) or "path" not in item:
            raise ConfigError(f"{where}[{i}] must be an object with a path")
        unknown = set(item) - TRASH_FIELDS
        if unknown:
            raise ConfigError(f"{where}[{i}]: unknown key(s) {sorted(unknown)}; valid: {', '.join(sorted(TRASH_FIELDS))}")


def _check_settings(settings: Any, where: str) -> None:
    from guiagent.envs.mock.apps.settings import DEFAULTS, LAYOUT

    if not isinstance(settings, Mapping):
        raise ConfigError(f"{where} must be an object of setting: value")
    controls = {key: (kind, extra) for _, rows in LAYOUT for kind, key, _, extra in rows}
    for key, value in settings.items():
        if key not in DEFAULTS:
            import difflib
            close = difflib.get_close_matches(str(key), list(DEFAULTS), n=3)
            hint = f" (did you mean {', '.join(close)}?)" if close else ""
            raise ConfigError(f"{where}: unknown setting {key!r}{hint}; settings: {', '.join(DEFAULTS)}")
        kind, extra = controls.get(key, ("", None))
        if kind in ("switch", "checkbox") and not isinstance(value, bool):
            raise ConfigError(f"{where}.{key} is a switch: true or false, got {value!r}")
        if kind == "slider" and (isinstance(value, bool) or not isinstance(value, int)
                                 or not extra[0] <= value <= extra[1]):
            raise ConfigError(f"{where}.{key} is a slider: a whole number from {extra[0]} to {extra[1]}, "
                              f"got {value!r}")
        if kind in ("dropdown", "radio") and value not in extra:
            raise ConfigError(f"{where}.{key} must be one of {', '.join(map(str, extra))}; got {value!r}")


def _check_mail(mail: Any, where: str) -> None:
    if not isinstance(mail, Mapping):
        raise ConfigError(f"{where} must be an object with inbox / sent / drafts lists")
    for folder, messages in mail.items():
        if folder not in MAIL_FOLDERS:
            raise ConfigError(f"{where}: unknown folder {folder!r}; folders: {', '.join(MAIL_FOLDERS)}")
        if not isinstance(messages, list):
            raise ConfigError(f"{where}.{folder} must be a list of messages")
        for i, msg in enumerate(messages):
            here = f"{where}.{folder}[{i}]"
            if not isinstance(msg, Mapping):
                raise ConfigError(f"{here} must be an object with {', '.join(sorted(MAIL_FIELDS))}")
            unknown = set(msg) - MAIL_FIELDS
            if unknown:
                raise ConfigError(f"{here}: unknown field(s) {sorted(unknown)}; fields: {', '.join(sorted(MAIL_FIELDS))}")
            for name, value in msg.items():
                if name != "read" and not isinstance(value, str):
                    raise ConfigError(f"{here}.{name} must be a string, got {value!r}")
            if not isinstance(msg.get("read", False), bool):
                raise ConfigError(f"{here}.read must be true or false")


def _check_open(entries: Any, where: str) -> None:
    from guiagent.envs.mock.apps import APP_CLASSES

    if not isinstance(entries, list):
        raise ConfigError(f"{where} must be a list of app ids or {{\"app\": id, ...options}} objects")
    ids = {cls.app_id for cls in APP_CLASSES}
    for i, entry in enumerate(entries):
        here = f"{where}[{i}]"
        if isinstance(entry, str):
            continue  # resolved (with aliases) by the desktop itself, which names the valid apps
        if not isinstance(entry, Mapping) or not isinstance(entry.get("app"), str):
            raise ConfigError(f"{here} must be an app id or an object with an \"app\" key")
        app = entry["app"]
        options = set(entry) - {"app"}
        allowed = OPEN_OPTIONS.get(app)
        if allowed is None:
            if app not in ids:
                continue  # an alias or an unknown app: the desktop says which
            allowed = frozenset()
        unknown = options - allowed
        if unknown:
            valid = ", ".join(sorted(allowed)) or "none"
            raise ConfigError(f"{here}: {app} does not take option(s) {sorted(unknown)}; its options: {valid}")
