"""A ScreenSpot-format grounding dataset made from the mock desktop (``guiagent make-grounding --suite mock``).

Screens cover every app (cycled first), at several screen sizes and HiDPI scales, in four variants: the app
alone, the app with the desktop's context menu open, the app with a second app on top, and the app with a
menu-bar menu open (where it has one). On each screen, up to ``per_screen`` elements are picked (seeded, element
types in turn) among the visible, unambiguous ones of the accessibility tree. Element types: ``text``
(buttons, list items, tabs, links, switches, labels), ``icon`` (desktop icons, window controls), ``field`` (text
fields and areas), ``menu item``.

Written to OUT:
  images/mock-NNN-APP.png         the screenshots (physical pixels)
  mock_desktop.json               the annotations: img_filename, bbox [x, y, w, h] in image pixels, instruction,
                                  data_type, data_source (the app), id
  trees/mock-NNN-APP.json         each screen's elements (role, name, box in image pixels, window): what the
                                  scripted grounding model answers from
"""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from guiagent.errors import ConfigError, GuiAgentError

#: (width, height, scale) of the screens, cycled
SCREEN_CONFIGS = ((1280, 800, 1.0), (1024, 768, 1.0), (1440, 900, 1.0), (1280, 800, 1.5))
VARIANTS = ("plain", "context-menu", "two-apps", "menu-bar")
WINDOW_CONTROLS = ("Close", "Maximize", "Minimize")
_TEXT_ROLES = {"button": "button", "list_item": "list item", "tab": "tab", "link": "link", "switch": "switch",
               "label": "label"}
_FIELD_ROLES = {"text_field": "text field", "text_area": "text area"}
_HIDDEN = {"occluded", "offscreen"}
ANNOTATION_FILE = "mock_desktop.json"


def describe(node: dict[str, Any]) -> tuple[str, str] | None:
    """(element type, instruction) for a tree node (``{"role", "name", "window"}``), or None if not a target.

    The instruction names the element the way ScreenSpot's short instructions do; the scripted grounding model
    uses the same function to find the node an instruction names.
    """
    role, name = node.get("role"), (node.get("name") or "").strip()
    if not name or len(name) > 60:
        return None
    if role == "icon":
        return "icon", f'the "{name}" icon'
    if role == "button" and name in WINDOW_CONTROLS and node.get("window"):
        return "icon", f'the {name.lower()} button of the "{node["window"]}" window'
    if role in _FIELD_ROLES:
        return "field", f'the "{name}" {_FIELD_ROLES[role]}'
    if role == "menu_item":
        return "menu item", f'the "{name}" menu item'
    if role in _TEXT_ROLES:
        return "text", f'the "{name}" {_TEXT_ROLES[role]}'
    return None


@dataclass(frozen=True)
class GroundingSet:
    """What ``make_mock_grounding`` wrote."""

    folder: Path
    screens: int
    samples: int
    by_type: dict[str, int]


#: Bounds that catch a typo before it fills the disk (a screen is ~100 kB of PNG plus its tree).
MAX_SCREENS, MAX_PER_SCREEN = 10_000, 1_000


