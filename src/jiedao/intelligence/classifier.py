"""The text classifier and everything that measures it.

The model (``TextModel``): TF-IDF over character 1–3-grams of the text, over jieba words and
word pairs, and over the characters of the title (the first clause of a message that has one),
joined and scored by a linear support vector machine; its scores become probabilities by a
softmax whose temperature is fitted on out-of-fold scores (k-fold cross-validation inside the
training data), so that a stated probability is the share of such proposals that are right.
The same out-of-fold predictions give the precision the model reaches above each
confidence, from which the automatic-dispatch threshold is chosen (``threshold_for``).

Also: the plain baselines the benchmark compares with, cross-validation / hold-out / two-file
evaluation, and reading CSV or Excel files with any columns. scikit-learn, SciPy and jieba are
imported when a model is trained or used (they take seconds to import)."""

import csv
import gzip
import io
import lzma
import math
import re
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from openpyxl import load_workbook

from .text import normalise

# The development file's messages had their punctuation and stop words removed; new
# messages have both. The model reads every text without punctuation, and its word features
# leave out the commonest function words, so both look alike to it.
_NOT_TEXT = re.compile(r"[^\w]+")
_TITLE_BREAK = re.compile(r"[\s\u3000\xa0]{2,}|[。！？!?\n]")
STOP_WORDS = frozenset(
    {
        "的",
        "了",
        "在",
        "是",
        "我",
        "我们",
        "你",
        "你们",
        "他",
        "他们",
        "她",
        "它",
        "有",
        "和",
        "与",
        "及",
        "就",
        "都",
        "也",
        "很",
        "到",
        "说",
        "要",
        "去",
        "会",
        "着",
        "没",
        "没有",
        "看",
        "这",
        "那",
        "这个",
        "那个",
        "吗",
        "呢",
        "吧",
        "啊",
        "呀",
        "把",
        "被",
        "让",
        "给",
        "对",
        "从",
        "而",
        "但",
        "但是",
        "并",
        "又",
        "还",
        "已",
        "已经",
        "将",
        "于",
        "为",
        "以",
        "之",
        "其",
        "等",
        "请",
        "您",
        "您好",
        "你好",
    }
)
DEFAULT_KIND = "svm"
FOLDS = 5
# Threads that fit the calibration folds (the targets are set for 2 cores).
TRAIN_JOBS = 2
# A threshold is only trusted when at least this many held-out predictions reach it.
MIN_SUPPORT = 30
# Confidence grid of the precision curve stored with a model version.
CURVE_STEPS = [round(0.3 + i * 0.01, 2) for i in range(65)] + [round(0.95 + i * 0.0025, 4) for i in range(20)]


def model_text(text) -> str:
    """What every model reads: normalised (no whitespace, digits as 0, lower case), no punctuation."""
    return _NOT_TEXT.sub("", normalise(str(text or "").replace("_x000D_", " ")))


def title_of(text) -> str:
    """The title of a message that starts with one (a first clause of at most 60 characters
    followed by a break: two spaces, a full stop, a new line), read as ``model_text``; else ""."""
    parts = [p for p in _TITLE_BREAK.split(str(text or "").replace("_x000D_", " ").strip()) if p.strip()]
    return model_text(parts[0]) if len(parts) > 1 and len(parts[0].strip()) <= 60 else ""


def words(text) -> list[str]:
    """jieba's words of a model text, without the commonest function words."""
    import jieba  # noqa: PLC0415 (loads its dictionary: only training and prediction need it)

    if not jieba.dt.initialized:
        jieba.setLogLevel(60)  # no "Building prefix dict…" lines in the server's log
    return [w for w in jieba.lcut(text) if w.strip() and w not in STOP_WORDS]


def _text_part(items):
    return [item[0] for item in items]


def _title_part(items):
    # A mark in front, so that the title features have a vocabulary when no text has a title.
    return ["^" + item[1] for item in items]


