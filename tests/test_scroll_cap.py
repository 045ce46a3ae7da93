"""A scroll is capped at ``MAX_SCROLL`` wheel clicks: the action type refuses more, so every parser, the JSON
reader and every environment refuse it too (a huge scroll ties a real desktop up for minutes)."""

import pytest

from guiagent.actions import action_from_json
from guiagent.actions import types as T
from guiagent.envs.mock import MockDesktop
from guiagent.errors import ActionError, ParseError
from guiagent.models.profiles import get_profile


def test_scroll_amount_above_the_cap_is_refused_naming_the_limit() -> None:
    assert T.Scroll("down", amount=T.MAX_SCROLL).amount == T.MAX_SCROLL
    for amount in (T.MAX_SCROLL + 1, 10**23):
        with pytest.raises(ActionError, match=f"limit of {T.MAX_SCROLL} wheel clicks"):
            T.Scroll("down", amount=amount)


def test_json_reader_refuses_above_the_cap() -> None:
    data = {"type": "scroll", "x": None, "y": None, "direction": "up", "amount": T.MAX_SCROLL}
    assert action_from_json(data) == T.Scroll("up", amount=T.MAX_SCROLL)
    with pytest.raises(ActionError, match="limit"):
        action_from_json({**data, "amount": T.MAX_SCROLL + 1})


@pytest.mark.parametrize("family", ["kimi-vl", "kimi-vl-thinking", "opencua"])
@pytest.mark.parametrize("call", ["pyautogui.scroll(-{n})", "pyautogui.scroll({n})", "pyautogui.hscroll({n})",
                                  "pyautogui.scroll({n}, x=10, y=20)"])
def test_pycode_grammars_give_a_parse_error_quoting_the_text(family: str, call: str) -> None:
    grammar = get_profile(family).parser()
    ok = grammar.parse(call.format(n=T.MAX_SCROLL)).actions
    assert ok and ok[0].amount == T.MAX_SCROLL
    for n in (T.MAX_SCROLL + 1, "99999999999999999999999"):
        text = call.format(n=n)
        with pytest.raises(ParseError, match="limit of 1000 wheel clicks") as info:
            grammar.parse(text)
        assert "scroll(" in str(info.value)


@pytest.mark.parametrize("family", ["ui-tars-1.0", "ui-tars-1.5", "ui-tars-2", "qwen2.5-vl"])
def test_uitars_scrolls_have_no_amount(family: str) -> None:
    grammar = get_profile(family).parser()
    for text in ("Action: scroll(start_box='(10,20)', direction='down')",
                 "Action: scroll(point='<point>10 20</point>', direction='down')"):
        try:
            actions = grammar.parse(text).actions
        except ParseError:
            continue  # this family spells its points the other way
        assert [a.amount for a in actions] == [None]
        break
    else:
        pytest.fail(f"{family} parsed no scroll")


def test_mock_desktop_takes_a_scroll_at_the_cap() -> None:
    d = MockDesktop(initial_state={"open": ["editor"]})
    d.execute(T.Scroll("down", amount=T.MAX_SCROLL))
    d.execute(T.Scroll("up", amount=T.MAX_SCROLL))
