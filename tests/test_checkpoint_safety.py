"""Checkpoints never unpickle, and a damaged newest checkpoint falls back to the previous one."""

from __future__ import annotations

import json
import logging
import pickle
import random

import numpy as np
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hfs.training.checkpoint import load_latest_checkpoint, save_checkpoint, set_rng_state
from hfs.training.state_io import load_state, save_state


class _Boom:
    """Unpickling this would run code: it must never happen."""

    def __reduce__(self):
        return (exec, ("import pathlib; pathlib.Path('PWNED').write_text('x')",))


def _trained_optimizer() -> tuple[torch.nn.Module, torch.optim.Optimizer]:
    torch.manual_seed(0)
    model = torch.nn.Linear(3, 2)
    opt = torch.optim.AdamW(model.parameters(), lr=0.1, betas=(0.8, 0.9))
    for _ in range(2):
        model(torch.randn(4, 3)).sum().backward()
        opt.step()
    return model, opt


def test_state_round_trip_keeps_types_and_values(tmp_path):
    state = {"a": (1, 2.5, None, "x"), 3: [np.arange(4, dtype=np.uint32), torch.tensor(7.0)],
             "nested": {"__tensor__": "not a marker"}, "big": np.uint64(2**40)}
    save_state(state, tmp_path / "s")
    back = load_state(tmp_path / "s")
    assert back["a"] == (1, 2.5, None, "x")
    assert back[3][0].dtype == np.uint32 and back[3][0].tolist() == [0, 1, 2, 3]
    assert torch.equal(back[3][1], torch.tensor(7.0))
    assert back["nested"] == {"__tensor__": "not a marker"} and back["big"] == 2**40


def test_checkpoint_holds_no_pickle_and_restores_optimizer_scheduler_rng(tmp_path):
    model, opt = _trained_optimizer()
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: 0.5 ** s)
    opt.step()
    sched.step()
    gen = torch.Generator().manual_seed(9)
    torch.manual_seed(1), np.random.seed(2), random.seed(3)
    ckpt = save_checkpoint(tmp_path / "checkpoint-000004", dict(model.state_dict()), opt, sched, step=4,
                           data_position={"epoch": 1, "index": 2}, generator=gen)
    expected = (torch.rand(3), np.random.rand(), random.random(), torch.rand(2, generator=gen))
    assert sorted(p.name for p in ckpt.iterdir()) == [
        "trainer_meta.json", "trainer_state.json", "trainer_state.safetensors", "weights.safetensors"]
    for file in ckpt.iterdir():  # no pickle protocol header anywhere
        assert not file.read_bytes().startswith(b"\x80")

    path, weights, state, meta = load_latest_checkpoint(tmp_path)
    assert path == ckpt and meta["step"] == 4
    model2 = torch.nn.Linear(3, 2)
    opt2 = torch.optim.AdamW(model2.parameters(), lr=0.1)
    opt2.load_state_dict(state["optimizer"])
    for key in ("exp_avg", "exp_avg_sq", "step"):
        assert torch.equal(opt2.state_dict()["state"][0][key], opt.state_dict()["state"][0][key])
    assert opt2.param_groups[0]["betas"] == (0.8, 0.9)
    sched2 = torch.optim.lr_scheduler.LambdaLR(opt2, lambda s: 0.5 ** s)
    sched2.load_state_dict(state["scheduler"])
    assert sched2.last_epoch == sched.last_epoch and sched2.get_last_lr() == sched.get_last_lr()
    set_rng_state(state["rng"])
    gen2 = torch.Generator()
    gen2.set_state(state["generator"])
    assert torch.equal(torch.rand(3), expected[0])
    assert np.random.rand() == expected[1] and random.random() == expected[2]
    assert torch.equal(torch.rand(2, generator=gen2), expected[3])


def test_crafted_pickle_in_a_run_folder_is_never_loaded(tmp_path, monkeypatch, caplog):
    monkeypatch.chdir(tmp_path)
    model, opt = _trained_optimizer()
    save_checkpoint(tmp_path / "run" / "checkpoint-000002", dict(model.state_dict()), opt, None, step=2,
                    data_position={"epoch": 0, "index": 2})
    # an attacker's newest "checkpoint": the old pickle name, and a pickle under the safetensors name
    evil = tmp_path / "run" / "checkpoint-000009"
    evil.mkdir()
    payload = pickle.dumps({"optimizer": _Boom()})
    (evil / "trainer_state.pt").write_bytes(payload)
    (evil / "trainer_state.safetensors").write_bytes(payload)
    (evil / "trainer_state.json").write_text("{}")
    (evil / "weights.safetensors").write_bytes(payload)
    (evil / "trainer_meta.json").write_text('{"step": 9, "data_position": {}}')
    with caplog.at_level(logging.WARNING):
        path, _, _, meta = load_latest_checkpoint(tmp_path / "run")
    assert not (tmp_path / "PWNED").exists()
    assert path.name == "checkpoint-000002" and meta["step"] == 2
    assert "checkpoint-000009" in caplog.text and "previous checkpoint" in caplog.text


