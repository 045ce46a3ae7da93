"""guiagent compare and the evaluation statistics, checked against values computed by hand."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from guiagent.agent.evaluation import compare, paired_bootstrap, summarize, wilson_interval
from guiagent.agent.evaluation.results import EpisodeResult
from guiagent.cli import main
from guiagent.errors import ConfigError

Z = 1.959963984540054


def write_results(folder: Path, outcomes: dict[str, list[bool]]) -> Path:
    """A results folder whose results.jsonl holds ``outcomes``: task -> success of each repeat."""
    folder.mkdir(parents=True)
    with open(folder / "results.jsonl", "w") as f:
        for task, successes in outcomes.items():
            for k, ok in enumerate(successes):
                r = EpisodeResult("mock", task, k, k, "success", ok, "", None if ok else "check_failed", steps=3)
                f.write(json.dumps(r.to_json()) + "\n")
    return folder


def test_wilson_interval_matches_its_closed_forms():
    # 0 of n: [0, z^2/(n+z^2)]; n of n: [n/(n+z^2), 1]; 5 of 10: centre 0.5, half-width from the formula
    assert wilson_interval(0, 10) == pytest.approx((0.0, Z * Z / (10 + Z * Z)))
    assert wilson_interval(10, 10) == pytest.approx((10 / (10 + Z * Z), 1.0))
    half = Z * math.sqrt(0.25 / 10 + Z * Z / 400) / (1 + Z * Z / 10)
    assert wilson_interval(5, 10) == pytest.approx((0.5 - half, 0.5 + half))
    assert wilson_interval(5, 10) == pytest.approx((0.2366, 0.7634), abs=1e-4)
    assert wilson_interval(0, 0) is None


def test_paired_bootstrap_matches_the_exact_resampling_distribution():
    # deltas [1, 0, 0]: a resample's mean is k/3 with k ~ Binomial(3, 1/3): P(k=0) = 8/27 > 2.5%, so the lower
    # bound is 0; P(k <= 2) = 26/27 < 97.5%, so the upper bound is 3/3.
    assert paired_bootstrap([1, 0, 0]) == (0.0, 1.0)
    # deltas [1, 0, 0, -1]: P(mean <= -1) = 1/256 < 2.5% < P(mean <= -3/4) = 1/256 + 4/128, symmetric above
    assert paired_bootstrap([1, 0, 0, -1]) == (-0.75, 0.75)
    assert paired_bootstrap([0.5, 0.5, 0.5]) == (0.5, 0.5)
    assert paired_bootstrap([1, 0, 0], seed=3) == paired_bootstrap([1, 0, 0], seed=3)
    with pytest.raises(ConfigError, match="no tasks in common"):
        paired_bootstrap([])


def test_compare_per_task_deltas_overall_delta_and_interval(tmp_path: Path):
    a = write_results(tmp_path / "a", {"t1": [True, False], "t2": [False, False], "t3": [True, True],
                                       "only-a": [True]})
    b = write_results(tmp_path / "b", {"t1": [True, True], "t2": [True, False], "t3": [True, True],
                                       "only-b": [False]})
    result = compare(a, b)
    assert [(t.task, t.a, t.b, t.delta, t.episodes_a, t.episodes_b) for t in result.tasks] == [
        ("t1", 0.5, 1.0, 0.5, 2, 2), ("t2", 0.0, 0.5, 0.5, 2, 2), ("t3", 1.0, 1.0, 0.0, 2, 2)]
    assert result.rate_a == pytest.approx(0.5) and result.rate_b == pytest.approx(2.5 / 3)
    assert result.delta == pytest.approx(1 / 3)
    # deltas [.5, .5, 0]: the resample mean is k/6 with k ~ Binomial(3, 2/3); P(k=0) = 1/27 > 2.5%, so the lower
    # bound is 0; P(k <= 2) = 19/27 < 97.5%, so the upper bound is 3/6
    assert result.ci == (0.0, 0.5) and not result.significant
    assert result.only_a == ["only-a"] and result.only_b == ["only-b"]


def test_compare_command_prints_a_table_and_json(tmp_path: Path, capsys):
    a = write_results(tmp_path / "a", {"t1": [True], "t2": [False], "t3": [False], "t4": [True]})
    b = write_results(tmp_path / "b", {"t1": [True], "t2": [True], "t3": [False], "t4": [False]})
    assert main(["compare", str(a), str(b), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert (data["delta"], data["ci"], data["tasks_compared"], data["significant"]) == (0.0, [-0.75, 0.75], 4,
                                                                                       False)
    assert [t["delta"] for t in data["tasks"]] == [0.0, 1.0, 0.0, -1.0]
    assert main(["compare", str(a), str(b)]) == 0
    out = capsys.readouterr().out
    assert "t2" in out and "t4" in out and "t1 " not in out  # only the tasks that differ
    assert "2 of 4 tasks have the same success rate" in out
    assert "delta +0.0%, 95% CI [-75.0%, +75.0%]" in out and "no clear difference" in out


def test_a_clear_improvement_is_significant(tmp_path: Path):
    tasks = [f"t{i}" for i in range(10)]
    a = write_results(tmp_path / "a", {t: [False] for t in tasks})
    b = write_results(tmp_path / "b", {t: [True] for t in tasks})
    result = compare(a, b)
    assert (result.delta, result.ci, result.significant) == (1.0, (1.0, 1.0), True)


@pytest.mark.parametrize("content, message", [
    (None, "is not a results folder of guiagent eval"),
    ("", "holds no episodes yet"),
    ('{"suite": "mock"}\n', "line 1 is not an episode record (missing task, repeat, outcome, success)"),
    ("not json\n", "line 1 is not an episode record"),
])
def test_compare_refuses_bad_inputs_with_one_line(tmp_path: Path, capsys, content, message):
    good = write_results(tmp_path / "good", {"t1": [True]})
    bad = tmp_path / "bad"
    bad.mkdir()
    if content is not None:
        (bad / "results.jsonl").write_text(content)
    assert main(["compare", str(good), str(bad)]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_compare_without_common_tasks_is_an_error(tmp_path: Path, capsys):
    a = write_results(tmp_path / "a", {"t1": [True]})
    b = write_results(tmp_path / "b", {"t2": [True]})
    assert main(["compare", str(a), str(b)]) == 2
    assert "have no task in common" in capsys.readouterr().err


def test_summarize_counts_groups_failures_and_means():
    def result(task, app, ok, outcome, steps, reason="", check=None):
        return EpisodeResult("mock", task, 0, 0, outcome, ok, reason, None if ok else (
            "check_failed" if outcome == "success" else outcome), check, steps, {"total_s": 2.0 * steps},
            {"app": app})

    results = [result("a", "mail", True, "success", 4), result("b", "mail", False, "step_limit", 10, "limit"),
               result("c", "files", False, "success", 2, check={"reasons": ["failed: x", "ok: y"]}),
               result("d", "files", False, "step_limit", 10, "limit")]
    s = summarize(results, group_by=["app"], group_order={"app": ["files", "mail"]})
    assert list(s.groups["app"]) == ["files", "mail"]
    mail = s.groups["app"]["mail"]
    assert (mail.episodes, mail.successes, mail.success_rate, mail.mean_steps, mail.mean_time_s) == (
        2, 1, 0.5, 7.0, 14.0)
    assert mail.ci95 == wilson_interval(1, 2)
    assert [(f.kind, f.count, f.tasks, f.reasons) for f in s.failures] == [
        ("step_limit", 2, ["b", "d"], [("limit", 2)]), ("check_failed", 1, ["c"], [("failed: x", 1)])]
    assert s.success_rate == 0.25 and s.overall.mean_steps == 6.5
