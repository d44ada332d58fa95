r"""The ``derive`` command line: a thin layer over the library.

Exit codes are stable (scripts depend on them): ``prove`` — 0 every step verified, 1 a step did
not verify, 2 bad arguments; ``check`` — 0 equivalent, 1 not equivalent, 2 parse error / unknown
problem / bad arguments, 3 undecided or timeout.

>>> main(["prove", "batchnorm", "--format", "text", "-o", "/dev/null"])
0
>>> main(["prove", "nonsense"])
2
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import NoReturn

from derive.errors import DeriveError, UsageError

__all__ = ["main"]

PROVE_TARGETS = ("iaf", "iaf-stable", "iaf-inverse", "batchnorm")


class _Parser(argparse.ArgumentParser):
    """argparse that raises instead of printing usage and exiting, so errors stay one line."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{self.prog}: {message}")


def _build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="derive", description="Machine-checked derivations for normalizing flows.")
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser)

    pr = sub.add_parser("prove", help="derive and print a machine-checked proof")
    pr.add_argument("target", choices=PROVE_TARGETS)
    pr.add_argument("--dim", type=int, help="concrete dimension D (omit for the general, symbolic-D proof)")
    pr.add_argument("--steps", type=int, help="concrete number of IAF steps T (with --dim)")
    pr.add_argument("--affine", action="store_true", help="batchnorm: with learned scale/shift (gamma, beta)")
    pr.add_argument(
        "--mode",
        choices=("eval", "train"),
        default="eval",
        help="batchnorm: statistics constant or of the batch",
    )
    pr.add_argument("--batch", type=int, help="batchnorm --mode train: also check at this batch size")
    pr.add_argument("--unbiased", action="store_true", help="batchnorm --mode train: unbiased batch variance")
    pr.add_argument(
        "--direction",
        choices=("normalizing", "generative"),
        default="normalizing",
        help="batchnorm: normalizing (x -> y) or generative (y -> x)",
    )
    pr.add_argument("--format", choices=("latex", "markdown", "text"), default="latex")
    pr.add_argument("--standalone", action="store_true", help="latex: a complete document pdflatex compiles")
    pr.add_argument("-o", "--output", help="write to FILE instead of standard output")

    ck = sub.add_parser("check", help="check a LaTeX answer against a problem's proved result")
    ck.add_argument("problem", help="problem id (see `derive problems`)")
    ck.add_argument("answer", nargs="?", help="the LaTeX answer, or - to read standard input")
    ck.add_argument("--file", help="read the answer from FILE")
    ck.add_argument("--json", action="store_true", help="print the result as JSON")
    ck.add_argument("--timeout", type=float, default=10.0, help="time limit in seconds (default 10)")

    sub.add_parser("problems", help="list the problems `derive check` knows")
    return p


def _prove(args: argparse.Namespace) -> int:
    from derive.proof.render import render

    target = args.target
    if target != "batchnorm":
        for flag in ("affine", "unbiased"):
            if getattr(args, flag):
                raise UsageError(f"--{flag} applies to batchnorm only")
        if args.mode != "eval" or args.batch is not None or args.direction != "normalizing":
            raise UsageError("--mode, --batch and --direction apply to batchnorm only")
    if target in ("batchnorm", "iaf-inverse") and args.steps is not None:
        raise UsageError(f"--steps does not apply to {target}")
    for name in ("dim", "steps", "batch"):
        value = getattr(args, name)
        if value is not None and value < (0 if name == "steps" else 1):
            raise UsageError(f"--{name} must be {'>= 0' if name == 'steps' else '>= 1'}, got {value}")

    if target in ("iaf", "iaf-stable"):
        from derive.derivations.iaf import iaf_concrete_proof, iaf_general_proof
        from derive.derivations.iaf_variants import iaf_stable_general_proof

        if (args.dim is None) != (args.steps is None):
            raise UsageError(f"{target}: give both --dim and --steps, or neither for the general proof")
        variant = "iaf" if target == "iaf" else "stable"
        if args.dim is None:
            proof = iaf_general_proof() if variant == "iaf" else iaf_stable_general_proof()
        else:
            proof = iaf_concrete_proof(args.dim, args.steps, variant)
    elif target == "iaf-inverse":
        from derive.derivations.iaf_variants import iaf_inverse_proof

        proof = iaf_inverse_proof(args.dim)
    else:
        from derive.derivations.batchnorm import batchnorm_eval_proof, batchnorm_train_proof

        if args.mode == "eval":
            if args.batch is not None or args.unbiased:
                raise UsageError("--batch and --unbiased apply to --mode train only")
            proof = batchnorm_eval_proof(args.dim, args.affine, args.direction)
        else:
            if args.affine or args.direction != "normalizing":
                raise UsageError("--mode train supports the normalizing direction without --affine")
            proof = batchnorm_train_proof(args.dim, args.batch, args.unbiased)
    if args.standalone and args.format != "latex":
        raise UsageError("--standalone applies to --format latex only")
    _emit(render(proof, args.format, standalone=args.standalone), args.output)
    return 0


