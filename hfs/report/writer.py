"""``--out DIR``: selection.json, the chosen frames as JPEGs, a contact sheet and a timeline."""

from __future__ import annotations

import re
from pathlib import Path

from PIL import Image

from hfs.atomic import atomic_file, own_folder, regular_file, write_text_atomic
from hfs.errors import InputError, writing
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
    if selection.video is None:
        raise InputError("the selection does not say which video it came from")
    source = open_video(selection.video, image_fps=image_fps)
    return [f.image for f in source.frames_at(selection.times, short_side=short_side, unique=False, tolerance=0)]


def write_outputs(selection: Selection, out_dir: str | Path, image_fps: float = 1.0) -> dict[str, Path]:
    """Write every output file of one selection to ``out_dir``; returns their paths.

    Each file is written whole under a temporary name and renamed into place, so a symlink
    planted in ``out_dir`` (or a ``frames`` link to another folder) is replaced, and what it
    points to is never written or deleted. The frame pictures of an earlier selection in
    ``out_dir/frames`` are removed first (only regular files named as hfs names them). A file
    that cannot be written (a full disk...) is one ``WriteError`` naming it.
    """
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise InputError(f"{out}: exists and is not a folder")
    with writing(out / "frames", "the frames folder"):
        frames_dir = own_folder(out / "frames")
    text = dumps_finite(selection.to_dict(), what="the selection", indent=2) + "\n"
    paths: dict[str, Path] = {"json": write_text_atomic(out / "selection.json", text, "the selection")}
    with writing(frames_dir, "the frames folder"):
        for old in list(frames_dir.iterdir()):
            if FRAME_FILE.fullmatch(old.name) and regular_file(old):
                old.unlink()

    images = selected_frames(selection, PICTURE_SHORT_SIDE, image_fps)
    for image, idx, t in zip(images, selection.indices.tolist(), selection.times.tolist()):
        with atomic_file(frames_dir / frame_filename(idx, t), "a frame picture") as tmp:
            Image.fromarray(image).save(tmp, format="JPEG", quality=90)
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
