r"""The ``derive`` command line: a thin layer over the library.

Exit codes are stable (scripts depend on them): ``prove`` — 0 every step verified, 1 a step did
not verify, 2 bad arguments; ``check`` — 0 equivalent, 1 not equivalent, 2 parse error / unknown
problem / bad arguments, 3 undecided or timeout.

Every subcommand is one ``add_parser`` block in :func:`_build_parser` (ending with
``set_defaults(handler=...)``) plus one handler ``_<name>(args) -> int``. Bad arguments print the
subcommand's usage and one ``derive: error: ...`` line, and exit 2.

>>> main(["prove", "batchnorm", "--format", "text", "-o", "/dev/null"])
0
>>> main(["prove", "nonsense"])
2
"""

from __future__ import annotations

import argparse
import atexit
import contextlib
import gc
import json
import os
import stat
import sys
import tempfile
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, NoReturn

from derive import __version__
from derive.errors import DeriveError, UsageError

__all__ = ["main"]

#: ``derive prove`` targets, each with its one-line description (shown by ``derive prove --help``).
PROVE_TARGETS: dict[str, str] = {
    "iaf": "Q1: log q(z_T|x) of an IAF stack (general: induction on T; --dim/--steps: concrete)",
    "iaf-stable": "Q1 with the numerically stable step z_t = sigma_t*z_{t-1} + (1 - sigma_t)*m_t",
    "iaf-inverse": "the normalizing direction eps = (z - mu)/sigma: the two log-dets cancel",
    "batchnorm": "Q2: log|det dy/dx| of batch normalisation (--mode eval|train, --affine, --direction)",
}

_PROVE_EPILOG = "targets:\n{targets}\n  LAYER        any flow layer in derive.layers.LAYERS (planar, affine-coupling, actnorm, conv1x1, ...): its claimed log-det at --dim D; without --dim, for every size where a general proof exists (planar, planar-reparametrized, radial, sylvester, affine-coupling, affine-coupling-glow, actnorm, conv1x1, conv1x1-lu), else at D = 2\n\nexit codes:\n  0  every step verified\n  1  a step did not verify (the failing step is named on stderr)\n  2  bad arguments"
_CHECK_EPILOG = """\
The answer may start with '-' (e.g. -\\frac12\\sum_i ...): it is not taken for an option.

exit codes:
  0  equivalent (proved for all sizes)
  1  not equivalent (with a counterexample confirmed at 100 digits)
  2  parse error, unknown problem or bad arguments
  3  undecided (with the numeric evidence) or timeout"""


class _ArgumentError(UsageError):
    """An argparse error, carrying the usage of the (sub)command it came from."""

    def __init__(self, message: str, usage: str) -> None:
        super().__init__(message)
        self.usage = usage


class _Parser(argparse.ArgumentParser):
    """argparse that raises instead of exiting, so :func:`main` formats every error the same way."""

    def error(self, message: str) -> NoReturn:
        raise _ArgumentError(message, self.format_usage())


def _formatter(prog: str) -> argparse.HelpFormatter:
    return argparse.RawDescriptionHelpFormatter(prog, max_help_position=30)


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid number: {text!r}") from None
    if not value > 0:  # also refuses nan
        raise argparse.ArgumentTypeError(f"must be a positive number of seconds, got {text!r}")
    return value


