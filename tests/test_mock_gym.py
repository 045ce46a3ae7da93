"""The gymnasium adapter: registration, the env checker, text and typed actions, rewards and episode ends."""

from __future__ import annotations

import warnings

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

import guiagent.envs.mock.gym as mock_gym
from guiagent.actions import types as T
from guiagent.envs.mock.gym import MockTaskEnv, env_id
from guiagent.envs.mock.scripted import ScriptedModel
from guiagent.envs.mock.tasks import load_suite
from guiagent.errors import EnvError
from guiagent.models.base import Sampling


def test_every_task_is_registered():
    ids = {t.id for t in load_suite()}
    for task_id in ids:
        assert env_id(task_id) in gym.registry
    assert "guiagent/Mock-v0" in gym.registry
    assert len(mock_gym.ENV_IDS) == len(ids) + 1
    assert mock_gym.register_envs() == mock_gym.ENV_IDS  # idempotent


@pytest.mark.parametrize("name", ["guiagent/Mock-v0", "guiagent/Mock-form-register-options-v0"])
def test_env_checker_passes_without_warnings(name):
    env = gym.make(name, render_mode="rgb_array")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        check_env(env.unwrapped)
    assert [str(w.message) for w in caught] == []
    env.close()


def test_make_with_module_prefix_and_options():
    env = gym.make("guiagent.envs.mock.gym:guiagent/Mock-calc-add-v0", width=1024, height=768, scale=2.0)
    obs, info = env.reset(seed=1)
    assert obs["screenshot"].shape == (1536, 2048, 3) and obs["screenshot"].dtype == np.uint8
    assert obs["instruction"] == "Use the Calculator to add 12 and 30." and info["task"] == "calc-add"
    assert obs in env.observation_space
    env.close()


def solve_with_text(env, family="ui-tars-1.5"):
    """Drive the env with the scripted model's text, as an RL agent emitting model text would."""
    from guiagent.models.profiles import get_profile

    model = ScriptedModel(env.desktop, get_profile(family))
    rewards, infos = [], []
    while True:
        text = model.complete([], Sampling()).text
        assert text in env.action_space  # reference answers lie in the action space
        obs, reward, terminated, truncated, info = env.step(text)
        rewards.append(reward)
        infos.append(info)
        if terminated or truncated:
            return obs, rewards, terminated, truncated, infos


@pytest.mark.parametrize("task_id, family", [("files-drag-into-folder", "ui-tars-1.5"),
                                             ("settings-volume-slider", "kimi-vl"),
                                             ("mail-japanese", "ui-tars-1.0")])
def test_model_text_actions_solve_a_task(task_id, family):
    env = MockTaskEnv(task_id, family=family)
    env.reset(seed=0)
    obs, rewards, terminated, truncated, infos = solve_with_text(env, family)
    assert terminated and not truncated
    assert rewards[-1] == 1.0 and sum(rewards) == 1.0  # the reward comes once, when the check first holds
    assert infos[-1]["success"] and infos[-1]["reasons"][0].startswith("ok: ")
    assert all("parse_error" not in i and "env_error" not in i for i in infos)
    assert obs in env.observation_space


def test_typed_actions_in_every_space_and_a_parsed_step():
    env = MockTaskEnv("calc-add", scale=2.0)
    env.reset(seed=0)
    desk = env.desktop
    one = desk.find(role="button", name="1")
    cx, cy = one.center
    # SCREENSHOT space (physical pixels), a list of actions, SCREEN space, MODEL space of ui-tars-1.5
    env.step(T.Click(T.Point(cx * 2, cy * 2)))
    two = desk.find(role="button", name="2").center
    env.step([T.Click(T.Point(*two, T.Space.SCREEN)), T.Type("+3")])
    frame = env.profile.frame(desk.display.size_px)
    zero = frame.to_model(desk.display.to_screenshot(T.Point(*desk.find(role="button", name="0").center,
                                                             T.Space.SCREEN)))
    env.step(T.Click(zero))
    _obs, reward, terminated, _truncated, info = env.step(T.Step((T.Press("enter"),), raw=""))
    assert desk.state()["apps"]["calculator"]["display"] == "42"
    assert reward == 1.0 and terminated and info["actions"] == [{"type": "press", "key": "enter"}]


def test_parse_errors_count_as_steps_and_truncate_at_the_limit():
    env = MockTaskEnv("calc-keyboard-multiply")  # max_steps 4
    env.reset(seed=0)
    for i in range(4):
        _obs, reward, terminated, truncated, info = env.step("I think I should click somewhere")
        assert "parse_error" in info and info["actions"] == [] and reward == 0.0 and not terminated
        assert truncated == (i == 3)
    with pytest.raises(EnvError, match="call reset"):
        env.step("Action: finished()")
    env.reset()
    _, _, _, _, info = env.step(12345)
    assert "an action must be model text" in info["parse_error"]


def test_finished_without_success_terminates_with_no_reward():
    env = MockTaskEnv("calc-add")
    env.reset(seed=0)
    _obs, reward, terminated, truncated, info = env.step("Thought: done\nAction: finished(content='42')")
    assert terminated and not truncated and reward == 0.0
    assert info["answer"] == "42" and not info["success"]
    assert info["reasons"][0] == "failed: the calculator display is '0', expected '42'"


def test_refused_action_is_reported_and_the_state_kept():
    env = MockTaskEnv("calc-add")
    env.reset(seed=0)
    before = env.desktop.state()
    _, reward, terminated, _, info = env.step(T.Click(T.Point(5000, 10)))
    assert "outside the screen" in info["env_error"] and not terminated and reward == 0.0
    after = env.desktop.state()
    assert {k: v for k, v in after.items() if k != "time"} == {k: v for k, v in before.items() if k != "time"}


def test_sampling_env_draws_tasks_from_the_seed():
    env = gym.make("guiagent/Mock-v0").unwrapped
    drawn = [env.reset(seed=s)[1]["task"] for s in range(12)]
    assert len(set(drawn)) >= 6
    assert [env.reset(seed=s)[1]["task"] for s in range(12)] == drawn
    obs, info = env.reset(seed=3, options={"task": "form-open-link"})
    assert info["task"] == "form-open-link" and "Contact Us page" in obs["instruction"]
    env.close()


def test_render_returns_the_screenshot():
    env = MockTaskEnv("settings-dark-mode", render_mode="rgb_array", width=800, height=600, scale=1.5)
    obs, _ = env.reset(seed=0)
    frame = env.render()
    assert frame.shape == (900, 1200, 3) and np.array_equal(frame, obs["screenshot"])
    assert MockTaskEnv("calc-add").render() is None


def test_one_scripted_model_follows_the_env_across_resets():
    from guiagent.models.profiles import get_profile

    env = MockTaskEnv(tasks=["calc-add", "settings-wifi-off", "files-drag-into-folder"])
    model = ScriptedModel(env.desktop, get_profile("ui-tars-1.5"))
    solved = []
    for seed in range(4):
        _, info = env.reset(seed=seed)
        env.reset(seed=seed)  # a second reset before the model looks: still a fresh episode
        for _ in range(env.task.max_steps):
            _, reward, terminated, truncated, step_info = env.step(model.complete([], Sampling()).text)
            if terminated or truncated:
                break
        assert reward == 1.0 and step_info["success"], (info["task"], step_info["reasons"])
        solved.append(info["task"])
    assert len(set(solved)) >= 2
