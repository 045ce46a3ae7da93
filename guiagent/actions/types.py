"""The one typed action set shared by parsers, environments, recorders and viewers.

Every action is a frozen dataclass validated at construction. Coordinates are ``Point`` values that carry the
space they are expressed in (see ``Space``); converting between spaces is the job of ``guiagent.actions.coords``
and nothing else.
"""

from __future__ import annotations

import dataclasses
import functools
import math
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, Callable, Literal, Union

from guiagent.actions.keys import MODIFIERS, canonical_key
from guiagent.errors import ActionError


class Space(str, Enum):
    """Where a coordinate lives.

    MODEL       the model's own coordinate convention (0..1000, 0..1 or pixels of the image it saw)
    SCREENSHOT  physical pixels of the screenshot the environment returned
    SCREEN      logical points the input system uses (screenshot pixels / HiDPI scale + monitor offset)
    """

    MODEL = "model"
    SCREENSHOT = "screenshot"
    SCREEN = "screen"


@dataclass(frozen=True)
class Point:
    x: float
    y: float
    space: Space = Space.SCREENSHOT

    def __post_init__(self) -> None:
        # Parsers and coordinate maps make a point per mapped action, always from two finite floats and a Space:
        # accept those at once; anything else goes through the full checks and conversions below.
        if type(self.x) is float and type(self.y) is float and math.isfinite(self.x) and math.isfinite(self.y) \
                and type(self.space) is Space:
            return
        for name in ("x", "y"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise ActionError(f"point {name} must be a number, got {value!r}")
            if not math.isfinite(value):
                raise ActionError(f"point {name} must be finite, got {value!r}")
            object.__setattr__(self, name, float(value))
        object.__setattr__(self, "space", Space(self.space))


_new_object = object.__new__
_isfinite = math.isfinite


def make_point(x: float, y: float, space: Space) -> Point:
    """``Point(x, y, space)``, made without the dataclass constructor when the values need no conversion.

    Parsers and coordinate maps make one point per mapped coordinate; a frozen dataclass sets each field through
    ``object.__setattr__``, which costs more than the rest of the mapping. Two finite floats and a Space are stored
    as they are (exactly what ``Point`` would store); anything else goes through ``Point`` and its checks.

    Args:
        x: horizontal coordinate.
        y: vertical coordinate.
        space: the space the coordinates are in.

    Returns:
        The point, equal to ``Point(x, y, space)``.

    Raises:
        ActionError: a coordinate that is not a finite number (from ``Point``).
    """
    if type(x) is float and type(y) is float and type(space) is Space and _isfinite(x) and _isfinite(y):
        p = _new_object(Point)
        d = p.__dict__
        d["x"] = x
        d["y"] = y
        d["space"] = space
        return p
    return Point(x, y, space)


Button = Literal["left", "right", "middle", "back", "forward"]
Direction = Literal["up", "down", "left", "right"]
#: Mouse buttons: the three main ones and the two side buttons (X11 buttons 8 and 9, "browser back/forward").
BUTTONS: tuple[str, ...] = ("left", "right", "middle", "back", "forward")
#: Buttons a drag can hold (a drag with a side button held means nothing to applications).
DRAG_BUTTONS: tuple[str, ...] = ("left", "right", "middle")
DIRECTIONS: tuple[str, ...] = ("up", "down", "left", "right")

#: The most wheel clicks one Scroll may ask for. More than any real page needs (a 1000-click scroll moves some
#: 100 000 px), and about a second of X events on a real desktop; a larger amount from a model is a mistake or an
#: attack that would tie the desktop up for minutes (1e5 clicks took 31 s and ignored --timeout).
MAX_SCROLL = 1000


def _check_choice(value: str, choices: tuple[str, ...], what: str) -> None:
    if value not in choices:
        raise ActionError(f"{what} must be one of {list(choices)}, got {value!r}")


def _check_text(value: object, what: str, allow_none: bool = False) -> None:
    if value is None and allow_none:
        return
    if not isinstance(value, str):
        raise ActionError(f"{what} must be a string, got {value!r}")


def _check_point(value: object, what: str, allow_none: bool = False) -> None:
    if value is None and allow_none:
        return
    if not isinstance(value, Point):
        raise ActionError(f"{what} must be a Point, got {value!r}")


def _set_modifiers(action: object, what: str) -> None:
    """Validate ``action.modifiers`` (modifier keys held during the action) and store their canonical names."""
    mods = action.modifiers  # type: ignore[attr-defined]
    if isinstance(mods, str) or not isinstance(mods, (list, tuple)):
        raise ActionError(f"{what} modifiers must be a list of modifier keys, got {mods!r}")
    names = tuple(canonical_key(k) for k in mods)
    bad = [k for k in names if k not in MODIFIERS]
    if bad:
        raise ActionError(f"{what} modifiers must be among {sorted(MODIFIERS)}, got {bad[0]!r}")
    if len(set(names)) != len(names):
        raise ActionError(f"{what} modifiers repeat a key: {list(mods)!r}")
    object.__setattr__(action, "modifiers", names)


@dataclass(frozen=True, init=False)
class Click:
    """Press and release a mouse button ``clicks`` times at ``point``, with ``modifiers`` held down throughout
    (e.g. ``("shift",)`` for shift+click)."""

    point: Point
    button: Button = "left"
    clicks: int = 1
    modifiers: tuple[str, ...] = ()

    def __init__(self, point: Point, button: Button = "left", clicks: int = 1,
                 modifiers: tuple[str, ...] = ()) -> None:
        """The dataclass constructor, written out (the generated frozen one sets each field through
        ``object.__setattr__``; parsers make a click for most answers), then its checks.

        Args:
            point: where to click.
            button: one of ``BUTTONS``.
            clicks: 1, 2 or 3.
            modifiers: modifier keys held down during the click.

        Raises:
            ActionError: a field with an invalid value.
        """
        fields = self.__dict__
        fields["point"] = point
        fields["button"] = button
        fields["clicks"] = clicks
        fields["modifiers"] = modifiers
        # Parsers make one per click: the usual values are checked inline, anything else by the full checks.
        if type(point) is not Point:
            _check_point(point, "click point")
        if button not in BUTTONS:
            _check_choice(button, BUTTONS, "button")
        if type(clicks) is not int or not 1 <= clicks <= 3:
            raise ActionError(f"click count must be 1, 2 or 3, got {clicks!r}")
        if modifiers != ():
            _set_modifiers(self, "click")


def double_click(point: Point) -> Click:
    """A left double click at ``point``."""
    return Click(point, "left", 2)


def right_click(point: Point) -> Click:
    """A single right click at ``point``."""
    return Click(point, "right", 1)


#: Most intermediate points a drag may pass through.
MAX_VIA = 64


@dataclass(frozen=True, init=False)
class Drag:
    """Press ``button`` at ``start``, move through the ``via`` points in order to ``end``, release."""

    start: Point
    end: Point
    button: Button = "left"
    via: tuple[Point, ...] = ()

    def __init__(self, start: Point, end: Point, button: Button = "left", via: tuple[Point, ...] = ()) -> None:
        """The dataclass constructor, written out (as ``Click``'s), then the checks of ``__post_init__``.

        Args:
            start: where the button goes down.
            end: where it comes up.
            button: one of ``DRAG_BUTTONS``.
            via: the points passed through on the way, in order (at most ``MAX_VIA``).

        Raises:
            ActionError: a field with an invalid value.
        """
        fields = self.__dict__
        fields["start"] = start
        fields["end"] = end
        fields["button"] = button
        fields["via"] = via
        self.__post_init__()

    def __post_init__(self) -> None:
        if type(self.start) is not Point or type(self.end) is not Point:  # the usual case in one test
            _check_point(self.start, "drag start")
            _check_point(self.end, "drag end")
        if self.button != "left":
            _check_choice(self.button, DRAG_BUTTONS, "drag button")
        if self.via != ():
            if isinstance(self.via, str) or not isinstance(self.via, (list, tuple)) or len(self.via) > MAX_VIA:
                raise ActionError(f"drag via must be a list of at most {MAX_VIA} points, got {self.via!r}")
            for p in self.via:
                _check_point(p, "drag via point")
            object.__setattr__(self, "via", tuple(self.via))


@dataclass(frozen=True, init=False)
class Scroll:
    """Scroll the wheel; ``point`` None means wherever the pointer is. ``amount`` None means the env default.
    ``modifiers`` are held down while scrolling (e.g. ``("ctrl",)`` to zoom)."""

    direction: Direction
    point: Point | None = None
    amount: int | None = None
    modifiers: tuple[str, ...] = ()

    def __init__(self, direction: Direction, point: Point | None = None, amount: int | None = None,
                 modifiers: tuple[str, ...] = ()) -> None:
        """The dataclass constructor, written out (as ``Click``'s), then the checks of ``__post_init__``.

        Args:
            direction: one of ``DIRECTIONS``.
            point: where to scroll; None for wherever the pointer is.
            amount: wheel clicks; None for the environment's default.
            modifiers: modifier keys held down while scrolling.

        Raises:
            ActionError: a field with an invalid value.
        """
        fields = self.__dict__
        fields["direction"] = direction
        fields["point"] = point
        fields["amount"] = amount
        fields["modifiers"] = modifiers
        self.__post_init__()

    def __post_init__(self) -> None:
        if self.modifiers != ():
            _set_modifiers(self, "scroll")
        if self.direction not in DIRECTIONS:
            _check_choice(self.direction, DIRECTIONS, "scroll direction")
        if self.point is not None and type(self.point) is not Point:
            _check_point(self.point, "scroll point")
        if self.amount is not None and (isinstance(self.amount, bool) or not isinstance(self.amount, int)
                                        or self.amount <= 0):
            raise ActionError(f"scroll amount must be a positive integer or None, got {self.amount!r}")
        if self.amount is not None and self.amount > MAX_SCROLL:
            raise ActionError(f"scroll amount {self.amount} is more than the limit of {MAX_SCROLL} wheel clicks")


@dataclass(frozen=True, init=False)
class Type:
    """Type ``text`` into the focused widget; ``submit`` presses Enter afterwards."""

    text: str
    submit: bool = False

    def __init__(self, text: str, submit: bool = False) -> None:
        """The dataclass constructor, written out (as ``Click``'s), then the checks of ``__post_init__``.

        Args:
            text: what to type.
            submit: press Enter afterwards.

        Raises:
            ActionError: a field with an invalid value.
        """
        fields = self.__dict__
        fields["text"] = text
        fields["submit"] = submit
        self.__post_init__()

    def __post_init__(self) -> None:
        if type(self.text) is not str:
            _check_text(self.text, "typed text")
        if not isinstance(self.submit, bool):
            raise ActionError(f"submit must be a bool, got {self.submit!r}")


def _set_seconds(action: object, what: str) -> None:
    """Validate an optional non-negative duration field ``seconds`` and store it as a float."""
    seconds = action.seconds  # type: ignore[attr-defined]
    if seconds is None:
        return
    if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or not math.isfinite(seconds) \
            or seconds < 0:
        raise ActionError(f"{what} seconds must be a non-negative number, got {seconds!r}")
    object.__setattr__(action, "seconds", float(seconds))


def _keys_tuple(keys: object, what: str) -> tuple[str, ...]:
    if isinstance(keys, str) or not isinstance(keys, (list, tuple)):
        raise ActionError(f"{what} keys must be a list of key names, got {keys!r}")
    if not keys:
        raise ActionError(f"{what} needs at least one key")
    return tuple(canonical_key(k) for k in keys)


@dataclass(frozen=True)
class Hotkey:
    """Press ``keys`` down in order, then release them in reverse order."""

    keys: tuple[str, ...]

    def __post_init__(self) -> None:
        keys = _keys_tuple(self.keys, "hotkey")
        if len(set(keys)) != len(keys):
            raise ActionError(f"hotkey repeats a key: {list(self.keys)!r}")
        object.__setattr__(self, "keys", keys)


@dataclass(frozen=True)
class _OneKey:
    key: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "key", canonical_key(self.key))


