"""``--out DIR``: selection.json, the chosen frames as JPEGs, a contact sheet and a timeline."""

from __future__ import annotations

import re
from pathlib import Path

from PIL import Image

from hfs.errors import InputError
from hfs.report.contact_sheet import save_contact_sheet
from hfs.report.jsonout import dumps_finite
from hfs.report.timefmt import format_time
from hfs.report.timeline import save_timeline
from hfs.selection import Selection
from hfs.video import open_video

# The pictures are for people: big enough to see, not full 4K.
PICTURE_SHORT_SIDE = 720


# what frame_filename writes (and so what a new selection in the same folder replaces)
FRAME_FILE = re.compile(r"frame_\d{4,}_t(?:\d+-)?\d{2}-\d{2}\.\d\.jpg")


def frame_filename(index: int, time: float) -> str:
    """e.g. 'frame_0042_t00-31.5.jpg' (sorts by index; ':' is not portable in file names)."""
    return f"frame_{index:04d}_t{format_time(time).replace(':', '-')}.jpg"


def selected_frames(selection: Selection, short_side: int, image_fps: float = 1.0) -> list:
    """The chosen frames of ``selection`` as RGB arrays (short side ``short_side``), decoded once."""
    from hfs.errors import InputError

    if selection.video is None:
        raise InputError("the selection does not say which video it came from")
    source = open_video(selection.video, image_fps=image_fps)
    return [f.image for f in source.frames_at(selection.times, short_side=short_side, unique=False, tolerance=0)]


def write_outputs(selection: Selection, out_dir: str | Path, image_fps: float = 1.0) -> dict[str, Path]:
    """Write every output file of one selection to ``out_dir``; returns their paths.

    The frame pictures of an earlier selection in ``out_dir/frames`` are removed first (other
    files there are left alone); a folder that cannot be written is one InputError.
    """
    out = Path(out_dir)
    try:
        return _write(selection, out, image_fps)
    except OSError as exc:
        where = exc.filename or out
        raise InputError(f"{where}: cannot write the outputs ({exc.strerror or exc})") from None


def _write(selection: Selection, out: Path, image_fps: float) -> dict[str, Path]:
    if out.exists() and not out.is_dir():
        raise InputError(f"{out}: exists and is not a folder")
    frames_dir = out / "frames"
    if frames_dir.exists() and not frames_dir.is_dir():
        raise InputError(f"{frames_dir}: exists and is not a folder")
    frames_dir.mkdir(parents=True, exist_ok=True)
    text = dumps_finite(selection.to_dict(), what="the selection", indent=2) + "\n"
    paths: dict[str, Path] = {}
    paths["json"] = out / "selection.json"
    paths["json"].write_text(text)
    for old in frames_dir.iterdir():
        if FRAME_FILE.fullmatch(old.name) and old.is_file():
            old.unlink()

    images = selected_frames(selection, PICTURE_SHORT_SIDE, image_fps)
    for image, idx, t in zip(images, selection.indices.tolist(), selection.times.tolist()):
        Image.fromarray(image).save(frames_dir / frame_filename(idx, t), quality=90)
    paths["frames"] = frames_dir
    title = selection.question or ""
    if selection.options:
        title += "  [" + " | ".join(selection.options) + "]"
    paths["contact_sheet"] = save_contact_sheet(
        out / "contact_sheet.png", images, selection.times.tolist(), selection.scores.tolist(),
        selection.indices.tolist(), title=title, frames=selection.frame_numbers,
    )
    if selection.candidate_times is not None and selection.candidate_scores is not None:
        paths["timeline"] = save_timeline(
            out / "timeline.png", selection.candidate_times, selection.candidate_scores, selection.indices,
            title=selection.question or "", selector=selection.selector, refined=selection.refined,
        )
    return paths
