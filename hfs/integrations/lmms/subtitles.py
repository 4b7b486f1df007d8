"""``hfs_subtitles=frames``: Video-MME's subtitle block at the frames hfs shows.

lmms-eval 0.7.3 builds the prompts of ``videomme_w_subtitle`` and ``videomme_long_w_subtitle``
(and of any task whose ``doc_to_text`` it is) with ``videomme_doc_to_text_subtitle``
(``lmms_eval/tasks/videomme/utils.py``): the header "This video's subtitles are listed below: ",
then the cues whose frame span holds one of
``frame_num`` evenly spaced frames (``np.linspace(0, total - 1, frame_num, dtype=int)``, the
task's own count, not the model's), then the instruction and the question. An hfs run shows
other frames, so that block would be the subtitles of frames the model never sees. Video-MME's
protocol gives the subtitles of the frames shown, so with ``hfs_subtitles=frames`` (the
default) the block is rebuilt from the shown frames by the same rule
(``hfs.data.benchmarks.subtitles.videomme_lines``, the rule ``hfs eval --subtitles`` uses),
from the .srt the task reads (``<HF_HOME>/videomme/subtitle/<videoID>.srt``, its
``base_cache_dir`` and ``cache_name``). ``hfs_subtitles=task`` keeps lmms-eval's text.

Two differences from lmms-eval's text at the same frames: cues are listed in file order
(lmms-eval lists ``list(set(cue indices))``, which leaves file order once a video has more
cues than the set's table has slots), and a cue's text is its text with markup removed
(lmms-eval keeps what is inside ``<font color="white" size=".72c">``, which every released cue
is wrapped in). A video without an .srt keeps lmms-eval's "No subtitles available".

LongVideoBench's subtitle variants (``longvideobench_*_i``) interleave subtitles with frames
that the task itself decodes (its ``doc_to_visual`` returns images, not the video), so there
are no frames for hfs to choose there and their prompts are left alone.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from hfs.data.benchmarks.subtitles import Subtitle, read_srt, videomme_lines
from hfs.errors import warn
from hfs.integrations.lmms.indices import FrameChoice

# lmms-eval's function that builds a Video-MME subtitle prompt, and its tasks that use it
TEXT_FUNCTION = "videomme_doc_to_text_subtitle"
VIDEOMME_SUBTITLE_TASKS = ("videomme_w_subtitle", "videomme_long_w_subtitle")
HEADER = "This video's subtitles are listed below: \n"
# what follows the block, except in the qwen3_vl format (the question follows it there)
INSTRUCTION = ("\nSelect the best answer to the following multiple-choice question based on the video and the "
               "subtitles.")


def subtitle_task(request: Any) -> dict[str, Any] | None:
    """The globals of the task module whose ``videomme_doc_to_text_subtitle`` builds the
    request's prompt (where its ``base_cache_dir`` and ``cache_name`` are), or None.

    lmms-eval's requests carry a bound method of their task (``doc_to_visual`` or
    ``doc_to_messages``), whose config names its ``doc_to_text``; a request without one (built by
    hand) counts by its task's name."""
    for arg in request.args:
        config = getattr(getattr(arg, "__self__", None), "config", None)
        if config is not None and hasattr(config, "doc_to_text"):
            function = config.doc_to_text
            return function.__globals__ if getattr(function, "__name__", "") == TEXT_FUNCTION else None
    if request.args[-2] in VIDEOMME_SUBTITLE_TASKS:
        from lmms_eval.tasks.videomme import utils

        return vars(utils)
    return None


def videomme_srt(task: Mapping[str, Any], doc: Mapping) -> Path:
    """The .srt lmms-eval's Video-MME task (its module's globals ``task``) reads for ``doc``."""
    return Path(task["base_cache_dir"]) / task["cache_name"] / "subtitle" / f"{doc['videoID']}.srt"


def block_span(text: str, doc: Mapping) -> tuple[int, int] | None:
    """(start, end) of the subtitle lines in a ``videomme_doc_to_text_subtitle`` prompt; None
    when ``text`` is not one."""
    start = text.find(HEADER)
    if start < 0:
        return None
    body = start + len(HEADER)
    end = text.find(INSTRUCTION, body)
    if end < 0:  # qwen3_vl format: "<pre_prompt><question>\nOptions:\n..." follows the block
        question = text.rfind(f"{doc.get('question', '')}\nOptions:\n", body)
        end = text.rfind("\n", body, question) if question >= 0 else -1
    return (body, end) if end >= 0 else None


class FrameSubtitles:
    """Each video's .srt read once (Video-MME asks three questions per video), and the prompt
    with its subtitle block at a set of frames."""

    def __init__(self) -> None:
        self._path: Path | None = None
        self._cues: list[Subtitle] = []

    def _cues_of(self, path: Path) -> list[Subtitle]:
        if path != self._path:
            self._cues, self._path = read_srt(path), path
        return self._cues

    def rewrite(self, text: str, task: Mapping[str, Any], doc: Mapping, choices: Sequence[FrameChoice]
                ) -> tuple[str, dict[str, Any]]:
        """(``text`` with the subtitles of the frames of ``choices``, what the frame record
        says of them); ``text`` unchanged where it holds no subtitle block or no .srt exists."""
        span = block_span(text, doc)
        if span is None:
            warn("hfs_subtitles=frames: the subtitle block's end was not found in the prompt; "
                 "lmms-eval's subtitles are kept")
            return text, {"subtitles": "task"}
        path = videomme_srt(task, doc)
        if not path.exists():  # lmms-eval's "No subtitles available" stays
            return text, {"subtitles": "none"}
        cues = self._cues_of(path)
        lines = [line for choice in choices for line in videomme_lines(cues, choice.times, choice.fps)]
        shown = [(start, line) for start, line in dict.fromkeys(lines)]  # one video: no repeats
        block = "\n".join(line for _, line in shown)
        return (text[:span[0]] + block + text[span[1]:],
                {"subtitles": "frames", "subtitle_starts": [round(start, 3) for start, _ in shown]})

