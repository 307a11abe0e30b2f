"""Training, evaluation, versions and the command line."""

import csv
import io
import re

import pytest
from django.core.management import CommandError, call_command

from jiedao.intelligence import classifier, selectors, services
from jiedao.intelligence.models import ModelVersion

from .conftest import labelled


def test_evaluation_on_a_generated_set_scores_every_class():
    texts, labels = labelled()
    result = classifier.evaluate(texts, labels, folds=3)
    assert result["macro_f1"] > 0.9
    assert set(result["per_class"]) == {"010101", "010102", "010201", "020101"}
    assert sum(sum(row) for row in result["confusion"]) == len(texts)
    report = classifier.format_report(result)
    assert report.splitlines()[-1] == f"macro_f1={result['macro_f1']:.4f}"


def test_training_saves_a_versioned_file_with_scores_and_activates_it(trained):
    assert trained.state == ModelVersion.State.READY and trained.active
    assert trained.samples == 120 and trained.size_bytes > 0
    assert trained.scores["macro_f1"] > 0.9
    version, _pipeline = selectors.active_model()
    assert version.pk == trained.pk
    top = selectors.suggest("幸福里5号楼路灯不亮好几天了")
    assert top[0].category.code == "010102" and len(top) == 3
    assert top[0].probability > top[1].probability
    # The unit each category routes to (市政管理 → 综合执法队).
    assert top[0].unit.code == "ZHZF"


def test_switching_back_to_an_older_version(street, trained):
    texts, labels = labelled()
    two = [(t, l) for t, l in zip(texts, labels, strict=False) if l in ("010101", "020101")]
    version = ModelVersion.objects.create(source="two classes", requested_at=services.timezone.now())
    newer = services.train_version(version.pk, texts=[t for t, _ in two], labels=[l for _, l in two])
    assert newer.active and not ModelVersion.objects.get(pk=trained.pk).active
    assert {s.category.code for s in selectors.suggest("路灯不亮")} <= {"010101", "020101"}

    services.activate(street.users.admin, version_id=trained.pk)
    assert ModelVersion.objects.filter(active=True).get().pk == trained.pk
    assert selectors.suggest("幸福里5号楼路灯不亮")[0].category.code == "010102"


def test_only_admins_switch_versions(street, trained):
    from jiedao.common.errors import NotAllowed

    with pytest.raises(NotAllowed):
        services.activate(street.users.dispatcher, version_id=trained.pk)


def test_a_failed_training_is_recorded_and_changes_nothing(street, trained):
    version = ModelVersion.objects.create(source="empty", requested_at=services.timezone.now())
    failed = services.train_version(version.pk, texts=["只有一类"] * 10, labels=["010101"] * 10)
    assert failed.state == ModelVersion.State.FAILED and failed.error
    assert ModelVersion.objects.get(active=True).pk == trained.pk


def _csv(tmp_path, name="data.csv"):
    texts, labels = labelled()
    path = tmp_path / name
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["编号", "留言详情", "一级标签"])
        for i, (t, l) in enumerate(zip(texts, labels, strict=False)):
            writer.writerow([i, t, l])
    return path


def test_cli_evaluate_prints_scores_and_ends_with_macro_f1(db, tmp_path):
    out = io.StringIO()
    call_command(
        "classifier",
        "evaluate",
        "--data",
        str(_csv(tmp_path)),
        "--text-column",
        "留言详情",
        "--label-column",
        "一级标签",
        "--folds",
        "3",
        stdout=out,
    )
    lines = out.getvalue().strip().splitlines()
    assert lines[-1].startswith("macro_f1=") and float(lines[-1].split("=")[1]) > 0.9
    assert any(line.startswith("accuracy=") for line in lines)
    assert any("confusion matrix" in line for line in lines)

    out = io.StringIO()
    call_command(
        "classifier",
        "evaluate",
        "--data",
        str(_csv(tmp_path)),
        "--text-column",
        "留言详情",
        "--label-column",
        "一级标签",
        "--holdout",
        "0.25",
        stdout=out,
    )
    assert out.getvalue().strip().splitlines()[-1].startswith("macro_f1=")


def test_cli_train_creates_the_active_version_from_an_excel_file(db, tmp_path):
    from openpyxl import Workbook

    texts, labels = labelled()
    book = Workbook()
    sheet = book.active
    sheet.append(["text", "label"])
    for t, l in zip(texts, labels, strict=False):
        sheet.append([t, l])
    path = tmp_path / "data.xlsx"
    book.save(path)
    out = io.StringIO()
    call_command(
        "classifier", "train", "--data", str(path), "--text-column", "text", "--label-column", "label", stdout=out
    )
    version = ModelVersion.objects.get(active=True)
    assert version.source == "data.xlsx" and version.samples == len(texts)
    assert f"v{version.pk}" in out.getvalue()


def test_cli_refuses_an_unknown_column(db, tmp_path):
    with pytest.raises(CommandError, match=re.escape("column '内容' not in data.csv")):
        call_command(
            "classifier",
            "evaluate",
            "--data",
            str(_csv(tmp_path)),
            "--text-column",
            "内容",
            "--label-column",
            "一级标签",
        )