def _features(kind):
    """An unfitted feature pipeline over (model text, title) pairs."""
    from sklearn.feature_extraction.text import TfidfVectorizer  # noqa: PLC0415 (scikit-learn takes seconds to import; only training and prediction need it)
    from sklearn.pipeline import FeatureUnion, make_pipeline  # noqa: PLC0415 (as above)
    from sklearn.preprocessing import FunctionTransformer, Normalizer  # noqa: PLC0415 (as above)

    def tfidf(**options):
        return TfidfVectorizer(sublinear_tf=True, min_df=2, dtype=np.float32, **options)

    text = FunctionTransformer(_text_part)
    title = FunctionTransformer(_title_part)
    parts = [
        ("chars", make_pipeline(text, tfidf(analyzer="char", ngram_range=(1, 3), max_features=300_000))),
        (
            "words",
            make_pipeline(text, tfidf(tokenizer=words, ngram_range=(1, 2), token_pattern=None, lowercase=False)),
        ),
        ("title", make_pipeline(title, tfidf(analyzer="char", ngram_range=(1, 3)))),
    ]
    return make_pipeline(FeatureUnion(parts), Normalizer())


def _estimator(kind):
    from sklearn.linear_model import LogisticRegression  # noqa: PLC0415 (scikit-learn takes seconds to import)
    from sklearn.svm import LinearSVC  # noqa: PLC0415 (as above)

    if kind == "char13":  # the model before the word and title features: kept for comparison
        return LogisticRegression(C=20, max_iter=2000)
    if kind == "baseline":
        return LogisticRegression(max_iter=1000)
    return LinearSVC(C=SVM_C)


SVM_C = 2.0


class TextModel:
    """A fitted classifier: features, a linear estimator and the softmax temperature that turns
    its scores into calibrated probabilities. Takes raw texts."""

    def __init__(self, kind, features, estimator, temperature=1.0):
        self.kind = kind
        self.features = features
        self.estimator = estimator
        self.temperature = temperature
        self.classes_ = estimator.classes_

    def decision(self, texts):
        return _scores(self.estimator, self.features.transform(_prepare(texts, self.kind)))

    def predict_proba(self, texts):
        return softmax(self.decision(texts), self.temperature)

    def predict(self, texts):
        return self.classes_[np.argmax(self.decision(texts), axis=1)]


def _scores(estimator, matrix):
    """Scores per class (n × classes), also for two classes (where linear models give one column)."""
    if hasattr(estimator, "predict_proba") and not hasattr(estimator, "decision_function"):
        return np.log(np.clip(estimator.predict_proba(matrix), 1e-12, None))
    scores = estimator.decision_function(matrix)
    if scores.ndim == 1:
        scores = np.column_stack([-scores / 2, scores / 2])
    return scores


def softmax(scores, temperature=1.0):
    z = np.asarray(scores, dtype=np.float64) / max(temperature, 1e-6)
    z -= z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def fit_temperature(scores, true_index) -> float:
    """The softmax temperature that minimises the log loss of held-out scores."""
    from scipy.optimize import minimize_scalar  # noqa: PLC0415 (SciPy takes a second to import)

    scores = np.asarray(scores, dtype=np.float64)
    rows = np.arange(len(true_index))

    def loss(log_t):
        p = softmax(scores, math.exp(log_t))
        return -np.mean(np.log(np.clip(p[rows, true_index], 1e-12, None)))

    return float(math.exp(minimize_scalar(loss, bounds=(-7.0, 4.0), method="bounded").x))


def _prepare(texts, kind):
    if kind in ("char13", "baseline"):
        return [normalise(t) for t in texts]
    return [(model_text(t), title_of(t)) for t in texts]


def _build_features(kind):
    if kind in ("char13", "baseline"):
        from sklearn.feature_extraction.text import TfidfVectorizer  # noqa: PLC0415 (scikit-learn takes seconds to import)

        if kind == "baseline":
            return TfidfVectorizer(analyzer="char", ngram_range=(1, 1))
        return TfidfVectorizer(
            analyzer="char", ngram_range=(1, 3), sublinear_tf=True, min_df=2, max_features=300_000, dtype=np.float32
        )
    return _features(kind)


