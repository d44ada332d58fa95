"""derive verify: proved, refuted (counterexample re-checked from the full Jacobian), undecided, bad input."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from derive.cli import main
from derive.errors import UsageError
from derive.layers import ActNorm, Householder
from derive.verify import verify_file, verify_layer

HEADER = """
import sympy as sp
from derive.jacobian import Structure
from derive.layers import FlowLayer

x = sp.IndexedBase("x", real=True)
a = sp.IndexedBase("a", positive=True)
"""

SCALE_SHIFT = """
class ScaleShift(FlowLayer):
    name = "scale-shift"
    direction = "normalizing"
    claimed_structure = Structure.DIAGONAL

    def inputs(self):
        return tuple(x[k] for k in range(1, self.dim + 1))

    def forward(self):
        return tuple(a[k] * x[k] + sp.exp(x[k]) for k in range(1, self.dim + 1))

    def claimed_logdet(self):
        return sum(CLAIM for k in range(1, self.dim + 1))
"""

AUTOREGRESSIVE = """
class AR(FlowLayer):
    name = "my-ar"
    direction = "normalizing"
    claimed_structure = Structure.LOWER_TRIANGULAR

    def inputs(self):
        return tuple(x[k] for k in range(1, self.dim + 1))

    def s(self, k):
        return sp.Function(f"s_{k}", real=True)(*self.inputs()[: k - 1])

    def forward(self):
        return tuple(x[k] * sp.exp(self.s(k)) for k in range(1, self.dim + 1))

    def claimed_logdet(self):
        return SIGN * sum(self.s(k) for k in range(1, self.dim + 1))

LAYER = AR(3)
"""


def _file(tmp_path: Path, body: str, **subs: str) -> Path:
    for key, value in subs.items():
        body = body.replace(key, value)
    path = tmp_path / "layer.py"
    path.write_text(textwrap.dedent(HEADER + body))
    return path


def test_a_true_claim_is_proved(tmp_path: Path) -> None:
    report = verify_file(_file(tmp_path, SCALE_SHIFT, CLAIM="sp.log(a[k] + sp.exp(x[k]))"), dims=(1, 3))
    assert report.status == "proved" and report.exit_code == 0
    assert [r.dim for r in report.results] == [1, 3]


def test_attack_a_false_claim_is_refuted_with_a_valid_counterexample(tmp_path: Path) -> None:
    report = verify_file(_file(tmp_path, SCALE_SHIFT, CLAIM="sp.log(a[k])"))
    (verdict,) = report.results
    assert verdict.status == "refuted" and report.exit_code == 1
    ce = verdict.counterexample
    assert ce is not None
    assert float(ce["a[1]"].split("/")[0]) > 0  # a is declared positive: the counterexample respects it
    claimed, true = float(ce["claimed"]), float(ce["log|det J| (full Jacobian, 100 digits)"])
    assert abs(claimed - true) > 1e-6


def test_attack_a_sign_error_with_undefined_networks_is_refuted(tmp_path: Path) -> None:
    assert verify_file(_file(tmp_path, AUTOREGRESSIVE, SIGN="1")).status == "proved"
    refuted = verify_file(_file(tmp_path, AUTOREGRESSIVE, SIGN="-1"))
    assert refuted.status == "refuted"


def test_a_true_claim_the_algebra_cannot_prove_is_undecided_never_refuted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Soundness of the refutation side: with the prover disabled, a true claim must come back
    undecided (numeric agreement is evidence, not proof) and never as a counterexample."""
    import derive.verify as verify_module

    monkeypatch.setattr(verify_module, "is_zero", lambda expr: None)
    layer = ActNorm(2, height=2, width=1)
    verdict = verify_module.verify_layer(layer)
    assert verdict.status == "undecided" and verdict.counterexample is None
    assert "agree at 12 random points" in verdict.evidence


def test_library_layers_are_proved_directly() -> None:
    assert verify_layer(ActNorm(2, height=2, width=1)).status == "proved"
    assert verify_layer(Householder(2)).status == "proved"


def test_cli_exit_codes_and_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    good = _file(tmp_path, SCALE_SHIFT, CLAIM="sp.log(a[k] + sp.exp(x[k]))")
    assert main(["verify", str(good), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["status"] == "proved" and set(out["results"][0]) >= {
        "layer",
        "status",
        "counterexample",
        "method",
    }
    bad = _file(tmp_path, SCALE_SHIFT, CLAIM="sp.log(a[k])")
    assert main(["verify", str(bad)]) == 1
    assert "counterexample" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("body", "message"),
    [
        pytest.param("raise RuntimeError('boom')", "RuntimeError: boom", id="error-in-file"),
        pytest.param("y = 1", "defines no FlowLayer", id="no-layer"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], body: str, message: str
) -> None:
    path = _file(tmp_path, body)
    assert main(["verify", str(path)]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
    with pytest.raises(UsageError):
        verify_file(path)


def test_not_a_python_file(tmp_path: Path) -> None:
    assert main(["verify", str(tmp_path / "missing.py")]) == 2
