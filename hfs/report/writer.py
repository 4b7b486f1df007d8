"""``--out DIR``: selection.json, the chosen frames as JPEGs, a contact sheet and a timeline."""

from __future__ import annotations

import json
from pathlib import Path

from PIL import Image

from hfs.report.contact_sheet import save_contact_sheet
from hfs.report.timefmt import format_time
from hfs.report.timeline import save_timeline
from hfs.selection import Selection
from hfs.video import open_video

# The pictures are for people: big enough to see, not full 4K.
PICTURE_SHORT_SIDE = 720


def frame_filename(index: int, time: float) -> str:
    """e.g. 'frame_0042_t00-31.5.jpg' (sorts by index; ':' is not portable in file names)."""
    return f"frame_{index:04d}_t{format_time(time).replace(':', '-')}.jpg"


def write_outputs(selection: Selection, out_dir: str | Path, image_fps: float = 1.0) -> dict[str, Path]:
    """Write every output file of one selection to ``out_dir``; returns their paths."""
    out = Path(out_dir)
    frames_dir = out / "frames"
    frames_dir.mkdir(parents=True, exist_ok=True)
    paths: dict[str, Path] = {}
    paths["json"] = out / "selection.json"
    paths["json"].write_text(json.dumps(selection.to_dict(), indent=2) + "\n")

    source = open_video(selection.video, image_fps=image_fps)
    images = [f.image for f in source.frames_at(selection.times, short_side=PICTURE_SHORT_SIDE, unique=False)]
    for image, idx, t in zip(images, selection.indices.tolist(), selection.times.tolist()):
        Image.fromarray(image).save(frames_dir / frame_filename(idx, t), quality=90)
    paths["frames"] = frames_dir
    title = selection.question or ""
    if selection.options:
        title += "  [" + " | ".join(selection.options) + "]"
    paths["contact_sheet"] = save_contact_sheet(
        out / "contact_sheet.png", images, selection.times.tolist(), selection.scores.tolist(),
        selection.indices.tolist(), title=title,
    )
    if selection.candidate_times is not None and selection.candidate_scores is not None:
        paths["timeline"] = save_timeline(
            out / "timeline.png", selection.candidate_times, selection.candidate_scores, selection.indices,
            title=selection.question or "", selector=selection.selector,
        )
    return paths
