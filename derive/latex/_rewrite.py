r"""Tree rewrites between parsing and building: the sum-extension rule and named quantities.

**Sum-extension rule.** In LaTeX a big operator's body formally ends at the next top-level
``+`` or ``-``, but students routinely write ``\sum_i a_i - b_i`` meaning
:math:`\sum_i (a_i - b_i)`. So when a term ends in a sum or product whose body is *not* one
parenthesised group, and its index letter still appears (free) in later terms of the same sum,
the body is read as extending through the *last* such term — terms in between included — and a
warning says so. If the index does not appear later, the body stops at the ``+``/``-`` as usual
(``\sum_i a_i + 1`` is :math:`(\sum_i a_i) + 1`). Nested operators are handled from the outside
in: ``\sum_i \sum_t x_{t,i} - y_t`` extends the outer sum (it contains the inner one) and then
the inner one.

**Named quantities.** Both trees are normalised (delimiters dropped, names canonical,
``\partial`` -> ``d``, ``|\det J|`` -> ``\det|J|``) and every subtree of the student's tree that
matches a quantity's pattern is replaced, top-down, by a :class:`~derive.latex._ast.Quantity`.
A parameter letter binds to whatever the student wrote in its place; a subscript that differs
structurally but contains parameters (pattern ``z_{t-1}`` versus ``z_t`` after ``t := t+1``) is
compared after substitution by the caller's ``same_index``.

>>> from derive.latex._parse import parse
>>> notes = []
>>> tree = extend_sums(parse(r"\sum_i a_i - b_i").members[0], r"\sum_i a_i - b_i", notes)
>>> type(tree).__name__, notes[0].split(";")[0]
('BigOp', "the sum over i was read as extending over '- b_i' (index i appears there)")
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import fields, replace

from derive.latex import _ast as A

SameIndex = Callable[[A.Node, A.Node], bool]


def mentions(node: A.Node, var: str) -> bool:
    """Whether the letter ``var`` occurs free in ``node`` (not re-bound by an inner sum)."""
    stack = [node]
    while stack:
        current = stack.pop()
        if isinstance(current, A.Name) and current.name == var:
            return True
        if isinstance(current, A.BigOp) and current.var == var:
            stack.extend(n for n in (current.lower, current.upper) if n is not None)
            continue
        stack.extend(current.children())
    return False


def _trailing(term: A.Node) -> A.BigOp | None:
    if isinstance(term, A.BigOp):
        return term
    if isinstance(term, A.Neg):
        return _trailing(term.arg)
    if isinstance(term, A.Mul) and isinstance(term.factors[-1], A.BigOp):
        return term.factors[-1]
    return None


def _swap_trailing(term: A.Node, new: A.BigOp) -> A.Node:
    if isinstance(term, A.BigOp):
        return new
    if isinstance(term, A.Neg):
        return replace(term, arg=_swap_trailing(term.arg, new), end=new.end)
    assert isinstance(term, A.Mul)
    return replace(term, factors=(*term.factors[:-1], new), end=new.end)


def _chain_vars(op: A.BigOp) -> list[str]:
    names: list[str] = []
    current: A.BigOp | None = op
    while current is not None and not isinstance(current.body, A.Paren):
        names.append(current.var)
        current = _trailing(current.body)
    return names


def _extend_add(add: A.Add, text: str, warnings: list[str]) -> A.Node:
    terms, out, k = add.terms, [], 0
    while k < len(terms):
        term, op = terms[k], _trailing(terms[k])
        names = _chain_vars(op) if op is not None else []
        later = terms[k + 1 :] if names else ()
        hits = [m for m, t in enumerate(later) if any(mentions(t, v) for v in names)]
        if op is not None and hits:
            absorbed = later[: hits[-1] + 1]
            var = next(v for v in names if any(mentions(t, v) for t in absorbed))
            body_terms = (*(op.body.terms if isinstance(op.body, A.Add) else (op.body,)), *absorbed)
            body = _extend_add(A.Add(body_terms, pos=op.body.pos, end=absorbed[-1].end), text, warnings)
            what = "sum" if op.kind == "sum" else "product"
            span = " ".join(text[absorbed[0].pos : absorbed[-1].end].split())
            warnings.append(
                f"the {what} over {var} was read as extending over '{span}' (index {var} appears there); "
                "add parentheses to make this explicit"
            )
            term = _swap_trailing(term, replace(op, body=body, end=body.end))
            k += len(absorbed)
        out.append(term)
        k += 1
    return out[0] if len(out) == 1 else A.Add(tuple(out), pos=add.pos, end=add.end)


def extend_sums(node: A.Node, text: str, warnings: list[str]) -> A.Node:
    """Apply the sum-extension rule everywhere in ``node`` (warnings appended)."""
    node = A.map_children(node, lambda child: extend_sums(child, text, warnings))
    return _extend_add(node, text, warnings) if isinstance(node, A.Add) else node


def normalise(node: A.Node, canonical: Callable[[str], str]) -> A.Node:
    r"""Drop delimiters, canonicalise names, ``\partial`` -> ``d``, ``|\det J|`` -> ``\det|J|``."""
    node = A.map_children(node, lambda child: normalise(child, canonical))
    if isinstance(node, A.Paren):
        return node.arg
    if isinstance(node, A.Name):
        name = canonical(node.name)
        return replace(node, name="d" if name == r"\partial" else name)
    if isinstance(node, A.Abs) and isinstance(node.arg, A.Func) and node.arg.name == "det":
        return replace(node.arg, arg=replace(node, arg=node.arg.arg))
    return node


def _params_in(node: A.Node, params: Sequence[str]) -> bool:
    return any(isinstance(n, A.Name) and n.name in params for n in A.walk(node))


def match(
    pattern: A.Node,
    node: A.Node,
    params: Sequence[str],
    bind: dict[str, A.Node],
    deferred: list[tuple[A.Node, A.Node]],
) -> bool:
    """Structural match of ``node`` against ``pattern``; binds parameters, defers index checks."""
    if isinstance(pattern, A.Name) and pattern.name in params:
        if pattern.name not in bind:
            bind[pattern.name] = node
        elif bind[pattern.name] != node:
            deferred.append((pattern, node))
        return True
    if type(pattern) is not type(node):
        return False
    if isinstance(pattern, A.Script) and isinstance(node, A.Script):
        if (pattern.sub is None) != (node.sub is None) or (pattern.sup is None) != (node.sup is None):
            return False
        if not match(pattern.base, node.base, params, bind, deferred):
            return False
        if pattern.sup is not None and not match(pattern.sup, node.sup, params, bind, deferred):  # type: ignore[arg-type]
            return False
        if pattern.sub is not None and node.sub is not None:
            if len(pattern.sub) != len(node.sub):
                return False
            for p_index, n_index in zip(pattern.sub, node.sub, strict=True):
                snapshot, count = dict(bind), len(deferred)
                if not match(p_index, n_index, params, bind, deferred):
                    bind.clear()
                    bind.update(snapshot)
                    del deferred[count:]
                    if not _params_in(p_index, params):
                        return False
                    deferred.append((p_index, n_index))
        return True
    for f in fields(pattern):
        if f.name in ("pos", "end"):
            continue
        p_value, n_value = getattr(pattern, f.name), getattr(node, f.name)
        if isinstance(p_value, A.Node) and isinstance(n_value, A.Node):
            if not match(p_value, n_value, params, bind, deferred):
                return False
        elif isinstance(p_value, tuple) and isinstance(n_value, tuple):
            if len(p_value) != len(n_value):
                return False
            for p_item, n_item in zip(p_value, n_value, strict=True):
                if not match(p_item, n_item, params, bind, deferred):
                    return False
        elif p_value != n_value:
            return False
    return True


def substitute(node: A.Node, bind: dict[str, A.Node]) -> A.Node:
    """``node`` with each parameter name replaced by its bound subtree."""
    if isinstance(node, A.Name) and node.name in bind:
        return A.Paren(bind[node.name], pos=node.pos, end=node.end)
    return A.map_children(node, lambda child: substitute(child, bind))


def replace_quantities(
    node: A.Node, patterns: Sequence[tuple[A.Node, tuple[str, ...]]], same_index: SameIndex
) -> A.Node:
    r"""Replace every subtree matching a pattern (first pattern wins, outermost first).

    A product pattern also matches a run of consecutive factors of a longer product (the longest
    run first, left to right): ``h'(a)`` inside ``h'(a)\sum_i u_i w_i``. Products are associative
    and the run keeps its place, so this reads nothing into the formula that is not there.
    """
    whole = _match_whole(node, patterns, same_index)
    if whole is not None:
        return whole
    if isinstance(node, A.Mul) and any(isinstance(p, A.Mul) for p, _ in patterns):
        node = _replace_runs(node, patterns, same_index)
    return A.map_children(node, lambda child: replace_quantities(child, patterns, same_index))


def _match_whole(
    node: A.Node, patterns: Sequence[tuple[A.Node, tuple[str, ...]]], same_index: SameIndex
) -> A.Quantity | None:
    for k, (pattern, params) in enumerate(patterns):
        bind: dict[str, A.Node] = {}
        deferred: list[tuple[A.Node, A.Node]] = []
        if not match(pattern, node, params, bind, deferred):
            continue
        if all(set(_names(p)) & set(params) <= set(bind) for p, _ in deferred) and all(
            same_index(substitute(p, bind), n) for p, n in deferred
        ):
            bindings = tuple((p, bind[p]) for p in params if p in bind)
            return A.Quantity(k, bindings, pos=node.pos, end=node.end)
    return None


def _replace_runs(
    node: A.Mul, patterns: Sequence[tuple[A.Node, tuple[str, ...]]], same_index: SameIndex
) -> A.Mul:
    factors, k = node.factors, 0
    out: list[A.Node] = []
    while k < len(factors):
        for n in range(len(factors) - k - (k == 0), 1, -1):  # the whole product was tried already
            run = factors[k : k + n]
            found = _match_whole(A.Mul(run, pos=run[0].pos, end=run[-1].end), patterns, same_index)
            if found is not None:
                out.append(found)
                k += n
                break
        else:
            out.append(factors[k])
            k += 1
    return node if len(out) == len(factors) else replace(node, factors=tuple(out))


def _names(node: A.Node) -> list[str]:
    return [n.name for n in A.walk(node) if isinstance(n, A.Name)]