def _build_parser() -> argparse.ArgumentParser:
    p = _Parser(
        prog="derive",
        description="Machine-checked derivations for normalizing flows, and a sound LaTeX answer checker.",
        epilog="Run 'derive COMMAND --help' for a command's options and exit codes.",
        formatter_class=_formatter,
    )
    p.add_argument("--version", action="version", version=f"derive {__version__}")
    sub = p.add_subparsers(
        dest="command", required=True, metavar="COMMAND", parser_class=_Parser, help="one of:"
    )

    # derive prove -------------------------------------------------------------------------------
    targets = "\n".join(f"  {name:12s} {line}" for name, line in PROVE_TARGETS.items())
    pr = sub.add_parser(
        "prove",
        help="derive and print a machine-checked proof",
        description="Derive a result and print its proof; every step was checked by computer algebra.",
        epilog=_PROVE_EPILOG.format(targets=targets),
        formatter_class=_formatter,
    )
    pr.add_argument(
        "target", metavar="TARGET", help="what to prove (see below), or any layer of derive.layers.LAYERS"
    )
    pr.add_argument(
        "--dim", type=int, metavar="D", help="concrete dimension D (omit for the general, symbolic-D proof)"
    )
    pr.add_argument(
        "--steps", type=int, metavar="T", help="iaf, iaf-stable: concrete number of steps T (with --dim)"
    )
    pr.add_argument("--affine", action="store_true", help="batchnorm: with learned scale/shift (gamma, beta)")
    pr.add_argument(
        "--mode",
        choices=("eval", "train"),
        default="eval",
        help="batchnorm: running statistics as constants (eval, default) or the batch's own (train)",
    )
    pr.add_argument(
        "--batch", type=int, metavar="N", help="batchnorm --mode train: also check at batch size N (>= 2)"
    )
    pr.add_argument("--unbiased", action="store_true", help="batchnorm --mode train: unbiased batch variance")
    pr.add_argument(
        "--direction",
        choices=("normalizing", "generative"),
        default="normalizing",
        help="batchnorm: normalizing (x -> y, default) or generative (y -> x)",
    )
    pr.add_argument(
        "--format",
        choices=("latex", "markdown", "text", "json"),
        default="latex",
        help="output format (default latex); json: the steps, their rules and the axioms used",
    )
    pr.add_argument("--json", action="store_true", help="the same as --format json")
    pr.add_argument("--standalone", action="store_true", help="latex: a complete document pdflatex compiles")
    pr.add_argument(
        "-o",
        "--output",
        metavar="FILE",
        help="write to FILE (atomically; '-' is standard output) instead of standard output",
    )
    pr.set_defaults(handler=_prove)

    # derive check -------------------------------------------------------------------------------
    ck = sub.add_parser(
        "check",
        help="check a LaTeX answer against a problem's proved result",
        description="Decide whether a LaTeX answer equals a problem's proved reference, soundly.",
        epilog=_CHECK_EPILOG,
        formatter_class=_formatter,
    )
    ck.add_argument("problem", metavar="PROBLEM", help="problem id (see 'derive problems')")
    ck.add_argument(
        "answer", nargs="?", metavar="ANSWER", help="the LaTeX answer, or - to read standard input"
    )
    ck.add_argument("--file", metavar="F", help="read the answer from file F (UTF-8 text)")
    ck.add_argument(
        "--json", action="store_true", help="print the result as one JSON object (for every verdict)"
    )
    ck.add_argument(
        "--timeout",
        type=_positive_float,
        default=10.0,
        metavar="S",
        help="time limit of the check in seconds (default 10)",
    )
    ck.set_defaults(handler=_check)

    # derive check-steps -------------------------------------------------------------------------
    cs = sub.add_parser(
        "check-steps",
        help="check every step of a LaTeX derivation (which line is wrong, why, a counterexample)",
        description=(
            "Check each step E_(k-1) -> E_k of the derivation in FILE (.tex or .md display blocks) "
            "for a problem: valid (proved), invalid (with a counterexample), undecided."
        ),
        epilog=(
            "FILE may be - for standard input.\n\nexit codes:\n  0  every step valid\n"
            "  1  some step invalid\n  2  parse error, unknown problem or bad arguments\n"
            "  3  undecided (or a step hit its time limit)"
        ),
        formatter_class=_formatter,
    )
    cs.add_argument("problem", metavar="PROBLEM", help="problem id (see 'derive problems')")
    cs.add_argument("file", metavar="FILE", help="the derivation (.tex or .md), or - for standard input")
    cs.add_argument("--json", action="store_true", help="print the result as one JSON object")
    cs.add_argument(
        "--format",
        choices=("text", "latex"),
        default="text",
        help="text (default) or an annotated LaTeX document",
    )
    cs.add_argument(
        "--timeout",
        type=_positive_float,
        default=10.0,
        metavar="S",
        help="time limit of each step in seconds (default 10)",
    )
    cs.set_defaults(handler=_check_steps)

    # derive grade -------------------------------------------------------------------------------
    gr = sub.add_parser(
        "grade",
        help="grade a whole class: sandboxed, resumable, with platform grade files and an HTML report",
        description=(
            "Check every submission in INPUT (a directory of .tex/.md/.txt files, an id,answer CSV, "
            "or a PrairieLearn/Moodle/Canvas export) and append one JSON line per submission to "
            "REPORT; re-running skips what is already graded with the same sha256."
        ),
        epilog=(
            "default rubric (scores 0-1; manual = left blank for a grader; --rubric FILE.toml overrides\n"
            "keys of [answer] and [steps]):\n"
            "  answers: equivalent 1, not-equivalent 0, parse-error 0, undecided/timeout/resource-limit manual\n"
            "  --steps: valid and reaching the reference 1, right result with invalid steps 0.5,\n"
            "           valid steps but a wrong result 0.25, invalid and wrong 0, undecided/limits manual\n\n"
            "exit codes:\n  0  every submission is in the report\n"
            "  2  bad input or arguments\n  130  interrupted (re-run the same command to resume)"
        ),
        formatter_class=_formatter,
    )
    gr.add_argument("problem", metavar="PROBLEM", help="problem id (see 'derive problems')")
    gr.add_argument("input", metavar="INPUT", help="directory or CSV file of submissions")
    gr.add_argument(
        "--out", required=True, metavar="REPORT.jsonl", help="the report (appended to; resumable)"
    )
    gr.add_argument("--jobs", type=int, default=1, metavar="N", help="worker processes (default 1)")
    gr.add_argument(
        "--timeout",
        type=_positive_float,
        default=10.0,
        metavar="S",
        help="time limit per submission (default 10)",
    )
    gr.add_argument(
        "--memory", type=int, default=2048, metavar="MB", help="memory limit per submission (default 2048)"
    )
    gr.add_argument("--steps", action="store_true", help="submissions are derivations: check every step")
    gr.add_argument("--rubric", metavar="FILE", help="TOML rubric for the scores (default below)")
    gr.add_argument(
        "--format",
        choices=("dir", "csv", "prairielearn", "moodle", "canvas"),
        help="input format (default: detected from the header)",
    )
    gr.add_argument("--html", metavar="REPORT.html", help="also write a self-contained HTML report")
    gr.add_argument("--csv", metavar="GRADES.csv", help="also write the grades file the platform imports")
    gr.add_argument(
        "--assignment", default="", metavar="NAME", help="canvas: the gradebook column, e.g. 'PS2 (123)'"
    )
    gr.set_defaults(handler=_grade)

    # derive problems ----------------------------------------------------------------------------
    pb = sub.add_parser(
        "problems",
        help="list the problems 'derive check' knows",
        description="Print one line per problem 'derive check' knows: its id, then its title.",
        formatter_class=_formatter,
    )
    pb.set_defaults(handler=_problems)

    # derive verify ------------------------------------------------------------------------------
    vf = sub.add_parser(
        "verify",
        help="prove your own layer's claimed log-det from its SymPy map, or refute it",
        description="Run FILE.py (your own code) and, for every FlowLayer it defines (instances, or\n"
        "concrete subclasses built at each --dim), prove claimed_logdet() from forward(), or give a\n"
        "counterexample confirmed at 100 digits from the full Jacobian, or say why neither.",
        epilog="exit codes:\n  0  every claim proved\n  1  a claim refuted (with a counterexample)\n"
        "  2  bad input (unreadable file, no layer, an error in the file)\n  3  undecided or timeout",
        formatter_class=_formatter,
    )
    vf.add_argument("file", metavar="FILE.py", help="the file defining the layer(s)")
    vf.add_argument(
        "--dim", type=int, action="append", metavar="D", help="size for layer classes (repeatable; default 2)"
    )
    vf.add_argument("--json", action="store_true", help="print the report as one JSON object")
    vf.add_argument(
        "--timeout", type=_positive_float, default=60.0, metavar="S", help="wall-clock seconds (default 60)"
    )
    vf.add_argument("--seed", type=int, default=0, help="seed of the counterexample search (default 0)")
    vf.set_defaults(handler=_verify)
    return p


