"""``eval-grounding``: ask a model to locate each sample's element, score the answers, write the results.

Files in the output folder:
  grounding.json      what was evaluated (data, model, family, prompt mode): a later run in the same folder with
                      other settings is refused (``force`` starts over)
  predictions.jsonl   one line per sample, appended and flushed as each answer comes in (a rerun skips the samples
                      already there, except those that failed with a model error)
  summary.json        the metrics (``summarize``)
"""

from __future__ import annotations

import functools
import json
import os
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from guiagent.agent.grounding.answer import read_answer
from guiagent.agent.grounding.data import Sample, load_samples
from guiagent.agent.grounding.metrics import box_map, iou, point_in_box
from guiagent.errors import ConfigError

CONFIG_FILE, PREDICTIONS_FILE, SUMMARY_FILE = "grounding.json", "predictions.jsonl", "summary.json"


@dataclass
class GroundingModel:
    """A loaded model and its profile (``model.complete``; ``profile`` gives prompt, grammar and frame)."""

    model: Any
    profile: Any
    describe: dict[str, Any]


def ground_sample(model: Any, profile: Any, sample: Sample, mode: str = "grounding") -> dict[str, Any]:
    """Ask for one sample and score the answer.

    Returns:
        The sample's result line (see docs/grounding.md); a model that fails gives a line with ``model_error``.
    """
    from guiagent.models.history import build_messages

    record: dict[str, Any] = {"id": sample.id, "image": sample.image.name, "instruction": sample.instruction,
                              "type": sample.elem_type, "split": sample.split, "source": sample.source,
                              "gt_box": [round(v, 2) for v in sample.box]}
    from PIL import Image

    try:
        image = _load_image(sample.image)
    except (OSError, ValueError, Image.DecompressionBombError) as e:  # a bad image costs its sample, not the run
        # a miss, but the dataset's fault, not the model's: counted as image_errors, not as an unusable answer
        record.update(hit=False, image_error=f"cannot read the image: {e}")
        return record
    record["img_size"] = list(image.size)
    messages = build_messages(profile, sample.instruction, [], image, screenshot_ref=str(sample.image), mode=mode)
    t0 = time.perf_counter()
    try:
        response = model.complete(messages, profile.sampling)
    except Exception as e:  # noqa: BLE001 - a failed request costs its sample (and is asked again on resume)
        record.update(hit=False, model_error=f"{type(e).__name__}: {e}")
        return record
    record["latency_s"] = round(time.perf_counter() - t0, 4)
    record["response"] = response.text
    pred = read_answer(response.text, profile, image.size)
    confidence = getattr(response, "confidence", None)
    record.update(point=None if pred.point is None else [round(v, 2) for v in pred.point],
                  box=None if pred.box is None else [round(v, 2) for v in pred.box],
                  confidence=confidence, error=pred.error,
                  hit=pred.point is not None and point_in_box(*pred.point, sample.box),
                  iou=None if pred.box is None else round(iou(pred.box, sample.box), 6))
    return record


@functools.lru_cache(maxsize=16)
def _load_image(path: Path) -> Any:
    """Decoded images, kept for the next samples on the same screen (ScreenSpot asks several per image); the
    resized copy the model is sent is cached on the image object (``models.history``)."""
    from PIL import Image

    with Image.open(path) as img:
        return img.convert("RGB")


