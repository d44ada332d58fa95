#!/usr/bin/env python
r"""Print the machine-checked proof of Q2: the log-determinant of batch normalisation.

    python scripts/derive_batchnorm.py                  # eval mode, general D, LaTeX
    python scripts/derive_batchnorm.py --affine --dim 3
    python scripts/derive_batchnorm.py --mode train --format text

A thin wrapper over derive.derivations.batchnorm (the same proofs as `derive prove batchnorm`).
"""

from __future__ import annotations

import argparse

from derive.derivations.batchnorm import batchnorm_eval_proof, batchnorm_train_proof
from derive.proof.render import FORMATS, render


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--dim", type=int, help="concrete dimension D (omit for the general proof)")
    p.add_argument("--mode", choices=("eval", "train"), default="eval", help="running or batch statistics")
    p.add_argument("--affine", action="store_true", help="with learned scale/shift (gamma, beta)")
    p.add_argument("--unbiased", action="store_true", help="--mode train: unbiased batch variance")
    p.add_argument(
        "--direction",
        choices=("normalizing", "generative"),
        default="normalizing",
        help="normalizing (x -> y, default) or generative (y -> x)",
    )
    p.add_argument("--format", choices=FORMATS, default="latex", help="output format (default latex)")
    p.add_argument("--standalone", action="store_true", help="latex: a complete document")
    a = p.parse_args()
    if a.mode == "eval":
        proof = batchnorm_eval_proof(a.dim, a.affine, a.direction)
    else:
        proof = batchnorm_train_proof(a.dim, None, a.unbiased)
    print(render(proof, a.format, standalone=a.standalone))


if __name__ == "__main__":
    main()