def _emit(text: str, output: str | None) -> None:
    """Write to stdout, or atomically to a file (a failure never leaves a half-written file)."""
    if output is None:
        sys.stdout.write(text if text.endswith("\n") else text + "\n")
        return
    path = Path(output)
    if str(path) == os.devnull:
        path.write_text(text)
        return
    try:
        fd, tmp = tempfile.mkstemp(dir=path.parent if str(path.parent) else ".", prefix=f".{path.name}.")
    except OSError as err:
        raise UsageError(f"cannot write {output}: {err.strerror}") from None
    with os.fdopen(fd, "w") as fh:
        fh.write(text)
    os.replace(tmp, path)


def _read_answer(args: argparse.Namespace) -> str:
    if args.file is not None and args.answer is not None:
        raise UsageError("give the answer as an argument or with --file, not both")
    if args.file is not None:
        try:
            return Path(args.file).read_text()
        except OSError as err:
            raise UsageError(f"cannot read {args.file}: {err.strerror}") from None
        except UnicodeDecodeError:
            raise UsageError(f"{args.file} is not UTF-8 text") from None
    if args.answer is None:
        raise UsageError("no answer: give it as an argument, with --file F, or - for standard input")
    return sys.stdin.read() if args.answer == "-" else args.answer


def _check(args: argparse.Namespace) -> int:
    from derive.check import check_answer

    if not args.timeout > 0:
        raise UsageError(f"--timeout must be positive, got {args.timeout}")
    result = check_answer(args.problem, _read_answer(args), timeout=args.timeout)
    if args.json:
        print(json.dumps(result.to_dict(), indent=2, sort_keys=True))
    else:
        print(result.summary())
    return result.exit_code


def _problems() -> int:
    from derive.problems import PROBLEMS

    for problem in PROBLEMS:
        print(f"{problem.id:20s} {problem.title}")
    return 0


_CHECK_OPTIONS_WITH_VALUE = ("--file", "--timeout")


def _answers_after_double_dash(argv: list[str]) -> list[str]:
    r"""LaTeX answers often start with '-' (``-\frac12...``); argparse would take them for options.

    For ``check``, options go first, then the positionals together (argparse matches positionals
    in one chunk), and a token that starts with '-' but is not an option goes behind ``--`` as
    the answer.
    """
    if not argv or argv[0] != "check":
        return argv
    known = {"-h", "--help", "--json", *_CHECK_OPTIONS_WITH_VALUE}
    options: list[str] = []
    positionals: list[str] = []
    answers: list[str] = []
    rest = iter(argv[1:])
    for token in rest:
        if token in _CHECK_OPTIONS_WITH_VALUE:
            options += [token, next(rest, "")]
        elif token == "--":
            continue
        elif token.split("=")[0] in known:
            options.append(token)
        elif token.startswith("-") and token != "-":
            answers.append(token)
        else:
            positionals.append(token)
    # Options first, then the positionals contiguously (argparse matches them in one chunk).
    return ["check", *options, *positionals, *(["--", *answers] if answers else [])]


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; return the exit code (never raises for expected errors)."""
    try:
        tokens = list(argv) if argv is not None else sys.argv[1:]
        args = _build_parser().parse_args(_answers_after_double_dash(tokens))
        if args.command == "prove":
            return _prove(args)
        if args.command == "check":
            return _check(args)
        return _problems()
    except DeriveError as err:
        print(f"derive: error: {err.one_line()}", file=sys.stderr)
        return err.exit_code
    except KeyboardInterrupt:
        print("derive: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
