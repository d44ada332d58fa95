#!/usr/bin/env python
r"""Print the machine-checked proof of Q1: log q(z_T|x) for the last IAF iterate.

    python scripts/derive_iaf.py                      # general D, T (induction on T), LaTeX
    python scripts/derive_iaf.py --dim 4 --steps 2    # concrete sizes, from the layer models
    python scripts/derive_iaf.py --variant stable --format markdown

A thin wrapper over derive.derivations.iaf.iaf_concrete_proof / iaf_general_proof (the same
proofs as `derive prove iaf`).
"""

from __future__ import annotations

import argparse

from derive.derivations.iaf import iaf_concrete_proof, iaf_general_proof
from derive.derivations.iaf_variants import iaf_inverse_proof, iaf_stable_general_proof
from derive.proof.render import FORMATS, render


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--dim", type=int, help="concrete dimension D (omit for the general proof)")
    p.add_argument("--steps", type=int, help="concrete number of steps T (with --dim)")
    p.add_argument(
        "--variant", choices=("iaf", "stable", "inverse"), default="iaf", help="which IAF proof (default iaf)"
    )
    p.add_argument("--format", choices=FORMATS, default="latex", help="output format (default latex)")
    p.add_argument("--standalone", action="store_true", help="latex: a complete document")
    a = p.parse_args()
    if a.variant == "inverse":
        proof = iaf_inverse_proof(a.dim)
    elif a.dim is None:
        proof = iaf_general_proof() if a.variant == "iaf" else iaf_stable_general_proof()
    else:
        proof = iaf_concrete_proof(a.dim, a.steps if a.steps is not None else 1, a.variant)
    print(render(proof, a.format, standalone=a.standalone))


if __name__ == "__main__":
    main()
