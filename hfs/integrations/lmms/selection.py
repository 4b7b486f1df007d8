"""The shared part of every hfs lmms-eval model: choose a sample's frames, decode them, log them.

``HfsFrameSelection`` is mixed in before lmms-eval's own class. It takes the ``hfs_*`` model
args off before that class sees them, runs ``generate_until`` one request at a time (so each
question gets its own frames), and records each sample's frames in the ``hfs_log`` JSONL and
in the request's arguments (which lmms-eval's ``--log_samples`` output shows).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from hfs.errors import InputError, warn
from hfs.integrations.lmms.args import ModelArgs, split_model_args
from hfs.integrations.lmms.indices import (
    ChoiceIndex,
    FrameChoice,
    append_choice,
    choice_from_selection,
    frame_indices_at,
)
from hfs.video import open_video


@dataclass
class ChosenFrames:
    """A choice and its decoded pictures."""

    choice: FrameChoice
    images: list[np.ndarray]  # k x [H, W, 3] uint8 RGB at the video's own size

    def padded_to_even(self) -> ChosenFrames:
        """The same frames, the last repeated once when their number is odd (Qwen's processors
        group frames in pairs), with its index and time repeated to match."""
        if len(self.images) % 2 == 0:
            return self
        c = self.choice
        choice = FrameChoice(video=c.video, times=[*c.times, c.times[-1]],
                             frame_indices=[*c.frame_indices, c.frame_indices[-1]], fps=c.fps,
                             total_num_frames=c.total_num_frames, duration=c.duration, question=c.question,
                             task=c.task, doc_id=c.doc_id, extra=c.extra)
        return ChosenFrames(choice, [*self.images, self.images[-1]])


def video_path(visual: Any) -> str:
    """The file of an lmms-eval video visual (a path, or a one-element list/tuple of one)."""
    if isinstance(visual, (list, tuple)) and len(visual) == 1:
        visual = visual[0]
    if not isinstance(visual, (str, Path)):
        raise InputError(f"hfs models take videos as file paths, got {type(visual).__name__}")
    return str(visual)


class HfsFrameSelection:
    """Mixin for an lmms-eval model class: frames chosen per question with hfs."""

    hfs_even_frames = False  # True where the model's processor needs an even frame count

    def _hfs_setup(self, kwargs: dict[str, Any]) -> dict[str, Any]:
        """Take the hfs args out of ``kwargs`` (checking them) and return the rest."""
        self.hfs_args, rest = split_model_args(kwargs)
        self._hfs_index = ChoiceIndex(self.hfs_args.hfs_indices) if self.hfs_args.hfs_indices else None
        self._hfs_sample: tuple[str | None, int | None, str | None] = (None, None, None)
        self.hfs_last: list[ChosenFrames] = []  # the current sample's frames, in the order shown
        if self.hfs_even_frames and self.hfs_args.hfs_k % 2:
            warn(f"hfs_k={self.hfs_args.hfs_k}: this model takes frames in pairs, so the last one is shown twice")
        return rest

    # -- lmms-eval's entry point -------------------------------------------------------------

    def generate_until(self, requests: list) -> list:
        """lmms-eval's ``generate_until``, one request at a time with that request's frames."""
        return self._hfs_one_by_one(requests, super().generate_until)  # type: ignore[misc]

    def _hfs_one_by_one(self, requests: list, run) -> list:
        """``run`` (the wrapped class's method) on each request alone, its frames logged."""
        out = []
        for request in requests:
            # a request repeated (lmms-eval's repeats) already carries the record added below
            args = tuple(a for a in request.args if not (isinstance(a, dict) and "hfs" in a))
            own = dataclasses.replace(request, arguments=args)
            self.hfs_last = []
            self._hfs_sample = (own.metadata.get("task"), own.metadata.get("doc_id"), self._hfs_question(own))
            out.extend(run([self._hfs_prepare(own)]))
            for chosen in self.hfs_last:
                append_choice(self.hfs_args.hfs_log, chosen.choice)
            if self.hfs_last:  # lmms-eval's --log_samples shows a request's plain arguments
                request.arguments = (*args, {"hfs": [chosen.choice.to_dict() for chosen in self.hfs_last]})
        return out

    def _hfs_question(self, request) -> str:
        """The text the frames are chosen for (the request's context by default)."""
        return str(request.args[0])

    def _hfs_prepare(self, request):
        """The request as lmms-eval's class should see it (unchanged by default)."""
        return request

    # -- choosing and decoding ---------------------------------------------------------------

    def hfs_choose(self, visual: Any) -> ChosenFrames:
        """The frames of ``visual`` for the current sample: selected now or read from hfs_indices."""
        path = video_path(visual)
        task, doc_id, question = self._hfs_sample
        source = open_video(path)
        if self._hfs_index is not None:
            choice = self._hfs_index.find(task, doc_id, path, question)
            fps, total, duration = choice.fps, choice.total_num_frames, choice.duration
            if fps <= 0 or not choice.frame_indices:  # the record does not say: the video does
                info = source.info
                fps, duration = info.fps, info.duration
                total = info.num_frames or int(round(duration * fps))
            choice = FrameChoice(video=path, times=choice.times,
                                 frame_indices=choice.frame_indices or frame_indices_at(choice.times, fps, total),
                                 fps=fps, total_num_frames=total, duration=duration, question=question, task=task,
                                 doc_id=doc_id, extra={**choice.extra, "source": "hfs_indices"})
        else:
            choice = self._hfs_select(path, question or "", task, doc_id)
        images = [frame.image for frame in source.frames_at(choice.times, unique=False, tolerance=0)]
        if len(images) != len(choice.times):
            raise InputError(f"{path}: only {len(images)} of the {len(choice.times)} chosen frames could be decoded")
        chosen = ChosenFrames(choice, images)
        if self.hfs_even_frames:
            chosen = chosen.padded_to_even()
        self.hfs_last.append(chosen)
        return chosen

    def _hfs_select(self, path: str, question: str, task: str | None, doc_id: int | None) -> FrameChoice:
        import hfs

        a: ModelArgs = self.hfs_args
        selection = hfs.select(path, question, k=a.hfs_k, num_candidates=a.hfs_candidates, selector=a.hfs_selector,
                               encoder=a.hfs_encoder, checkpoint=a.hfs_checkpoint, cache_dir=a.hfs_cache_dir)
        return choice_from_selection(selection, task, doc_id)


class HfsVideoLoader(HfsFrameSelection):
    """For lmms-eval classes that read a video through their ``load_video`` method (on their
    decord path): the hfs args taken off, that path always taken; the subclass's
    ``load_video`` returns ``hfs_choose``'s frames."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**self._hfs_setup(kwargs))
        self.video_decode_backend = "decord"  # the path that calls load_video (hfs decodes with PyAV)

    def loglikelihood(self, requests: list) -> list:
        """lmms-eval's ``loglikelihood`` (multiple-choice scoring), each request with its own frames."""
        return self._hfs_one_by_one(requests, super().loglikelihood)  # type: ignore[misc]
