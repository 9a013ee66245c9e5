"""The ``mixlogit`` command line."""
from __future__ import annotations

import argparse
import sys


def demo(args=None) -> int:
    """Fit three classes to the bundled electricity data and print the summary."""
    import mixlogit as mx

    df = mx.datasets.electricity.load()
    model = mx.MixedMultinomialLogit.from_formula(
        "choice ~ pf + cl + loc + wk + tod + seas - 1", df, groups="chid", panel="id",
        k_classes=3)
    res = model.fit(n_starts=10, seed=0)
    print(res.summary())
    return 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="mixlogit", description="Latent-class logit models")
    sub = parser.add_subparsers(dest="command")
    sub.add_parser("demo", help="fit K=3 classes to the bundled electricity data")
    args = parser.parse_args(argv)
    if args.command in (None, "demo"):
        return demo(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