def _verify(args: argparse.Namespace) -> int:
    from derive.verify import verify_file

    report = verify_file(args.file, dims=tuple(args.dim or (2,)), seed=args.seed, timeout=args.timeout)
    print(json.dumps(report.to_dict(), indent=2, sort_keys=True) if args.json else report.summary())
    return report.exit_code


def _prove_layer(args: argparse.Namespace, render: Any) -> int:
    """``derive prove LAYER [--dim D]``: a registered layer's claimed log-det, proved from its model."""
    from derive.derivations.layer import layer_names, layer_proof

    if args.target not in layer_names():
        known = ", ".join((*PROVE_TARGETS, *(n for n in layer_names() if n not in PROVE_TARGETS)))
        raise UsageError(f"unknown target {args.target!r}; choose one of {known}")
    for flag in ("steps", "batch"):
        if getattr(args, flag) is not None:
            raise UsageError(f"--{flag} does not apply to the layer {args.target}")
    if args.affine or args.unbiased or args.mode != "eval" or args.direction != "normalizing":
        raise UsageError(
            f"--affine, --unbiased, --mode and --direction do not apply to the layer {args.target}"
        )
    if args.dim is not None and args.dim < 1:
        raise UsageError(f"--dim must be a positive integer, got {args.dim}")
    if args.json:
        args.format = "json"
    if args.standalone and args.format != "latex":
        raise UsageError("--standalone applies to --format latex only")
    proof = layer_proof(args.target, args.dim)  # no --dim: the general proof where one exists
    _emit(render(proof, args.format, standalone=args.standalone), args.output)
    return 0


