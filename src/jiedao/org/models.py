"""Organisation: 区 → 街道 → 社区 → 网格, handling units (承办单位) and users."""

from functools import cached_property

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from jiedao.common.crypto import EncryptedTextField

from .roles import DISTRICT_WIDE_ROLES, ROLE_LABELS, STAFF_ROLES, STREET_WIDE_ROLES


class District(models.Model):
    code = models.CharField(_("区划代码"), max_length=12, unique=True)
    name = models.CharField(_("名称"), max_length=50)

    class Meta:
        verbose_name = _("区")
        verbose_name_plural = _("区")

    def __str__(self):
        return self.name


class Street(models.Model):
    district = models.ForeignKey(District, on_delete=models.PROTECT, related_name="streets", verbose_name=_("区"))
    code = models.CharField(_("代码"), max_length=12, unique=True)
    name = models.CharField(_("名称"), max_length=50)
    default_unit = models.ForeignKey(
        "Unit",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("默认承办单位"),
        help_text=_("没有派单规则匹配时，工单派给此单位。"),
    )

    class Meta:
        verbose_name = _("街道")
        verbose_name_plural = _("街道")

    def __str__(self):
        return self.name


class Community(models.Model):
    street = models.ForeignKey(Street, on_delete=models.PROTECT, related_name="communities", verbose_name=_("街道"))
    code = models.CharField(_("代码"), max_length=20, unique=True)
    name = models.CharField(_("名称"), max_length=50)

    class Meta:
        verbose_name = _("社区")
        verbose_name_plural = _("社区")
        ordering = ["code"]

    def __str__(self):
        return self.name


class Grid(models.Model):
    community = models.ForeignKey(Community, on_delete=models.PROTECT, related_name="grids", verbose_name=_("社区"))
    code = models.CharField(_("网格编码"), max_length=24, unique=True)
    name = models.CharField(_("名称"), max_length=50)
    # GeoJSON Polygon or MultiPolygon geometry (WGS-84 lng/lat).
    boundary = models.JSONField(_("边界 (GeoJSON)"), null=True, blank=True)

    class Meta:
        verbose_name = _("网格")
        verbose_name_plural = _("网格")
        ordering = ["code"]

    def __str__(self):
        return f"{self.community.name} {self.name}"


class Unit(models.Model):
    """A handling unit (承办单位): street section, stationed department, community committee."""

    class Kind(models.TextChoices):
        SECTION = "section", _("街道科室")
        DEPARTMENT = "department", _("区级部门派驻")
        COMMUNITY = "community", _("社区居委会")
        DISTRICT = "district", _("区级部门（上报）")

    street = models.ForeignKey(Street, on_delete=models.PROTECT, related_name="units", verbose_name=_("街道"))
    code = models.CharField(_("单位代码"), max_length=30, unique=True)
    name = models.CharField(_("名称"), max_length=60)
    kind = models.CharField(_("类型"), max_length=20, choices=Kind.choices)
    community = models.ForeignKey(
        Community,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="units",
        verbose_name=_("所属社区"),
    )
    active = models.BooleanField(_("启用"), default=True)
    # 负责人: a person of the unit, told of each 督办 and of the unit's overdue cases.
    head = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("负责人"),
        help_text=_("本单位的人员；督办和超期提醒会同时通知负责人。"),
    )

    class Meta:
        verbose_name = _("承办单位")
        verbose_name_plural = _("承办单位")
        ordering = ["code"]

    def __str__(self):
        return self.name

    def clean(self):
        super().clean()
        if self.head_id is not None and (self.pk is None or self.head.unit_id != self.pk):
            raise ValidationError({"head": _("负责人必须是本单位的人员。")})


class User(AbstractUser):
    """A person who signs in: staff of any role, or a registered resident."""

    display_name = models.CharField(_("姓名"), max_length=50, blank=True)
    phone = EncryptedTextField(_("手机号"), blank=True, default="")
    street = models.ForeignKey(Street, null=True, blank=True, on_delete=models.PROTECT, verbose_name=_("街道"))
    # A district user (区级用户) belongs to the district instead of a street.
    district = models.ForeignKey(
        District, null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name=_("区")
    )
    unit = models.ForeignKey(
        Unit, null=True, blank=True, on_delete=models.PROTECT, related_name="members", verbose_name=_("承办单位")
    )
    grids = models.ManyToManyField(Grid, blank=True, related_name="workers", verbose_name=_("负责网格"))

    class Meta:
        verbose_name = _("用户")
        verbose_name_plural = _("用户")

    def __str__(self):
        return self.display_name or self.username

    @cached_property
    def role_codes(self) -> frozenset:
        if not self.is_authenticated:
            return frozenset()
        return self.roles_of(self.groups.values_list("name", flat=True))

    def roles_of(self, group_names) -> frozenset:
        """The roles the user's groups ``group_names`` give (and ``admin`` to a superuser)."""
        codes = frozenset(name for name in group_names if name in ROLE_LABELS)
        if self.is_superuser:
            codes = codes | {"admin"}
        return codes

    def has_role(self, *codes) -> bool:
        return bool(self.role_codes.intersection(codes))

    @property
    def is_street_staff(self) -> bool:
        return bool(self.role_codes & STAFF_ROLES)

    @property
    def sees_whole_street(self) -> bool:
        return bool(self.role_codes & STREET_WIDE_ROLES)

    @property
    def sees_district(self) -> bool:
        """Reads across streets: a district user, or a superuser of the installation."""
        return self.is_superuser or bool(self.role_codes & DISTRICT_WIDE_ROLES)

    @cached_property
    def street_ids(self):
        """The streets whose records this user may see: ``None`` for every street (a
        superuser, or a district user not tied to a district), else a set. A user without a
        street in an installation of one street belongs to that street."""
        if not self.is_authenticated:
            return frozenset()
        if self.sees_district:
            if self.is_superuser or self.district_id is None:
                return None
            return frozenset(Street.objects.filter(district_id=self.district_id).values_list("pk", flat=True))
        if self.street_id:
            return frozenset({self.street_id})
        # No street set: the installation's street when it has only one, else none at all.
        only = list(Street.objects.values_list("pk", flat=True)[:2])
        return frozenset(only) if len(only) == 1 else frozenset()

    @cached_property
    def covers_all_streets(self) -> bool:
        """Whether the streets this user sees are all the installation has (always so with one
        street): records not tied to any place are then theirs too."""
        ids = self.street_ids
        return ids is None or (bool(ids) and not Street.objects.exclude(pk__in=ids).exists())

    @property
    def role_labels(self):
        return [str(ROLE_LABELS[c]) for c in sorted(self.role_codes)]


class ApiToken(models.Model):
    """A bearer token for the REST API. Only a hash of the token is stored."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    key_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("接口令牌")
        verbose_name_plural = _("接口令牌")
