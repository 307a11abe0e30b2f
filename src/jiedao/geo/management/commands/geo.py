"""``jiedao geo``: boundaries in and out, and where a point is.

    jiedao geo import FILE.geojson --level grid|community|street|basemap
    jiedao geo export --level grid|community|street|basemap [OUT]      (standard output without OUT)
    jiedao geo locate LAT LNG

Exit status: 0 done; 1 the file was refused (every error is listed, nothing written)
or the point lies outside every grid; 2 wrong arguments.
"""

import json

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from jiedao.common.errors import ValidationFailed

from ... import basemap, selectors, services
from ...codes import LEVELS

# The boundaries' levels, and the base map (底图: roads and places) of a street.
IMPORT_LEVELS = (*LEVELS, basemap.LEVEL)


def bad_input(message):
    return CommandError(message, returncode=2)


def parse_coordinate(value, name, low, high):
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise bad_input(
            _("参数 %(name)s 应为数字（十进制度），收到“%(value)s”。") % {"name": name, "value": value}
        ) from None
    if not low <= number <= high:
        hint = _("（是否把纬度和经度写反了？顺序是 LAT LNG，如 39.905 116.405）") if name == "LAT" else ""
        raise bad_input(
            _("参数 %(name)s 应在 %(low)s 到 %(high)s 之间，收到“%(value)s”。")
            % {"name": name, "low": low, "high": high, "value": value}
            + hint
        )
    return number


class Command(BaseCommand):
    help = _("网格边界：导入、导出 GeoJSON，查询坐标所在的网格。")

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        imp = sub.add_parser("import", help=_("导入 GeoJSON（整个文件全部通过检查才写入）"))
        imp.add_argument("file")
        imp.add_argument("--level", required=True, choices=IMPORT_LEVELS)
        exp = sub.add_parser("export", help=_("导出为 GeoJSON"))
        exp.add_argument("out", nargs="?", default=None)
        exp.add_argument("--level", required=True, choices=IMPORT_LEVELS)
        loc = sub.add_parser("locate", help=_("查询坐标所在的网格、社区、街道"))
        loc.add_argument("lat", metavar="LAT")
        loc.add_argument("lng", metavar="LNG")

    def handle(self, *args, action, **options):
        getattr(self, f"do_{action}")(**options)

    def do_import(self, file, level, **options):
        try:
            with open(file, "rb") as handle:
                data = handle.read()
        except FileNotFoundError:
            raise bad_input(_("文件不存在：%(file)s") % {"file": file}) from None
        except IsADirectoryError:
            raise bad_input(_("不是文件：%(file)s") % {"file": file}) from None
        try:
            result = services.import_geojson(None, data=data, level=level)
        except ValidationFailed as exc:
            for error in exc.errors:
                self.stderr.write(error["message"])
            raise CommandError(_("导入失败：共 %(n)d 处错误，未写入任何数据。") % {"n": len(exc.errors)}) from None
        if level == basemap.LEVEL:
            self.stdout.write(
                _("底图导入完成：%(n)d 条道路和地点（替换原有的 %(old)d 条）。")
                % {"n": len(result.created), "old": result.replaced}
            )
            return
        self.stdout.write(
            _("导入完成（%(level)s）：新增 %(created)d，更新 %(updated)d。")
            % {"level": level, "created": len(result.created), "updated": len(result.updated)}
        )

    def do_export(self, level, out=None, **options):
        exported = basemap.export() if level == basemap.LEVEL else selectors.export_geojson(level)
        data = json.dumps(exported, ensure_ascii=False, indent=1)
        if out in (None, "-"):
            self.stdout.write(data)
            return
        with open(out, "w", encoding="utf-8") as handle:
            handle.write(data + "\n")
        self.stdout.write(_("已导出 %(n)d 个要素到 %(file)s") % {"n": len(json.loads(data)["features"]), "file": out})

    def do_locate(self, lat, lng, **options):
        lat_value = parse_coordinate(lat, "LAT", -90, 90)
        lng_value = parse_coordinate(lng, "LNG", -180, 180)
        found = selectors.where(lat_value, lng_value)
        if found is None:
            raise CommandError(_("坐标（纬度 %(lat)s，经度 %(lng)s）不在任何网格内。") % {"lat": lat, "lng": lng})
        self.stdout.write(
            _("网格 %(grid_code)s %(grid_name)s")
            % {"grid_code": found["grid"]["code"], "grid_name": found["grid"]["name"]}
        )
        self.stdout.write(_("社区 %(code)s %(name)s") % found["community"])
        self.stdout.write(_("街道 %(code)s %(name)s") % found["street"])
