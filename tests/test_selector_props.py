"""Properties every registered selector keeps, on any finite scores: exactly k unique ascending
indices in range (1..k for the peers whose authors' code can return fewer: ``exact_k`` False),
the same frames for the same seed; and one ``InputError`` for bad input."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from hfs.errors import InputError
from hfs.selection import create_selector, list_selectors

SELECTORS = list_selectors()
PROPS = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# finite floats over the whole range: huge and tiny magnitudes, subnormals, signed zeros
FINITE = st.floats(allow_nan=False, allow_infinity=False)


@st.composite
def scored_candidates(draw):
    """(scores [N], k in {1, N, anything between}, embeddings [N, D]) with many ties."""
    n = draw(st.integers(1, 40))
    kind = draw(st.sampled_from(["any", "few values", "all equal", "tiny", "huge"]))
    if kind == "any":
        scores = draw(hnp.arrays(np.float64, n, elements=FINITE))
    elif kind == "few values":  # ties
        values = draw(st.lists(FINITE, min_size=1, max_size=3))
        scores = np.array(draw(st.lists(st.sampled_from(values), min_size=n, max_size=n)), dtype=np.float64)
    elif kind == "all equal":
        scores = np.full(n, draw(FINITE))
    else:
        scale = 1e-300 if kind == "tiny" else 1e300
        scores = draw(hnp.arrays(np.float64, n, elements=st.floats(-1.7, 1.7))) * scale
    k = draw(st.sampled_from([1, n, max(1, n // 2)]))
    dim = draw(st.integers(1, 6))
    emb_kind = draw(st.sampled_from(["random", "duplicates", "zeros"]))
    seed = draw(st.integers(0, 2**16))
    rng = np.random.default_rng(seed)
    if emb_kind == "random":
        emb = rng.normal(size=(n, dim))
    elif emb_kind == "duplicates":  # every frame one of two pictures
        emb = rng.normal(size=(2, dim))[rng.integers(0, 2, n)]
    else:
        emb = np.zeros((n, dim))
    times = np.sort(rng.uniform(0, 100, n))
    return scores, k, emb, times


# |s| near the float limit overflows s / tau in qframe (its Gumbel-max then sees ties);
# the selection must still be valid, which is checked here
@pytest.mark.filterwarnings("ignore:overflow encountered:RuntimeWarning")
@pytest.mark.parametrize("name", SELECTORS)
@PROPS
@given(case=scored_candidates(), seed=st.integers(0, 2**31 - 1))
def test_any_finite_scores_give_k_unique_ascending_indices_deterministically(name, case, seed):
    scores, k, emb, times = case
    before = scores.copy()
    first = create_selector(name, seed=seed).select(scores, k, times=times, embeddings=emb)
    idx = first.indices
    exact = create_selector(name).exact_k
    assert idx.dtype.kind == "i" and (idx.shape == (k,) if exact else 1 <= idx.size <= k)
    assert first.repeats is None or (not exact and first.repeats.sum() <= k and first.repeats.size == idx.size)
    assert np.all(np.diff(idx) > 0) and idx[0] >= 0 and idx[-1] < scores.size
    assert np.array_equal(first.times, times[idx]) and np.array_equal(first.scores, scores[idx])
    assert np.array_equal(scores, before)  # the caller's scores are left alone
    again = create_selector(name, seed=seed).select(scores, k, times=times, embeddings=emb)
    assert np.array_equal(again.indices, idx)


@pytest.mark.parametrize("name", [s for s in SELECTORS if create_selector(s).exact_k])
def test_k_equal_to_n_takes_everything(name):
    scores = np.array([3.0, -1.0, 3.0, 0.5])
    emb = np.eye(4)
    assert create_selector(name).select(scores, 4, embeddings=emb).indices.tolist() == [0, 1, 2, 3]


BAD_SCORES = [np.array([1.0, np.nan, 0.5]), np.array([1.0, np.inf, 0.5]), np.array([-np.inf, 0.0, 1.0])]


@pytest.mark.parametrize("name", SELECTORS)
@pytest.mark.parametrize("scores,k,times,embeddings,message", [
    (BAD_SCORES[0], 1, None, None, "scores contain NaN or infinite"),
    (BAD_SCORES[1], 1, None, None, "scores contain NaN or infinite"),
    (BAD_SCORES[2], 2, None, None, "scores contain NaN or infinite"),
    (np.zeros(3), 0, None, None, "k must be a positive integer, got 0"),
    (np.zeros(3), -2, None, None, "k must be a positive integer"),
    (np.zeros(3), 4, None, None, r"k=4 is larger than the number of candidate frames \(3\)"),
    (np.zeros(3), 1.5, None, None, "k must be a positive integer, got 1.5"),
    (np.zeros(3), True, None, None, "k must be a positive integer, got True"),
    (np.zeros((3, 2)), 1, None, None, r"scores must be a non-empty 1-D array of shape \[N\], got shape \(3, 2\)"),
    (np.zeros(0), 1, None, None, r"scores must be a non-empty 1-D array of shape \[N\], got shape \(0,\)"),
    (np.float64(1.0), 1, None, None, r"scores must be a non-empty 1-D array of shape \[N\], got shape \(\)"),
    (["a", "b"], 1, None, None, "scores must be an array of numbers"),
    (np.zeros(3), 1, np.arange(4.0), None, r"times must be a non-empty 1-D array of shape \[N\] with N=3"),
    (np.zeros(3), 1, np.array([0.0, np.nan, 2.0]), None, "times contain NaN"),
    (np.zeros(3), 1, None, np.zeros((2, 4)), r"embeddings must be .* shape \[N, D\] with N=3, got shape \(2, 4\)"),
    (np.zeros(3), 1, None, np.zeros(3), r"embeddings must be .* shape \[N, D\] with N=3, got shape \(3,\)"),
    (np.zeros(3), 1, None, np.full((3, 2), np.inf), "embeddings contain NaN or infinite"),
])
def test_bad_input_is_one_input_error(name, scores, k, times, embeddings, message):
    with pytest.raises(InputError, match=message) as err:
        create_selector(name).select(scores, k, times=times, embeddings=embeddings)
    assert "\n" not in str(err.value)


@pytest.mark.filterwarnings("ignore:overflow encountered:RuntimeWarning")
@pytest.mark.parametrize("name", SELECTORS)
@PROPS
@given(scores=hnp.arrays(np.float64, st.integers(1, 20), elements=st.floats(allow_nan=True, allow_infinity=True)),
       k=st.integers(-3, 25))
def test_arbitrary_floats_and_k_are_selected_or_refused_cleanly(name, scores, k):
    """NaN/inf anywhere or k outside 1..N: an InputError; otherwise a valid selection."""
    emb = np.random.default_rng(0).normal(size=(scores.size, 3))
    valid = bool(np.all(np.isfinite(scores))) and 1 <= k <= scores.size
    if not valid:
        with pytest.raises(InputError):
            create_selector(name).select(scores, k, embeddings=emb)
        return
    selector = create_selector(name)
    idx = selector.select(scores, k, embeddings=emb).indices
    assert (idx.size == k if selector.exact_k else 1 <= idx.size <= k) and np.all(np.diff(idx) > 0)