@dataclass
class Trained:
    pipeline: TextModel
    labels: list
    seconds: float
    # Out-of-fold scores (``scores()`` plus ``top3_accuracy``), the temperature and the precision
    # curve, when the model was calibrated.
    cv: dict = field(default_factory=dict)
    curve: list = field(default_factory=list)


def _fit(kind, inputs, labels, small):
    features = _build_features(kind)
    if small and hasattr(features, "set_params"):
        _keep_rare_ngrams(features)
    matrix = features.fit_transform(inputs)
    estimator = _estimator(kind).fit(matrix, labels)
    return features, estimator, matrix


def _keep_rare_ngrams(features):
    """Very small sets: keep n-grams seen once."""
    for name, _value in features.get_params().items():
        if name.endswith("min_df"):
            features.set_params(**{name: 1})


def train(texts, labels, kind=DEFAULT_KIND, calibrate=True, folds=FOLDS, seed=0) -> Trained:
    """Fit the model on all texts. With ``calibrate`` (and at least two texts of every label),
    first score every text by a model that did not see it (stratified ``folds``-fold
    cross-validation; the features' vocabulary is fitted once on all texts), fit the softmax
    temperature on those scores, and keep their figures and precision curve."""
    from sklearn.model_selection import StratifiedKFold  # noqa: PLC0415 (scikit-learn takes seconds to import)

    started = time.perf_counter()
    labels = np.asarray([str(v) for v in labels])
    inputs = _prepare(texts, kind)
    small = len(inputs) < 50
    features, estimator, matrix = _fit(kind, inputs, labels, small)
    classes = estimator.classes_
    counts = {c: int((labels == c).sum()) for c in classes}
    k = min(folds, min(counts.values()))
    temperature, cv, curve = 1.0, {}, []
    if calibrate and k >= 2 and len(classes) >= 2:
        from joblib import Parallel, delayed  # noqa: PLC0415 (imported with scikit-learn, only for training)

        def fold(train_index, test_index):
            part = _estimator(kind).fit(matrix[train_index], labels[train_index])
            return test_index, part.classes_, _scores(part, matrix[test_index])

        # liblinear releases the GIL: the folds run on ``TRAIN_JOBS`` threads.
        splits = StratifiedKFold(k, shuffle=True, random_state=seed).split(matrix, labels)
        oof = np.zeros((len(labels), len(classes)))
        for test_index, part_classes, part_scores in Parallel(n_jobs=TRAIN_JOBS, prefer="threads")(
            delayed(fold)(train_index, test_index) for train_index, test_index in splits
        ):
            oof[np.ix_(test_index, np.searchsorted(classes, part_classes))] = part_scores
        true_index = np.searchsorted(classes, labels)
        temperature = fit_temperature(oof, true_index)
        probabilities = softmax(oof, temperature)
        predicted = classes[probabilities.argmax(axis=1)]
        cv = scores(list(labels), list(predicted), list(classes))
        cv["top3_accuracy"] = top_k_accuracy(probabilities, true_index, 3)
        cv["folds"] = k
        cv["temperature"] = round(temperature, 4)
        curve = precision_curve(probabilities.max(axis=1), predicted == labels)
    model = TextModel(kind, features, estimator, temperature)
    return Trained(model, [str(c) for c in classes], time.perf_counter() - started, cv, curve)


def top_k_accuracy(scores_or_probabilities, true_index, k=3) -> float:
    order = np.argsort(-np.asarray(scores_or_probabilities), axis=1)[:, :k]
    return float((order == np.asarray(true_index)[:, None]).any(axis=1).mean())


