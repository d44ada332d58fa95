r"""``check_steps``: every step of a LaTeX derivation decided soundly, each under the sandbox.

For problem ``problem_id`` the file is read into chains (:mod:`derive.steps._read`); the problem's
quantity (:math:`\log q(\mathbf{z}_T|\mathbf{x})`, :math:`\log|\det\partial y/\partial x|`) and
every named quantity take their *proved* values from :mod:`derive.results` (a line using
:math:`\log\det|d\mathbf{z}_t/d\mathbf{z}_{t-1}|` means the forward step's log-det as the kernel
derived it). Step :math:`E_{k-1}\to E_k` goes through :func:`derive.equivalence.decide` with the
problem's definitions, in strict mode: **valid** needs a symbolic proof for all sizes;
**invalid** needs a counterexample that :func:`~derive.steps._recheck.recheck` confirms
independently; anything else is **undecided**. Each step runs in its own sandboxed child, so one
hostile line makes that step ``timeout`` and the others are still checked.

>>> r = check_steps_unlimited("batchnorm-logdet",
...     r"$$\log|\det\frac{\partial y}{\partial x}| = -\frac12\sum_i\log(\tilde\sigma_i^2+\epsilon)$$")
>>> r.status, r.reaches_reference
('valid', True)
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import replace
from functools import cache
from typing import Any

import sympy as sp

from derive.equivalence import Domain, SizeVar, decide
from derive.equivalence._normal_form import canonical_dummy, is_nested, normal_form
from derive.equivalence._rewrite import prepare
from derive.errors import DeriveError, ParseError, ResourceLimitError
from derive.problems import Problem, get_problem
from derive.sandbox import run_limited
from derive.steps._latex import latex
from derive.steps._read import Chain, Member, read_chains
from derive.steps._recheck import lookup, recheck, value_atoms
from derive.steps._slips import MAX_CANDIDATES, Slip, catalogue
from derive.steps._types import StepResult, StepsResult

__all__ = ["STEP_MEMORY_MB", "STEP_TIMEOUT", "check_steps", "check_steps_unlimited", "decide_step"]

#: Per-step limits (each step is one sandboxed child).
STEP_TIMEOUT = 10.0
STEP_MEMORY_MB = 2048
#: At most this many steps are checked per file (the rest are reported as skipped, in a warning).
MAX_STEPS = 200
#: Budget of candidate checks when naming a slip.
MAX_SLIP_PROOFS = 6


@cache
def _setup(problem_id: str) -> tuple[Problem, sp.Expr]:
    """The problem and its proved reference (parser and engine caches warmed in this process)."""
    problem = get_problem(problem_id)
    reference = problem.proved_reference()  # from the cache of proved references when it has it
    read_chains(f"$${problem.target_latex} = 0$$", problem.notation)
    decide(reference, reference, problem.domain)
    return problem, reference


def _valued(expr: sp.Expr, problem: Problem, reference: sp.Expr) -> sp.Expr:
    """The problem's quantity replaced by its proved value."""
    return expr.xreplace({problem.target: reference})


def _domain(problem: Problem, *exprs: sp.Expr) -> Domain:
    """The problem's domain, plus each free integer index (a step ``t``) as a size >= 1."""
    sizes = list(problem.domain.sizes)
    known = {s.symbol for s in sizes}
    free = sorted(
        {s for e in exprs for s in e.free_symbols if s.is_integer and s not in known}, key=lambda s: s.name
    )
    sizes += [SizeVar(s, 1, (1, 2, 3)) for s in free if isinstance(s, sp.Symbol)]
    return Domain(tuple(sizes), problem.domain.definitions)


def _step_index(problem: Problem) -> tuple[sp.Symbol, sp.Symbol] | None:
    big = [s.symbol for s in problem.domain.sizes if s.symbol.name == "T"]
    steps = problem.notation.index_ranges.get("t")
    return (steps[0], big[0]) if big and steps is not None else None


def _pretty_difference(diff: sp.Expr) -> sp.Expr:
    r"""``diff`` in sum normal form, re-assembled with readable index names (i over D, t over T)."""
    names = {"D": "i", "T": "t", "N": "n"}
    (nf,) = normal_form([diff])
    total = sp.Integer(0)
    spare = iter("jklmpqrs")
    for key, summand in nf.items():
        summand = sp.expand(summand)
        if summand == 0:
            continue
        if not key:
            total += summand
            continue
        if is_nested(key):  # a sum whose bounds depend on an outer index: shown as it is
            raise ValueError("nested box")
        limits = []
        used: set[str] = set()
        mapping = {}
        for position, (lo, hi) in enumerate(key):
            upper = [s.name for s in hi.free_symbols]
            name = names.get(upper[0], "") if len(upper) == 1 else ""
            if not name or name in used:
                name = next(spare)
            used.add(name)
            symbol = sp.Symbol(name, integer=True)
            mapping[canonical_dummy(position)] = symbol
            limits.append((symbol, lo, hi))
        coeff, rest = sp.expand(summand.xreplace(mapping)).as_coeff_Mul()
        nested = rest
        for limit in limits:
            nested = sp.Sum(nested, limit)
        total += coeff * nested
    return total


