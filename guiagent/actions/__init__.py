"""Typed actions, the coordinate module, parsers and formatters for each model family."""

from guiagent.actions.types import (  # noqa: F401
    ACTION_CLASSES, Action, CallUser, Click, Drag, Finished, Hotkey, KeyDown, KeyUp, LongPress, MouseDown, MouseUp,
    MoveTo, Navigate, NavigateBack, OpenApp, Point, Press, PressBack, PressHome, Scroll, Space, Step, Type, Wait,
    canonical, double_click, map_points, points_of, right_click,
)
from guiagent.actions.jsonform import action_from_json, action_to_json  # noqa: F401
