"""The classifier on real messages: training on one file and scoring on another, input that
is refused without touching the active model, the starter model shipped with the package,
the threshold chosen from a target precision, and what followed the automatic dispatches."""

import io
import re

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from jiedao.cases import services as case_services
from jiedao.cases.models import Category, Status
from jiedao.intelligence import classifier, selectors, services
from jiedao.intelligence.models import ModelVersion, Proposal

from .conftest import labelled, set_auto


def _write(path, rows, encoding="utf-8"):
    text = "text,label\n" + "".join(f"{t},{l}\n" for t, l in rows)
    path.write_bytes(text.encode(encoding))
    return path


def _rows(seed=1):
    texts, labels = labelled(seed=seed)
    return list(zip(texts, labels, strict=True))


def test_evaluate_trains_on_one_file_and_scores_on_another(db, tmp_path):
    train = _write(tmp_path / "train.csv", _rows(1))
    test = _write(tmp_path / "test.csv", _rows(2)[::3], encoding="gb18030")
    out = io.StringIO()
    call_command(
        "classifier", "evaluate", "--train", str(train), "--data", str(test),
        "--text-column", "text", "--label-column", "label", stdout=out,
    )  # fmt: skip
    lines = out.getvalue().strip().splitlines()
    assert lines[0] == "train: 120 rows, 4 labels; test: 40 rows, 4 labels"
    assert any(line.startswith("accuracy=") for line in lines)
    assert any(line.startswith("top3_accuracy=") for line in lines)
    assert lines[-1].startswith("macro_f1=") and float(lines[-1].split("=")[1]) > 0.9


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "train.csv is empty"),
        ("text,label\n路灯坏了,010102\n路灯不亮,010102\n".encode(), "has 1 label(s) in column 'label'"),
        ("内容,分类\n路灯坏了,010102\n".encode(), "column 'text' not in train.csv (columns: 内容, 分类)"),
        ("text,label\n路灯坏了,010102\n".encode("utf-16"), "unknown encoding"),
        (b"text,label\n\xff\xfe\xfa\xfb,1\n", "unknown encoding"),
    ],
)
def test_bad_training_files_are_refused_and_the_active_model_stays(trained, tmp_path, content, message):
    bad = tmp_path / "train.csv"
    bad.write_bytes(content)
    good = _write(tmp_path / "test.csv", _rows(2))
    versions = ModelVersion.objects.count()
    for command in (
        ["train", "--data", str(bad)],
        ["evaluate", "--data", str(bad)],
        ["evaluate", "--train", str(bad), "--data", str(good)],
    ):
        with pytest.raises(CommandError, match=re.escape(message)):
            call_command("classifier", *command, "--text-column", "text", "--label-column", "label")
    with pytest.raises(classifier.DataError, match=r"unknown encoding|is empty|label|column"):
        services.train_from_file(None, path=bad, text_column="text", label_column="label")
    assert ModelVersion.objects.count() == versions
    assert ModelVersion.objects.get(active=True).pk == trained.pk


def test_a_missing_column_in_the_test_file_is_named(trained, tmp_path):
    train = _write(tmp_path / "train.csv", _rows(1))
    test = tmp_path / "test.csv"
    test.write_text("text,类别\n路灯坏了,010102\n", encoding="utf-8")
    with pytest.raises(CommandError, match=re.escape("column 'label' not in test.csv")):
        call_command(
            "classifier", "evaluate", "--train", str(train), "--data", str(test),
            "--text-column", "text", "--label-column", "label",
        )  # fmt: skip


def test_the_starter_data_is_shipped_and_reproducible(tmp_path):
    texts, labels = classifier.starter_data()
    assert len(texts) == 5525
    assert set(labels) == {"城乡建设", "劳动和社会保障", "教育文体", "商贸旅游", "环境保护", "卫生计生", "交通运输"}
    # Written again from the shipped copy, the file is byte for byte the same.
    again = tmp_path / "again.csv.xz"
    classifier.write_starter_data(classifier.STARTER_DATA, again)
    assert again.read_bytes() == classifier.STARTER_DATA.read_bytes()


@pytest.fixture(scope="module")
def starter_model():
    """The starter model on a share of the shipped messages (a quicker fit than all of them)."""
    texts, labels = classifier.starter_data()
    return classifier.train(texts[::2], labels[::2])


@pytest.mark.parametrize(
    ("text", "label"),
    [
        ("扩建阳台占用公共绿地", "城乡建设"),
        ("小区门口的路灯坏了好几天了，晚上很黑", "城乡建设"),
        ("学校强制学生买教辅资料，乱收费", "教育文体"),
        ("工厂晚上偷排废气，味道刺鼻", "环境保护"),
        ("公司拖欠工资三个月，也不交社保", "劳动和社会保障"),
        ("医院挂号难，看病排队太久", "卫生计生"),
    ],
)
def test_the_starter_model_reads_real_phrasing(starter_model, text, label):
    assert classifier.top_k(starter_model.pipeline, text, 1)[0][0] == label


