"""Direction words are the CLI's (normalizing/generative) everywhere; the old ones warn, unknown ones raise.

``results.batchnorm_logdet`` (old: normalize/unnormalize), ``results.iaf_step_logdet`` and
``kernels.iaf_step_logdet`` (old: forward/inverse).
"""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp

from derive import kernels, results
from derive.derivations.batchnorm import batchnorm_eval_proof
from derive.derivations.iaf import T1, iaf_general_proof
from derive.derivations.iaf_variants import iaf_inverse_proof
from derive.errors import UsageError
from derive.symbols import i, sigma, t


@pytest.mark.parametrize("affine", [False, True], ids=["plain", "affine"])
@pytest.mark.parametrize("direction", ["normalizing", "generative"])
def test_new_words_give_the_proved_result(direction: str, affine: bool) -> None:
    assert results.batchnorm_logdet(affine, direction) == batchnorm_eval_proof(None, affine, direction).result


def test_generative_is_the_negative_of_normalizing() -> None:
    normalizing = results.batchnorm_logdet(direction="normalizing")
    generative = results.batchnorm_logdet(direction="generative")
    assert sp.simplify(normalizing + generative) == 0
    assert normalizing != generative


@pytest.mark.parametrize(("old", "new"), [("normalize", "normalizing"), ("unnormalize", "generative")])
def test_old_words_still_work_with_a_deprecation_warning(old: str, new: str) -> None:
    with pytest.warns(DeprecationWarning, match=rf"direction='{new}'"):
        value = results.batchnorm_logdet(direction=old)
    assert value == results.batchnorm_logdet(direction=new)


def test_old_words_warn_every_time_not_only_on_the_first_cached_call() -> None:
    for _ in range(2):
        with pytest.warns(DeprecationWarning):
            results.batchnorm_logdet(direction="unnormalize")


@pytest.mark.parametrize("word", ["forward", "Normalizing", ""], ids=["forward", "capitalised", "empty"])
def test_unknown_word_is_a_usage_error_naming_the_words(word: str) -> None:
    with pytest.raises(UsageError, match="'normalizing' or 'generative'"):
        results.batchnorm_logdet(direction=word)


def test_default_is_normalizing() -> None:
    assert results.batchnorm_logdet() == results.batchnorm_logdet(direction="normalizing")


# --------------------------------------------------------------------------- IAF step (issue 8)
IAF_OLD = [("forward", "generative"), ("inverse", "normalizing")]


def test_iaf_generative_is_the_proved_step_lemma() -> None:
    lemma = iaf_general_proof().chain("IAF step lemma").result.xreplace({T1: t})
    assert results.iaf_step_logdet("generative") == lemma
    assert results.iaf_step_logdet() == lemma  # the default


def test_iaf_normalizing_is_the_proved_inverse_result() -> None:
    proved = iaf_inverse_proof().result.xreplace({sigma[i]: sigma[t, i]})
    assert results.iaf_step_logdet("normalizing") == proved
    assert sp.expand(results.iaf_step_logdet("normalizing") + results.iaf_step_logdet("generative")) == 0


@pytest.mark.parametrize(("old", "new"), IAF_OLD, ids=[o for o, _ in IAF_OLD])
def test_iaf_old_words_give_the_same_expression_with_a_warning(old: str, new: str) -> None:
    for _ in range(2):  # every call warns, not only the first (cached) one
        with pytest.warns(
            DeprecationWarning, match=rf"iaf_step_logdet\(direction='{old}'\).*direction='{new}'"
        ):
            value = results.iaf_step_logdet(old)
        assert value == results.iaf_step_logdet(new)


@pytest.mark.parametrize("word", ["backward", "Generative", "", "normalize"])
def test_iaf_unknown_word_is_a_value_error_naming_the_words(word: str) -> None:
    with pytest.raises(ValueError, match="'normalizing' or 'generative'"):
        results.iaf_step_logdet(word)
    with pytest.raises(UsageError):  # and a derive usage error (one line, exit code 2, in the CLI)
        results.iaf_step_logdet(word)


@pytest.fixture(scope="module")
def sig() -> np.ndarray:
    return np.random.default_rng(8).uniform(0.2, 3.0, (3, 4))


@pytest.mark.parametrize(("old", "new"), IAF_OLD, ids=[o for o, _ in IAF_OLD])
def test_kernel_old_words_give_the_same_values_with_a_warning(sig: np.ndarray, old: str, new: str) -> None:
    with pytest.warns(DeprecationWarning, match=rf"direction='{new}'"):
        value = kernels.iaf_step_logdet(sig, direction=old)
    np.testing.assert_array_equal(value, kernels.iaf_step_logdet(sig, direction=new))
    with pytest.warns(DeprecationWarning):
        assert kernels.iaf_step_logdet.derived(direction=old) == results.iaf_step_logdet(new)


def test_kernel_new_words_follow_the_proved_sign(sig: np.ndarray) -> None:
    generative = kernels.iaf_step_logdet(sig)
    np.testing.assert_allclose(generative, np.log(sig).sum(-1), rtol=1e-13)
    np.testing.assert_array_equal(kernels.iaf_step_logdet(sig, direction="normalizing"), -generative)
    assert kernels.iaf_step_logdet.derived() == results.iaf_step_logdet("generative")


@pytest.mark.parametrize("word", ["backward", "Normalizing", "unnormalize"])
def test_kernel_unknown_word_is_a_value_error(sig: np.ndarray, word: str) -> None:
    with pytest.raises(ValueError, match="'normalizing' or 'generative'"):
        kernels.iaf_step_logdet(sig, direction=word)
    with pytest.raises(ValueError, match="'normalizing' or 'generative'"):
        kernels.iaf_step_logdet.generated(direction=word)


def test_deprecation_warnings_point_at_the_callers_line() -> None:
    """The warning names the user's file, not derive's internals (results, kernel call and variant)."""
    sig = np.ones((2, 3))
    calls = (
        lambda: results.iaf_step_logdet("forward"),
        lambda: results.batchnorm_logdet(direction="normalize"),
        lambda: kernels.iaf_step_logdet(sig, direction="inverse"),
        lambda: kernels.iaf_step_logdet.generated(direction="forward"),
    )
    for call in calls:
        with pytest.warns(DeprecationWarning) as seen:
            call()
        assert [w.filename for w in seen] == [__file__]