@dataclass(frozen=True)
class Press(_OneKey):
    """Tap one key (down then up)."""


@dataclass(frozen=True)
class KeyDown(_OneKey):
    """Press and hold one key (UI-TARS-2's ``press``)."""


@dataclass(frozen=True)
class KeyUp(_OneKey):
    """Release a held key (UI-TARS-2's ``release``)."""


@dataclass(frozen=True)
class MoveTo:
    point: Point

    def __post_init__(self) -> None:
        _check_point(self.point, "move_to point")


@dataclass(frozen=True)
class MouseDown:
    point: Point | None = None
    button: Button = "left"

    def __post_init__(self) -> None:
        _check_point(self.point, "mouse_down point", allow_none=True)
        _check_choice(self.button, BUTTONS, "button")


@dataclass(frozen=True)
class MouseUp:
    point: Point | None = None
    button: Button = "left"

    def __post_init__(self) -> None:
        _check_point(self.point, "mouse_up point", allow_none=True)
        _check_choice(self.button, BUTTONS, "button")


@dataclass(frozen=True)
class Wait:
    """Do nothing for ``seconds`` (None: the agent's default), then look again."""

    seconds: float | None = None

    def __post_init__(self) -> None:
        _set_seconds(self, "wait")


@dataclass(frozen=True)
class Finished:
    """The task is done; ``content`` is the answer or summary, if any."""

    content: str | None = None

    def __post_init__(self) -> None:
        _check_text(self.content, "finished content", allow_none=True)


