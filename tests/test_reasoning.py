"""The multimodal answerer / teacher on a tiny random Qwen2-VL built from a config."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from hfs.errors import InputError
from hfs.reasoning import MultimodalAnswerer
from hfs.reasoning.formats import NO_SUBTITLES, QWEN_MAX_ASPECT, SUBTITLES_HEADER, Subtitles, pad_to_aspect

QUESTION, OPTIONS = "what colour is the screen at the end?", ["red", "blue", "green", "yellow"]


@pytest.fixture(scope="module")
def answerer(tiny_vlm_dir):
    return MultimodalAnswerer(str(tiny_vlm_dir))


def _frames(n=3):
    rng = np.random.default_rng(0)
    return [rng.integers(0, 256, (56, 84, 3), dtype=np.uint8) for _ in range(n)]


def test_answer_is_the_argmax_of_the_letter_logits_of_a_plain_forward(answerer):
    frames, times = _frames(), [1.0, 2.5, 4.0]
    out = answerer.answer(frames, times, QUESTION, OPTIONS)
    # hand-run forward: the model itself on the same inputs, logits of "A".."D" at the last position
    inputs = answerer.build_inputs(frames, times, QUESTION, OPTIONS)
    ids = inputs["input_ids"]
    image_token = answerer.model.config.image_token_id
    with torch.no_grad():
        logits = answerer.model(input_ids=ids, attention_mask=torch.ones_like(ids),
                                pixel_values=inputs["pixel_values"], image_grid_thw=inputs["image_grid_thw"],
                                mm_token_type_ids=(ids == image_token).long()).logits[0, -1]
    letters = [answerer.tokenizer.encode(c, add_special_tokens=False)[0] for c in "ABCD"]
    assert torch.allclose(out.letter_logits, logits[letters].float(), atol=1e-5)
    assert out.answer == int(logits[letters].argmax()) and out.letter == "ABCD"[out.answer]
    assert out.probs.sum() == pytest.approx(1.0, abs=1e-6)


def test_prompt_has_one_image_block_per_frame_with_its_time(answerer):
    inputs = answerer.build_inputs(_frames(2), [3.0, 65.5], QUESTION, OPTIONS)
    text = answerer.tokenizer.decode(inputs["input_ids"][0])
    assert text.count("<|vision_start|>") == 2 and "Frame 1 at 00:03.0" in text and "Frame 2 at 01:05.5" in text
    assert "A. red" in text and "D. yellow" in text
    image_token = answerer.model.config.image_token_id
    assert int((inputs["input_ids"] == image_token).sum()) == int(inputs["tokens_per_frame"].sum())


def test_subtitles_enter_the_prompt_as_their_protocol_places_them(answerer):
    frames, times = _frames(2), [3.0, 65.5]
    lines = ((1.0, "hello there"), (10.0, "the screen turns red"), (70.0, "goodbye"))
    # LongVideoBench: interleaved, each line after the frames at or before its time
    text = answerer.tokenizer.decode(answerer.build_inputs(
        frames, times, QUESTION, OPTIONS, subtitles=Subtitles(lines, interleaved=True))["input_ids"][0])
    order = [text.index(s) for s in ("hello there", "Frame 1 at", "the screen turns red", "Frame 2 at", "goodbye",
                                     "Question:")]
    assert order == sorted(order)
    # Video-MME: one block after the frames, before the question
    text = answerer.tokenizer.decode(answerer.build_inputs(
        frames, times, QUESTION, OPTIONS, subtitles=Subtitles(lines))["input_ids"][0])
    order = [text.index(s) for s in ("Frame 2 at", SUBTITLES_HEADER, "hello there", "goodbye", "Question:")]
    assert order == sorted(order)
    none = answerer.tokenizer.decode(answerer.build_inputs(
        frames, times, QUESTION, OPTIONS, subtitles=Subtitles(available=False))["input_ids"][0])
    assert f"{SUBTITLES_HEADER}\n{NO_SUBTITLES}\nQuestion:" in none
    # they change what the model reads, so the answer's logits too; without them, the prompt is as before
    plain = answerer.answer(frames, times, QUESTION, OPTIONS)
    said = answerer.answer(frames, times, QUESTION, OPTIONS, subtitles=Subtitles(lines))
    assert not torch.allclose(plain.letter_logits, said.letter_logits)
    assert SUBTITLES_HEADER not in answerer.tokenizer.decode(
        answerer.build_inputs(frames, times, QUESTION, OPTIONS)["input_ids"][0])


def test_frame_weights_scale_visual_tokens_and_carry_gradients(answerer):
    frames, times = _frames(), [1.0, 2.0, 3.0]
    plain = answerer.answer(frames, times, QUESTION, OPTIONS)
    w = torch.ones(3, requires_grad=True)
    weighted = answerer(frames, times, QUESTION, OPTIONS, frame_weights=w, return_hidden=True)
    assert torch.allclose(weighted.letter_logits, plain.letter_logits, atol=1e-6)  # m_i = 1: same answer
    weighted.letter_logits.logsumexp(-1).backward()
    assert w.grad is not None and float(w.grad.abs().sum()) > 0
    zeroed = answerer(frames, times, QUESTION, OPTIONS, frame_weights=torch.tensor([1.0, 0.0, 1.0]))
    assert not torch.allclose(zeroed.letter_logits, plain.letter_logits)  # a frame's tokens really are scaled
    assert weighted.frame_hidden.shape == (3, answerer.hidden_size)
    assert weighted.context_hidden.shape == (answerer.hidden_size,)


def test_teacher_lora_is_the_only_trainable_part(tiny_vlm_dir):
    teacher = MultimodalAnswerer(str(tiny_vlm_dir), lora_rank=8)
    trainable = [n for n, p in teacher.named_parameters() if p.requires_grad]
    assert trainable and all("lora_" in n and "language_model" in n for n in trainable)


def test_bad_questions(answerer):
    with pytest.raises(InputError, match="2 to"):
        answerer.answer(_frames(1), [0.0], QUESTION, ["only one"])
    with pytest.raises(InputError, match="at least one frame"):
        answerer.answer([], [], QUESTION, OPTIONS)


@pytest.fixture(scope="module")
def llava(tiny_llava_dir):
    return MultimodalAnswerer(str(tiny_llava_dir))


def test_llava_onevision_answer_is_the_argmax_of_a_plain_forward_of_the_video_path(llava):
    frames, times = _frames(), [1.0, 2.5, 4.0]
    out = llava.answer(frames, times, QUESTION, OPTIONS)
    inputs = llava.build_inputs(frames, times, QUESTION, OPTIONS)
    ids = inputs["input_ids"]
    text = llava.tokenizer.decode(ids[0])
    assert "taken at 00:01.0, 00:02.5, 00:04.0" in text and "A. red" in text
    # the model's own check: one placeholder per pooled frame token plus the closing newline
    assert int((ids == llava.model.config.video_token_id).sum()) == int(inputs["tokens_per_frame"].sum()) + 1
    with torch.no_grad():
        logits = llava.model(input_ids=ids, attention_mask=torch.ones_like(ids),
                             pixel_values_videos=inputs["pixel_values_videos"]).logits[0, -1]
    letters = [llava.tokenizer.encode(c, add_special_tokens=False)[0] for c in "ABCD"]
    assert torch.allclose(out.letter_logits, logits[letters].float(), atol=1e-5)
    assert out.answer == int(logits[letters].argmax())


def test_llava_onevision_takes_subtitles_as_a_timed_block_after_the_video(llava):
    frames, times = _frames(2), [1.0, 4.0]
    inputs = llava.build_inputs(frames, times, QUESTION, OPTIONS,
                                subtitles=Subtitles(((2.0, "a line"),), interleaved=True))
    text = llava.tokenizer.decode(inputs["input_ids"][0])
    assert text.index("<video>") < text.index("[00:02.0] a line") < text.index("Question:")
    assert int((inputs["input_ids"] == llava.model.config.video_token_id).sum()) == \
        int(inputs["tokens_per_frame"].sum()) + 1


def test_llava_onevision_frame_weights_scale_each_frame_and_carry_gradients(llava, tiny_llava_dir):
    frames, times = _frames(), [1.0, 2.0, 3.0]
    plain = llava.answer(frames, times, QUESTION, OPTIONS)
    w = torch.ones(3, requires_grad=True)
    weighted = llava(frames, times, QUESTION, OPTIONS, frame_weights=w, return_hidden=True)
    assert torch.allclose(weighted.letter_logits, plain.letter_logits, atol=1e-6)
    weighted.letter_logits.logsumexp(-1).backward()
    assert w.grad is not None and bool((w.grad != 0).all())  # every frame's tokens reach the answer
    zeroed = llava(frames, times, QUESTION, OPTIONS, frame_weights=torch.tensor([1.0, 0.0, 1.0]))
    assert not torch.allclose(zeroed.letter_logits, plain.letter_logits)
    assert weighted.frame_hidden.shape == (3, llava.hidden_size)
    teacher = MultimodalAnswerer(str(tiny_llava_dir), lora_rank=8)
    trainable = [n for n, p in teacher.named_parameters() if p.requires_grad]
    assert trainable and all("lora_" in n and "language_model" in n for n in trainable)


@pytest.mark.parametrize("size", [(16, 4000), (4000, 16), (3, 2000)])
def test_extreme_aspect_ratio_frames_are_padded_for_the_processor(answerer, size):
    rng = np.random.default_rng(1)
    frames = [rng.integers(0, 256, (*size, 3), dtype=np.uint8) for _ in range(2)]
    with pytest.raises(ValueError, match="aspect ratio"):  # what the processor alone does with them
        answerer.format.processor(images=frames, return_tensors="pt")
    out = answerer.answer(frames, [0.5, 1.5], QUESTION, OPTIONS)
    assert torch.isfinite(out.letter_logits).all() and out.probs.sum() == pytest.approx(1.0, abs=1e-6)
    padded = pad_to_aspect(frames[0], QWEN_MAX_ASPECT)
    (h, w), (ph, pw) = size, padded.shape[:2]
    assert max(ph, pw) == max(h, w) and max(ph, pw) / min(ph, pw) <= QWEN_MAX_ASPECT
    assert min(ph, pw) == -(-max(h, w) // QWEN_MAX_ASPECT)  # padded just enough
    top, left = (ph - h) // 2, (pw - w) // 2
    assert np.array_equal(padded[top:top + h, left:left + w], frames[0])  # the picture itself, centred
    assert padded.sum() == frames[0].sum()  # and black around it
    ordinary = _frames(1)[0]
    assert pad_to_aspect(ordinary, QWEN_MAX_ASPECT) is ordinary


def test_hfs_answer_on_a_very_wide_video(tmp_path, answerer, color_encoder):
    from hfs.reasoning import answer_video
    from hfs.video.synth import Scene, write_video

    video = write_video(tmp_path / "strip.mp4", [Scene("red", 1.0), Scene("blue", 1.0)], fps=4, size=(4000, 16))
    result = answer_video(video, QUESTION, OPTIONS, answerer, k=2, encoder=color_encoder, num_candidates=8,
                          use_cache=False)
    assert len(result.selection.indices) == 2 and result.letter in "ABCD"
    assert sum(result.probs) == pytest.approx(1.0, abs=1e-4)


@pytest.mark.parametrize("family", ["answerer", "llava"])
def test_a_batch_answers_each_question_as_it_would_alone(family, request):
    """forward_batch (teacher pre-training) pads rows of different lengths on the left: every
    row's letter logits and pooled hidden states are those of the question answered alone."""
    model = request.getfixturevalue(family)
    rng = np.random.default_rng(1)
    count = 3 if family == "llava" else None  # LLaVA-OneVision takes one video: same count per row
    questions = []
    for j, question in enumerate(["What shape is on the red screen?", "Which colour is shown last in the clip?",
                                  "What?"]):
        k = count or j + 1
        frames = [rng.integers(0, 255, (48 + 8 * j, 64, 3), dtype=np.uint8) for _ in range(k)]
        questions.append((frames, [0.5 * i for i in range(k)], question, ["a", "b", "c"]))
    out = model.forward_batch(questions, return_hidden=True)
    assert out.letter_logits.shape == (3, 3)
    for j, q in enumerate(questions):
        alone = model.forward(*q, return_hidden=True)
        torch.testing.assert_close(out.letter_logits[j], alone.letter_logits, atol=1e-4, rtol=1e-4)
        torch.testing.assert_close(out.frame_hidden[j], alone.frame_hidden, atol=1e-4, rtol=1e-4)
        torch.testing.assert_close(out.context_hidden[j], alone.context_hidden, atol=1e-4, rtol=1e-4)
    with pytest.raises(InputError, match="same number of options"):
        model.forward_batch([questions[0], (*questions[1][:3], ["a", "b"])])