def precision_curve(confidence, correct) -> list:
    """[[threshold, precision, share]]: of the held-out predictions whose confidence reaches the
    threshold, the share that was right, and their share of all predictions (rounded)."""
    confidence, correct = np.asarray(confidence), np.asarray(correct, dtype=bool)
    curve = []
    for step in CURVE_STEPS:
        above = confidence >= step
        n = int(above.sum())
        if n == 0:
            break
        curve.append([step, round(float(correct[above].mean()), 4), round(n / len(confidence), 4), n])
    return curve


def threshold_for(curve, target, min_support=MIN_SUPPORT):
    """The lowest confidence from which the held-out precision stays at or above ``target``
    (with at least ``min_support`` predictions above it), or None when none does."""
    chosen = None
    for threshold, precision, _share, n in reversed(curve or []):
        if n < min_support:
            continue
        if precision + 1e-9 >= target:
            chosen = threshold
        else:
            break
    return chosen


def top_k(pipeline, text, k=3):
    """[(label, probability)] best first."""
    if isinstance(pipeline, TextModel):
        probabilities = pipeline.predict_proba([text])[0]
    else:  # a version saved before TextModel: a scikit-learn pipeline over normalised text
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


def _scored(trained, test_texts, test_labels, into=None):
    """Predictions and the ranked scores of a trained model on texts (appended to ``into``)."""
    model = trained.pipeline
    decision = model.decision(list(test_texts))
    predicted = list(model.classes_[decision.argmax(axis=1)])
    classes = list(model.classes_)
    hits = [
        label in [classes[j] for j in np.argsort(-row)[:3]] for row, label in zip(decision, test_labels, strict=True)
    ]
    if into is not None:
        into["true"] += list(test_labels)
        into["predicted"] += predicted
        into["top3"] += hits
    return predicted, hits


def _with_top3(result, hits):
    result["top3_accuracy"] = float(np.mean(hits)) if hits else 0.0
    return result


def evaluate(texts, labels, folds=None, holdout=None, kind=DEFAULT_KIND, seed=0):
    """Scores of out-of-sample predictions: stratified ``folds``-fold cross-validation, or a
    stratified hold-out of the given share. Each fold fits the whole model (features too) on
    its training part; calibration is left out (it does not change which class is first)."""
    from sklearn.model_selection import StratifiedKFold, train_test_split  # noqa: PLC0415 (scikit-learn takes seconds to import; only training and prediction need it)

    texts, labels = list(texts), [str(v) for v in labels]
    if holdout:
        train_x, test_x, train_y, test_y = train_test_split(
            texts, labels, test_size=holdout, random_state=seed, stratify=labels
        )
        return evaluate_on(train_x, train_y, test_x, test_y, kind)
    collected = {"true": [], "predicted": [], "top3": []}
    splitter = StratifiedKFold(n_splits=folds or 5, shuffle=True, random_state=seed)
    for train_index, test_index in splitter.split(texts, labels):
        trained = train([texts[i] for i in train_index], [labels[i] for i in train_index], kind, calibrate=False)
        _scored(trained, [texts[i] for i in test_index], [labels[i] for i in test_index], collected)
    return _with_top3(scores(collected["true"], collected["predicted"]), collected["top3"])


def evaluate_on(train_texts, train_labels, test_texts, test_labels, kind=DEFAULT_KIND):
    """Train on one set and score on another."""
    trained = train(list(train_texts), [str(v) for v in train_labels], kind, calibrate=False)
    test_labels = [str(v) for v in test_labels]
    predicted, hits = _scored(trained, list(test_texts), test_labels)
    return _with_top3(scores(test_labels, predicted), hits)


def format_report(result) -> str:
    """The evaluation as text; the last line is ``macro_f1=<value>``."""
    lines = [f"accuracy={result['accuracy']:.4f}"]
    if "top3_accuracy" in result:
        lines.append(f"top3_accuracy={result['top3_accuracy']:.4f}")
    lines += ["", f"{'class':<16}{'precision':>10}{'recall':>10}{'f1':>10}{'support':>9}"]
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