def test_damaged_newest_checkpoint_falls_back_and_none_readable_gives_none(tmp_path):
    model, opt = _trained_optimizer()
    for step in (2, 4):
        save_checkpoint(tmp_path / f"checkpoint-{step:06d}", dict(model.state_dict()), opt, None, step=step,
                        data_position={"epoch": 0, "index": step})
    newest = tmp_path / "checkpoint-000004" / "trainer_state.safetensors"
    newest.write_bytes(newest.read_bytes()[:40])  # truncated by a full disk
    assert load_latest_checkpoint(tmp_path)[3]["step"] == 2
    (tmp_path / "checkpoint-000002" / "trainer_meta.json").write_text("{not json")
    assert load_latest_checkpoint(tmp_path) is None


_POSITIONS = st.one_of(st.integers(-(2**40), 2**40), st.booleans(), st.none(), st.floats(allow_nan=False),
                       st.text(max_size=3), st.lists(st.integers(0, 3), max_size=2))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(step=_POSITIONS, epoch=_POSITIONS, index=_POSITIONS, shape=st.sampled_from([(2, 3), (3, 2), (2, 4), (2,)]))
def test_a_checkpoint_that_cannot_be_resumed_is_passed_over_with_its_reason(step, epoch, index, shape, caplog):
    """The newest checkpoint is used only when its step and data position are counts (integers
    >= 0) and its weights have this model's shapes; otherwise the one before it, with a warning
    naming the newest and why."""
    import tempfile
    from pathlib import Path

    from hfs.training.checkpoint import META_FILE

    model, opt = _trained_optimizer()
    expected = {name: tuple(p.shape) for name, p in model.named_parameters()}
    with tempfile.TemporaryDirectory() as tmp:
        run = Path(tmp)
        save_checkpoint(run / "checkpoint-000002", dict(model.state_dict()), opt, None, step=2,
                        data_position={"epoch": 0, "index": 2})
        weights = {**model.state_dict(), "weight": torch.zeros(shape)}
        save_checkpoint(run / "checkpoint-000004", weights, opt, None, step=4, data_position={"epoch": 0, "index": 4})
        meta = run / "checkpoint-000004" / META_FILE
        meta.write_text(json.dumps({"step": step, "data_position": {"epoch": epoch, "index": index}}))
        caplog.clear()
        with caplog.at_level(logging.WARNING):
            path, _, _, found = load_latest_checkpoint(run, expected)
        counts = all(isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in (step, epoch, index))
        usable = counts and shape == (2, 3)
        assert path.name == ("checkpoint-000004" if usable else "checkpoint-000002")
        assert found["step"] == (step if usable else 2)
        if not usable:
            assert "checkpoint-000004" in caplog.text and "previous checkpoint" in caplog.text
            assert ("[2, 3] in this model" in caplog.text) if counts else ("not a count" in caplog.text)


def test_a_link_planted_at_a_checkpoint_name_is_replaced_and_its_target_untouched(tmp_path):
    model, opt = _trained_optimizer()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "trainer_meta.json").write_text("not yours")
    run = tmp_path / "run"
    run.mkdir()
    (run / "checkpoint-000002").symlink_to(elsewhere)
    (run / "checkpoint-000004").symlink_to(tmp_path / "nowhere")  # dangling
    for step in (2, 4):
        save_checkpoint(run / f"checkpoint-{step:06d}", dict(model.state_dict()), opt, None, step=step,
                        data_position={"epoch": 0, "index": step})
        assert not (run / f"checkpoint-{step:06d}").is_symlink()
    assert [p.name for p in elsewhere.iterdir()] == ["trainer_meta.json"]
    assert (elsewhere / "trainer_meta.json").read_text() == "not yours" and not (tmp_path / "nowhere").exists()
    assert load_latest_checkpoint(run)[3]["step"] == 4
