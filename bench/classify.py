#!/usr/bin/env python3
"""Classifier benchmark: macro-F1, prediction time per text and training time on 10,000
messages, for the production model (TF-IDF over character 1-3-grams, logistic regression)
against a plain baseline (TF-IDF over single characters, default logistic regression)
trained and tested on the same split.

    .venv/bin/python bench/classify.py --data FILE --text-column C --label-column L
    .venv/bin/python bench/classify.py --demo-texts 10000      # generated demo texts (labelled as such)

Options: ``--train-size`` (messages to train on, default 7000; the rest, at most
``--test-size``, default 2000, is the test set; the split is stratified and seeded),
``--seed``, ``--json FILE``. The data file (CSV UTF-8/GB18030, TSV or .xlsx) is read and
never copied anywhere. Run on 2 cores: ``taskset -c 0,1`` in front of the command.
"""

import argparse
import json
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from jiedao.intelligence import classifier  # noqa: E402
from jiedao.intelligence.text import normalise  # noqa: E402


def demo_texts(n, seed):
    """(texts, labels) drawn from the demo street's templates; labels are the 2nd-level categories."""
    from jiedao.demo import places, texts

    rng = random.Random(seed)
    keys = list(texts.MIX)
    weights = [texts.MIX[k][0] for k in keys]
    estates = ["东湖小区", "西园小区", "幸福里", "光明家园", "和平里", "建设新村"]
    roads = ["建设路", "光明街", "和平巷", "朝阳北路", "幸福大街"]
    out_t, out_l = [], []
    for _ in range(n):
        mid, leaf = rng.choices(keys, weights)[0]
        template = rng.choice(texts.MIX[(mid, leaf)][2])
        estate = rng.choice(estates)
        fill = {
            "place": f"{estate}{rng.randint(1, 24)}号楼",
            "estate": estate,
            "road": rng.choice(roads),
            "spot": rng.choice(places.PUBLIC_PLACES),
            "n": rng.randint(2, 9),
            "days": rng.randint(2, 7),
            "leaf": leaf,
        }
        out_t.append(template.format(**fill))
        out_l.append(mid)
    return out_t, out_l


def timed_predictions(pipeline, texts):
    times = []
    for text in texts:
        started = time.perf_counter()
        pipeline.predict_proba([normalise(text)])
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data")
    parser.add_argument("--text-column")
    parser.add_argument("--label-column")
    parser.add_argument("--demo-texts", type=int, default=0)
    parser.add_argument("--train-size", type=int, default=7000)
    parser.add_argument("--test-size", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json")
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "jiedao.settings")
    if args.data:
        texts, labels = classifier.read_table(args.data, args.text_column, args.label_column)
        source = Path(args.data).name
    elif args.demo_texts:
        import django

        os.environ.setdefault("JIEDAO_DATA_DIR", tempfile.mkdtemp(prefix="jiedao-bench-"))
        django.setup()
        texts, labels = demo_texts(args.demo_texts, args.seed)
        source = f"demo templates ({args.demo_texts} generated texts, NOT real public data)"
    else:
        parser.error("give --data FILE --text-column C --label-column L, or --demo-texts N")

    from sklearn.model_selection import train_test_split

    train_size = min(args.train_size, int(len(texts) * 0.8))
    train_x, rest_x, train_y, rest_y = train_test_split(
        texts, labels, train_size=train_size, random_state=args.seed, stratify=labels
    )
    if len(rest_x) > args.test_size:
        rest_x, _x, rest_y, _y = train_test_split(
            rest_x, rest_y, train_size=args.test_size, random_state=args.seed, stratify=rest_y
        )
    rng = random.Random(args.seed)
    big = (
        [rng.randrange(len(texts)) for _ in range(10_000)]
        if len(texts) < 10_000
        else rng.sample(range(len(texts)), 10_000)
    )
    big_x, big_y = [texts[i] for i in big], [labels[i] for i in big]

    print(f"data: {source}: {len(texts)} texts, {len(set(labels))} labels; train {len(train_x)}, test {len(rest_x)}")
    print(f"cores available: {len(os.sched_getaffinity(0))}")
    results = {}
    for kind, name in (
        ("char13", "model (char 1-3-gram TF-IDF + logistic regression)"),
        ("baseline", "baseline (char TF-IDF + default logistic regression)"),
    ):
        trained = classifier.train(train_x, train_y, kind)
        predicted = list(trained.pipeline.predict([normalise(t) for t in rest_x]))
        scores = classifier.scores(rest_y, predicted)
        median_ms = timed_predictions(trained.pipeline, rest_x[:500])
        ten_k = classifier.train(big_x, big_y, kind).seconds
        results[kind] = {
            "macro_f1": scores["macro_f1"],
            "accuracy": scores["accuracy"],
            "predict_median_ms": median_ms,
            "train_10k_seconds": ten_k,
        }
        print(
            f"{name}\n  macro_f1={scores['macro_f1']:.4f}  accuracy={scores['accuracy']:.4f}  "
            f"predict_median_ms={median_ms:.2f}  train_10k_seconds={ten_k:.1f}"
        )
    ratio = results["char13"]["macro_f1"] / results["baseline"]["macro_f1"] if results["baseline"]["macro_f1"] else 0
    print(f"macro-F1 ratio model/baseline: {ratio:.3f}")
    print(
        "targets: macro_f1 >= 0.93 (real data, ~7,000 training messages), predict median <= 5 ms, "
        "training on 10,000 messages <= 60 s on 2 cores"
    )
    if args.json:
        Path(args.json).write_text(json.dumps({"source": source, **results}, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