def _name_slip(
    before: sp.Expr, after: sp.Expr, domain: Domain, cex: dict[str, Any], rules: tuple[Slip, ...], texts: str
) -> tuple[str, str] | None:
    """(slip name, detail) of the first rule whose candidate the later line provably equals."""
    sizes = {s.symbol: int(cex[str(s.symbol)]) for s in domain.sizes if str(s.symbol) in cex}
    b0 = prepare(before, dict(domain.definitions))
    a0 = prepare(after, dict(domain.definitions))
    values: dict[sp.Basic, sp.Expr] = {}

    def numeric(expr: sp.Expr) -> sp.Expr | None:
        try:
            concrete = expr.xreplace({k: sp.Integer(x) for k, x in sizes.items()}).doit()
            for atom in value_atoms(concrete) - set(values):
                given = lookup(cex, atom)
                values[atom] = sp.Rational(str(given)) if given is not None else sp.Rational(7, 3)
            v = concrete.xreplace(values).evalf(30)
        except Exception:
            return None
        return v if v.is_number and v.is_finite else None

    target = numeric(a0)
    if target is None:
        return None
    proofs = 0
    for rule in rules:
        if rule.name == "inverse-logdet" and "\\det" not in texts:
            continue  # only where a line uses the named log-det
        forms = [(before, after), (b0, a0)] if before != b0 else [(b0, a0)]
        candidates = [c for b, a in forms for c in itertools.islice(rule.candidates(b, a), MAX_CANDIDATES)]
        for candidate, detail in candidates:
            candidate = prepare(candidate, dict(domain.definitions))
            value = numeric(candidate)
            if value is None or abs(value - target) > sp.Float(1e-20) * max(1, abs(target)):
                continue
            proofs += 1
            if decide(a0, candidate, domain, accept_concrete=False).status == "equivalent":
                return rule.name, detail
            if proofs >= MAX_SLIP_PROOFS:
                return None
    return None


def decide_step(problem_id: str, before: sp.Expr, after: sp.Expr, texts: str = "") -> dict[str, Any]:
    r"""Decide one step ``before -> after`` (trusted callers; :func:`check_steps` sandboxes it).

    Returns the fields of a :class:`StepResult`: ``status``, ``method``, ``message``,
    ``difference``, ``slip``, ``counterexample``.
    """
    problem, reference = _setup(problem_id)
    b, a = _valued(before, problem, reference), _valued(after, problem, reference)
    if a.has(problem.target) or b.has(problem.target):
        return {"status": "undecided", "message": "the problem's quantity is used inside a formula"}
    domain = _domain(problem, a, b)
    verdict = decide(a, b, domain, accept_concrete=False)
    out: dict[str, Any] = {"method": verdict.method, "message": verdict.message}
    if verdict.status == "equivalent":
        out.update(status="valid", message="follows from the previous line")
        return out
    if verdict.status == "undecided":
        out.update(status="undecided")
        return out
    cex = dict(verdict.counterexample or {})
    minimums = {s.symbol: s.minimum for s in domain.sizes}
    completed: dict[str, str] = {}
    uppers = {sym.name: hi for sym, _, hi in problem.notation.index_ranges.values()}
    refused = recheck(b, a, cex, domain.definitions, minimums, _step_index(problem), completed, uppers)
    if refused is not None:
        out.update(
            status="undecided",
            message=f"a counterexample was found but refused on independent re-check: {refused}",
        )
        return out
    for key in ("answer", "reference"):
        cex.pop(key, None)
    found = verdict.counterexample or {}
    for key, value in completed.items():
        cex.setdefault(key, value)
    cex["this line"], cex["previous line"] = found.get("answer"), found.get("reference")
    raw_difference = prepare(a, dict(domain.definitions)) - prepare(b, dict(domain.definitions))
    try:
        difference = _pretty_difference(raw_difference)
    except Exception:  # presentation only: the verdict stands, the difference is shown as it is
        difference = raw_difference
    out.update(status="invalid", counterexample=cex, difference=latex(difference))
    adds = f"this line does not follow: it adds ${latex(difference)}$"
    out["message"] = adds
    forward = _forward(problem)
    t, big_t = _step_index(problem) or (sp.Symbol("t", integer=True), sp.Symbol("T"))
    if forward is not None:  # the lemma's own step index, whatever its assumptions
        t = next((s for s in forward.free_symbols if isinstance(s, sp.Symbol) and s.name == t.name), t)
    size = problem.domain.sizes[0].symbol
    try:
        slip = _name_slip(b, a, domain, cex, catalogue(forward, t, big_t, size), texts)
    except Exception:  # naming is a diagnosis on top of a confirmed verdict; never lose the verdict
        slip = None
    if slip is not None:
        out["slip"], detail = slip
        out["message"] = f"{adds}: {detail}"
    return out