@dataclass(frozen=True)
class CallUser:
    """The model needs the user (task infeasible, login, a question)."""

    content: str | None = None

    def __post_init__(self) -> None:
        _check_text(self.content, "call_user content", allow_none=True)


@dataclass(frozen=True)
class LongPress:
    point: Point
    seconds: float | None = None

    def __post_init__(self) -> None:
        _check_point(self.point, "long_press point")
        _set_seconds(self, "long_press")


@dataclass(frozen=True)
class OpenApp:
    name: str

    def __post_init__(self) -> None:
        _check_text(self.name, "app name")
        if not self.name.strip():
            raise ActionError("open_app needs an app name")


@dataclass(frozen=True)
class PressHome:
    pass


@dataclass(frozen=True)
class PressBack:
    pass


@dataclass(frozen=True)
class Navigate:
    url: str

    def __post_init__(self) -> None:
        _check_text(self.url, "url")
        if not self.url.strip():
            raise ActionError("navigate needs a url")


@dataclass(frozen=True)
class NavigateBack:
    pass


Action = Union[
    Click, Drag, Scroll, Type, Hotkey, Press, KeyDown, KeyUp, MoveTo, MouseDown, MouseUp, Wait, Finished,
    CallUser, LongPress, OpenApp, PressHome, PressBack, Navigate, NavigateBack,
]
ACTION_CLASSES: tuple[type, ...] = Action.__args__  # type: ignore[attr-defined]

