"""DesktopEnv logic without an X server: key maps, deny list, preflight messages, monitor selection, the exact
pyautogui calls each action produces (pyautogui and the screen capture are replaced at the process boundary), and
the env in the agent loop and `guiagent run --env desktop` (fail-safe, dry run, CLI flags recorded for replay)."""

from __future__ import annotations

from typing import Any, ClassVar

import pytest
from agent_helpers import ScriptModel
from PIL import Image

from guiagent.actions import types as t
from guiagent.actions.types import Point, Space
from guiagent.agent import factory
from guiagent.agent.config import AgentConfig
from guiagent.agent.loop import Agent
from guiagent.agent.replay import replay_actions
from guiagent.agent.trajectory import load_run
from guiagent.cli import main as cli_main
from guiagent.cli import run as run_cli
from guiagent.envs.base import Env
from guiagent.envs.desktop import (
    DeniedAction,
    DenyList,
    DesktopEnv,
    FailSafeTriggered,
    Monitor,
    adjusted_deny,
    default_deny,
)
from guiagent.envs.desktop.capture import display_for, select_monitor
from guiagent.envs.desktop.executor import PyAutoGuiExecutor
from guiagent.envs.desktop.keymap import pyautogui_key
from guiagent.envs.desktop.safety import parse_combo
from guiagent.envs.desktop.text import (
    ClipboardTyper,
    keysym_for,
    paste_route,
    split_runs,
)
from guiagent.errors import ActionError, ConfigError, EnvError, UnsupportedAction
from guiagent.models.profiles import get_profile

PROFILE = get_profile("ui-tars-1.5")


class FailSafe(Exception):
    pass


class FakeGui:
    """Stands in for the pyautogui module: records every call with the PAUSE/FAILSAFE in force at the time."""

    FailSafeException = FailSafe

    def __init__(self, invalid: frozenset[str] = frozenset(), fail_on: str | None = None):
        self.PAUSE, self.FAILSAFE = 0.1, True
        self.calls: list[tuple[Any, ...]] = []
        self.settings: list[tuple[float, bool]] = []
        self.invalid, self.fail_on = invalid, fail_on

    @staticmethod
    def linear(n: float) -> float:
        return n

    def isValidKey(self, name: str) -> bool:
        return name not in self.invalid

    def __getattr__(self, name: str) -> Any:
        if name not in {"click", "moveTo", "mouseDown", "mouseUp", "scroll", "hscroll", "write", "press",
                        "keyDown", "keyUp"}:
            raise AttributeError(name)

        def record(*args: Any, **kwargs: Any) -> None:
            if name == self.fail_on:
                raise FailSafe("corner")
            self.settings.append((self.PAUSE, self.FAILSAFE))
            self.calls.append((name, *args, *sorted(kwargs.items())))
        return record


class FakeCapture:
    """Two monitors side by side, the second above the first's top edge; images come back ``factor`` times larger."""

    def __init__(self, factor: int = 1):
        self.factor = factor
        self.closed = False
        self._monitors = [Monitor(0, 0, -200, 3200, 1280), Monitor(1, 0, 0, 1920, 1080, primary=True),
                          Monitor(2, 1920, -200, 1280, 800)]

    def monitors(self) -> list[Monitor]:
        return self._monitors

    def grab(self, monitor: Monitor) -> Image.Image:
        return Image.new("RGB", (monitor.width * self.factor, monitor.height * self.factor), (1, 2, 3))

    def close(self) -> None:
        self.closed = True


def make_env(monitor: Any = 1, factor: int = 1, os_name: str = "linux", **kwargs: Any) -> tuple[DesktopEnv, FakeGui]:
    gui = kwargs.pop("gui", FakeGui())
    env = DesktopEnv(monitor, os_name=os_name, capture=FakeCapture(factor), gui=gui,  # type: ignore[arg-type]
                     environ={"DISPLAY": ":0"}, **kwargs)
    return env, gui


# ---------------------------------------------------------------- key names


