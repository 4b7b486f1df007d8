"""The shared part of every hfs lmms-eval model: choose a sample's frames, decode them, log them.

``HfsFrameSelection`` is mixed in before lmms-eval's own class. It takes the ``hfs_*`` model
args off before that class sees them and loads the encoder (or the trained student) first, so a
missing model fails before the VLM and the data load. It runs ``generate_until`` one request at
a time (so each question gets its own frames), chooses them for the sample's question and
options (``hfs.integrations.lmms.query``), lists the subtitles of those frames in a Video-MME
subtitle prompt (``hfs.integrations.lmms.subtitles``), and appends one record per sample to the
frame log (``records.frame_log_path``: next to lmms-eval's ``--output_path`` by default).
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch

from hfs.errors import EncoderNotAvailableError, HfsError, InputError, warn
from hfs.integrations.lmms.args import ModelArgs, split_model_args
from hfs.integrations.lmms.indices import (
    ChoiceIndex,
    FrameChoice,
    append_choice,
    choice_from_selection,
    frame_indices_at,
)
from hfs.integrations.lmms.query import SampleQuery, sample_query
from hfs.integrations.lmms.records import frame_log_path
from hfs.integrations.lmms.subtitles import HEADER, FrameSubtitles, subtitle_task
from hfs.video import open_video


@dataclass
class ChosenFrames:
    """A choice and its decoded pictures."""

    choice: FrameChoice
    images: list[np.ndarray]  # k x [H, W, 3] uint8 RGB at the video's own size

    def padded_to_even(self) -> ChosenFrames:
        """The same frames, the last repeated once when their number is odd (Qwen's processors
        group frames in pairs), with its index, time and score repeated to match."""
        if len(self.images) % 2 == 0:
            return self
        c = self.choice
        choice = replace(c, times=[*c.times, c.times[-1]], frame_indices=[*c.frame_indices, c.frame_indices[-1]],
                         scores=None if c.scores is None else [*c.scores, c.scores[-1]])
        return ChosenFrames(choice, [*self.images, self.images[-1]])


@dataclass
class Sample:
    """The lmms-eval sample whose frames are being chosen."""

    task: str | None = None
    doc_id: int | None = None
    query: SampleQuery | None = None
    subtitles: dict[str, Any] | None = None  # a Video-MME subtitle task's module globals (``subtitle_task``)


def video_path(visual: Any) -> str:
    """The file of an lmms-eval video visual (a path, or a one-element list/tuple of one)."""
    if isinstance(visual, (list, tuple)) and len(visual) == 1:
        visual = visual[0]
    if not isinstance(visual, (str, Path)):
        raise InputError(f"hfs models take videos as file paths, got {type(visual).__name__}")
    return str(visual)


def _arg_error(arg: str, value: Any, exc: HfsError) -> HfsError:
    """``exc`` reworded for a model arg: named as ``arg=value``, hints in model-arg form."""
    message = str(exc).replace("--encoder ", "hfs_encoder=").replace(" or --offline", "")
    return type(exc)(f"{arg}={value}: {message}")


class HfsFrameSelection:
    """Mixin for an lmms-eval model class: frames chosen per question with hfs."""

    hfs_even_frames = False  # True where the model's processor needs an even frame count
    hfs_frames_arg = "max_num_frames"  # the wrapped class's frame-count arg: hfs_k's default

    def _hfs_setup(self, kwargs: dict[str, Any]) -> dict[str, Any]:
        """Take the hfs args out of ``kwargs`` (checking them), load what selecting needs, and
        return the rest, for lmms-eval's class."""
        args, rest = split_model_args(kwargs)
        if args.hfs_k is None:
            args = replace(args, hfs_k=self._hfs_default_k(rest))
            args.check()
            if rest.get("fps") is not None:
                warn(f"fps={rest['fps']}: hfs shows hfs_k={args.hfs_k} frames per question (from "
                     f"{self.hfs_frames_arg}); pass hfs_k= to match a uniform run's frame count")
        self.hfs_args = args
        self._hfs_index = ChoiceIndex(args.hfs_indices) if args.hfs_indices else None
        picks = self._hfs_index is None and not args.hfs_uniform
        self._hfs_encoder = self._hfs_load_encoder(args) if picks else None
        self.hfs_log = Path(args.hfs_log) if args.hfs_log else frame_log_path(rest)
        self._hfs_sample = Sample()
        self.hfs_last: list[ChosenFrames] = []  # the current sample's frames, in the order shown
        self._hfs_ready: dict[str, ChosenFrames] = {}  # chosen before the wrapped class asks for them
        self._hfs_srt = FrameSubtitles()
        if self.hfs_even_frames and args.hfs_k % 2:
            warn(f"hfs_k={args.hfs_k}: this model takes frames in pairs, so the last one is shown twice")
        return rest

    def _hfs_default_k(self, rest: dict[str, Any]) -> int:
        """The number of frames the wrapped class would sample uniformly with these args."""
        if self.hfs_frames_arg in rest:
            return int(rest[self.hfs_frames_arg])
        parameter = inspect.signature(super().__init__).parameters.get(self.hfs_frames_arg)  # type: ignore[misc]
        if parameter is None or not isinstance(parameter.default, int):
            raise InputError(f"pass hfs_k= (the frames per question): this model has no {self.hfs_frames_arg}")
        return parameter.default

    @staticmethod
    def _hfs_load_encoder(args: ModelArgs):
        """The image-text encoder (after the student, when there is one), loaded now, before the
        VLM, so that a missing model is one error naming the arg before anything else loads."""
        from hfs.encoders import create_encoder
        from hfs.pipeline import load_student

        name = args.hfs_encoder
        if args.hfs_checkpoint is not None:
            try:
                student = load_student(args.hfs_checkpoint)
            except (HfsError, OSError) as exc:
                if isinstance(exc, HfsError):
                    raise _arg_error("hfs_checkpoint", args.hfs_checkpoint, exc) from None
                raise InputError(f"hfs_checkpoint={args.hfs_checkpoint}: cannot be read ({exc})") from None
            name = name or student.config.encoder
        try:
            return create_encoder(name)
        except (InputError, EncoderNotAvailableError) as exc:
            from hfs.encoders import default_encoder_name

            raise _arg_error("hfs_encoder", name or default_encoder_name(), exc) from None

    # -- lmms-eval's entry point -------------------------------------------------------------

    def generate_until(self, requests: list) -> list:
        """lmms-eval's ``generate_until``, one request at a time with that request's frames."""
        return self._hfs_one_by_one(requests, super().generate_until)  # type: ignore[misc]

    def _hfs_one_by_one(self, requests: list, run) -> list:
        """``run`` (the wrapped class's method) on each request alone, its frames logged."""
        out = []
        for request in requests:
            self.hfs_last, self._hfs_ready = [], {}
            doc_id, task, split = request.args[-3:]
            doc = self.task_dict[task][split][doc_id]  # type: ignore[attr-defined]
            self._hfs_sample = Sample(task, doc_id, sample_query(task, doc, lambda: self._hfs_prompt(request, doc)),
                                      subtitle_task(request))
            out.extend(run([self._hfs_prepare(request)]))
            for chosen in self.hfs_last:
                append_choice(self.hfs_log, chosen.choice, follow_links=self.hfs_args.hfs_log is not None)
        return out

    def _hfs_prompt(self, request, doc: Any) -> str:
        """The sample's prompt text (the request's context by default)."""
        return str(request.args[0])

    def _hfs_prepare(self, request):
        """The request as lmms-eval's class should see it (unchanged by default)."""
        return request

    def hfs_subtitled(self, text: str, doc: Any) -> str:
        """``text`` with a Video-MME subtitle block listing the subtitles of the frames chosen so
        far for this sample (``hfs_subtitles=frames``; ``hfs.integrations.lmms.subtitles``), or
        unchanged (``task``); the frame records say which."""
        task = self._hfs_sample.subtitles
        if task is None or HEADER not in str(text):
            return text
        info: dict[str, Any] = {"subtitles": "task"}
        if self.hfs_args.hfs_subtitles == "frames":
            text, info = self._hfs_srt.rewrite(str(text), task, doc, [chosen.choice for chosen in self.hfs_last])
        for chosen in self.hfs_last:
            chosen.choice.extra.update(info)
        return text

    # -- choosing and decoding ---------------------------------------------------------------

    def hfs_choose(self, visual: Any) -> ChosenFrames:
        """The frames of ``visual`` for the current sample: selected now or read from hfs_indices
        (or those already chosen for it while preparing the request)."""
        path = video_path(visual)
        if path in self._hfs_ready:
            return self._hfs_ready.pop(path)
        sample = self._hfs_sample
        query = sample.query or SampleQuery("")
        source = open_video(path)
        if self._hfs_index is not None:
            found = self._hfs_index.find(sample.task, sample.doc_id, path, query.question)
            fps, total, duration = found.fps, found.total_num_frames, found.duration
            if fps <= 0 or not found.frame_indices:  # the record does not say: the video does
                info = source.info
                fps, duration = info.fps, info.duration
                total = info.num_frames or int(round(duration * fps))
            choice = FrameChoice(video=path, times=found.times,
                                 frame_indices=found.frame_indices or frame_indices_at(found.times, fps, total),
                                 fps=fps, total_num_frames=total, duration=duration, question=query.question,
                                 task=sample.task, doc_id=sample.doc_id, scores=found.scores,
                                 extra={**found.extra, "source": "hfs_indices"})
        elif self.hfs_args.hfs_uniform:
            choice = self._hfs_uniform(source, path, query, sample)
        else:
            choice = self._hfs_select(path, query, sample)
        images = [frame.image for frame in source.frames_at(choice.times, unique=False, tolerance=0)]
        if len(images) != len(choice.times):
            raise InputError(f"{path}: only {len(images)} of the {len(choice.times)} chosen frames could be decoded")
        chosen = ChosenFrames(choice, images)
        if self.hfs_even_frames:
            chosen = chosen.padded_to_even()
        self.hfs_last.append(chosen)
        return chosen

    def _hfs_select(self, path: str, query: SampleQuery, sample: Sample) -> FrameChoice:
        import hfs

        a: ModelArgs = self.hfs_args
        selection = hfs.select(path, query.question, query.options, k=a.hfs_k, num_candidates=a.hfs_candidates,
                               selector=a.hfs_selector, encoder=self._hfs_encoder, checkpoint=a.hfs_checkpoint,
                               cache_dir=a.hfs_cache_dir)
        choice = choice_from_selection(selection, sample.task, sample.doc_id)
        choice.extra = {**query.to_dict(), **choice.extra}
        del choice.extra["question"]  # the record's own field
        return choice

    def _hfs_uniform(self, source, path: str, query: SampleQuery, sample: Sample) -> FrameChoice:
        """hfs_k source frames evenly spaced from the first to the last, as qwen_vl_utils'
        readers take them for lmms-eval (``torch.linspace(0, total - 1, n).round()``,
        qwen-vl-utils 0.0.14 ``vision_process._read_video_decord``)."""
        info = source.info
        total = info.num_frames or int(round(info.duration * info.fps))
        indices = torch.linspace(0, max(total - 1, 0), self.hfs_args.hfs_k).round().long().tolist()
        return FrameChoice(video=path, times=[i / info.fps for i in indices], frame_indices=indices, fps=info.fps,
                           total_num_frames=total, duration=info.duration, question=query.question, task=sample.task,
                           doc_id=sample.doc_id, extra={"options": query.options, "selector": "lmms-uniform",
                                                        "k": self.hfs_args.hfs_k})


