"""MiniWoB++ tasks as a guiagent environment: the browser's screenshot in, typed actions out as MiniWoB actions.

    env = MiniWoBEnv("click-button", device_scale=2)
    obs = env.reset(seed=3)          # obs.info["utterance"]: 'Click on the "ok" button.'
    env.execute(Click(Point(120, 180)))   # SCREENSHOT pixels -> CSS pixels of the page -> CLICK_COORDS
    env.result()                     # MiniWoB's own reward once the task ended

Coordinate spaces. MiniWoB's coordinate actions take CSS pixels of the page, and its task area is the
``task_width x task_height`` (160 x 210) box at the page's top-left corner. Chromium renders that box at the
device pixel ratio ``r`` (``device_scale``), so our screenshot is the task area in physical pixels,
``160r x 210r``, and ``display`` is ``Display((160r, 210r), scale=r)``: SCREEN points are exactly MiniWoB's CSS
pixels, and the one screenshot -> screen map (``guiagent.actions.coords``) gives MiniWoB's coordinates. The ratio
is measured (screenshot width / ``window.innerWidth``), not assumed.

The gymnasium environment underneath is miniwob's own ``MiniWoBEnvironment`` (its reset, step, reward and field
extraction), driving Debian's Chromium (``browser.py``). One browser serves many episodes and tasks
(``MiniWoBBrowser``): switching task loads the task's page in the same browser.
"""

from __future__ import annotations

import io
import time
from dataclasses import dataclass
from typing import Any

from PIL import Image

from guiagent.actions import types as T
from guiagent.actions.coords import Display
from guiagent.actions.keys import canonical_key
from guiagent.envs.base import Observation
from guiagent.errors import ActionError, ConfigError, EnvError, UnsupportedAction

#: guiagent key names -> MiniWoB's key notation (modifiers are prefixes: "C-a")
_SPECIAL_KEYS = {"enter": "<Enter>", "pageup": "<PageUp>", "pagedown": "<PageDown>", "backspace": "<Backspace>",
                 "delete": "<Delete>", "tab": "<Tab>", "space": "<Space>", "up": "<ArrowUp>",
                 "right": "<ArrowRight>", "down": "<ArrowDown>", "left": "<ArrowLeft>"}
_MODIFIER_PREFIX = {"ctrl": "C-", "shift": "S-", "alt": "A-", "cmd": "M-"}


class EpisodeOver(EnvError):
    """MiniWoB ended the episode (task done or its timer ran out): nothing more can be done in it."""

    fatal = True


@dataclass(frozen=True)
class MiniWoBResult:
    """MiniWoB's verdict on an episode.

    done        whether MiniWoB ended the episode
    reward      MiniWoB's reward (positive rewards are scaled by the time left), in [-1, 1]; 0 while not done
    raw_reward  the reward without the time penalty; success is ``raw_reward > 0``
    reason      MiniWoB's explanation, where the task gives one
    """

    done: bool
    reward: float
    raw_reward: float
    reason: str | None = None

    @property
    def success(self) -> bool:
        return self.done and self.raw_reward > 0


def _gym_class():
    from miniwob.environment import MiniWoBEnvironment

    from guiagent.envs.miniwob.browser import make_instance_class

    instance_class = make_instance_class()

    class ChromiumMiniWoB(MiniWoBEnvironment):
        """miniwob's gymnasium environment, in our Chromium at a fixed device pixel ratio."""

        def __init__(self, subdomain: str, device_scale: float):
            self._device_scale = device_scale
            super().__init__(subdomain=subdomain)

        def _hard_reset_instance(self) -> None:
            if getattr(self, "instance", None):
                self.instance.close()
            self.instance = instance_class(index=0, **self.instance_kwargs)
            self.instance.device_scale = self._device_scale
            self.instance.start()
            self.instance.wait()

    return ChromiumMiniWoB


