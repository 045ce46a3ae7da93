"""Evaluation at scale: a suite's episodes on parallel workers (local processes or Ray), resumable, with success
rates and 95% Wilson intervals by group; and paired comparisons of two evaluations.

    from guiagent.agent.evaluation import evaluate, compare
    summary = evaluate("results/a", suite="mock", model="openai:http://gpu:8000/v1", family="ui-tars-1.5", workers=8)
    print(summary.success_rate, summary.overall.ci95)
    print(compare("results/a", "results/b").to_json())

A suite is a plug-in (``suite.py``): ``register_suite(name, factory)`` makes ``--suite name`` work.
"""

from guiagent.agent.evaluation.compare import Comparison, TaskDelta, compare, load_results
from guiagent.agent.evaluation.episode import EvalJob, EvalModel, EpisodeOutput, run_episode
from guiagent.agent.evaluation.pool import EvalError
from guiagent.agent.evaluation.results import EpisodeResult, GroupStats, ResultsDir, Summary, summarize
from guiagent.agent.evaluation.runner import EvalProgress, episode_specs, evaluate
from guiagent.agent.evaluation.stats import paired_bootstrap, wilson_interval
from guiagent.agent.evaluation.suite import (
    CheckOutcome,
    Episode,
    EpisodeSpec,
    Suite,
    TaskRef,
    WorkerContext,
    get_suite,
    register_suite,
    suite_names,
)

__all__ = ["CheckOutcome", "Comparison", "EpisodeOutput", "Episode", "EpisodeResult", "EpisodeSpec", "EvalError",
           "EvalJob", "EvalModel", "EvalProgress", "GroupStats", "ResultsDir", "Suite", "Summary", "TaskDelta",
           "TaskRef", "WorkerContext", "compare", "episode_specs", "evaluate", "get_suite", "load_results",
           "paired_bootstrap", "register_suite", "run_episode", "suite_names", "summarize", "wilson_interval"]