def _prove(args: argparse.Namespace) -> int:
    from derive.proof.render import render

    target = args.target
    _check_output(args.output)  # before the work: an unusable -o fails fast
    if target not in PROVE_TARGETS:
        return _prove_layer(args, render)
    if target != "batchnorm":
        for flag in ("affine", "unbiased"):
            if getattr(args, flag):
                raise UsageError(f"--{flag} applies to batchnorm only")
        if args.mode != "eval" or args.batch is not None or args.direction != "normalizing":
            raise UsageError("--mode, --batch and --direction apply to batchnorm only")
    if target in ("batchnorm", "iaf-inverse") and args.steps is not None:
        raise UsageError(f"--steps does not apply to {target}")
    # One rule per option, with the same words as the derivations use.
    if args.dim is not None and args.dim < 1:
        raise UsageError(f"--dim must be a positive integer, got {args.dim}")
    if args.steps is not None and args.steps < 0:
        raise UsageError(f"--steps must be a non-negative integer, got {args.steps}")
    if args.batch is not None and args.batch < 2:
        raise UsageError(f"--batch must be an integer >= 2, got {args.batch}")

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
    if args.json:
        if args.format not in ("latex", "json"):
            raise UsageError("--json and --format are alternatives; give one")
        args.format = "json"
    if args.standalone and args.format != "latex":
        raise UsageError("--standalone applies to --format latex only")
    _emit(render(proof, args.format, standalone=args.standalone), args.output)
    return 0


def _check_output(output: str | None) -> None:
    """Refuse an unusable ``-o`` target before the work, with a one-line reason."""
    if output is None or output == "-":
        return
    if output == "":
        raise UsageError("argument -o/--output: expected a file name")
    path = Path(output)
    if path.is_dir():
        raise UsageError(f"cannot write {output}: is a directory")
    parent = path.parent
    if not parent.is_dir():
        raise UsageError(f"cannot write {output}: no such directory {str(parent)!r}")