def check_task_name(task: str) -> str:
    """Raise ConfigError unless ``task`` names a MiniWoB task page (close matches named)."""
    import difflib

    from guiagent.envs.miniwob.tasks import all_task_names

    names = all_task_names()
    if task not in names:
        close = difflib.get_close_matches(task, names, n=3)
        hint = f"; did you mean {', '.join(close)}?" if close else ""
        raise ConfigError(f"unknown MiniWoB task {task!r}{hint}")
    if task.startswith("flight."):
        raise ConfigError(f"MiniWoB task {task!r} is a FlightWoB task, which needs a web server: not supported")
    return task


class MiniWoBBrowser:
    """One headless Chromium running miniwob's gymnasium environment; ``load(task)`` switches task in place.

    Args:
        task: the first task (MiniWoB subdomain, e.g. "click-button").
        device_scale: the browser's device pixel ratio (2 renders like a HiDPI screen).

    Raises:
        ConfigError: unknown task, or Chromium / chromedriver not installed.
        EnvError: the browser could not be started.
    """

    def __init__(self, task: str, device_scale: float = 1.0):
        check_task_name(task)
        if not (0.5 <= float(device_scale) <= 4):
            raise ConfigError(f"device_scale must be between 0.5 and 4, got {device_scale!r}")
        self.device_scale = float(device_scale)
        try:
            self.gym = _gym_class()(task, self.device_scale)
        except ConfigError:
            raise
        except Exception as e:  # noqa: BLE001 - selenium's many errors, mapped at the boundary
            raise EnvError(f"could not start Chromium for MiniWoB: {type(e).__name__}: {str(e).strip()[:300]}") from e
        self.task = task
        self.closed = False

    @property
    def instance(self) -> Any:
        return self.gym.instance

    def load(self, task: str) -> None:
        """Switch to another task (its page, its field extractor); a no-op for the current task."""
        if task == self.task:
            return
        import urllib.parse

        from miniwob.fields import get_field_extractor

        check_task_name(task)
        inst = self.instance
        inst.url = urllib.parse.urljoin(inst.url, f"{task}.html")
        inst.field_extractor = get_field_extractor(task)
        inst.load_page()
        self.gym.subdomain = task
        self.task = task

    def close(self) -> None:
        """Quit the browser (safe twice)."""
        if not self.closed:
            self.closed = True
            try:
                self.gym.close()
            except Exception:  # noqa: BLE001 - a browser that is already gone is closed
                pass


