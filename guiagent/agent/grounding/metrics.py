"""Grounding metrics: click accuracy, IoU, and average precision over a ranked list of predicted boxes.

Definitions (every function here is pure, and checked against hand-worked cases in tests/test_grounding.py):

- **click accuracy**: the share of samples whose predicted point lies inside the target box, edges included. A
  box prediction clicks at its centre; a sample with no usable prediction (unparseable answer, no point) is a miss.
- **IoU**: area of the intersection over area of the union of two boxes given as corners.
- **AP at IoU t** (one target per sample): the box predictions are ranked by the model's confidence, highest first
  where given, else in the order of the samples. Walking down the ranking, prediction k is a true positive when its
  IoU with its sample's target is >= t. After each prediction, precision = TP / k and recall = TP / N, where N is
  the number of samples (targets): samples without a box prediction count as targets never found. AP is the area
  under the precision-recall curve with all-point interpolation: precision at each recall level is replaced by the
  highest precision at any recall at or above it, and AP = sum over the points where recall rises of
  (rise in recall) x (interpolated precision there) (PASCAL VOC 2010+ / COCO-style envelope, without sampling).
- **mAP@0.5:0.95**: the mean of AP at t = 0.50, 0.55, ..., 0.95 (ten thresholds, as in COCO).
"""

from __future__ import annotations

from collections.abc import Sequence

Box = tuple[float, float, float, float]

#: the IoU thresholds mAP averages over: 0.50, 0.55, ..., 0.95
IOU_THRESHOLDS = tuple(round(0.5 + 0.05 * i, 2) for i in range(10))


def point_in_box(x: float, y: float, box: Box) -> bool:
    """Whether (x, y) is inside the box (corners), edges included."""
    x1, y1, x2, y2 = box
    return x1 <= x <= x2 and y1 <= y <= y2


def box_centre(box: Box) -> tuple[float, float]:
    """The centre point of a box given as corners (x1, y1, x2, y2): where a box prediction clicks."""
    x1, y1, x2, y2 = box
    return (x1 + x2) / 2, (y1 + y2) / 2


def iou(a: Box, b: Box) -> float:
    """Intersection over union of two boxes given as corners (0 when they do not overlap or both are empty)."""
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def rank(confidences: Sequence[float | None]) -> list[int]:
    """The order in which predictions are ranked: by confidence, highest first, where every prediction has one;
    otherwise in the given order. Ties keep the given order (a stable sort)."""
    if confidences and all(c is not None for c in confidences):
        return sorted(range(len(confidences)), key=lambda i: -float(confidences[i]))  # type: ignore[arg-type]
    return list(range(len(confidences)))


def precision_recall(hits: Sequence[bool], n_targets: int) -> tuple[list[float], list[float]]:
    """Precision and recall after each prediction of a ranked list of hits (true positives)."""
    precision, recall, tp = [], [], 0
    for k, hit in enumerate(hits, start=1):
        tp += bool(hit)
        precision.append(tp / k)
        recall.append(tp / n_targets if n_targets else 0.0)
    return precision, recall


def average_precision(hits: Sequence[bool], n_targets: int) -> float:
    """All-point interpolated AP of a ranked list of hits against ``n_targets`` targets (see the module docstring).

    Args:
        hits: for each prediction, best first, whether it is a true positive.
        n_targets: the number of targets (>= the number of true positives).
    """
    if n_targets <= 0:
        return 0.0
    precision, recall = precision_recall(hits, n_targets)
    # the envelope: precision at recall r becomes the best precision at any recall >= r
    for i in range(len(precision) - 2, -1, -1):
        precision[i] = max(precision[i], precision[i + 1])
    ap, previous = 0.0, 0.0
    for p, r in zip(precision, recall):
        if r > previous:
            ap += (r - previous) * p
            previous = r
    return ap


def box_ap(ious: Sequence[float], confidences: Sequence[float | None], n_targets: int,
           threshold: float) -> float:
    """AP at one IoU threshold for box predictions (one per sample that has one).

    Args:
        ious: each box prediction's IoU with its sample's target.
        confidences: the model's confidence for each (None where not given: then ranked by order).
        n_targets: the number of samples evaluated (those without a box prediction are missed targets).
        threshold: the IoU a true positive needs.
    """
    order = rank(confidences)
    return average_precision([ious[i] >= threshold for i in order], n_targets)


def box_map(ious: Sequence[float], confidences: Sequence[float | None], n_targets: int,
            thresholds: Sequence[float] = IOU_THRESHOLDS) -> tuple[float, dict[str, float]]:
    """mAP over ``thresholds`` and the AP at each (keys "0.50", "0.55", ...)."""
    per = {f"{t:.2f}": box_ap(ious, confidences, n_targets, t) for t in thresholds}
    return (sum(per.values()) / len(per) if per else 0.0), per
