r"""The small immutable syntax tree between the grammar and SymPy.

Every node records ``pos`` and ``end``, the 0-based offsets of its first character and one past
its last in the text the user typed; they never take part in equality, so two spellings of the
same formula at different places compare equal (that is how named quantities are matched, see
``_rewrite``).

>>> Add((Num("1", pos=0), Neg(Name("x", pos=4), pos=2)), pos=0) == Add((Num("1"), Neg(Name("x"))))
True
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, fields, replace


@dataclass(frozen=True)
class Node:
    """Base of every node; ``pos`` and ``end`` are ignored by ``==`` and ``hash``."""

    pos: int = field(default=0, compare=False, kw_only=True)
    end: int = field(default=0, compare=False, kw_only=True)

    def children(self) -> tuple[Node, ...]:
        """The direct sub-nodes, left to right."""
        return ()


@dataclass(frozen=True)
class Num(Node):
    """A decimal literal exactly as written (``"2"``, ``"0.5"``)."""

    text: str


@dataclass(frozen=True)
class Name(Node):
    r"""A symbol in canonical spelling: ``"x"``, ``"\sigma"``, ``"\tilde{\sigma}"``."""

    name: str


@dataclass(frozen=True)
class Script(Node):
    r"""``base_{sub}^{sup}``; ``sub`` is the comma-separated index list (``\sigma_{t,i}``)."""

    base: Node
    sub: tuple[Node, ...] | None = None
    sup: Node | None = None

    def children(self) -> tuple[Node, ...]:
        return (self.base, *(self.sub or ()), *((self.sup,) if self.sup is not None else ()))


@dataclass(frozen=True)
class Add(Node):
    """An n-ary sum; subtracted terms are wrapped in :class:`Neg`."""

    terms: tuple[Node, ...]

    def children(self) -> tuple[Node, ...]:
        return self.terms


@dataclass(frozen=True)
class Neg(Node):
    """Unary minus."""

    arg: Node

    def children(self) -> tuple[Node, ...]:
        return (self.arg,)


@dataclass(frozen=True)
class Mul(Node):
    r"""An n-ary product (juxtaposition, ``\cdot``, ``\times`` or ``*``)."""

    factors: tuple[Node, ...]

    def children(self) -> tuple[Node, ...]:
        return self.factors


@dataclass(frozen=True)
class Div(Node):
    r"""``\frac{num}{den}`` or ``num / den``."""

    num: Node
    den: Node

    def children(self) -> tuple[Node, ...]:
        return (self.num, self.den)


@dataclass(frozen=True)
class Root(Node):
    r"""``\sqrt{arg}`` (``index`` None) or ``\sqrt[index]{arg}``."""

    arg: Node
    index: Node | None = None

    def children(self) -> tuple[Node, ...]:
        return (self.arg,) if self.index is None else (self.arg, self.index)


@dataclass(frozen=True)
class Abs(Node):
    r"""``|arg|`` or ``\left|arg\right|``."""

    arg: Node

    def children(self) -> tuple[Node, ...]:
        return (self.arg,)


@dataclass(frozen=True)
class Paren(Node):
    r"""A delimited group ``(x)``, ``[x]``, ``\{x\}`` (kept so the sum-extension rule can see it)."""

    arg: Node

    def children(self) -> tuple[Node, ...]:
        return (self.arg,)


@dataclass(frozen=True)
class ArgList(Node):
    """``(a, b)`` or ``(a | b)``: only meaningful as the arguments of a :class:`Call`."""

    items: tuple[Node, ...]
    given: Node | None = None

    def children(self) -> tuple[Node, ...]:
        return (*self.items, *((self.given,) if self.given is not None else ()))


@dataclass(frozen=True)
class Call(Node):
    r"""``q(\mathbf{z}_0|\mathbf{x})``: an application of a symbol that is not a known function."""

    func: Node
    args: ArgList

    def children(self) -> tuple[Node, ...]:
        return (self.func, self.args)


@dataclass(frozen=True)
class Func(Node):
    r"""A known function: ``\log``, ``\exp``, ``\det``, ... with optional ``\log_b`` / ``\log^k``."""

    name: str
    arg: Node
    base: Node | None = None
    power: Node | None = None

    def children(self) -> tuple[Node, ...]:
        extra = tuple(n for n in (self.base, self.power) if n is not None)
        return (self.arg, *extra)


@dataclass(frozen=True)
class BigOp(Node):
    r"""``\sum_{var=lower}^{upper} body`` or ``\prod`` (``lower``/``upper`` None: default range)."""

    kind: str
    var: str
    lower: Node | None
    upper: Node | None
    body: Node

    def children(self) -> tuple[Node, ...]:
        bounds = tuple(n for n in (self.lower, self.upper) if n is not None)
        return (*bounds, self.body)


@dataclass(frozen=True)
class Chain(Node):
    """``a = b = c``: the members of an equality chain (one member: a plain expression)."""

    members: tuple[Node, ...]

    def children(self) -> tuple[Node, ...]:
        return self.members


@dataclass(frozen=True)
class Quantity(Node):
    """A named quantity of the notation (by position), with its index parameters bound."""

    index: int
    bindings: tuple[tuple[str, Node], ...] = ()

    def children(self) -> tuple[Node, ...]:
        return tuple(node for _, node in self.bindings)


def _child_fields(cls: type) -> tuple[str, ...]:
    names = _CHILD_FIELDS.get(cls)
    if names is None:
        names = _CHILD_FIELDS[cls] = tuple(f.name for f in fields(cls) if f.name not in ("pos", "end"))
    return names


_CHILD_FIELDS: dict[type, tuple[str, ...]] = {}


def map_children(node: Node, fn: Callable[[Node], Node]) -> Node:
    """``node`` with ``fn`` applied to each direct sub-node (same positions; ``node`` if unchanged).

    >>> map_children(Neg(Name("x")), lambda n: Name("y"))
    Neg(pos=0, end=0, arg=Name(pos=0, end=0, name='y'))
    """
    changes: dict[str, object] = {}
    for name in _child_fields(type(node)):
        value = getattr(node, name)
        if isinstance(value, Node):
            new = fn(value)
            if new is not value:
                changes[name] = new
        elif isinstance(value, tuple) and value:
            items: tuple[object, ...]
            if isinstance(value[0], Node):
                items = tuple(fn(v) for v in value)
            elif isinstance(value[0], tuple):
                items = tuple((k, fn(v)) for k, v in value)
            else:
                continue
            if any(new is not old for new, old in zip(items, value, strict=True)):
                changes[name] = items
    return replace(node, **changes) if changes else node  # type: ignore[arg-type]


def walk(node: Node) -> Iterator[Node]:
    """Every node of the tree, pre-order, without recursion.

    >>> [type(n).__name__ for n in walk(Neg(Add((Num("1"), Name("x")))))]
    ['Neg', 'Add', 'Num', 'Name']
    """
    stack = [node]
    while stack:
        current = stack.pop()
        yield current
        stack.extend(reversed(current.children()))


def depth(node: Node) -> int:
    """The height of the tree (a leaf has depth 1), computed without recursion.

    >>> depth(Neg(Neg(Name("x"))))
    3
    """
    best = 0
    stack = [(node, 1)]
    while stack:
        current, level = stack.pop()
        best = max(best, level)
        stack.extend((child, level + 1) for child in current.children())
    return best
