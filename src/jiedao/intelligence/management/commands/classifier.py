"""``jiedao classifier train|evaluate|starter``: train or score the case text classifier on a
CSV or Excel file with any column names, or train the starter model shipped with the package."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from jiedao.intelligence import classifier, services


class Command(BaseCommand):
    help = "Train or evaluate the case text classifier on a CSV or Excel file (any column names)."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        for name in ("train", "evaluate"):
            p = sub.add_parser(name)
            p.add_argument("--data", required=True, help="CSV (UTF-8 or GB18030), TSV or .xlsx file")
            p.add_argument("--text-column", required=True)
            p.add_argument("--label-column", required=True)
            if name == "evaluate":
                group = p.add_mutually_exclusive_group()
                group.add_argument(
                    "--train", default=None, help="train on this file (same columns) and score on --data"
                )
                group.add_argument("--folds", type=int, default=None, help="k-fold cross-validation (default 5)")
                group.add_argument("--holdout", type=float, default=None, help="share held out, e.g. 0.2")
            else:
                p.add_argument("--no-activate", action="store_true", help="keep the current active version")
        p = sub.add_parser("starter", help="train the starter model from the messages shipped with the package")
        p.add_argument("--no-activate", action="store_true", help="keep the current active version")

    def handle(self, *args, action, **options):
        if action == "starter":
            self._report(services.train_starter(None, activate=not options.get("no_activate")))
            return
        data, text_column, label_column = options["data"], options["text_column"], options["label_column"]
        if action == "evaluate" and options.get("train"):
            self._evaluate_on(options["train"], data, text_column, label_column)
            return
        texts, labels = self._read(data, text_column, label_column)
        self.stdout.write(f"{len(texts)} rows, {len(set(labels))} labels")
        if action == "evaluate":
            holdout = options.get("holdout")
            if holdout is not None and not 0 < holdout < 1:
                raise CommandError("--holdout must be between 0 and 1")
            folds = options.get("folds") or (None if holdout else 5)
            if folds is not None and folds < 2:
                raise CommandError("--folds must be at least 2")
            try:
                result = classifier.evaluate(texts, labels, folds=folds, holdout=holdout)
            except ValueError as exc:
                raise CommandError(str(exc)) from None
            self.stdout.write(classifier.format_report(result))
            return
        version = services.new_version(None, source=Path(data).name)
        self._report(
            services.train_version(version.pk, texts=texts, labels=labels, activate=not options.get("no_activate"))
        )

    @staticmethod
    def _read(path, text_column, label_column, min_labels=2):
        try:
            return classifier.read_table(path, text_column, label_column, min_labels=min_labels)
        except classifier.DataError as exc:
            raise CommandError(str(exc)) from None

    def _evaluate_on(self, train_path, test_path, text_column, label_column):
        """Train on one file and score on another (same columns in both)."""
        train_texts, train_labels = self._read(train_path, text_column, label_column)
        test_texts, test_labels = self._read(test_path, text_column, label_column, min_labels=1)
        self.stdout.write(
            f"train: {len(train_texts)} rows, {len(set(train_labels))} labels; "
            f"test: {len(test_texts)} rows, {len(set(test_labels))} labels"
        )
        unseen = sorted(set(test_labels) - set(train_labels))
        if unseen:
            self.stdout.write(f"labels of the test file not in the training file: {', '.join(unseen)}")
        result = classifier.evaluate_on(train_texts, train_labels, test_texts, test_labels)
        self.stdout.write(classifier.format_report(result))

    def _report(self, version):
        if version.state != version.State.READY:
            raise CommandError(f"training failed: {version.error}")
        f1 = version.macro_f1
        self.stdout.write(
            f"version v{version.pk} trained on {version.samples} texts in {version.train_seconds}s, "
            f"{version.size_bytes} bytes, active={version.active}"
            + (f", hold-out macro_f1={f1:.4f}" if f1 is not None else "")
        )