def _umask_mode() -> int:
    """The mode ``open()`` would give a new file: 0o666 less the process umask."""
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


def _emit(text: str, output: str | None) -> None:
    """Write to stdout (no ``-o``, or ``-o -``), or atomically to a file.

    A failure never leaves a half-written file or a stray temporary one; the file gets the mode a
    plain ``open()`` would give it (an existing file keeps its own).
    """
    text = text if text.endswith("\n") else text + "\n"
    if output is None or output == "-":
        sys.stdout.write(text)
        return
    path = Path(output)
    try:
        existing = path.stat()
    except OSError:
        existing = None
    if existing is not None and not stat.S_ISREG(existing.st_mode):  # /dev/null, a FIFO, a terminal
        try:
            with path.open("w") as fh:
                fh.write(text)
        except OSError as err:
            raise UsageError(f"cannot write {output}: {err.strerror}") from None
        return
    mode = stat.S_IMODE(existing.st_mode) if existing is not None else _umask_mode()
    try:
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    except OSError as err:
        raise UsageError(f"cannot write {output}: {err.strerror}") from None
    try:
        with os.fdopen(fd, "w") as fh:
            fh.write(text)
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except OSError as err:
        Path(tmp).unlink(missing_ok=True)
        raise UsageError(f"cannot write {output}: {err.strerror}") from None
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _decode(data: bytes) -> str | None:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return None


def _read_answer(args: argparse.Namespace) -> str | None:
    """The answer text, or ``None`` when it is not UTF-8 text (reported as a parse error)."""
    if args.file is not None and args.answer is not None:
        raise UsageError("give the answer as an argument or with --file, not both")
    if args.file is not None:
        if args.file == "":
            raise UsageError("argument --file: expected a file name")
        try:
            return _decode(Path(args.file).read_bytes())
        except OSError as err:
            raise UsageError(f"cannot read {args.file}: {err.strerror}") from None
    if args.answer is None:
        raise UsageError("no answer: give it as an argument, with --file F, or - for standard input")
    if args.answer == "-":
        buffer = getattr(sys.stdin, "buffer", None)
        return _decode(buffer.read()) if buffer is not None else sys.stdin.read()
    try:
        args.answer.encode("utf-8")  # undecodable argv bytes arrive as lone surrogates
    except UnicodeEncodeError:
        return None
    return str(args.answer)