def make_mock_grounding(out: str | Path, *, screens: int = 48, per_screen: int = 6, seed: int = 0,
                        force: bool = False, progress=None) -> GroundingSet:
    """Render the screens and write the dataset (see the module docstring).

    Args:
        out: the folder to write (created; must be empty unless ``force``). The dataset is built in a hidden
            sibling folder and moved to ``out`` only when complete; on an error or an interrupt nothing is left.
        screens: how many screens (cycled over apps, then sizes, then variants).
        per_screen: at most this many elements per screen.
        seed: picks the elements and the menu positions.
        force: write into a folder that is not empty: a previous dataset's files there (images/, trees/, the
            annotations) are replaced once the new dataset is complete; other files are left alone.
        progress: called with (screens done, screens) after each screen.

    Raises:
        ConfigError: counts outside 1..MAX_SCREENS / 1..MAX_PER_SCREEN, or an output folder that holds other
            files, or one that cannot be made.
        GuiAgentError: the dataset could not be written (a full disk); nothing was written.
    """
    if not 1 <= screens <= MAX_SCREENS or not 1 <= per_screen <= MAX_PER_SCREEN:
        raise ConfigError(f"screens must be 1 to {MAX_SCREENS:,} and per_screen 1 to {MAX_PER_SCREEN:,}, got "
                          f"{screens} and {per_screen}")
    folder = Path(out).expanduser()
    if folder.exists() and not folder.is_dir():
        raise ConfigError(f"{folder} is a file, not a folder")
    if folder.is_dir() and any(folder.iterdir()) and not force:
        raise ConfigError(f"{folder} is not empty: choose a new folder, or pass --force to write into it")
    # Built in a sibling folder and moved into place only when complete: an interrupted or failed run leaves
    # neither a half-written dataset (which a re-run would refuse as "not empty") nor a damaged old one.
    target = folder.resolve()
    partial = target.parent / f".{target.name}.partial-{os.getpid()}"
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        if partial.exists():  # left by an earlier process with this id, killed outright: ours to reuse
            shutil.rmtree(partial)
        (partial / "images").mkdir(parents=True)
        (partial / "trees").mkdir()
    except OSError as e:  # a parent that is a file, a read-only place
        raise ConfigError(f"cannot make the dataset folder {folder}: {e.strerror or e}") from e
    try:
        records = _write_screens(partial, screens, per_screen, seed, progress)
        (partial / ANNOTATION_FILE).write_text(json.dumps(records, indent=1), encoding="utf-8")
        with _signals_held():
            _move_into_place(partial, target)
    except OSError as e:
        shutil.rmtree(partial, ignore_errors=True)
        raise GuiAgentError(f"cannot write the dataset in {folder}: {e.strerror or e}; nothing was written") from e
    except BaseException:  # Ctrl-C, SIGTERM (the CLI raises KeyboardInterrupt for it), a bug: leave no trace
        shutil.rmtree(partial, ignore_errors=True)
        raise
    by_type: dict[str, int] = {}
    for r in records:
        by_type[r["data_type"]] = by_type.get(r["data_type"], 0) + 1
    return GroundingSet(folder, screens, len(records), by_type)