class HfsVideoLoader(HfsFrameSelection):
    """For lmms-eval classes that read a video through their ``load_video`` method (on their
    decord path): the hfs args taken off, that path always taken; the subclass's
    ``load_video`` returns ``hfs_choose``'s frames."""

    hfs_frames_arg = "max_frames_num"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**self._hfs_setup(kwargs))
        self.video_decode_backend = "decord"  # the path that calls load_video (hfs decodes with PyAV)

    def _hfs_prepare(self, request):
        """For a Video-MME subtitle task: the frames chosen now (``load_video`` then gets them),
        so that the context lists the subtitles at them."""
        context, _, doc_to_visual, doc_id, task, split = request.args
        if self._hfs_sample.subtitles is None or HEADER not in str(context):
            return request
        doc = self.task_dict[task][split][doc_id]  # type: ignore[attr-defined]
        for visual in doc_to_visual(doc):
            self._hfs_ready[video_path(visual)] = self.hfs_choose(visual)
        return type(request)(request_type=request.request_type, idx=request.idx, metadata=request.metadata,
                             arguments=(self.hfs_subtitled(context, doc), *request.args[1:]))

    def loglikelihood(self, requests: list) -> list:
        """lmms-eval's ``loglikelihood`` (multiple-choice scoring), each request with its own frames."""
        return self._hfs_one_by_one(requests, super().loglikelihood)  # type: ignore[misc]