@contextlib.contextmanager
def _importing() -> Iterator[None]:
    """Imports without the cyclic garbage collector (SymPy's import builds ~10^6 objects and the
    collector would traverse them over and over: ~20 % of a one-shot start-up); its state is
    restored afterwards, so the check itself (and its sandboxed worker) runs with it as before."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _check(args: argparse.Namespace) -> int:
    with _importing():
        from derive.check import CheckResult, check_answer
        from derive.problems import get_problem

    get_problem(args.problem)  # an unknown id is a usage error, before reading any input
    answer = _read_answer(args)
    if answer is None:
        result = CheckResult(args.problem, "parse-error", "not UTF-8 text")
    else:
        result = check_answer(args.problem, answer, timeout=args.timeout)
    if args.json:
        print(json.dumps(result.to_dict(), indent=2, sort_keys=True))
    else:
        print(result.summary())
    return result.exit_code


def _check_steps(args: argparse.Namespace) -> int:
    from derive.check import check_steps
    from derive.problems import get_problem
    from derive.steps import render_latex, render_text

    get_problem(args.problem)  # an unknown id is a usage error, before reading any input
    if args.file == "-":
        buffer = getattr(sys.stdin, "buffer", None)
        text = _decode(buffer.read()) if buffer is not None else sys.stdin.read()
    else:
        try:
            text = _decode(Path(args.file).read_bytes())
        except OSError as err:
            raise UsageError(f"cannot read {args.file}: {err.strerror}") from None
    if text is None:
        raise UsageError(f"{args.file} is not UTF-8 text")
    result = check_steps(args.problem, text, timeout=args.timeout)
    if args.json:
        print(json.dumps(result.to_dict(), indent=2, sort_keys=True, ensure_ascii=False))
    elif args.format == "latex":
        print(render_latex(result), end="")
    else:
        print(render_text(result))
    return result.exit_code


def _grade(args: argparse.Namespace) -> int:
    from derive.grade import Rubric, grade
    from derive.problems import get_problem

    get_problem(args.problem)
    if args.jobs < 1:
        raise UsageError(f"--jobs must be a positive integer, got {args.jobs}")
    if args.memory < 64:
        raise UsageError(f"--memory must be at least 64 (MB), got {args.memory}")
    rubric = Rubric.load(args.rubric) if args.rubric else None
    run = grade(
        args.problem,
        args.input,
        args.out,
        jobs=args.jobs,
        timeout=args.timeout,
        memory_mb=args.memory,
        steps=args.steps,
        rubric=rubric,
        fmt=args.format,
        html=args.html,
        csv=args.csv,
        assignment=args.assignment,
    )
    for line in run.summary():
        print(line, file=sys.stderr)
    return 0


def _problems(args: argparse.Namespace) -> int:
    from derive.problems import PROBLEMS

    for problem in PROBLEMS:
        print(f"{problem.id:20s} {problem.title}")
    return 0


_CHECK_OPTIONS_WITH_VALUE = ("--file", "--timeout")


def _answers_after_double_dash(argv: list[str]) -> list[str]:
    r"""LaTeX answers often start with '-' (``-\frac12...``); argparse would take them for options.

    For ``check``, options go first, then the positionals together (argparse matches positionals
    in one chunk), and a token that starts with '-' but is not an option goes behind ``--`` as
    the answer. An option missing its value is passed on as it is, so argparse reports it.

    >>> _answers_after_double_dash(["check", "p", r"-\frac12", "--json"])
    ['check', '--json', 'p', '--', '-\\frac12']
    >>> _answers_after_double_dash(["check", "p", "x", "--timeout"])
    ['check', 'p', 'x', '--timeout']
    """
    if not argv or argv[0] != "check":
        return argv
    known = {"-h", "--help", "--json", *_CHECK_OPTIONS_WITH_VALUE}
    options: list[str] = []
    positionals: list[str] = []
    answers: list[str] = []
    dangling: list[str] = []  # an option that ends the line without its value
    tokens = argv[1:]
    i = 0
    while i < len(tokens):
        token = tokens[i]
        i += 1
        if token in _CHECK_OPTIONS_WITH_VALUE:
            if i < len(tokens):
                options += [token, tokens[i]]
                i += 1
            else:
                dangling.append(token)
        elif token == "--":
            continue
        elif token.split("=")[0] in known:
            options.append(token)
        elif token.startswith("-") and token != "-":
            answers.append(token)
        else:
            positionals.append(token)
    # Options first, then the positionals contiguously (argparse matches them in one chunk).
    return ["check", *options, *positionals, *dangling, *(["--", *answers] if answers else [])]


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; return the exit code (never raises for expected errors).

    Without ``argv`` this is the ``derive`` program: at exit (after this returns, once every
    other exit handler has run) the objects still alive are frozen out of the garbage
    collector's final passes, which otherwise take ~0.1-0.2 s of a one-shot ``derive check``.
    """
    if argv is None:
        atexit.register(gc.freeze)  # registered first, so it runs last among derive's handlers
    try:
        tokens = list(argv) if argv is not None else sys.argv[1:]
        try:
            args = _build_parser().parse_args(_answers_after_double_dash(tokens))
        except SystemExit as done:  # --help, --version
            return done.code if isinstance(done.code, int) else 0
        handler: Callable[[argparse.Namespace], int] = args.handler
        return handler(args)
    except _ArgumentError as err:
        sys.stderr.write(err.usage)
        print(f"derive: error: {err.one_line()}", file=sys.stderr)
        return err.exit_code
    except DeriveError as err:
        print(f"derive: error: {err.one_line()}", file=sys.stderr)
        return err.exit_code
    except KeyboardInterrupt:
        print("derive: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
