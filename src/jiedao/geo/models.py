"""Geography beside the organisation tree: the boundaries of streets and communities
(grids keep theirs on ``org.Grid``), the grid team (网格员 and 楼门长) and patrol
check-ins (巡查打卡)."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from jiedao.common.crypto import EncryptedTextField
from jiedao.org.models import Community, Grid, Street


class StreetArea(models.Model):
    """The boundary of a street (街道), as imported from GeoJSON."""

    street = models.OneToOneField(Street, on_delete=models.CASCADE, related_name="area", verbose_name=_("街道"))
    # GeoJSON Polygon or MultiPolygon geometry (WGS-84 lng/lat).
    boundary = models.JSONField(_("边界 (GeoJSON)"))
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("街道边界")
        verbose_name_plural = _("街道边界")

    def __str__(self):
        return str(self.street)


class CommunityArea(models.Model):
    """The boundary of a community (社区), as imported from GeoJSON."""

    community = models.OneToOneField(Community, on_delete=models.CASCADE, related_name="area", verbose_name=_("社区"))
    boundary = models.JSONField(_("边界 (GeoJSON)"))
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("社区边界")
        verbose_name_plural = _("社区边界")

    def __str__(self):
        return str(self.community)


class GridMember(models.Model):
    """One member of a grid's team: "1 专职 + 2-3 兼职 网格员 + 楼门长". A member either
    signs in (``user``) or is only known by name and phone (most 楼门长 are residents)."""

    class Role(models.TextChoices):
        FULL_TIME = "full_time", _("专职网格员")
        PART_TIME = "part_time", _("兼职网格员")
        BUILDING_HEAD = "building_head", _("楼门长")

    grid = models.ForeignKey(Grid, on_delete=models.CASCADE, related_name="members", verbose_name=_("网格"))
    role = models.CharField(_("职责"), max_length=16, choices=Role.choices)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="grid_memberships",
        verbose_name=_("系统账号"),
    )
    name = models.CharField(
        _("姓名"), max_length=50, blank=True, help_text=_("没有系统账号的成员（如楼门长）填写姓名和电话。")
    )
    phone = EncryptedTextField(_("联系电话"), blank=True, default="")
    buildings = models.CharField(
        _("负责楼栋"), max_length=100, blank=True, help_text=_("楼门长负责的楼栋或单元，如“3号楼1-2单元”。")
    )
    active = models.BooleanField(_("在岗"), default=True)
    since = models.DateField(_("任职日期"), null=True, blank=True)

    class Meta:
        verbose_name = _("网格成员")
        verbose_name_plural = _("网格成员")
        ordering = ["grid", "role", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(user__isnull=False) | ~Q(name=""), name="grid_member_user_or_name"),
            models.UniqueConstraint(
                fields=["grid", "user", "role"], condition=Q(user__isnull=False), name="uniq_grid_member_user_role"
            ),
        ]

    def __str__(self):
        return f"{self.display_name}（{self.get_role_display()}）"

    @property
    def display_name(self):
        if self.user_id is not None and not self.name:
            return str(self.user)
        return self.name


class PatrolCheckIn(models.Model):
    """巡查打卡: one check-in of a grid worker on patrol. A patrol is the check-ins from
    a ``start`` to the next ``end``; ``point`` check-ins may fall in between."""

    class Kind(models.TextChoices):
        START = "start", _("开始巡查")
        POINT = "point", _("途中打卡")
        END = "end", _("结束巡查")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="patrol_checkins", verbose_name=_("网格员")
    )
    grid = models.ForeignKey(
        Grid, null=True, blank=True, on_delete=models.PROTECT, related_name="patrol_checkins", verbose_name=_("网格")
    )
    kind = models.CharField(_("打卡类型"), max_length=8, choices=Kind.choices)
    at = models.DateTimeField(_("打卡时间"), db_index=True)
    lat = models.FloatField(_("纬度"), null=True, blank=True)
    lng = models.FloatField(_("经度"), null=True, blank=True)
    # Whether the position lies inside the worker's grid (None: no position given).
    inside = models.BooleanField(_("位于网格内"), null=True, blank=True)
    note = models.CharField(_("说明"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("巡查打卡")
        verbose_name_plural = _("巡查打卡")
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["user", "at"], name="patrol_user_at")]

    def __str__(self):
        return f"{self.user} {self.get_kind_display()} {self.at:%Y-%m-%d %H:%M}"


# Size of a heat-map cell: positions are floored to 1/1000 of a degree (cells of about
# 110 m north–south and 85 m east–west in Beijing).
HEAT_CELL_SCALE = 1000
# Days of the heat layer: today and the 29 days before (Beijing dates).
HEAT_DAYS = 30


class HeatCell(models.Model):
    """Rollup for the heat map (服务热力图): cases received on one day (Beijing date) in one
    street, in one map cell of ``1/HEAT_CELL_SCALE`` degree. The worker rebuilds the days of
    the heat layer before today with the evaluation rollup; the heat layer of street-wide
    users sums these cells for those days and counts today's cases live."""

    day = models.DateField(_("日期"))
    street = models.ForeignKey(
        Street, null=True, blank=True, on_delete=models.CASCADE, related_name="+", verbose_name=_("街道")
    )
    # floor(latitude × HEAT_CELL_SCALE), floor(longitude × HEAT_CELL_SCALE)
    lat_cell = models.IntegerField(_("纬度格"))
    lng_cell = models.IntegerField(_("经度格"))
    received = models.PositiveIntegerField(_("受理量"), default=0)

    class Meta:
        verbose_name = _("热力图汇总")
        verbose_name_plural = _("热力图汇总")
        indexes = [
            models.Index(fields=["street", "day"], name="geo_heat_street_day"),
            models.Index(fields=["day"], name="geo_heat_day"),
        ]

    def __str__(self):
        return f"{self.day} ({self.lat_cell / HEAT_CELL_SCALE}, {self.lng_cell / HEAT_CELL_SCALE}) {self.received}"


class MapFeature(models.Model):
    """One thing drawn on a street's own base map (底图), under the grids when no tile server
    is set: a road with its name (a line) or a notable place (a point). Written by the import
    of a base-map GeoJSON (``geo.services.import_geojson`` with level ``basemap``) and by the
    demo builder; read by ``geo.basemap``."""

    class Kind(models.TextChoices):
        MAIN_ROAD = "main_road", _("主干道")
        ROAD = "road", _("道路")
        OFFICE = "office", _("街道办事处")
        HALL = "hall", _("便民服务中心")
        COMMITTEE = "committee", _("社区居委会")
        PLACE = "place", _("其他地点")

    street = models.ForeignKey(Street, on_delete=models.CASCADE, related_name="map_features", verbose_name=_("街道"))
    kind = models.CharField(_("类型"), max_length=12, choices=Kind.choices)
    name = models.CharField(_("名称"), max_length=50)
    # GeoJSON geometry (WGS-84 lng/lat): LineString or MultiLineString for roads, Point for places.
    geometry = models.JSONField(_("位置 (GeoJSON)"))
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("底图要素")
        verbose_name_plural = _("底图要素")
        ordering = ["street", "kind", "name", "id"]

    def __str__(self):
        return f"{self.name}（{self.get_kind_display()}）"
