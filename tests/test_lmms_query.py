"""The query of an lmms-eval sample is its question and options, never lmms-eval's instructions or
the subtitles its ``*_w_subtitle`` prompts put first (``hfs.integrations.lmms.query``; needs no
lmms-eval). Prompts are laid out as lmms-eval 0.7.3's tasks lay them out."""

from __future__ import annotations

import numpy as np
import pytest

import hfs
from hfs.integrations.lmms.query import doc_query, prompt_query, sample_query
from hfs.query.text import query_text

OPTION_PROMPT = ("Select the best answer to the following multiple-choice question based on the video and the "
                 "subtitles. Respond with only the letter (A, B, C, or D) of the correct option.")
# a long subtitle block naming the colours the question is not about
SUBTITLES = "\n".join(f"{i}\n00:00:{i:02d},000 --> 00:00:{i + 1:02d},000\nThe blue door and the green wall, "
                      f"blue and green everywhere, number {i}." for i in range(40))
OPTIONS = ["A. At the start.", "B. In the middle.", "C. At the end.", "D. Never."]


def videomme_subtitle_prompt(question: str, options=OPTIONS) -> str:
    """``videomme_doc_to_text_subtitle``'s layout (default format)."""
    return ("This video's subtitles are listed below: \n" + SUBTITLES + "\n" + OPTION_PROMPT + "\n" + question
            + "\n" + "\n".join(options) + "\n" + "The best answer is:")


def videomme_qwen3_subtitle_prompt(question: str) -> str:
    """The same task's ``format: qwen3_vl`` layout."""
    return ("This video's subtitles are listed below: \n" + SUBTITLES + "\n" + "Question: " + question
            + "\nOptions:\n" + "\n".join(OPTIONS) + "\nAnswer with the option letter only.")


def test_known_tasks_read_the_docs_own_fields():
    vm = {"question": "When is the screen red?", "options": OPTIONS, "videoID": "x"}
    for task in ("videomme", "videomme_w_subtitle", "videomme_long_w_subtitle"):
        q = doc_query(task, vm)
        assert (q.question, q.options, q.source) == ("When is the screen red?", OPTIONS, "doc")
    lvb = {"question": "What falls?", "option0": "a cup", "option1": "a ball", "option2": "N/A", "option3": "N/A",
           "option4": "N/A"}
    assert doc_query("longvideobench_val_v", lvb).options == ["A. a cup", "B. a ball"]
    mlvu = {"question": "What is the main activity?\n(A) cooking\n(B) running\n(C) sleeping\n(D) reading"}
    q = doc_query("mlvu_dev", mlvu)
    assert q.question == "What is the main activity?" and q.options == ["(A) cooking", "(B) running",
                                                                         "(C) sleeping", "(D) reading"]
    nq = {"question": "why did the boy run", **{f"a{i}": f"answer {i}" for i in range(5)}}
    assert doc_query("nextqa_mc_test", nq).options[4] == "E. answer 4"
    assert doc_query("some_other_task", vm) is None  # unknown tasks use the prompt fallback
    assert doc_query("videomme", {"options": OPTIONS}) is None  # no question field: fallback too


@pytest.mark.parametrize("layout", [videomme_subtitle_prompt, videomme_qwen3_subtitle_prompt])
def test_fallback_drops_subtitles_and_instructions(layout):
    q = prompt_query(layout("When is the screen red?"))
    assert (q.question, q.options, q.source) == ("When is the screen red?", OPTIONS, "prompt")
    # sample_query takes the doc where the task is known, the prompt elsewhere: the same answer
    doc = {"question": "When is the screen red?", "options": OPTIONS}
    assert sample_query("videomme_w_subtitle", doc, no_prompt).question == q.question  # the prompt is not built
    assert sample_query("my_task", {"foo": 1}, lambda: layout("When is the screen red?")).options == OPTIONS


def no_prompt() -> str:
    raise AssertionError("the prompt was built though the doc gives the question")


def test_fallback_keeps_a_plain_question_and_never_returns_empty():
    assert prompt_query("What happens after the door opens?").question == "What happens after the door opens?"
    assert prompt_query("Describe the video.\nAnswer the question using a single word or phrase.").question == \
        "Describe the video."


def test_questions_behind_one_long_preamble_get_different_text_embeddings(tiny_encoder):
    """The issue's observation: CLIP reads 77 tokens, so the whole prompt as a query embeds two
    different questions identically; their queries do not."""
    prompts = [videomme_subtitle_prompt("When is the screen red?"),
               videomme_subtitle_prompt("What animal crosses the road?")]
    whole = tiny_encoder.encode_texts(prompts)
    assert np.allclose(whole[0], whole[1])  # the bug this module fixes
    queries = [prompt_query(p) for p in prompts]
    ours = tiny_encoder.encode_texts([query_text(q.question, q.options) for q in queries])
    assert not np.allclose(ours[0], ours[1], atol=1e-4)
    # the question comes first, so an encoder that truncates keeps it
    assert query_text(queries[0].question, queries[0].options).startswith("When is the screen red?")


@pytest.mark.parametrize("colour, scene", [("red", (0, 4)), ("blue", (4, 8)), ("green", (8, 12))])
def test_frames_follow_the_question_not_the_subtitles(three_scene_video, color_encoder, colour, scene):
    """Top-k with the colour encoder, behind subtitles that name other colours: the whole prompt
    pulls frames from the subtitles' colours; the query takes them from the asked scene."""
    subtitles = {"red": "blue green", "blue": "red green", "green": "red blue"}[colour]
    prompt = ("This video's subtitles are listed below: \n" + "\n".join([f"The {subtitles} lights."] * 30) + "\n"
              + OPTION_PROMPT + "\n" + f"When is the screen {colour}?\n" + "\n".join(OPTIONS)
              + "\nThe best answer is:")
    query = prompt_query(prompt)
    sel = hfs.select(three_scene_video, query.question, query.options, k=4, num_candidates=24, selector="topk",
                     encoder=color_encoder)
    assert all(scene[0] <= t < scene[1] for t in sel.times.tolist())
    whole = hfs.select(three_scene_video, prompt, k=4, num_candidates=24, selector="topk", encoder=color_encoder)
    assert not all(scene[0] <= t < scene[1] for t in whole.times.tolist())


def test_frame_log_refuses_a_planted_symlink_unless_named(tmp_path):
    from hfs.errors import InputError
    from hfs.integrations.lmms.indices import FrameChoice, append_choice, read_choices

    choice = FrameChoice(video="a.mp4", times=[1.0], frame_indices=[10], fps=10.0, total_num_frames=100,
                         duration=10.0, task="t", doc_id=0, scores=[0.5])
    target = tmp_path / "elsewhere.jsonl"
    target.write_text("")
    (tmp_path / "log.jsonl").symlink_to(target)
    with pytest.raises(InputError, match="log.jsonl: cannot be written"):
        append_choice(tmp_path / "log.jsonl", choice, follow_links=False)
    assert target.read_text() == ""
    append_choice(tmp_path / "log.jsonl", choice)  # hfs_log=... named it: followed
    (back,) = read_choices(target)
    assert back.times == [1.0] and back.scores == [0.5]
