"""Train the example shallow random forest on NSL-KDD KDDTrain+ and save it as rf.joblib.

    python examples/train_rf.py [--out examples/rf.joblib] [--trees 10] [--depth 8]
    python examples/train_rf.py --tree --depth 5 --out examples/dt.joblib   (one decision tree:
        the Arduino Uno example's model)

Data comes from the NSL-KDD loader: a folder in $TINYCODEGEN_DATA, the per-user cache, or a
verified download. The three categorical columns are integer codes from the loader's fixed
vocabulary, so the C takes the same 41 floats.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import joblib
from sklearn.ensemble import RandomForestClassifier
from sklearn.tree import DecisionTreeClassifier

from tinycodegen.datasets import nsl_kdd


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=str(Path(__file__).with_name("rf.joblib")))
    ap.add_argument("--trees", type=int, default=10)
    ap.add_argument("--depth", type=int, default=8, help="0 for unbounded")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--tree", action="store_true", help="one DecisionTreeClassifier instead")
    args = ap.parse_args()
    t0 = time.perf_counter()
    train = nsl_kdd.load("train")
    print(f"loaded KDDTrain+: {train.X.shape[0]} rows ({time.perf_counter() - t0:.1f}s)")
    if args.tree:
        model = DecisionTreeClassifier(max_depth=args.depth or None, random_state=args.seed)
    else:
        model = RandomForestClassifier(
            n_estimators=args.trees, max_depth=args.depth or None, random_state=args.seed,
            n_jobs=1,
        )
    model.fit(train.X, train.y)
    test = nsl_kdd.load("test")
    acc = (model.predict(test.X) == test.y).mean()
    joblib.dump(model, args.out)
    what = "1 decision tree" if args.tree else f"{args.trees} trees"
    print(f"trained {what}, depth {args.depth or 'unbounded'}: KDDTest+ accuracy "
          f"{acc:.4f}; saved {args.out} ({time.perf_counter() - t0:.1f}s)")


if __name__ == "__main__":
    main()