def test_the_starter_model_is_calibrated_on_held_out_folds(starter_model):
    cv = starter_model.cv
    assert cv["folds"] == 5 and cv["macro_f1"] > 0.85 and cv["top3_accuracy"] > 0.98
    # The precision curve rises with the confidence, and a target precision picks a threshold.
    precisions = [row[1] for row in starter_model.curve if row[3] >= 100]
    assert precisions[-1] > precisions[0]
    threshold = classifier.threshold_for(starter_model.curve, 0.98)
    assert threshold is not None and 0.5 < threshold < 1
    # A probability means what it says: of the held-out predictions at 0.9 or above, at least
    # 90 % were right.
    at_90 = next(row for row in starter_model.curve if row[0] == 0.9)
    assert at_90[1] >= 0.9


def test_threshold_for_a_target_precision():
    curve = [[0.5, 0.90, 1.0, 1000], [0.7, 0.95, 0.8, 800], [0.9, 0.981, 0.5, 500], [0.95, 0.99, 0.3, 300]]
    assert classifier.threshold_for(curve, 0.98) == 0.9
    assert classifier.threshold_for(curve, 0.95) == 0.7
    assert classifier.threshold_for(curve, 0.999) is None
    # A precision measured on too few predictions is not trusted.
    assert classifier.threshold_for([[0.5, 0.9, 1.0, 1000], [0.99, 1.0, 0.01, 10]], 0.98) is None
    # The precision must hold from the threshold up, not only at it.
    assert classifier.threshold_for([[0.5, 0.99, 1.0, 900], [0.7, 0.9, 0.5, 500], [0.9, 0.99, 0.1, 100]], 0.98) == 0.9


def test_starter_proposals_name_the_top_level_category_and_never_dispatch(street, tmp_path):
    version = services.new_version(None, source="starter")
    services.train_version(version.pk, texts=labelled()[0], labels=["城乡建设"] * 90 + ["民政"] * 30, level=1)
    set_auto(True, 0.5)
    case, _ = case_services.submit_case(
        street.users.operator, channel="12345", description="幸福里5号楼路灯不亮", grid_code=street.grids[0].code
    )
    proposal = Proposal.objects.get(case=case)
    assert proposal.category == Category.objects.get(code="01") and not proposal.auto
    assert case.status == Status.NEW and selectors.auto_threshold() is None
    suggestions = selectors.suggest("幸福里5号楼路灯不亮")
    assert suggestions[0].category.code == "01"


def test_the_dispatch_record_counts_kept_returned_and_reclassified(street, trained):
    """Six cases: one proposal below the threshold, five dispatched by the model; of those, one
    re-classified by the dispatcher after a return, one returned, three kept: precision 3/5."""
    set_auto(True, 0.5)
    text = "东湖小区3号楼门口垃圾堆积没人清运，已经好几天了"

    def submit(description=text):
        case, _ = case_services.submit_case(
            street.users.operator, channel="12345", description=description, grid_code=street.grids[0].code
        )
        return case

    cases = [submit() for _ in range(5)]
    assert all(c.status == Status.DISPATCHED for c in cases)
    set_auto(False)
    submit()  # proposed, not dispatched
    handler = street.users.handler_committee
    assert cases[0].unit == handler.unit
    case_services.return_case(handler, number=cases[0].number, reason="不属于本单位")
    case_services.return_case(handler, number=cases[1].number, reason="不属于本单位")
    case_services.classify(street.users.dispatcher, number=cases[1].number, category_code="010102")
    record = selectors.dispatch_record()
    assert (record.proposed, record.auto, record.kept, record.returned, record.reclassified) == (6, 5, 3, 1, 1)
    assert record.auto_share == 5 / 6 and record.precision == 3 / 5
    # Proposals outside the period are not counted.
    assert selectors.dispatch_record(start=timezone.now()).proposed == 0


def test_without_the_shipped_messages_the_starter_fails_with_the_reason(trained, tmp_path, monkeypatch):
    monkeypatch.setattr(classifier, "STARTER_DATA", tmp_path / "gone.csv.xz")
    monkeypatch.setattr(classifier.starter_data, "__defaults__", (tmp_path / "gone.csv.xz",))
    version = services.train_starter(None)
    assert version.state == ModelVersion.State.FAILED and "file not found" in version.error
    assert ModelVersion.objects.get(active=True).pk == trained.pk