#: Actions that end a run.
TERMINAL_ACTIONS: tuple[type, ...] = (Finished, CallUser)


def points_of(action: Action) -> list[Point]:
    """Every point an action carries, in field order (a drag's ``via`` points where that field stands)."""
    out: list[Point] = []
    many = _point_tuple_fields(type(action))
    for name in _init_fields(type(action)):
        v = getattr(action, name)
        if isinstance(v, Point):
            out.append(v)
        elif name in many:
            out += v
    return out


def _field_kinds(cls: type) -> tuple[tuple[str, ...], tuple[str, ...], frozenset[str]]:
    """(the constructor's field names, those that may hold points, those holding a tuple of points) of an action
    class, looked up once."""
    kinds = _FIELD_KINDS.get(cls)
    if kinds is None:  # a plain dict lookup: map_points asks once per mapped action
        names = _init_fields(cls)
        pointy = tuple(f.name for f in dataclasses.fields(cls) if f.name in names and "Point" in str(f.type))
        kinds = _FIELD_KINDS[cls] = (names, pointy, _point_tuple_fields(cls))
    return kinds


_FIELD_KINDS: dict[type, tuple[tuple[str, ...], tuple[str, ...], frozenset[str]]] = {}


@functools.cache
def _point_tuple_fields(cls: type) -> frozenset[str]:
    """The fields of a dataclass that hold a tuple of points (a drag's ``via``)."""
    return frozenset(f.name for f in dataclasses.fields(cls) if str(f.type).startswith("tuple[Point"))


