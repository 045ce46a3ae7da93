"""The environment conformance check: what every Env (mock, desktop, a user's own) must do.

    from guiagent.envs.check import check_env
    check_env(MyEnv())           # raises EnvConformanceError naming the first broken rule and its likely cause

In the spirit of gymnasium's ``env_checker.check_env``: a runnable contract rather than prose. It checks the
``Env`` protocol (``guiagent.envs.base``): the members exist; ``reset``/``observe`` return an ``Observation`` whose
screenshot is an RGB PIL image exactly ``display.size_px`` large; points in SCREENSHOT and SCREEN space inside the
screen are carried out; a point off the screen or in MODEL space is refused with a guiagent error (EnvError or
ActionError) before anything is sent, and the env still works afterwards; the optional ``check`` (dry run) returns
the action in SCREEN space and refuses what ``execute`` refuses; ``close`` is safe twice and a closed env refuses
to observe. The only input it sends is pointer moves (``MoveTo``) inside the screen.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from PIL import Image

from guiagent.actions.coords import Display
from guiagent.actions.types import ACTION_CLASSES, MoveTo, Point, Space, points_of
from guiagent.envs.base import Env, Observation, SupportsCheck
from guiagent.errors import ActionError, EnvError, GuiAgentError

__all__ = ["EnvConformanceError", "check_env"]


class EnvConformanceError(AssertionError):
    """An environment broke a rule of the Env contract. The message names the rule and the likely cause.

    An AssertionError, so test runners report it as a failed check; raised explicitly, so ``python -O`` keeps it.
    """


def check_env(env: Any, *, deterministic: bool = False, close: bool = True) -> None:
    """Check that ``env`` follows the Env contract; return quietly if it does.

    Args:
        env: the environment, freshly built (it is reset, observed, sent pointer moves, and closed).
        deterministic: also require that two resets with the same seed give the same screenshot (true of the
            mock desktop; not of a real desktop, where the clock and other windows change the screen).
        close: end with the ``close`` checks (closed twice, refuses to observe). False leaves the env usable.

    Raises:
        EnvConformanceError: the first rule the env breaks, with the likely cause.
    """
    _check_members(env)
    display = _check_display(env)
    first = _call(env.reset, "reset(seed=0)", seed=0)
    _check_observation(first, display, "reset(seed=0)")
    display = _check_display(env)
    _check_observation(_call(env.observe, "observe()"), display, "observe()")
    if deterministic:
        again = _call(env.reset, "reset(seed=0)", seed=0)
        _require(_same_pixels(first.screenshot, again.screenshot),
                 "two reset(seed=0) calls gave different screenshots; a deterministic env must rebuild the same "
                 "initial state from the same seed (is some state kept across resets, or a wall clock drawn?)")
    _check_actions(env, display)
    if close:
        _check_close(env)


# ---------------------------------------------------------------- the parts

def _check_members(env: Any) -> None:
    for member in ("reset", "observe", "execute", "close"):
        _require(callable(getattr(env, member, None)),
                 f"{type(env).__name__} has no callable {member}(); every Env implements reset, observe, execute "
                 f"and close (see guiagent.envs.base.Env)")
    name = getattr(env, "name", None)
    _require(isinstance(name, str) and name.strip() != "",
             f"env.name is {name!r}; set a short non-empty string (recorded in every run's meta.json)")
    _require(isinstance(env, Env), f"{type(env).__name__} does not match the Env protocol (guiagent.envs.base.Env)")


def _check_display(env: Any) -> Display:
    display = _call(lambda: env.display, "the display property")
    _require(isinstance(display, Display),
             f"env.display is a {type(display).__name__}; return a guiagent.actions.coords.Display (screenshot "
             f"size in pixels, HiDPI scale, monitor offset)")
    return display


def _check_observation(obs: Any, display: Display, where: str) -> None:
    _require(isinstance(obs, Observation),
             f"{where} returned a {type(obs).__name__}; return a guiagent.envs.base.Observation")
    shot = obs.screenshot
    _require(isinstance(shot, Image.Image),
             f"{where}: the screenshot is a {type(shot).__name__}; it must be a PIL image")
    _require(shot.mode == "RGB", f"{where}: the screenshot's mode is {shot.mode!r}; convert it to 'RGB' (models, "
                                 f"the recorder and the viewer expect 3 channels)")
    _require(tuple(shot.size) == tuple(display.size_px),
             f"{where}: the screenshot is {shot.size[0]}x{shot.size[1]} but display.size_px is "
             f"{display.size_px[0]}x{display.size_px[1]}; the display must describe the image observe() returns "
             f"(physical pixels, not logical points; is the HiDPI scale applied twice?)")
    _require(isinstance(obs.timestamp, (int, float)) and math.isfinite(obs.timestamp),
             f"{where}: the timestamp is {obs.timestamp!r}; give a finite number of seconds")
    _require(isinstance(obs.info, dict), f"{where}: info is a {type(obs.info).__name__}; give a dict")


def _check_actions(env: Any, display: Display) -> None:
    w, h = display.size_px
    inside = Point(w / 2, h / 2, Space.SCREENSHOT)
    _call(env.execute, "execute(MoveTo(a SCREENSHOT point at the centre))", MoveTo(inside))
    _call(env.execute, "execute(MoveTo(a SCREEN point at the centre))", MoveTo(display.to_screen(inside)))
    _call(env.execute, "execute(MoveTo(the top-left SCREENSHOT pixel))", MoveTo(Point(0, 0, Space.SCREENSHOT)))

    refused = {
        "a SCREENSHOT point right of and below the screen": MoveTo(Point(w + 10, h + 10, Space.SCREENSHOT)),
        "a SCREEN point left of the screen": MoveTo(Point(display.offset[0] - 50, display.offset[1] + 1,
                                                          Space.SCREEN)),
        "a MODEL point (not mapped through the profile's ModelFrame)": MoveTo(Point(1, 1, Space.MODEL)),
    }
    for what, action in refused.items():
        _require_refusal(lambda a=action: env.execute(a), f"execute(MoveTo({what}))")
    _check_observation(_call(env.observe, "observe() after refused actions"), _check_display(env),
                       "observe() after refused actions")

    if isinstance(env, SupportsCheck):
        checked = _call(env.check, "check(MoveTo(a SCREENSHOT point))", MoveTo(inside))
        _require(isinstance(checked, ACTION_CLASSES),
                 f"check() returned a {type(checked).__name__}; return the action as the env would carry it out")
        spaces = {p.space for p in points_of(checked)}
        _require(spaces == {Space.SCREEN},
                 f"check() returned points in {sorted(s.value for s in spaces)} space; return them converted to "
                 f"SCREEN space (display.to_screen), as execute would send them")
        for what, action in refused.items():
            _require_refusal(lambda a=action: env.check(a), f"check(MoveTo({what}))")


def _check_close(env: Any) -> None:
    _call(env.close, "close()")
    _call(env.close, "a second close() (close must be safe to call twice)")
    _require_refusal(env.observe, "observe() after close()",
                     advice="raise EnvError ('... is closed') rather than touch released resources")


# ---------------------------------------------------------------- helpers

def _require(condition: bool, message: str) -> None:
    if not condition:
        raise EnvConformanceError(message)


def _call(fn: Callable[..., Any], where: str, *args: Any, **kwargs: Any) -> Any:
    try:
        return fn(*args, **kwargs)
    except EnvConformanceError:
        raise
    except Exception as exc:  # noqa: BLE001 - any failure here is the env's, reported with where it happened
        raise EnvConformanceError(f"{where} raised {type(exc).__name__}: {exc}") from exc


def _require_refusal(fn: Callable[[], Any], where: str, *, advice: str | None = None) -> None:
    try:
        fn()
    except (EnvError, ActionError):
        return
    except GuiAgentError as exc:
        raise EnvConformanceError(f"{where} raised {type(exc).__name__}; refuse it with EnvError (or ActionError "
                                  f"for an invalid action) so the agent records it and goes on") from exc
    except Exception as exc:  # noqa: BLE001
        raise EnvConformanceError(f"{where} raised {type(exc).__name__}: {exc}; refuse it with EnvError so the "
                                  f"agent can tell the model instead of crashing") from exc
    raise EnvConformanceError(f"{where} was accepted; " + (advice or "check every point against display (and its "
                              "space) before sending anything, and raise EnvError"))


def _same_pixels(a: Image.Image, b: Image.Image) -> bool:
    return a.size == b.size and a.mode == b.mode and a.tobytes() == b.tobytes()
