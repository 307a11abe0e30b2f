"""``jiedao classifier train|evaluate --data FILE --text-column C --label-column L``."""

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
                group.add_argument("--folds", type=int, default=None, help="k-fold cross-validation (default 5)")
                group.add_argument("--holdout", type=float, default=None, help="share held out, e.g. 0.2")
            else:
                p.add_argument("--no-activate", action="store_true", help="keep the current active version")

    def handle(self, *args, action, data, text_column, label_column, **options):
        try:
            texts, labels = classifier.read_table(data, text_column, label_column)
        except classifier.DataError as exc:
            raise CommandError(str(exc)) from None
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
        version = services.train_version(
            services.ModelVersion.objects.create(
                source=str(data).rsplit("/", 1)[-1][:200], requested_at=services.timezone.now()
            ).pk,
            texts,
            labels,
            activate=not options.get("no_activate"),
        )
        if version.state != version.State.READY:
            raise CommandError(f"training failed: {version.error}")
        f1 = version.macro_f1
        self.stdout.write(
            f"version v{version.pk} trained on {version.samples} texts in {version.train_seconds}s, "
            f"{version.size_bytes} bytes, active={version.active}"
            + (f", hold-out macro_f1={f1:.4f}" if f1 is not None else "")
        )