def _decode(raw: bytes) -> str:
    """The text of a CSV/TSV file in UTF-8 (with or without BOM) or GB18030; anything else
    (UTF-16, binary data, another encoding) is refused."""
    if b"\x00" in raw:
        raise DataError(
            "unknown encoding: the file contains NUL bytes (UTF-16 or binary?); save it as UTF-8 or GB18030"
        )
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise DataError("unknown encoding: the file is neither UTF-8 nor GB18030 text")


def read_table(path, text_column, label_column, min_labels=2):
    """(texts, labels) from a CSV (UTF-8 or GB18030), TSV (either also compressed, .gz or .xz) or Excel file; rows with an empty text
    or label are skipped. Raises ``DataError`` with a message naming the problem: no such file,
    an unknown encoding, a column that is not there, no rows, fewer than ``min_labels`` labels."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"file not found: {path}")
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        try:
            sheet = load_workbook(path, read_only=True, data_only=True).active
        except Exception as exc:  # openpyxl raises several kinds for a file that is not a workbook
            raise DataError(f"{path.name} is not a readable Excel workbook ({exc.__class__.__name__})") from None
        rows = sheet.iter_rows(values_only=True)
        header = [str(v).strip() if v is not None else "" for v in next(rows, [])]
        records = ({header[i]: v for i, v in enumerate(row) if i < len(header)} for row in rows)
    else:
        raw = path.read_bytes()
        suffix = path.suffix.lower()
        if suffix in (".gz", ".xz"):
            try:
                raw = gzip.decompress(raw) if suffix == ".gz" else lzma.decompress(raw)
            except (OSError, EOFError, lzma.LZMAError):
                raise DataError(f"{path.name} is not a readable {suffix[1:]} file") from None
            suffix = Path(path.stem).suffix.lower()
        content = _decode(raw)
        if not content.strip():
            raise DataError(f"{path.name} is empty")
        dialect = "excel-tab" if suffix in (".tsv", ".tab") else "excel"
        reader = csv.DictReader(io.StringIO(content), dialect=dialect)
        header = [h.strip() for h in (reader.fieldnames or [])]
        reader.fieldnames = header
        records = reader
    for column in (text_column, label_column):
        if column not in header:
            raise DataError(f"column {column!r} not in {path.name} (columns: {', '.join(h for h in header if h)})")
    texts, labels = [], []
    for record in records:
        text, label = record.get(text_column), record.get(label_column)
        if text is None or label is None or not str(text).strip() or not str(label).strip():
            continue
        texts.append(str(text).strip())
        labels.append(str(label).strip())
    if not texts:
        raise DataError(f"{path.name} has no row with both a text and a label")
    if len(set(labels)) < min_labels:
        raise DataError(
            f"{path.name} has {len(set(labels))} label(s) in column {label_column!r}; at least {min_labels} are needed"
        )
    return texts, labels


# --- the starter model -------------------------------------------------------------------

# Real citizen messages with their top-level category (2020 泰迪杯 C题 附件2, the development
# share): the starter model's training data, shipped with the package (docs/intelligence.md).
STARTER_DATA = Path(__file__).parent / "data" / "starter_messages.csv.xz"
STARTER_TEXT, STARTER_LABEL = "留言详情", "一级标签"


def starter_data(path=STARTER_DATA):
    """(texts, labels) of the starter model's training data."""
    return read_table(path, STARTER_TEXT, STARTER_LABEL)


def write_starter_data(source, path=STARTER_DATA) -> int:
    """Copy a messages file (columns 留言详情, 一级标签) into the package as xz-compressed CSV
    (UTF-8, the export's ``_x000D_`` marks removed), byte for byte the same for the same source.
    Returns the number of rows."""
    texts, labels = read_table(source, STARTER_TEXT, STARTER_LABEL)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([STARTER_TEXT, STARTER_LABEL])
    for text, label in zip(texts, labels, strict=True):
        writer.writerow([re.sub(r"[ \t]*_x000D_[ \t]*", "", text).replace("\r", "").strip(), label])
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(lzma.compress(out.getvalue().encode("utf-8"), preset=9))
    return len(texts)