def test_meta_and_option_keys_per_os() -> None:
    assert [pyautogui_key("cmd", o) for o in ("linux", "macos", "windows")] == ["winleft", "command", "win"]
    assert pyautogui_key("super", "linux") == "winleft" and pyautogui_key("Meta", "macos") == "command"
    assert pyautogui_key("alt", "macos") == "option" and pyautogui_key("alt", "linux") == "alt"
    assert pyautogui_key("delete", "macos") == "del" and pyautogui_key("Return", "windows") == "enter"
    assert pyautogui_key("menu", "windows") == "apps"
    for key, os_name in (("fn", "linux"), ("fn", "windows"), ("printscreen", "macos"), ("menu", "macos")):
        with pytest.raises(UnsupportedAction, match=repr(key)):
            pyautogui_key(key, os_name)  # type: ignore[arg-type]
    with pytest.raises(ActionError, match="unknown key"):
        pyautogui_key("hyper", "linux")


# ---------------------------------------------------------------- deny list


def test_deny_list_matches_supersets_and_defaults_differ_per_os() -> None:
    assert parse_combo("Ctrl+Alt+Del") == frozenset({"ctrl", "alt", "delete"})
    assert parse_combo("ctrl+plus") == frozenset({"ctrl", "+"})
    deny = DenyList(default_deny("linux"))
    assert deny.match(["alt", "ctrl", "delete"]) == "ctrl+alt+delete"
    assert deny.match(["ctrl", "alt", "shift", "delete"]) == "ctrl+alt+delete"
    assert deny.match(["ctrl", "alt", "f3"]) == "ctrl+alt+f3"
    assert deny.match(["ctrl", "alt", "t"]) is None  # opening a terminal is fine
    assert deny.match(["alt", "f4"]) is None  # closing a window is allowed on purpose
    assert deny.match(["cmd", "l"]) == "cmd+l"
    assert DenyList(default_deny("macos")).match(["cmd", "l"]) is None  # address bar on macOS
    assert DenyList(default_deny("macos")).match(["cmd", "alt", "shift", "q"]) == "cmd+shift+q"
    assert DenyList(default_deny("windows")).match(["ctrl", "alt", "backspace"]) is None
    with pytest.raises(DeniedAction, match="alt\\+f4"):
        DenyList(default_deny("windows") | {"alt+f4"}).check(["alt", "f4"], "hotkey")
    with pytest.raises(ActionError, match="plus"):
        parse_combo("ctrl++")
    with pytest.raises(ActionError, match="collection"):
        DenyList("ctrl+alt+delete")


def test_env_deny_list_counts_held_keys_and_can_be_changed() -> None:
    env, gui = make_env()
    env.execute(t.KeyDown("ctrl"))
    env.execute(t.KeyDown("alt"))
    with pytest.raises(DeniedAction, match="ctrl\\+alt\\+delete"):
        env.execute(t.Press("delete"))
    with pytest.raises(DeniedAction):
        env.execute(t.Hotkey(("shift", "backspace")))  # + held ctrl+alt = ctrl+alt+backspace
    assert [c[0] for c in gui.calls] == ["keyDown", "keyDown"]
    env.close()  # releases what the agent still holds, last pressed first
    assert gui.calls[-2:] == [("keyUp", "alt"), ("keyUp", "ctrl")]

    env, gui = make_env()
    env.execute(t.KeyDown("cmd"))
    with pytest.raises(DeniedAction, match="typing 'L' while cmd is held"):
        env.execute(t.Type("Lock"))

    env, gui = make_env(deny=[])
    env.execute(t.Hotkey(("ctrl", "alt", "delete")))
    assert gui.calls == [("keyDown", "ctrl"), ("keyDown", "alt"), ("keyDown", "delete"),
                         ("keyUp", "delete"), ("keyUp", "alt"), ("keyUp", "ctrl")]


# ---------------------------------------------------------------- preflight


