r"""A griffe extension for the API reference: derive's docstrings are reST, the site is Markdown.

mkdocstrings renders docstrings as Markdown, so reST roles would show as literal text
(``:math:`\sigma``` printed as-is). Before rendering, this rewrites, in every docstring:

* ``:math:`X``` to ``\(X\)`` and ``.. math:: X`` (with its indented continuation lines, or its
  indented body) to a ``$$ … $$`` block — both picked up by ``pymdownx.arithmatex`` (MathJax);
* cross-reference roles (``:func:``, ``:class:``, ``:mod:``, ``:data:``, ``:meth:``, ``:attr:``,
  ``:exc:``, ``:obj:``) to inline code, a leading ``~`` dropped to the last name;
* ````literal```` (reST's inline literal) to Markdown's single-backtick code.

Wired in ``mkdocs.yml`` (``plugins.mkdocstrings.handlers.python.options.extensions``);
``tests/test_docs.py`` runs these doctests and checks the built API page has typeset maths and no
raw roles. Docs-only: the
package never imports it. Usage: a griffe extension (no command line).
"""

from __future__ import annotations

import re
from typing import Any

import griffe

_MATH_ROLE = re.compile(r":math:`([^`]+)`")
_XREF_ROLE = re.compile(r":(?:py:)?(?:func|class|mod|data|meth|attr|exc|obj|const):`~?([^`]+)`")
_LITERAL = re.compile(r"``([^`]+)``")
_DIRECTIVE = re.compile(r"^(?P<indent>[ \t]*)\.\. math::[ \t]*(?P<first>.*)$")


def _math_blocks(text: str) -> str:
    """``.. math::`` directives (inline first line and/or an indented body) to ``$$`` blocks."""
    lines, out, k = text.split("\n"), [], 0
    while k < len(lines):
        match = _DIRECTIVE.match(lines[k])
        if match is None:
            out.append(lines[k])
            k += 1
            continue
        indent = len(match["indent"])
        body = [match["first"].strip()] if match["first"].strip() else []
        k += 1
        while k < len(lines) and (not lines[k].strip() or len(lines[k]) - len(lines[k].lstrip()) > indent):
            body.append(lines[k].strip())
            k += 1
        while body and not body[-1]:
            body.pop()
        pad = " " * indent
        out += ["", f"{pad}$$", *(f"{pad}{line}" for line in body if line), f"{pad}$$", ""]
    return "\n".join(out)


def rst_to_markdown(text: str) -> str:
    r"""Rewrite the reST constructs derive's docstrings use into what the site's Markdown renders.

    >>> rst_to_markdown(r"the scale :math:`\sigma_{t,i}` of :func:`~derive.results.iaf_log_q`")
    'the scale \\(\\sigma_{t,i}\\) of `iaf_log_q`'
    >>> print(rst_to_markdown("so\n\n.. math:: a = b\n           + c\n\nend"))
    so
    <BLANKLINE>
    <BLANKLINE>
    $$
    a = b
    + c
    $$
    <BLANKLINE>
    end
    """
    text = _math_blocks(text)
    text = _MATH_ROLE.sub(lambda m: rf"\({m[1]}\)", text)
    text = _XREF_ROLE.sub(lambda m: f"`{m[1].rsplit('.', 1)[-1] if '`~' in m[0] else m[1]}`", text)
    return _LITERAL.sub(r"`\1`", text)


class RstRoles(griffe.Extension):
    """Rewrite each loaded object's docstring (see :func:`rst_to_markdown`)."""

    def on_instance(self, *, obj: griffe.Object, **kwargs: Any) -> None:
        if obj.docstring is not None:
            obj.docstring.value = rst_to_markdown(obj.docstring.value)
