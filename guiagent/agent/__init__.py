"""The agent loop, its configuration and hooks, run folders (trajectories), replay, the HTML report and export.

    from guiagent.agent import Agent, AgentConfig
    result = Agent(env, model, profile, AgentConfig(max_steps=30)).run("Open the Downloads folder", out_dir="runs")
"""

from guiagent.agent.config import AgentConfig
from guiagent.agent.hooks import ActionContext, CallbackHooks, ConfirmHook, Decision, Hooks
from guiagent.agent.loop import OUTCOMES, Agent, RunResult
from guiagent.agent.replay import ReplayModel, replay_actions
from guiagent.agent.trajectory import Run, StepRecord, TrajectoryError, load_run

__all__ = ["OUTCOMES", "ActionContext", "Agent", "AgentConfig", "CallbackHooks", "ConfirmHook", "Decision", "Hooks",
           "ReplayModel", "Run", "RunResult", "StepRecord", "TrajectoryError", "load_run", "replay_actions"]