def test_preflight_errors_say_what_to_do(tmp_path) -> None:
    with pytest.raises(EnvError, match="DISPLAY is not set.*Xvfb"):
        DesktopEnv(os_name="linux", environ={})
    with pytest.raises(EnvError, match="Wayland session without X access.*Xorg"):
        DesktopEnv(os_name="linux", environ={"WAYLAND_DISPLAY": "wayland-0"})
    with pytest.raises(EnvError, match="allow_xwayland=True"):
        DesktopEnv(os_name="linux", environ={"DISPLAY": ":0", "XDG_SESSION_TYPE": "wayland"})
    missing = tmp_path / "cookie"
    with pytest.raises(EnvError, match=f"XAUTHORITY points at {missing}.*touch {missing}"):
        DesktopEnv(os_name="linux", environ={"DISPLAY": ":0", "XAUTHORITY": str(missing)})
    with pytest.raises(EnvError, match=f"default is {tmp_path}/.Xauthority"):
        DesktopEnv(os_name="linux", environ={"DISPLAY": ":0", "HOME": str(tmp_path)})
    # an explicit display is used even in a Wayland session (a sandbox Xvfb); it then fails on the cookie file
    with pytest.raises(EnvError, match="missing Xauthority"):
        DesktopEnv(os_name="linux", x_display=":99",
                   environ={"WAYLAND_DISPLAY": "wayland-0", "XAUTHORITY": str(missing)})