@functools.cache
def _init_fields(cls: type) -> tuple[str, ...]:
    """The constructor's field names of a dataclass (looked up once per class: ``dataclasses.fields`` is slow)."""
    return tuple(f.name for f in dataclasses.fields(cls) if f.init)


def map_points(action: Action, fn: Callable[[Point], Point]) -> Action:
    """Return ``action`` with every point replaced by ``fn(point)``; other fields unchanged.

    The points are those of the fields annotated as holding them (``Point``, ``Point | None``, ``tuple[Point,
    ...]``): every action class declares its points so. When ``fn`` returns Points (a Point checks itself when it
    is made), the other fields, already checked when ``action`` was made, are copied as they are: no action
    validates one field against another, so running the constructor's checks again would only cost time (a parsed
    action is mapped once per step). Anything else from ``fn`` goes through the class's constructor, like
    ``dataclasses.replace``, and is refused there.
    """
    cls = type(action)
    kinds = _FIELD_KINDS.get(cls)
    names, pointy, many = kinds if kinds is not None else _field_kinds(cls)
    fields = getattr(action, "__dict__", None)
    if fields is None or len(fields) != len(names):  # slots or extra state: read the fields, rebuild below
        fields = {n: getattr(action, n) for n in names}
        plain = False
    else:
        plain = True
    values: dict[str, Any] | None = None
    all_points = True
    for name in pointy:
        value = fields[name]
        if isinstance(value, Point):
            value = fn(value)
            if type(value) is not Point:
                all_points = False
        elif many and value and name in many:  # a drag's via points
            value = tuple([fn(p) for p in value])
            if not all(type(p) is Point for p in value):
                all_points = False
        else:
            continue
        if values is None:
            values = fields.copy()
        values[name] = value
    if values is None:
        return action
    if not all_points or not plain:
        return cls(**values)  # checked by the constructor (and classes with slots or extra state are rebuilt)
    new = object.__new__(cls)
    new.__dict__.update(values)
    return new


def canonical(action: Action) -> Action:
    """The canonical form of an action: a one-key hotkey is a key press."""
    if isinstance(action, Hotkey) and len(action.keys) == 1:
        return Press(action.keys[0])
    return action


@dataclass(frozen=True, init=False)
class Step:
    """One parsed model response."""

    actions: tuple[Action, ...]
    raw: str
    thought: str | None = None
    reflection: str | None = None
    summary: str | None = None
    extra: dict[str, str] = field(default_factory=dict, compare=False)
    #: the actions as the model wrote them (MODEL space) when ``actions`` were mapped to the screenshot
    #: (``Profile.read``); None for a step straight from a grammar, whose ``actions`` are the model's own
    model_actions: tuple[Action, ...] | None = field(default=None, compare=False)

    def __init__(self, actions: tuple[Action, ...], raw: str, thought: str | None = None,
                 reflection: str | None = None, summary: str | None = None, extra: dict[str, str] | None = None,
                 model_actions: tuple[Action, ...] | None = None) -> None:
        """The dataclass constructor, written out: a frozen dataclass's own sets each of the seven fields through
        ``object.__setattr__``, which made building the step the largest single cost of parsing a response.

        Args:
            actions: the actions, in order.
            raw: the model's whole answer.
            thought: the reasoning before the actions, if any.
            reflection: the reflection section, if any.
            summary: the action summary, if any.
            extra: other named parts of the answer (a new empty dict when omitted).
            model_actions: the actions as the model wrote them, when ``actions`` were mapped (see above).
        """
        fields = self.__dict__
        fields["actions"] = actions
        fields["raw"] = raw
        fields["thought"] = thought
        fields["reflection"] = reflection
        fields["summary"] = summary
        fields["extra"] = {} if extra is None else extra
        fields["model_actions"] = model_actions

    def mapped(self, actions: tuple[Action, ...]) -> Step:
        """This step with ``actions`` (the same actions, their points in another space) in place of its own, which
        are kept as ``model_actions``. A field-for-field copy: ``dataclasses.replace`` would run the constructor
        again, which costs as much as the mapping itself on the parse path."""
        new = object.__new__(Step)
        new.__dict__.update(self.__dict__, actions=actions,
                            model_actions=self.actions if self.model_actions is None else self.model_actions)
        return new