def _write_screens(folder: Path, screens: int, per_screen: int, seed: int, progress) -> list[dict[str, Any]]:
    """Render the screens into ``folder`` (images/ and trees/) and return the annotation records."""
    from guiagent.envs.mock.tasks import APPS

    rng = random.Random(seed)
    records: list[dict[str, Any]] = []
    for i in range(screens):
        app = APPS[i % len(APPS)]
        width, height, scale = SCREEN_CONFIGS[(i + i // len(APPS)) % len(SCREEN_CONFIGS)]
        variant = VARIANTS[(i // (len(APPS) * len(SCREEN_CONFIGS)) + i) % len(VARIANTS)]
        stem = f"mock-{i:03d}-{app}"
        image, nodes = _screen(app, variant, width, height, scale, seed + i, rng, APPS)
        _write_screen(folder, stem, image, {"size": list(image.size), "app": app, "variant": variant,
                                            "nodes": nodes})
        targets = _targets(nodes, image.size)
        for node in _pick(targets, per_screen, rng):
            elem_type, instruction = describe(node)  # type: ignore[misc]
            x1, y1, x2, y2 = node["box"]
            records.append({"id": f"{stem}#{len(records)}", "img_filename": f"{stem}.png",
                            "bbox": [x1, y1, round(x2 - x1, 2), round(y2 - y1, 2)], "instruction": instruction,
                            "data_type": elem_type, "data_source": app, "variant": variant})
        if progress is not None:
            progress(i + 1, screens)
    return records


def _write_screen(folder: Path, stem: str, image: Any, tree: dict[str, Any]) -> None:
    """Write one screen's image and element tree."""
    image.save(folder / "images" / f"{stem}.png")
    (folder / "trees" / f"{stem}.json").write_text(json.dumps(tree, indent=1), encoding="utf-8")


#: What a dataset folder holds; ``--force`` replaces these and leaves anything else in the folder alone.
_DATASET_ENTRIES = ("images", "trees", ANNOTATION_FILE)


def _move_into_place(partial: Path, target: Path) -> None:
    """Move the complete dataset in ``partial`` to ``target``: a rename when ``target`` is new or empty, else
    (``--force``) the old dataset's entries are swapped for the new ones, and put back if a move fails."""
    if not target.exists() or (target.is_dir() and not any(target.iterdir())):
        os.replace(partial, target)
        return
    old = target.parent / f".{target.name}.old-{os.getpid()}"
    shutil.rmtree(old, ignore_errors=True)
    old.mkdir()
    moved_out: list[str] = []
    moved_in: list[str] = []
    try:
        for name in _DATASET_ENTRIES:
            if os.path.lexists(target / name):
                os.replace(target / name, old / name)
                moved_out.append(name)
        for name in _DATASET_ENTRIES:
            os.replace(partial / name, target / name)
            moved_in.append(name)
    except OSError:
        for name in moved_in:
            os.replace(target / name, partial / name)
        for name in moved_out:
            os.replace(old / name, target / name)
        old.rmdir()
        raise
    shutil.rmtree(old, ignore_errors=True)
    shutil.rmtree(partial, ignore_errors=True)


@contextmanager
def _signals_held() -> Iterator[None]:
    """Hold off Ctrl-C and SIGTERM while the finished dataset is moved into place, so that an interrupt cannot
    leave it half moved; one that arrives meanwhile is dropped (the dataset is complete: the command then ends
    normally). Outside the main thread, where handlers cannot be set, it does nothing."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    held = (signal.SIGINT, signal.SIGTERM)
    previous = {sig: signal.signal(sig, lambda signum, frame: None) for sig in held}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _screen(app: str, variant: str, width: int, height: int, scale: float, seed: int, rng: random.Random,
            apps: tuple[str, ...]):
    from guiagent.actions import types as T
    from guiagent.envs.mock import MockDesktop

    desk = MockDesktop(width=width, height=height, scale=scale, seed=seed)
    try:
        desk.launch(app)
        if variant == "two-apps":
            desk.launch(apps[(apps.index(app) + 1) % len(apps)])
        elif variant == "context-menu":
            desk.open_context_menu(desk.desktop_menu_entries(), rng.uniform(0.3, 0.6) * width,
                                   rng.uniform(0.2, 0.5) * height)
        elif variant == "menu-bar":
            item = next((n for n in desk.accessibility_tree().walk() if n.role == "menu_item"), None)
            if item is not None:
                x, y = item.center
                desk.execute(T.Click(T.Point(x, y, T.Space.SCREEN)))
        image = desk.observe().screenshot
        nodes = _flatten(desk.accessibility_tree(), desk.display)
    finally:
        desk.close()
    return image, nodes


def _flatten(root: Any, display: Any) -> list[dict[str, Any]]:
    """The tree's nodes with boxes in image pixels and the window each belongs to."""
    from guiagent.actions import types as T

    out: list[dict[str, Any]] = []

    def visit(node: Any, window: str | None) -> None:
        if node.role in ("window", "dialog"):
            window = node.name
        x, y, w, h = node.bounds
        a = display.to_screenshot(T.Point(x, y, T.Space.SCREEN))
        b = display.to_screenshot(T.Point(x + w, y + h, T.Space.SCREEN))
        out.append({"role": node.role, "name": node.name, "box": [round(a.x, 2), round(a.y, 2), round(b.x, 2),
                                                                   round(b.y, 2)],
                    "states": sorted(node.states), "window": window})
        for child in node.children:
            visit(child, window)

    visit(root, None)
    return out


def _pick(targets: list[dict[str, Any]], k: int, rng: random.Random) -> list[dict[str, Any]]:
    """Up to ``k`` targets, taking the element types in turn (so rarer types such as fields are not crowded out
    by the many icons), each type's elements in a seeded random order."""
    by_type: dict[str, list[dict[str, Any]]] = {}
    for n in targets:
        by_type.setdefault(describe(n)[0], []).append(n)  # type: ignore[index]
    pools = [rng.sample(v, len(v)) for _, v in sorted(by_type.items())]
    picked: list[dict[str, Any]] = []
    while len(picked) < k and any(pools):
        for pool in pools:
            if pool and len(picked) < k:
                picked.append(pool.pop())
    return picked


def _targets(nodes: list[dict[str, Any]], size: tuple[int, int]) -> list[dict[str, Any]]:
    """Visible nodes with a description that no other node on the screen shares."""
    counts: dict[str, int] = {}
    for n in nodes:
        d = describe(n)
        if d is not None:
            counts[d[1]] = counts.get(d[1], 0) + 1
    out = []
    for n in nodes:
        d = describe(n)
        x1, y1, x2, y2 = n["box"]
        if d is None or counts[d[1]] != 1 or _HIDDEN & set(n["states"]):
            continue
        if x2 - x1 < 4 or y2 - y1 < 4 or x1 < 0 or y1 < 0 or x2 > size[0] or y2 > size[1]:
            continue
        out.append(n)
    return out
