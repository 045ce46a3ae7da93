"""ScreenSpot-format grounding data: reading annotation files, and the box formats they use.

Three dialects, told apart per record:

- ScreenSpot / ScreenSpot-v2 (``screenspot_{desktop,mobile,web}[_v2].json`` + an image folder): ``img_filename``,
  ``bbox`` as ``[x, y, w, h]`` (top-left corner, width, height) in image pixels, ``instruction``, ``data_type``
  (``text`` / ``icon``), ``data_source`` (ios, android, windows, macos, gitlab, ...). The split is the platform in
  the file name (desktop, mobile, web).
- ScreenSpot-Pro (``annotations/*.json`` + ``images/``): ``bbox`` as ``[x1, y1, x2, y2]`` (two corners),
  ``img_size`` ``[w, h]``, ``ui_type`` (text / icon), ``group`` (Dev, Creative, CAD, Scientific, Office, OS) as
  the split, ``application`` or ``platform`` as the source.
- A record may name its own ``split``, and ``bbox_format`` (``xywh`` or ``xyxy``) to say which box it holds.

Every box is turned into corners ``(x1, y1, x2, y2)`` in image pixels once, here (``Sample.box``).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from guiagent._jsonio import loads
from guiagent.errors import ConfigError

Box = tuple[float, float, float, float]

#: where images are looked for, relative to the annotation file's folder (and its parent)
IMAGE_FOLDERS = ("", "images", "screenspot_imgs", "imgs")
_PLATFORMS = ("desktop", "mobile", "web")
#: an annotation file is read whole; ScreenSpot's largest is a few MiB
MAX_ANNOTATION_BYTES = 512 << 20


def xywh_to_xyxy(box: Any) -> Box:
    """``[x, y, w, h]`` (ScreenSpot) -> corners ``(x1, y1, x2, y2)``.

    Raises:
        ValueError: not four finite numbers, or a negative width or height.
    """
    x, y, w, h = _four(box)
    if w < 0 or h < 0:
        raise ValueError(f"a box [x, y, w, h] needs w, h >= 0, got {list(box)}")
    if not (math.isfinite(x + w) and math.isfinite(y + h)):
        raise ValueError(f"a box needs finite corners, got {list(box)}")
    return x, y, x + w, y + h


def xyxy_to_xywh(box: Any) -> Box:
    """Corners ``(x1, y1, x2, y2)`` -> ``[x, y, w, h]``."""
    x1, y1, x2, y2 = check_xyxy(box)
    return x1, y1, x2 - x1, y2 - y1


def check_xyxy(box: Any) -> Box:
    """Corners as floats; raises ValueError unless x1 <= x2 and y1 <= y2."""
    x1, y1, x2, y2 = _four(box)
    if x2 < x1 or y2 < y1:
        raise ValueError(f"a box [x1, y1, x2, y2] needs x1 <= x2 and y1 <= y2, got {list(box)}")
    return x1, y1, x2, y2


def _four(box: Any) -> Box:
    if not isinstance(box, (list, tuple)) or len(box) != 4:
        raise ValueError(f"a box needs 4 numbers, got {box!r}")
    if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in box):
        raise ValueError(f"a box needs 4 finite numbers, got {box!r}")
    try:
        values = tuple(float(v) for v in box)
    except OverflowError:  # a JSON integer too large for a float
        values = (math.inf,)
    if not all(math.isfinite(v) for v in values):
        raise ValueError(f"a box needs 4 finite numbers, got {_short(box)}")
    return values  # type: ignore[return-value]


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 120 else text[:117] + "..."


@dataclass(frozen=True)
class Sample:
    """One grounding question: an image, an instruction, and the target element's box.

    id          unique within the dataset (``FILE#INDEX`` unless the record has an ``id``)
    image       the image file
    box         the target's corners (x1, y1, x2, y2) in image pixels
    elem_type   text / icon (ScreenSpot), or the generator's own types (field, menu item)
    split       desktop / mobile / web (ScreenSpot), the group (ScreenSpot-Pro), or the record's ``split``
    source      data_source / application / platform
    img_size    (w, h) where the record gives it
    """

    id: str
    image: Path
    instruction: str
    box: Box
    elem_type: str
    split: str
    source: str = ""
    img_size: tuple[int, int] | None = None
    extra: dict[str, Any] | None = None


def annotation_files(data: str | Path) -> list[Path]:
    """The annotation files of DATA: a JSON file, or every ``*.json`` in a folder (or in its ``annotations/``).

    Raises:
        ConfigError: nothing to read.
    """
    path = Path(data).expanduser()
    if path.is_file():
        return [path]
    if path.is_dir():
        for folder in (path / "annotations", path):
            files = sorted(p for p in folder.glob("*.json") if p.is_file())
            for file in files:  # a link may not take the dataset outside its folder
                if not file.resolve().is_relative_to(path.resolve()):
                    raise ConfigError(f"{file} is a link to {file.resolve()}, outside {path}; not read")
            if files:
                return files
        raise ConfigError(f"{path} holds no *.json annotation files (nor does {path / 'annotations'})")
    raise ConfigError(f"{path} does not exist: give a ScreenSpot annotation file or the folder that holds them")


def load_samples(data: str | Path, images: str | Path | None = None, limit: int | None = None) -> list[Sample]:
    """Read every sample of DATA (see ``annotation_files``), checking each record and finding its image.

    Args:
        data: an annotation file or folder.
        images: the image folder (None: looked for next to the annotations: ``IMAGE_FOLDERS``).
        limit: at most this many samples (the first ones, in file order).

    Raises:
        ConfigError: an unreadable file or a malformed record (naming the file, the record and the field).
    """
    samples: list[Sample] = []
    seen: set[str] = set()
    for file in annotation_files(data):
        for sample in _read_file(file, images):
            if sample.id in seen:
                raise ConfigError(f"{file}: sample id {sample.id!r} appears twice")
            seen.add(sample.id)
            samples.append(sample)
            if limit is not None and len(samples) >= limit:
                return samples
    if not samples:
        raise ConfigError(f"{data}: no samples")
    return samples


def _read_file(file: Path, images: str | Path | None) -> Iterator[Sample]:
    try:
        size = file.stat().st_size
        if size > MAX_ANNOTATION_BYTES:
            raise ConfigError(f"{file}: {size} bytes is too large for an annotation file (the limit is "
                              f"{MAX_ANNOTATION_BYTES >> 20} MiB); split it into several files")
        records = loads(file.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:  # ValueError: not UTF-8, not JSON or nested too deeply (_jsonio)
        raise ConfigError(f"{file}: not a readable JSON file ({e})") from None
    if not isinstance(records, list):
        raise ConfigError(f"{file}: expected a JSON list of samples, got {type(records).__name__}")
    roots = [Path(images).expanduser()] if images else _image_roots(file)
    split = _split_from_name(file)
    for index, record in enumerate(records):
        where = f"{file.name} record {index}"
        if not isinstance(record, dict):
            raise ConfigError(f"{where}: expected an object, got {type(record).__name__}")
        yield _sample(record, where, f"{file.stem}#{index}", roots, split)


def _image_roots(file: Path) -> list[Path]:
    bases = [file.parent, file.parent.parent] if file.parent.name == "annotations" else [file.parent]
    return [b / f if f else b for b in bases for f in IMAGE_FOLDERS]


def _split_from_name(file: Path) -> str:
    for platform in _PLATFORMS:
        if re.search(rf"(^|[_\-.]){platform}([_\-.]|$)", file.stem):
            return platform
    return file.stem


def _field(record: dict[str, Any], where: str, *names: str, required: bool = True) -> Any:
    for name in names:
        if name in record and record[name] is not None:
            return record[name]
    if required:
        raise ConfigError(f"{where}: missing {' / '.join(names)}")
    return None


def _sample(record: dict[str, Any], where: str, default_id: str, roots: list[Path], split: str) -> Sample:
    filename = _field(record, where, "img_filename", "image", "img_path")
    instruction = _field(record, where, "instruction", "prompt_to_evaluate")
    if not isinstance(filename, str) or not filename or not isinstance(instruction, str) or not instruction.strip():
        raise ConfigError(f"{where}: img_filename and instruction must be non-empty strings")
    rel = Path(filename)
    if rel.is_absolute() or ".." in rel.parts:  # annotations only name files under the image folder
        raise ConfigError(f"{where}: img_filename {filename!r} must be a relative path inside the image folder")
    image = next((r / rel for r in roots if (r / rel).is_file()), None)
    if image is not None and not any(image.resolve().is_relative_to(r.resolve()) for r in roots):
        raise ConfigError(f"{where}: image {filename!r} is a link to {image.resolve()}, outside the image folder; "
                          f"not read")
    if image is None:
        raise ConfigError(f"{where}: image {filename!r} not found in {', '.join(str(r) for r in roots)} "
                          f"(give the folder with --images)")
    img_size = record.get("img_size")
    pro = "img_size" in record or "ui_type" in record
    fmt = record.get("bbox_format") or ("xyxy" if pro else "xywh")
    try:
        raw = _field(record, where, "bbox")
        if fmt == "xyxy":
            box = check_xyxy(raw)
        elif fmt == "xywh":
            box = xywh_to_xyxy(raw)
        else:
            raise ValueError(f"bbox_format must be xywh or xyxy, got {fmt!r}")
        if img_size is not None:
            if not (isinstance(img_size, list) and len(img_size) == 2 and all(isinstance(v, int) and v > 0
                                                                               for v in img_size)):
                raise ValueError(f"img_size must be [width, height], got {img_size!r}")
            img_size = (img_size[0], img_size[1])
    except ValueError as e:
        raise ConfigError(f"{where}: {e}") from None
    elem_type = str(_field(record, where, "data_type", "ui_type", required=False) or "unknown")
    split = str(record.get("split") or record.get("group") or split)
    source = str(_field(record, where, "data_source", "application", "platform", required=False) or "")
    return Sample(str(record.get("id") or default_id), image, instruction.strip(), box, elem_type, split, source,
                  img_size)
