"""The text classifier: TF-IDF over character 1-3-grams and a linear model (logistic
regression), trained on the CPU. Also the plain baseline the benchmark compares with,
cross-validation / hold-out evaluation, and reading CSV or Excel files with any columns."""

import csv
import io
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from openpyxl import load_workbook

from .text import normalise


def build(kind="char13"):
    """An unfitted pipeline. ``char13``: the model used in production; ``baseline``: TF-IDF
    over single characters and scikit-learn's default logistic regression."""
    from sklearn.feature_extraction.text import TfidfVectorizer  # noqa: PLC0415 (scikit-learn takes seconds to import; only training and prediction need it)
    from sklearn.linear_model import LogisticRegression  # noqa: PLC0415 (as above)
    from sklearn.pipeline import Pipeline  # noqa: PLC0415 (as above)

    if kind == "baseline":
        return Pipeline(
            [
                ("tfidf", TfidfVectorizer(analyzer="char", ngram_range=(1, 1))),
                ("model", LogisticRegression(max_iter=1000)),
            ]
        )
    return Pipeline(
        [
            (
                "tfidf",
                TfidfVectorizer(
                    analyzer="char",
                    ngram_range=(1, 3),
                    sublinear_tf=True,
                    min_df=2,
                    max_features=300_000,
                    dtype=np.float32,
                ),
            ),
            ("model", LogisticRegression(C=20, max_iter=2000)),
        ]
    )


@dataclass
class Trained:
    pipeline: object
    labels: list
    seconds: float


def train(texts, labels, kind="char13") -> Trained:
    texts = [normalise(t) for t in texts]
    pipeline = build(kind)
    if len(texts) < 50:  # very small sets: keep n-grams seen once
        pipeline.set_params(tfidf__min_df=1)
    started = time.perf_counter()
    pipeline.fit(texts, labels)
    return Trained(pipeline, [str(c) for c in pipeline.classes_], time.perf_counter() - started)


def top_k(pipeline, text, k=3):
    """[(label, probability)] best first."""
    probabilities = pipeline.predict_proba([normalise(text)])[0]
    order = np.argsort(probabilities)[::-1][:k]
    return [(str(pipeline.classes_[i]), float(probabilities[i])) for i in order]


def scores(true, predicted, labels=None):
    """Accuracy, macro-F1, per-class precision/recall/F1/support and the confusion matrix."""
    from sklearn.metrics import (  # noqa: PLC0415 (scikit-learn takes seconds to import)
        accuracy_score,
        confusion_matrix,
        f1_score,
        precision_recall_fscore_support,
    )

    labels = labels or sorted(set(true) | set(predicted))
    precision, recall, f1, support = precision_recall_fscore_support(true, predicted, labels=labels, zero_division=0)
    return {
        "accuracy": float(accuracy_score(true, predicted)),
        "macro_f1": float(f1_score(true, predicted, labels=labels, average="macro", zero_division=0)),
        "per_class": {
            label: {"precision": float(p), "recall": float(r), "f1": float(f), "support": int(s)}
            for label, p, r, f, s in zip(labels, precision, recall, f1, support, strict=False)
        },
        "labels": list(labels),
        "confusion": confusion_matrix(true, predicted, labels=labels).tolist(),
    }


def evaluate(texts, labels, folds=None, holdout=None, kind="char13", seed=0):
    """Scores of out-of-sample predictions: stratified ``folds``-fold cross-validation, or a
    stratified hold-out of the given share."""
    from sklearn.model_selection import StratifiedKFold, train_test_split  # noqa: PLC0415 (scikit-learn takes seconds to import; only training and prediction need it)

    texts, labels = list(texts), [str(v) for v in labels]
    true, predicted = [], []
    if holdout:
        train_x, test_x, train_y, test_y = train_test_split(
            texts, labels, test_size=holdout, random_state=seed, stratify=labels
        )
        trained = train(train_x, train_y, kind)
        return scores(test_y, list(trained.pipeline.predict([normalise(t) for t in test_x])))
    splitter = StratifiedKFold(n_splits=folds or 5, shuffle=True, random_state=seed)
    for train_index, test_index in splitter.split(texts, labels):
        trained = train([texts[i] for i in train_index], [labels[i] for i in train_index], kind)
        predicted += list(trained.pipeline.predict([normalise(texts[i]) for i in test_index]))
        true += [labels[i] for i in test_index]
    return scores(true, predicted)


def format_report(result) -> str:
    """The evaluation as text; the last line is ``macro_f1=<value>``."""
    lines = [
        f"accuracy={result['accuracy']:.4f}",
        "",
        f"{'class':<16}{'precision':>10}{'recall':>10}{'f1':>10}{'support':>9}",
    ]
    for label, row in result["per_class"].items():
        lines.append(
            f"{label:<16}{row['precision']:>10.4f}{row['recall']:>10.4f}{row['f1']:>10.4f}{row['support']:>9d}"
        )
    lines += ["", "confusion matrix (rows: true, columns: predicted)", "\t" + "\t".join(result["labels"])]
    for label, row in zip(result["labels"], result["confusion"], strict=False):
        lines.append(label + "\t" + "\t".join(str(v) for v in row))
    lines.append(f"macro_f1={result['macro_f1']:.4f}")
    return "\n".join(lines)


class DataError(ValueError):
    pass


def read_table(path, text_column, label_column):
    """(texts, labels) from a CSV (UTF-8 or GB18030) or Excel file; rows with an empty text or
    label are skipped. Raises ``DataError`` with a readable message."""
    path = Path(path)
    if not path.exists():
        raise DataError(f"file not found: {path}")
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        sheet = load_workbook(path, read_only=True, data_only=True).active
        rows = sheet.iter_rows(values_only=True)
        header = [str(v).strip() if v is not None else "" for v in next(rows, [])]
        records = ({header[i]: v for i, v in enumerate(row) if i < len(header)} for row in rows)
    else:
        raw = path.read_bytes()
        for encoding in ("utf-8-sig", "gb18030"):
            try:
                content = raw.decode(encoding)
                break
            except UnicodeDecodeError:
                continue
        else:
            raise DataError("the file is neither UTF-8 nor GB18030 text")
        dialect = "excel-tab" if path.suffix.lower() in (".tsv", ".tab") else "excel"
        reader = csv.DictReader(io.StringIO(content), dialect=dialect)
        header = [h.strip() for h in (reader.fieldnames or [])]
        reader.fieldnames = header
        records = reader
    for column in (text_column, label_column):
        if column not in header:
            raise DataError(f"column {column!r} not in the file (columns: {', '.join(header)})")
    texts, labels = [], []
    for record in records:
        text, label = record.get(text_column), record.get(label_column)
        if text is None or label is None or not str(text).strip() or not str(label).strip():
            continue
        texts.append(str(text).strip())
        labels.append(str(label).strip())
    if len(set(labels)) < 2:
        raise DataError("the data needs at least two different labels")
    return texts, labels
