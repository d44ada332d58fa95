"""``results.batchnorm_logdet``'s direction words are the CLI's (normalizing/generative); the old ones warn."""

from __future__ import annotations

import pytest
import sympy as sp

from derive import results
from derive.derivations.batchnorm import batchnorm_eval_proof
from derive.errors import UsageError


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