def test_missing_clipboard_tool_is_reported(monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # no xclip, no xsel
    env, _ = make_env(unicode_method="clipboard")
    env.observe()
    with pytest.raises(EnvError, match="needs xclip or xsel: apt install xclip"):
        env.execute(t.Type("日本"))


def test_bad_options_are_config_errors() -> None:
    for kwargs, match in (({"unicode_method": "xdotool"}, "unicode_method"), ({"pause": -1}, "pause"),
                          ({"scroll_amount": 0}, "scroll_amount"), ({"monitor": "left"}, "monitor"),
                          ({"scale": 0.0}, "scale")):
        with pytest.raises(ConfigError, match=match):
            env, _ = make_env(**kwargs)
            env.observe()
    with pytest.raises(ActionError, match="unknown OS"):
        make_env(os_name="beos")


# ---------------------------------------------------------------- monitors and scale


def test_monitor_selection() -> None:
    mons = FakeCapture().monitors()
    assert select_monitor(mons, 2).left == 1920
    assert select_monitor(mons, "all").index == 0 and select_monitor(mons, 0).index == 0
    assert select_monitor(mons, "primary").index == 1 and select_monitor(mons, "2").index == 2
    no_primary = [mons[0], Monitor(1, 0, 0, 10, 10), Monitor(2, 10, 0, 10, 10)]
    assert select_monitor(no_primary, "primary").index == 1
    with pytest.raises(EnvError, match="there is no monitor 3; this screen has 2 .*1920x1080\\+0\\+0"):
        select_monitor(mons, 3)
    with pytest.raises(ConfigError):
        select_monitor(mons, True)


def test_display_scale_is_measured_or_overridden() -> None:
    m = Monitor(2, 1920, -200, 1280, 800)
    d = display_for(m, (2560, 1600))
    assert (d.scale, d.offset, d.size_points) == (2.0, (1920.0, -200.0), (1280.0, 800.0))
    assert display_for(m, (1920, 1200)).scale == 1.5
    assert display_for(m, (1280, 800), scale=2.0).size_points == (640.0, 400.0)
    with pytest.raises(EnvError, match="scale differently"):
        display_for(m, (2560, 800))


def test_screenshot_points_convert_with_scale_and_offset() -> None:
    env, gui = make_env(monitor=2, factor=2)
    assert isinstance(env, Env) and env.name == "desktop"
    obs = env.observe()
    assert obs.screenshot.size == (2560, 1600)
    assert obs.info == {"monitor": 2, "offset": [1920.0, -200.0], "scale": 2.0, "size_px": [2560, 1600],
                        "size_points": [1280.0, 800.0], "os": "linux"}
    env.execute(t.Click(Point(1001, 401)))
    env.execute(t.Click(Point(2000, 100, Space.SCREEN), button="right"))
    env.execute(t.Click(Point(2559.9, 1599.9), clicks=2))  # the last pixel rounds onto the last point
    assert gui.calls == [("click", ("button", "left"), ("clicks", 1), ("interval", 0.0), ("x", 2420), ("y", 0)),
                         ("click", ("button", "right"), ("clicks", 1), ("interval", 0.0), ("x", 2000), ("y", 100)),
                         ("click", ("button", "left"), ("clicks", 2), ("interval", 0.05), ("x", 3199), ("y", 599))]
    assert env.check(t.Drag(Point(0, 0), Point(2, 2))) == t.Drag(Point(1920, -200, Space.SCREEN),
                                                                 Point(1921, -199, Space.SCREEN))


def test_points_off_the_monitor_or_in_model_space_send_nothing() -> None:
    env, gui = make_env(monitor=2)
    env.observe()
    for action in (t.Click(Point(1280, 5)), t.Click(Point(5, -0.5)), t.Click(Point(100, 100, Space.SCREEN)),
                   t.Drag(Point(5, 5), Point(5, 800)), t.Scroll("down", Point(-1, 3)), t.MoveTo(Point(1e6, 0))):
        with pytest.raises(EnvError, match="outside monitor 2.*nothing was sent"):
            env.execute(action)
    with pytest.raises(ActionError, match="ModelFrame"):
        env.execute(t.Click(Point(500, 500, Space.MODEL)))
    assert gui.calls == []


# ---------------------------------------------------------------- the calls each action makes


def test_drag_is_press_smooth_move_release() -> None:
    env, gui = make_env(drag_duration=0.5)
    env.observe()
    env.execute(t.Drag(Point(10, 20), Point(300, 400)))
    assert gui.calls == [("moveTo", 10, 20), ("mouseDown", ("button", "left"), ("x", 10), ("y", 20)),
                         ("moveTo", 300, 400, ("duration", 0.5), ("tween", FakeGui.linear)),
                         ("mouseUp", ("button", "left"), ("x", 300), ("y", 400))]


@pytest.mark.parametrize("os_name,expected", [
    ("linux", {"up": [("scroll", 5)], "down": [("scroll", -5)], "left": [("hscroll", -5)],
               "right": [("hscroll", 5)]}),
    ("macos", {"up": [("scroll", 5)], "down": [("scroll", -5)], "left": [("hscroll", -5)],
               "right": [("hscroll", 5)]}),
    # Windows: 120 per notch, and horizontal is shift+wheel (wheel up = left)
    ("windows", {"up": [("scroll", 600)], "down": [("scroll", -600)],
                 "left": [("keyDown", "shift"), ("scroll", 600), ("keyUp", "shift")],
                 "right": [("keyDown", "shift"), ("scroll", -600), ("keyUp", "shift")]}),
])
def test_scroll_calls_per_os(os_name: str, expected: dict[str, list[tuple[Any, ...]]]) -> None:
    env, gui = make_env(os_name=os_name)
    env.observe()
    for direction, calls in expected.items():
        gui.calls.clear()
        env.execute(t.Scroll(direction, Point(40, 50)))  # type: ignore[arg-type]
        assert gui.calls[0] == ("moveTo", 40, 50)
        got = [c[:2] if c[0] in ("scroll", "hscroll") else c for c in gui.calls[1:]]
        assert got == calls
        assert all(c[2:] == (("x", 40), ("y", 50)) for c in gui.calls[1:] if c[0] in ("scroll", "hscroll"))
    gui.calls.clear()
    env.execute(t.Scroll("down", None, amount=2))  # wherever the pointer is
    assert gui.calls[0][0] != "moveTo" and ("x", None) in gui.calls[-1 if os_name != "windows" else 0]


def test_scroll_up_to_the_cap_is_sent_and_a_larger_default_is_refused() -> None:
    env, gui = make_env()
    env.observe()
    env.execute(t.Scroll("down", Point(40, 50), amount=t.MAX_SCROLL))
    assert [c[:2] for c in gui.calls if c[0] == "scroll"] == [("scroll", -t.MAX_SCROLL)]
    with pytest.raises(ConfigError, match="scroll_amount"):
        make_env(scroll_amount=t.MAX_SCROLL + 1)[0].observe()


def test_keys_hotkeys_and_held_keys() -> None:
    env, gui = make_env(os_name="macos")
    env.observe()
    env.execute(t.Hotkey(("cmd", "shift", "4")))
    env.execute(t.Press("Return"))
    env.execute(t.KeyDown("alt"))
    env.execute(t.KeyUp("alt"))
    env.execute(t.MouseDown(Point(5, 6), button="right"))
    env.execute(t.MouseUp(None, button="right"))
    env.execute(t.MoveTo(Point(7, 8)))
    assert gui.calls == [("keyDown", "command"), ("keyDown", "shift"), ("keyDown", "4"), ("keyUp", "4"),
                         ("keyUp", "shift"), ("keyUp", "command"), ("press", "enter"), ("keyDown", "option"),
                         ("keyUp", "option"), ("mouseDown", ("button", "right"), ("x", 5), ("y", 6)),
                         ("mouseUp", ("button", "right"), ("x", None), ("y", None)), ("moveTo", 7, 8)]
    assert env.executor.held_keys == [] and env.executor.held_buttons == []


def test_key_without_keycode_is_refused_before_any_input() -> None:
    env, gui = make_env(gui=FakeGui(invalid=frozenset({"f24"})))
    env.observe()
    with pytest.raises(UnsupportedAction, match="'f24'.*no key code"):
        env.execute(t.Hotkey(("ctrl", "f24")))
    with pytest.raises(UnsupportedAction, match="'fn'"):
        env.execute(t.Press("fn"))
    assert gui.calls == []


def test_mobile_and_terminal_actions() -> None:
    env, gui = make_env()
    env.observe()
    for action in (t.LongPress(Point(1, 1)), t.OpenApp("Settings"), t.PressHome(), t.PressBack(),
                   t.Navigate("https://example.com"), t.NavigateBack()):
        with pytest.raises(UnsupportedAction, match=type(action).__name__):
            env.execute(action)
    env.execute(t.Finished("done"))
    env.execute(t.CallUser("help"))
    env.execute(t.Wait(0.0))
    assert gui.calls == []


def test_pause_and_failsafe_apply_during_actions_only() -> None:
    env, gui = make_env(pause=0.02)
    env.observe()
    env.execute(t.Type("hi", submit=True))
    assert gui.calls == [("write", "hi", ("interval", 0.0)), ("press", "enter")]
    assert gui.settings == [(0.02, True), (0.02, True)] and (gui.PAUSE, gui.FAILSAFE) == (0.1, True)
    env, gui = make_env(failsafe=False)
    env.observe()
    env.execute(t.MoveTo(Point(1, 1)))
    assert gui.settings == [(0.02, False)] and gui.FAILSAFE is True

    env, gui = make_env(gui=FakeGui(fail_on="click"))
    env.observe()
    with pytest.raises(FailSafeTriggered, match="failsafe=False") as info:
        env.execute(t.Click(Point(3, 3)))
    assert info.value.fatal and gui.PAUSE == 0.1


def test_check_is_a_dry_run_and_close_is_idempotent() -> None:
    env, gui = make_env(monitor=2, factor=2)
    assert env.check(t.Click(Point(2, 4))) == t.Click(Point(1921, -198, Space.SCREEN))
    with pytest.raises(DeniedAction):
        env.check(t.Hotkey(("ctrl", "alt", "delete")))
    assert gui.calls == []
    capture = env._capture
    env.close()
    env.close()
    assert capture.closed  # type: ignore[attr-defined]
    with pytest.raises(EnvError, match="closed"):
        env.observe()


# ---------------------------------------------------------------- text


def test_type_sends_ascii_as_keys_and_the_rest_through_the_unicode_typer() -> None:
    typed: list[str] = []
    gui = FakeGui(invalid=frozenset({"~"}))  # a layout without a tilde key
    ex = PyAutoGuiExecutor(gui, "linux", unicode_typer=lambda: typed.append)
    ex.run(t.Type("ab 日本\r\nc~d é", submit=True))
    assert gui.calls == [("write", "ab ", ("interval", 0.0)), ("write", "\nc", ("interval", 0.0)),
                         ("write", "d ", ("interval", 0.0)), ("press", "enter")]
    assert typed == ["日本", "~", "é"]
    with pytest.raises(UnsupportedAction, match="non-ASCII"):
        PyAutoGuiExecutor(FakeGui(), "linux").run(t.Type("ü"))


def test_split_runs_and_keysyms() -> None:
    assert split_runs("a\r\nb日本c\r") == [(True, "a\nb"), (False, "日本"), (True, "c\n")]
    assert split_runs("") == []
    assert [hex(keysym_for(c)) for c in "aé日😀\n"] == ["0x61", "0xe9", "0x10065e5", "0x101f600", "0xff0d"]


def test_paste_route_depends_on_os_and_window() -> None:
    assert paste_route("macos").keys == ("cmd", "v")
    assert paste_route("windows", ("WindowsTerminal",)).keys == ("ctrl", "v")
    assert paste_route("linux", ("gnome-terminal-server", "Gnome-terminal")).keys == ("ctrl", "shift", "v")
    assert paste_route("linux", ("xterm", "XTerm")) == paste_route("linux", ("urxvt",))
    assert paste_route("linux", ("xterm", "XTerm")).selection == "primary"
    assert paste_route("linux", ("xterm", "XTerm")).keys == ("shift", "insert")
    assert paste_route("linux", ("firefox", "Firefox")).keys == ("ctrl", "v")
    assert paste_route("linux", ()).keys == ("ctrl", "v")


class FakeClipboard:
    def __init__(self, text: str | None, log: list[tuple[str, Any]]):
        self.text, self.log = text, log

    def read(self) -> str | None:
        self.log.append(("read", self.text))
        return self.text

    def write(self, text: str) -> None:
        self.log.append(("write", text))
        self.text = text


@pytest.mark.parametrize("old", ["user's text", None])
def test_clipboard_typer_restores_the_old_clipboard(old: str | None) -> None:
    log: list[tuple[str, Any]] = []
    clips = {"primary": FakeClipboard(old, log)}
    typer = ClipboardTyper(clips.__getitem__, lambda: paste_route("linux", ("xterm",)),
                           lambda keys: log.append(("press", keys)), restore_delay=0.0)
    typer.type("你好")
    assert log == [("read", old), ("write", "你好"), ("press", ("shift", "insert")), ("write", old or "")]


# ---------------------------------------------------------------- with the agent loop and the CLI


def test_adjusted_deny_takes_entries_off_and_adds_them() -> None:
    linux = default_deny("linux")
    # entries compare by their keys: "alt+ctrl+del" is the default "ctrl+alt+delete"
    assert adjusted_deny("linux", allow=["alt+ctrl+del"], deny=["alt+f4"]) == \
        (linux - {"ctrl+alt+delete"}) | {"alt+f4"}
    assert adjusted_deny("linux", deny=["ctrl+alt+delete"]) == linux  # already there: not added twice
    assert adjusted_deny("macos") == default_deny("macos")
    with pytest.raises(ConfigError, match="not on the default linux deny list"):
        adjusted_deny("linux", allow=["alt+f4"])
    with pytest.raises(ConfigError, match="both allowed and denied"):
        adjusted_deny("linux", allow=["ctrl+alt+delete"], deny=["ctrl+alt+del"])
    with pytest.raises(ConfigError, match="unknown key 'nokey'"):
        adjusted_deny("linux", deny=["ctrl+nokey"])
    with pytest.raises(ConfigError, match="not one string"):
        adjusted_deny("linux", allow="ctrl+alt+delete")  # type: ignore[arg-type]


def ui_tars_box(env: DesktopEnv, x: float, y: float) -> str:
    """A screenshot pixel as UI-TARS-1.5 writes it (pixels of its smart_resized copy)."""
    p = PROFILE.frame(env.display.size_px).to_model(Point(x, y))
    return f"({round(p.x)},{round(p.y)})"


def test_the_fail_safe_ends_an_agent_run_at_once() -> None:
    env, _ = make_env(gui=FakeGui(fail_on="click"))
    answers = [f"Action: click(start_box='{ui_tars_box(env, 100, 100)}')",
               f"Action: click(start_box='{ui_tars_box(env, 200, 100)}')", "Action: finished(content='')"]
    model = ScriptModel(answers)
    result = Agent(env, model, PROFILE, AgentConfig(max_env_errors=3, settle_s=0)).run("click twice")
    assert result.outcome == "env_error" and len(result.steps) == 1 and len(model.calls) == 1
    assert "FailSafeTriggered" in result.reason and "--no-failsafe" in result.reason
    assert result.steps[0].status == ["error"] and "fail-safe" in result.steps[0].errors[0]


def test_dry_run_on_the_desktop_records_refusals_and_sends_nothing() -> None:
    env, gui = make_env(monitor=2)
    answers = ["Action: hotkey(key='ctrl alt delete')",
               f"Action: click(start_box='{ui_tars_box(env, 100, 100)}')", "Action: finished(content='')"]
    result = Agent(env, ScriptModel(answers), PROFILE, AgentConfig(dry_run=True)).run("try things")
    assert result.success and gui.calls == []
    assert [s.status for s in result.steps] == [["error"], ["dry_run"], ["terminal"]]
    assert "deny-list entry 'ctrl+alt+delete'" in result.steps[0].errors[0]
    assert "--allow-hotkey" in result.steps[0].errors[0]


class FakeDesktopEnv(DesktopEnv):
    """DesktopEnv with the capture and pyautogui replaced, built the way `guiagent run` / replay build it."""

    made: ClassVar[list[FakeDesktopEnv]] = []

    def __init__(self, monitor: Any = 1, **kwargs: Any) -> None:
        super().__init__(monitor, os_name="linux", capture=FakeCapture(), gui=FakeGui(),  # type: ignore[arg-type]
                         environ={"DISPLAY": ":0"}, **kwargs)
        FakeDesktopEnv.made.append(self)


def test_factory_builds_the_desktop_from_recordable_options(monkeypatch) -> None:
    import guiagent.envs.desktop

    with pytest.raises(ConfigError, match="unknown desktop option.*'monitr'"):
        factory.make_env("desktop", monitr=2)
    monkeypatch.setattr(guiagent.envs.desktop, "DesktopEnv", FakeDesktopEnv)
    env = factory.make_env("desktop", monitor="all", failsafe=False, unicode_method="clipboard",
                           allow_hotkeys=["ctrl+alt+delete"], deny_hotkeys=["alt+f4"])
    assert isinstance(env, FakeDesktopEnv) and env.monitor.index == 0
    assert env.executor.failsafe is False and env.unicode_method == "clipboard"
    assert env.deny.match(["alt", "f4"]) == "alt+f4" and env.deny.match(["ctrl", "alt", "delete"]) is None
    assert env.deny.match(["ctrl", "alt", "backspace"]) == "ctrl+alt+backspace"  # the rest of the defaults stay
    with pytest.raises(ConfigError, match="not both"):
        factory.make_env("desktop", deny=[], deny_hotkeys=["alt+f4"])


def run_parser() -> Any:
    import argparse

    parser = argparse.ArgumentParser()
    run_cli.register(parser.add_subparsers())
    return parser


@pytest.mark.parametrize("text, value", [("2", 2), ("0", 0), ("all", "all"), (" Primary", "primary")])
def test_monitor_flag_accepts_numbers_all_and_primary(text: str, value: Any) -> None:
    args = run_parser().parse_args(["run", "x", "--env", "desktop", "--monitor", text])
    assert run_cli.env_options(args) == {"monitor": value, "failsafe": True, "unicode_method": "auto"}


@pytest.mark.parametrize("argv", [["--monitor", "left"], ["--monitor", "-1"], ["--unicode-method", "xdotool"]])
def test_bad_desktop_flags_are_usage_errors(argv: list[str]) -> None:
    with pytest.raises(SystemExit) as e:
        run_parser().parse_args(["run", "x", "--env", "desktop", *argv])
    assert e.value.code == 2


def test_desktop_flags_with_the_mock_env_are_usage_errors(tmp_path, capsys) -> None:
    code = cli_main(["run", "x", "--model", "scripted", "--no-failsafe", "--deny-hotkey", "alt+f4",
                     "--out", str(tmp_path)])
    assert code == 2 and "--no-failsafe, --deny-hotkey apply to --env desktop only" in capsys.readouterr().err


def test_run_with_desktop_flags_records_them_and_replay_rebuilds_the_same_env(monkeypatch, tmp_path) -> None:
    import guiagent.envs.desktop

    env, _ = make_env(monitor=2)
    answers = ["Thought: close it\nAction: hotkey(key='alt f4')",
               "Thought: the security screen\nAction: hotkey(key='ctrl alt delete')",
               "Thought: done\nAction: finished(content='ok')"]
    recorded = Agent(env, ScriptModel(answers), PROFILE, AgentConfig(settle_s=0)).run(
        "poke", out_dir=tmp_path / "recorded")
    assert [s.status for s in recorded.steps] == [["executed"], ["error"], ["terminal"]]  # the default deny list

    monkeypatch.setattr(guiagent.envs.desktop, "DesktopEnv", FakeDesktopEnv)
    FakeDesktopEnv.made.clear()
    code = cli_main(["run", "poke", "--env", "desktop", "--monitor", "2", "--no-failsafe", "--unicode-method",
                     "clipboard", "--allow-hotkey", "ctrl+alt+delete", "--deny-hotkey", "alt+f4",
                     "--model", f"replay:{recorded.run_dir}", "--family", "ui-tars-1.5", "--dry-run",
                     "--settle", "0", "--out", str(tmp_path / "cli"), "--quiet"])
    assert code == 0
    (cli_env,) = FakeDesktopEnv.made
    assert cli_env.executor.gui.calls == []  # type: ignore[attr-defined]
    (run_dir,) = (tmp_path / "cli").iterdir()
    run = load_run(run_dir)
    # the dry run meets the changed deny list: alt+f4 refused now, ctrl+alt+delete allowed
    assert [s.status for s in run.steps] == [["error"], ["dry_run"], ["terminal"]]
    options = {"monitor": 2, "failsafe": False, "unicode_method": "clipboard",
               "allow_hotkeys": ["ctrl+alt+delete"], "deny_hotkeys": ["alt+f4"]}
    assert run.meta["env_options"] == options

    # a run folder may not loosen safety by itself (tests/test_replay_untrusted.py): the allowed hotkey and the
    # failsafe turned off are left out, with a warning each, unless the replay command line gives them again
    warnings: list[str] = []
    rebuilt, used = factory.env_from_meta(run.meta, warn=warnings.append)
    assert used == {k: v for k, v in options.items() if k not in ("allow_hotkeys", "failsafe")}
    assert len(warnings) == 2 and isinstance(rebuilt, FakeDesktopEnv)
    assert rebuilt.executor.failsafe is True and rebuilt.deny.match(["ctrl", "alt", "delete"])
    rebuilt, used = factory.env_from_meta(run.meta, given={"allow_hotkeys": ["ctrl+alt+delete"], "failsafe": False},
                                          warn=warnings.append)
    assert used == options and isinstance(rebuilt, FakeDesktopEnv)
    assert rebuilt.monitor == cli_env.monitor and rebuilt.monitor.index == 2
    assert rebuilt.deny.entries == cli_env.deny.entries and rebuilt.deny.match(["alt", "f4"]) == "alt+f4"
    assert rebuilt.executor.failsafe is False and rebuilt.unicode_method == "clipboard"


def test_replay_stops_when_the_fail_safe_fires_on_a_recorded_refusal(tmp_path) -> None:
    env, _ = make_env()
    answers = ["Action: hotkey(key='ctrl alt delete')", "Action: type(content='x')", "Action: finished(content='')"]
    recorded = Agent(env, ScriptModel(answers), PROFILE, AgentConfig(settle_s=0)).run(
        "poke", out_dir=tmp_path)
    assert [s.status for s in recorded.steps] == [["error"], ["executed"], ["terminal"]]
    # replayed where the combination is allowed, the user trips the fail-safe as it is pressed
    env, gui = make_env(deny=[], gui=FakeGui(fail_on="keyDown"))
    report = replay_actions(recorded.run_dir, env, waits=False)
    assert not report.ok and "fail-safe" in report.errors[0] and report.steps_replayed == 1
    assert gui.calls == []  # the type action after it was not sent