def summarize(records: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """The metrics over result lines (in dataset order: AP ranks unscored predictions by it).

    Returns:
        ``samples``, ``hits``, ``click_accuracy``; the same by ``type``, ``split``, ``split_type`` and ``source``;
        ``unparsed``, ``model_errors`` and ``image_errors`` counts; and, when any answer was a box: ``box_predictions``, ``ap50``,
        ``map``, ``ap_by_iou``.
    """
    def cell(rows: Sequence[dict[str, Any]]) -> dict[str, Any]:
        hits = sum(bool(r.get("hit")) for r in rows)
        return {"samples": len(rows), "hits": hits, "accuracy": hits / len(rows) if rows else None}

    out: dict[str, Any] = {**{k: v for k, v in cell(records).items() if k != "accuracy"},
                           "click_accuracy": cell(records)["accuracy"]}
    for name, key in (("by_type", lambda r: r["type"]), ("by_split", lambda r: r["split"]),
                      ("by_split_type", lambda r: f"{r['split']}/{r['type']}"),
                      ("by_source", lambda r: r.get("source") or "-")):
        groups: dict[str, list[dict[str, Any]]] = {}
        for r in records:
            groups.setdefault(key(r), []).append(r)
        out[name] = {k: cell(v) for k, v in sorted(groups.items())}
    out["unparsed"] = sum(1 for r in records if r.get("error"))
    out["model_errors"] = sum(1 for r in records if r.get("model_error"))
    out["image_errors"] = sum(1 for r in records if r.get("image_error"))
    boxed = [r for r in records if r.get("iou") is not None]
    out["box_predictions"] = len(boxed)
    if boxed:
        mean, per = box_map([r["iou"] for r in boxed], [r.get("confidence") for r in boxed], len(records))
        out.update(ap50=per["0.50"], map=mean, ap_by_iou=per)
    else:
        out.update(ap50=None, map=None, ap_by_iou=None)
    return out


def evaluate_grounding(data: str | Path, out: str | Path, load: Callable[[], GroundingModel], *,
                       images: str | Path | None = None, workers: int = 1, limit: int | None = None,
                       mode: str = "grounding", force: bool = False,
                       progress: Callable[[int, int, dict[str, Any] | None], None] | None = None) -> dict[str, Any]:
    """Evaluate a model on a grounding dataset (see the module docstring).

    Args:
        data: annotation file or folder (``data.load_samples``).
        out: the results folder.
        load: builds the model (called once; its answers are asked from ``workers`` threads at once).
        images: the image folder (None: found next to the annotations).
        workers: concurrent requests.
        limit: only the first N samples.
        mode: the profile's prompt mode.
        force: start over in a folder that holds another configuration's results.
        progress: called with (done, total, the latest line or None).

    Returns:
        The summary (also written to summary.json).

    Raises:
        ConfigError: bad data, a folder holding other results, a family without the prompt mode.
    """
    samples = load_samples(data, images, limit)
    loaded = load()
    loaded.profile.prompt(mode)  # a family without this prompt mode: ConfigError before anything is written
    folder = Path(out).expanduser()
    config = {"data": str(Path(data).expanduser().resolve()), "model": loaded.describe,
              "family": loaded.profile.name, "mode": mode}
    done = _open_folder(folder, config, force)
    todo = [s for s in samples if s.id not in done]
    total = len(samples)
    if progress:
        progress(total - len(todo), total, None)
    lock = threading.Lock()
    with open(folder / PREDICTIONS_FILE, "a", encoding="utf-8") as sink, \
            ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        count = total - len(todo)
        pending = set()
        queue = iter(todo)
        try:
            for sample in queue:
                pending.add(pool.submit(ground_sample, loaded.model, loaded.profile, sample, mode))
                if len(pending) >= 2 * max(1, workers):
                    count = _drain(pending, sink, lock, done, count, total, progress, FIRST_COMPLETED)
            while pending:
                count = _drain(pending, sink, lock, done, count, total, progress, FIRST_COMPLETED)
        except BaseException:
            for f in pending:
                f.cancel()
            raise
    records = [done[s.id] for s in samples if s.id in done]
    summary = {**summarize(records), "complete": len(records) == total, "data": config["data"],
               "model": loaded.describe, "family": loaded.profile.name}
    tmp = folder / (SUMMARY_FILE + ".tmp")
    tmp.write_text(json.dumps(summary, indent=2, ensure_ascii=False), encoding="utf-8")
    os.replace(tmp, folder / SUMMARY_FILE)
    return summary


def _drain(pending: set, sink: Any, lock: threading.Lock, done: dict[str, Any], count: int, total: int,
           progress: Any, when: Any) -> int:
    finished, _ = wait(pending, return_when=when)
    for future in finished:
        pending.discard(future)
        record = future.result()
        with lock:
            sink.write(json.dumps(record, ensure_ascii=False) + "\n")
            sink.flush()
        done[record["id"]] = record
        count += 1
        if progress:
            progress(count, total, record)
    return count


def _open_folder(folder: Path, config: dict[str, Any], force: bool) -> dict[str, dict[str, Any]]:
    """Check (or record) the folder's configuration; return the lines already there (by sample id)."""
    if folder.exists() and not folder.is_dir():
        raise ConfigError(f"{folder} is a file, not a results folder")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as e:  # a parent that is a file, a read-only place
        raise ConfigError(f"cannot make the results folder {folder}: {e.strerror or e}") from e
    path = folder / CONFIG_FILE
    if path.is_file():
        try:
            old = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError, RecursionError):
            old = None
        if old != config:
            if not force:
                changed = sorted(k for k in config if not isinstance(old, dict) or old.get(k) != config[k])
                raise ConfigError(f"{folder} holds results of another configuration (differs in: "
                                  f"{', '.join(changed) or 'everything'}); use another folder or --force")
            for name in (PREDICTIONS_FILE, SUMMARY_FILE):
                (folder / name).unlink(missing_ok=True)
    elif any(folder.iterdir()) and not force:
        raise ConfigError(f"{folder} is not empty and holds no {CONFIG_FILE}: use another folder or --force")
    path.write_text(json.dumps(config, indent=2), encoding="utf-8")
    done: dict[str, dict[str, Any]] = {}
    lines = folder / PREDICTIONS_FILE
    if lines.is_file():
        raw = lines.read_bytes()
        keep = raw[:raw.rfind(b"\n") + 1]  # a line cut off by a crash is dropped
        if len(keep) != len(raw):
            lines.write_bytes(keep)
        for line in keep.decode("utf-8", "replace").splitlines():
            try:
                record = json.loads(line)
            except (ValueError, RecursionError):
                continue
            if _usable(record):
                done[record["id"]] = record
    return done



