"""Grounding evaluation: ScreenSpot-format data, click accuracy and box AP/mAP, and a mock-made dataset.

    from guiagent.agent.grounding import load_samples, evaluate_grounding, make_mock_grounding
    make_mock_grounding("data/mock-grounding")
    # guiagent eval-grounding data/mock-grounding --model scripted -o results/grounding

See docs/grounding.md for the formats and the metrics' definitions.
"""

from guiagent.agent.grounding.answer import Prediction, read_answer
from guiagent.agent.grounding.data import Sample, check_xyxy, load_samples, xywh_to_xyxy, xyxy_to_xywh
from guiagent.agent.grounding.evaluate import GroundingModel, evaluate_grounding, ground_sample, summarize
from guiagent.agent.grounding.metrics import IOU_THRESHOLDS, average_precision, box_ap, box_map, iou, point_in_box
from guiagent.agent.grounding.mock_data import GroundingSet, make_mock_grounding

__all__ = ["GroundingModel", "GroundingSet", "IOU_THRESHOLDS", "Prediction", "Sample", "average_precision", "box_ap",
           "box_map", "check_xyxy", "evaluate_grounding", "ground_sample", "iou", "load_samples",
           "make_mock_grounding", "point_in_box", "read_answer", "summarize", "xywh_to_xyxy", "xyxy_to_xywh"]