def _forward(problem: Problem) -> sp.Expr | None:
    for q in problem.notation.named:
        if q.params == ("t",):
            return q.value
    return None


def _reaches(problem_id: str, last: sp.Expr) -> bool:
    problem, reference = _setup(problem_id)
    if last.has(problem.target):
        return False
    return decide(
        _valued(last, problem, reference), reference, problem.domain, accept_concrete=False
    ).status == ("equivalent")


Runner = Callable[..., Any]


def _direct(fn: Runner, *args: Any, **kwargs: Any) -> Any:
    kwargs.pop("timeout", None)
    kwargs.pop("memory_mb", None)
    try:
        return fn(*args, **kwargs)
    except DeriveError:
        raise
    except Exception as exc:  # as the sandbox reports it
        raise RuntimeError(f"{type(exc).__name__}: {exc}") from None


def _run(problem_id: str, text: str, runner: Runner, timeout: float, memory_mb: int) -> StepsResult:
    problem, _ = _setup(problem_id)
    limits = {"timeout": timeout, "memory_mb": memory_mb}
    try:
        chains: list[Chain] = runner(read_chains, text, problem.notation, **limits)
    except ParseError as err:
        return StepsResult(problem_id, (), message=err.one_line())
    except ResourceLimitError as err:
        return StepsResult(problem_id, (), message=f"reading the file hit its limit ({err.one_line()})")
    steps: list[StepResult] = []
    warnings: list[str] = list(problem.notes)
    main: tuple[Member, ...] = ()
    for chain in chains:
        if chain.skipped:
            warnings.append(chain.skipped)
            continue
        if chain.error is not None:
            steps.append(
                StepResult(
                    len(steps) + 1,
                    "parse-error",
                    chain.error_source,
                    "",
                    "",
                    message=chain.error.one_line(),
                    line=chain.error_line,
                )
            )
            continue
        members = chain.members
        if members and members[0].expr == problem.target:
            main = members
        for prev, cur in itertools.pairwise(members):
            if len(steps) >= MAX_STEPS:
                warnings.append(f"only the first {MAX_STEPS} steps were checked")
                break
            texts = prev.latex + " " + cur.latex
            base = StepResult(
                len(steps) + 1,
                "undecided",
                prev.latex,
                cur.latex,
                cur.justification,
                warnings=tuple(dict.fromkeys((prev.warnings if prev is members[0] else ()) + cur.warnings)),
                line=cur.line,
            )
            try:
                fields = runner(decide_step, problem_id, prev.expr, cur.expr, texts, **limits)
            except ResourceLimitError as err:
                fields = {"status": "timeout", "message": f"gave up: {err.one_line()}"}
            except RuntimeError as err:
                fields = {"status": "undecided", "message": f"could not decide: internal error ({err})"}
            steps.append(replace(base, **fields))
    reaches = False
    if len(main) > 1:
        try:
            reaches = bool(runner(_reaches, problem_id, main[-1].expr, **limits))
        except (ResourceLimitError, RuntimeError):
            reaches = False
    if not steps and not any(c.error for c in chains):
        return StepsResult(
            problem_id, (), warnings=tuple(warnings), message="no '=' chain with two members found"
        )
    return StepsResult(problem_id, tuple(steps), reaches, tuple(warnings))


def check_steps_unlimited(problem_id: str, text: str) -> StepsResult:
    """:func:`check_steps` without the sandbox (trusted input, tests, profiling)."""
    return _run(problem_id, text, _direct, STEP_TIMEOUT, STEP_MEMORY_MB)


def check_steps(
    problem_id: str, text: str, *, timeout: float = STEP_TIMEOUT, memory_mb: int = STEP_MEMORY_MB
) -> StepsResult:
    r"""Check every step of the derivation(s) in ``text`` for problem ``problem_id``.

    Each step (and the reading of the file) runs in a forked child with ``timeout`` seconds and
    ``memory_mb`` MiB. Raises :class:`~derive.errors.UnknownProblemError` for an unknown id.
    """
    _setup(problem_id)
    return _run(problem_id, text, run_limited, timeout, memory_mb)