def _usable(record: Any) -> bool:
    """A line of predictions.jsonl that counts as answered: one ``ground_sample`` wrote (a damaged or hand-edited
    line is asked again rather than crashing the summary)."""
    return (isinstance(record, dict) and not record.get("model_error")
            and all(isinstance(record.get(k), str) for k in ("id", "type", "split"))
            and isinstance(record.get("hit"), bool)
            and all(isinstance(record.get(k), (int, float, type(None))) for k in ("iou", "confidence")))


def load_grounding_model(spec: str, *, family: str | None = None, model_name: str | None = None,
                         config: str | None = None, overrides: dict[str, Any] | None = None,
                         **options: Any) -> GroundingModel:
    """The model a SPEC names, for grounding: ``scripted`` is the tree-reading model (``scripted.py``, for datasets
    made by ``make-grounding``); every other SPEC (openai:URL, hf:PATH) is loaded as ``guiagent run`` loads it.

    Raises:
        ConfigError: a bad SPEC or family.
    """
    describe: dict[str, Any] = {"spec": spec, "family": family}
    if model_name:
        describe["model_name"] = model_name
    if overrides:
        describe["overrides"] = dict(overrides)
    if spec == "scripted":
        from guiagent.agent.grounding.scripted import TreeGroundingModel
        from guiagent.models.config import resolve_profile

        profile, _ = resolve_profile(family, config=config, overrides=overrides, default="ui-tars-1.5")
        return GroundingModel(TreeGroundingModel(profile), profile, describe)
    if spec.startswith("replay:"):
        raise ConfigError("replay: models answer recorded agent steps, not grounding questions; use openai:URL, "
                          "hf:PATH or scripted")
    from guiagent.agent.spec import load_model

    loaded = load_model(spec, family=family, model_name=model_name, config=config, overrides=overrides, **options)
    model = loaded.model if spec.startswith("openai:") else _OneAtATime(loaded.model)
    return GroundingModel(model, loaded.profile, describe)


class _OneAtATime:
    """An in-process model asked from several threads: one request at a time (the server-backed ones batch)."""

    def __init__(self, model: Any):
        self.model = model
        self.name = getattr(model, "name", "model")
        self._lock = threading.Lock()

    def complete(self, messages: Any, sampling: Any) -> Any:
        with self._lock:
            return self.model.complete(messages, sampling)