class MiniWoBEnv:
    """A MiniWoB++ task as a guiagent ``Env`` (see the module docstring).

    Args:
        task: the MiniWoB task (subdomain), e.g. "click-button".
        device_scale: the browser's device pixel ratio (ignored when ``browser`` is given).
        browser: a running ``MiniWoBBrowser`` to use (not closed by ``close``); None starts one for this env.
    """

    name = "miniwob"

    def __init__(self, task: str, *, device_scale: float = 1.0, browser: MiniWoBBrowser | None = None):
        self._owns_browser = browser is None
        self.browser = browser or MiniWoBBrowser(task, device_scale)
        self.browser.load(task)
        self.task = task
        self.utterance = ""
        self.fields: tuple[tuple[str, str], ...] = ()
        self.actions_done = 0
        self._result: MiniWoBResult | None = None
        self._pointer: tuple[float, float] | None = None
        self._ratio = self.browser.device_scale
        self._closed = False

    # ------------------------------------------------------------------ Env

    @property
    def task_size(self) -> tuple[int, int]:
        """MiniWoB's task area in CSS pixels (160 x 210 for every non-flight task)."""
        inst = self.browser.instance
        return int(inst.task_width), int(inst.task_height)

    @property
    def display(self) -> Display:
        w, h = self.task_size
        return Display((round(w * self._ratio), round(h * self._ratio)), scale=self._ratio)

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> Observation:
        """Start a new episode of the task (MiniWoB's seed: the same seed gives the same instance)."""
        self._check_open()
        try:
            obs, info = self.browser.gym.reset(seed=seed, options={"record_screenshots": False})
        except Exception as e:  # noqa: BLE001
            raise EnvError(f"MiniWoB could not start an episode of {self.task}: {type(e).__name__}: {e}") from e
        self.utterance = str(obs["utterance"])
        self.fields = tuple((str(k), str(v)) for k, v in obs["fields"])
        self.actions_done = 0
        self._result = None
        self._pointer = None
        return self.observe()

    def observe(self) -> Observation:
        """The task area, captured from the browser in physical pixels."""
        self._check_open()
        inst = self.browser.instance
        try:
            png = inst.driver.get_screenshot_as_png()
        except Exception as e:  # noqa: BLE001
            raise EnvError(f"could not capture the browser: {type(e).__name__}: {e}") from e
        image = Image.open(io.BytesIO(png)).convert("RGB")
        self._ratio = image.width / float(inst.inner_width)
        w, h = self.display.size_px
        if image.width < w or image.height < h:
            raise EnvError(f"the browser's viewport ({image.width}x{image.height} px) is smaller than the task "
                           f"area ({w}x{h} px)")
        return Observation(image.crop((0, 0, w, h)), time.time(),
                           {"utterance": self.utterance, "task": self.task, "done": self.done})

    def execute(self, action: T.Action) -> None:
        """Carry out one action as MiniWoB actions.

        Raises:
            EpisodeOver: MiniWoB already ended the episode (fatal: the run ends).
            EnvError: a point outside the task area.
            UnsupportedAction: an action MiniWoB's action space cannot express (right click, a key it lacks).
        """
        self._check_open()
        if self.done:
            raise EpisodeOver(f"the MiniWoB episode is over ({self._describe_result()}); nothing more can be done")
        for name, kwargs in self.plan(action):
            self._step(name, **kwargs)
            if self.done:
                break
        self.actions_done += 1

    def check(self, action: T.Action) -> T.Action:
        """What ``execute`` would refuse, without sending anything (the dry-run hook)."""
        self.plan(action)
        return action

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            if self._owns_browser:
                self.browser.close()

    def scripted_model(self, profile: Any) -> Any:
        """The env's own reference solver (``--model scripted`` on MiniWoB): the DOM-reading oracle."""
        from guiagent.envs.miniwob.oracle import MiniWoBOracle

        return MiniWoBOracle(self, profile)

    # ------------------------------------------------------------------ MiniWoB's side

    @property
    def done(self) -> bool:
        return self._result is not None

    def result(self) -> MiniWoBResult:
        """MiniWoB's verdict now: the recorded end of the episode, else asked from the page (its timer may have
        run out since the last action)."""
        if self._result is not None:
            return self._result
        self._check_open()
        meta = self.browser.instance.get_metadata()
        result = _result_from(meta)
        if result.done:
            self._result = result
        return result

    def dom(self) -> list[Any]:
        """The page's current DOM elements (miniwob ``DOMElement``; left/top/width/height in CSS pixels)."""
        from miniwob.dom import DOMElement

        self._check_open()
        info = self.browser.instance.driver.execute_script("return core.getDOMInfo();")
        return list(DOMElement(info).subtree_elements)

    # ------------------------------------------------------------------ typed action -> MiniWoB actions

    def plan(self, action: T.Action) -> list[tuple[str, dict[str, Any]]]:
        """The MiniWoB actions (type name, fields) that carry out ``action``; raises what ``execute`` would."""
        if isinstance(action, T.Click):
            if action.button != "left":
                raise UnsupportedAction(f"MiniWoB has no {action.button} click")
            kinds = {1: "CLICK_COORDS", 2: "DBLCLICK_COORDS"}
            if action.clicks not in kinds:
                raise UnsupportedAction(f"MiniWoB has no {action.clicks}-fold click")
            return [(kinds[action.clicks], {"coords": self._coords(action.point)})]
        if isinstance(action, T.MoveTo):
            return [("MOVE_COORDS", {"coords": self._coords(action.point)})]
        if isinstance(action, T.Drag):
            start, end = self._coords(action.start), self._coords(action.end)
            return [("MOUSEDOWN_COORDS", {"coords": start}), ("MOVE_COORDS", {"coords": end}),
                    ("MOUSEUP_COORDS", {"coords": end})]
        if isinstance(action, (T.MouseDown, T.MouseUp)):
            if action.button != "left":
                raise UnsupportedAction(f"MiniWoB has no {action.button} mouse button")
            kind = "MOUSEDOWN_COORDS" if isinstance(action, T.MouseDown) else "MOUSEUP_COORDS"
            return [(kind, {"coords": self._coords(action.point)})]
        if isinstance(action, T.Scroll):
            if action.direction not in ("up", "down"):
                raise UnsupportedAction(f"MiniWoB scrolls up and down only, not {action.direction}")
            w, h = self.task_size
            coords = self._coords(action.point) if action.point is not None else (w / 2, h / 2)
            kind = "SCROLL_UP_COORDS" if action.direction == "up" else "SCROLL_DOWN_COORDS"
            return [(kind, {"coords": coords})] * max(1, min(int(action.amount or 1), 20))
        if isinstance(action, T.Type):
            return self._type_plan(action.text) + ([("PRESS_KEY", {"key": self._key(("enter",))})]
                                                   if action.submit else [])
        if isinstance(action, T.Hotkey):
            return [("PRESS_KEY", {"key": self._key(action.keys)})]
        if isinstance(action, T.Press):
            return [("PRESS_KEY", {"key": self._key((action.key,))})]
        raise UnsupportedAction(f"MiniWoB cannot carry out {type(action).__name__}")

    def _coords(self, point: T.Point | None) -> tuple[float, float]:
        if point is None:
            if self._pointer is None:
                raise ActionError("a mouse button action without a point needs the pointer to have moved first")
            return self._pointer
        if point.space is T.Space.SCREENSHOT:
            point = self.display.to_screen(point)
        elif point.space is not T.Space.SCREEN:
            raise ActionError(f"MiniWoB takes screenshot or screen points, got one in {point.space.value} space")
        w, h = self.task_size
        if not (0 <= point.x < w and 0 <= point.y < h):
            raise EnvError(f"point ({point.x:.1f}, {point.y:.1f}) is outside MiniWoB's {w}x{h} task area")
        return point.x, point.y

    def _type_plan(self, text: str) -> list[tuple[str, dict[str, Any]]]:
        limit = self.browser.gym.action_space_config.text_max_len
        steps: list[tuple[str, dict[str, Any]]] = []
        for i, line in enumerate(text.split("\n")):
            if i:
                steps.append(("PRESS_KEY", {"key": self._key(("enter",))}))
            steps += [("TYPE_TEXT", {"text": line[j:j + limit]}) for j in range(0, len(line), limit)]
        return steps

    def _key(self, keys: tuple[str, ...]) -> int:
        names = [canonical_key(k) for k in keys]
        mods, main = names[:-1], names[-1]
        if any(m not in _MODIFIER_PREFIX for m in mods):
            raise UnsupportedAction(f"MiniWoB cannot press {'+'.join(names)}")
        notation = "".join(_MODIFIER_PREFIX[m] for m in mods) + _SPECIAL_KEYS.get(main, main)
        allowed = list(self.browser.gym.action_space_config.allowed_keys)
        if notation not in allowed:
            raise UnsupportedAction(f"MiniWoB's action space has no key {'+'.join(names)} ({notation})")
        return allowed.index(notation)

    def _step(self, kind: str, **fields: Any) -> None:
        gym = self.browser.gym
        action = gym.create_action(kind, **fields)
        try:
            _, reward, terminated, _, info = gym.step(action)
        except Exception as e:  # noqa: BLE001
            raise EnvError(f"MiniWoB could not carry out {kind}: {type(e).__name__}: {e}") from e
        if "coords" in fields:
            self._pointer = fields["coords"]
        if terminated:
            self._result = _result_from(info)

    def _describe_result(self) -> str:
        r = self._result
        return "not finished" if r is None else f"reward {r.reward:.2f}, raw {r.raw_reward:.2f}"

    def _check_open(self) -> None:
        if self._closed or self.browser.closed:
            raise EnvError("the MiniWoB environment is closed")


def _result_from(meta: dict[str, Any]) -> MiniWoBResult:
    reason = meta.get("reason")
    return MiniWoBResult(bool(meta.get("done")), float(meta.get("env_reward") or 0.0),
                         float(meta.get("raw_reward") or 0.0), None if reason is None else str(reason))

