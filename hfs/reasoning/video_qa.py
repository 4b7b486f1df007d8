"""``hfs answer``: select k frames of a video for a question, then let a multimodal LLM answer."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from hfs.errors import InputError
from hfs.selection import Selection
from hfs.video import open_video


@dataclass
class VideoAnswer:
    selection: Selection
    answer: int  # option index
    letter: str
    probs: list[float]  # per option

    def to_dict(self) -> dict:
        out = self.selection.to_dict()
        out.update({"answer": self.answer, "letter": self.letter, "answer_text": self.selection.options[self.answer],
                    "probs": [round(p, 5) for p in self.probs]})
        return out


def answer_video(video: str | Path, question: str, options: Sequence[str], model, k: int = 16,
                 allow_download: bool = False, **select_kwargs) -> VideoAnswer:
    """Choose ``k`` frames with ``hfs.select`` (same knobs) and answer from them.

    ``model`` is a ``MultimodalAnswerer`` or the folder / hub name of one.
    """
    from hfs.pipeline import select
    from hfs.reasoning.answerer import MultimodalAnswerer

    if not options or len(options) < 2:
        raise InputError("hfs answer needs at least two --options to choose from")
    answerer = model if isinstance(model, MultimodalAnswerer) else \
        MultimodalAnswerer(str(model), local_files_only=not allow_download)
    selection = select(video, question, list(options), k=k, allow_download=allow_download, **select_kwargs)
    source = open_video(video, image_fps=select_kwargs.get("image_fps", 1.0))
    frames = [f.image for f in source.frames_at(selection.times.tolist(), short_side=answerer.short_side,
                                                           unique=False, tolerance=0)]
    out = answerer.answer(frames, selection.times.tolist(), selection.question, selection.options)
    return VideoAnswer(selection, out.answer, out.letter, [float(p) for p in out.probs])
