"""一户一档: buildings, houses, households, persons, enterprises and facilities (部件),
with the source and last confirmation of every field (一数一源).

Identity numbers and phones are stored encrypted; beside each sits a keyed hash
(blind index) so that the same person is found by exact identity number without
decrypting every row. The same identity number exists once.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from jiedao.common.crypto import EncryptedTextField
from jiedao.org.models import Community, Grid, Unit


class Sourced(models.Model):
    """A record whose fields each remember their source (一数一源).

    ``sources`` maps a field name to ``{"source": where the value came from, "at": ISO time
    of the last confirmation, "by": the source that last confirmed it}``; ``confirmed_at``
    is the last time any source confirmed the record (data freshness is measured on it).
    """

    sources = models.JSONField(_("字段来源"), default=dict, blank=True)
    confirmed_at = models.DateTimeField(_("最近确认时间"), default=timezone.now, db_index=True)
    created_at = models.DateTimeField(_("建档时间"), default=timezone.now)

    class Meta:
        abstract = True


class Building(Sourced):
    code = models.CharField(_("楼栋编码"), max_length=30, unique=True)
    name = models.CharField(_("楼栋名称"), max_length=60)
    address = models.CharField(_("地址"), max_length=200)
    community = models.ForeignKey(Community, on_delete=models.PROTECT, related_name="buildings", verbose_name=_("社区"))
    grid = models.ForeignKey(
        Grid, null=True, blank=True, on_delete=models.PROTECT, related_name="buildings", verbose_name=_("网格")
    )
    lat = models.FloatField(_("纬度"), null=True, blank=True)
    lng = models.FloatField(_("经度"), null=True, blank=True)
    floors = models.PositiveSmallIntegerField(_("层数"), null=True, blank=True)
    head = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="headed_buildings",
        verbose_name=_("楼栋长"),
    )

    class Meta:
        verbose_name = _("楼栋")
        verbose_name_plural = _("楼栋")
        ordering = ["code"]

    def __str__(self):
        return self.name


class House(Sourced):
    class Use(models.TextChoices):
        OWN = "own", _("自住")
        RENTED = "rented", _("出租")
        VACANT = "vacant", _("空置")
        BUSINESS = "business", _("经营")

    building = models.ForeignKey(Building, on_delete=models.PROTECT, related_name="houses", verbose_name=_("楼栋"))
    unit = models.CharField(_("单元"), max_length=10, blank=True, default="")
    floor = models.SmallIntegerField(_("楼层"), null=True, blank=True)
    room = models.CharField(_("房号"), max_length=20)
    use = models.CharField(_("房屋用途"), max_length=10, choices=Use.choices, blank=True, default="")

    class Meta:
        verbose_name = _("房屋")
        verbose_name_plural = _("房屋")
        ordering = ["building__code", "unit", "room"]
        constraints = [models.UniqueConstraint(fields=["building", "unit", "room"], name="uniq_house_in_building")]

    def __str__(self):
        return house_label(self.building.name, self.unit, self.room)


def house_label(building_name, unit, room):
    """东湖家园1号楼 2单元 301室"""
    parts = [building_name]
    if unit:
        parts.append(_("%(unit)s单元") % {"unit": unit})
    parts.append(_("%(room)s室") % {"room": room})
    return " ".join(str(p) for p in parts)


class Household(Sourced):
    """户: the people living together in one house (一户一档)."""

    number = models.CharField(_("户编号"), max_length=40, unique=True)
    house = models.ForeignKey(House, on_delete=models.PROTECT, related_name="households", verbose_name=_("房屋"))
    head = models.ForeignKey(
        "Person", null=True, blank=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("户主")
    )
    note = models.CharField(_("备注"), max_length=200, blank=True, default="")

    class Meta:
        verbose_name = _("户")
        verbose_name_plural = _("户")
        ordering = ["number"]

    def __str__(self):
        return self.number


class CareTag(models.Model):
    """A special-care group (重点关怀人群): 独居老人, 低保 … — an editable list."""

    code = models.SlugField(_("代码"), max_length=30, unique=True)
    name = models.CharField(_("名称"), max_length=30, unique=True)
    description = models.CharField(_("说明"), max_length=200, blank=True, default="")
    order = models.PositiveSmallIntegerField(_("排序"), default=100)
    active = models.BooleanField(_("启用"), default=True)

    class Meta:
        verbose_name = _("关怀标签")
        verbose_name_plural = _("关怀标签")
        ordering = ["order", "code"]

    def __str__(self):
        return self.name


class Person(Sourced):
    class Gender(models.TextChoices):
        MALE = "male", _("男")
        FEMALE = "female", _("女")

    class Relation(models.TextChoices):
        HEAD = "head", _("户主")
        SPOUSE = "spouse", _("配偶")
        CHILD = "child", _("子女")
        PARENT = "parent", _("父母")
        GRANDCHILD = "grandchild", _("孙辈")
        GRANDPARENT = "grandparent", _("祖父母")
        SIBLING = "sibling", _("兄弟姐妹")
        OTHER = "other", _("其他")

    class Status(models.TextChoices):
        LIVING = "living", _("在住")
        AWAY = "away", _("外出")
        MOVED = "moved", _("已迁出")
        DECEASED = "deceased", _("已故")

    name = models.CharField(_("姓名"), max_length=50, db_index=True)
    gender = models.CharField(_("性别"), max_length=6, choices=Gender.choices, blank=True, default="")
    birth_date = models.DateField(_("出生日期"), null=True, blank=True)
    id_number = EncryptedTextField(_("身份证号"), blank=True, default="")
    id_index = models.CharField(max_length=64, blank=True, default="", editable=False)
    phone = EncryptedTextField(_("手机号"), blank=True, default="")
    phone_index = models.CharField(max_length=64, blank=True, default="", db_index=True, editable=False)
    household = models.ForeignKey(
        Household, null=True, blank=True, on_delete=models.SET_NULL, related_name="members", verbose_name=_("所在户")
    )
    relation = models.CharField(_("与户主关系"), max_length=12, choices=Relation.choices, blank=True, default="")
    status = models.CharField(_("居住状态"), max_length=10, choices=Status.choices, default=Status.LIVING)
    note = models.CharField(_("备注"), max_length=200, blank=True, default="")
    tags = models.ManyToManyField(
        CareTag, through="PersonTag", blank=True, related_name="persons", verbose_name=_("关怀标签")
    )

    class Meta:
        verbose_name = _("人员")
        verbose_name_plural = _("人员")
        ordering = ["id"]
        constraints = [
            # The same person (by identity number) exists once.
            models.UniqueConstraint(fields=["id_index"], condition=~Q(id_index=""), name="uniq_person_identity"),
        ]

    def __str__(self):
        return self.name


class PersonTag(models.Model):
    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="person_tags")
    tag = models.ForeignKey(CareTag, on_delete=models.PROTECT, related_name="person_tags")
    added_at = models.DateTimeField(_("标记时间"), default=timezone.now)
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    source = models.CharField(_("来源"), max_length=100, blank=True, default="")

    class Meta:
        verbose_name = _("关怀标记")
        verbose_name_plural = _("关怀标记")
        constraints = [models.UniqueConstraint(fields=["person", "tag"], name="uniq_person_tag")]


class Enterprise(Sourced):
    """企业/法人, identified by its 统一社会信用代码 (GB 32100)."""

    name = models.CharField(_("名称"), max_length=100)
    credit_code = models.CharField(_("统一社会信用代码"), max_length=18, unique=True)
    legal_representative = models.CharField(_("法定代表人"), max_length=50, blank=True, default="")
    industry = models.CharField(_("行业"), max_length=50, blank=True, default="")
    address = models.CharField(_("地址"), max_length=200, blank=True, default="")
    building = models.ForeignKey(
        Building,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="enterprises",
        verbose_name=_("所在楼栋"),
    )
    grid = models.ForeignKey(
        Grid, null=True, blank=True, on_delete=models.PROTECT, related_name="enterprises", verbose_name=_("网格")
    )
    contact_name = models.CharField(_("联系人"), max_length=50, blank=True, default="")
    contact_phone = EncryptedTextField(_("联系电话"), blank=True, default="")
    contact_phone_index = models.CharField(max_length=64, blank=True, default="", db_index=True, editable=False)

    class Meta:
        verbose_name = _("企业/法人")
        verbose_name_plural = _("企业/法人")
        ordering = ["name"]

    def __str__(self):
        return self.name


class Facility(Sourced):
    """部件: a piece of public equipment on the street, with the unit that owns it."""

    class Kind(models.TextChoices):
        MANHOLE = "manhole", _("井盖")
        STREET_LAMP = "lamp", _("路灯")
        HYDRANT = "hydrant", _("消防栓")
        BIN = "bin", _("垃圾桶")
        CAMERA = "camera", _("监控探头")
        BUS_STOP = "bus_stop", _("公交站亭")
        FITNESS = "fitness", _("健身器材")
        SIGN = "sign", _("路名牌")
        CHARGER = "charger", _("电动车充电桩")

    class Condition(models.TextChoices):
        OK = "ok", _("完好")
        DAMAGED = "damaged", _("损坏")
        MISSING = "missing", _("丢失")
        DISABLED = "disabled", _("停用")

    kind = models.CharField(_("部件类型"), max_length=12, choices=Kind.choices)
    code = models.CharField(_("部件编码"), max_length=30, unique=True)
    name = models.CharField(_("名称/位置描述"), max_length=100, blank=True, default="")
    lat = models.FloatField(_("纬度"))
    lng = models.FloatField(_("经度"))
    grid = models.ForeignKey(
        Grid, null=True, blank=True, on_delete=models.PROTECT, related_name="facilities", verbose_name=_("网格")
    )
    owner = models.ForeignKey(
        Unit, null=True, blank=True, on_delete=models.PROTECT, related_name="facilities", verbose_name=_("权属单位")
    )
    condition = models.CharField(_("状态"), max_length=10, choices=Condition.choices, default=Condition.OK)

    class Meta:
        verbose_name = _("部件")
        verbose_name_plural = _("部件")
        ordering = ["code"]

    def __str__(self):
        return f"{self.get_kind_display()} {self.code}"


class ImportRun(models.Model):
    """One import of a file: who, what, from which source, how far, and how it ended."""

    class Kind(models.TextChoices):
        PERSONS = "persons", _("人员")
        HOUSEHOLDS = "households", _("户")
        BUILDINGS = "buildings", _("楼栋")

    class State(models.TextChoices):
        QUEUED = "queued", _("排队中")
        RUNNING = "running", _("导入中")
        DONE = "done", _("已完成")
        REFUSED = "refused", _("未导入（有错误）")
        FAILED = "failed", _("失败")

    kind = models.CharField(_("类型"), max_length=12, choices=Kind.choices)
    filename = models.CharField(_("文件名"), max_length=200)
    source = models.CharField(_("数据来源"), max_length=100)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("导入人")
    )
    created_at = models.DateTimeField(_("提交时间"), default=timezone.now)
    finished_at = models.DateTimeField(_("完成时间"), null=True, blank=True)
    state = models.CharField(_("状态"), max_length=10, choices=State.choices, default=State.QUEUED)
    phase = models.CharField(_("阶段"), max_length=10, blank=True, default="")
    total_rows = models.PositiveIntegerField(_("总行数"), default=0)
    done_rows = models.PositiveIntegerField(_("已处理行数"), default=0)
    counts = models.JSONField(_("结果"), default=dict, blank=True)
    # Row errors name the row, the column and the rule, never the value of an identity number or phone.
    errors = models.JSONField(_("错误"), default=list, blank=True)
    # A file waiting for the worker, outside the public media folder; deleted when done.
    stored_file = models.CharField(max_length=300, blank=True, default="")

    class Meta:
        verbose_name = _("导入记录")
        verbose_name_plural = _("导入记录")
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.get_kind_display()} {self.filename}"


class MergeConflict(models.Model):
    """A field on which a second source disagrees with the record; a person decides."""

    class Choice(models.TextChoices):
        PENDING = "", _("待决定")
        KEEP = "keep", _("保留现有值")
        TAKE = "take", _("采用新来源的值")

    person = models.ForeignKey(
        Person, null=True, blank=True, on_delete=models.CASCADE, related_name="conflicts", verbose_name=_("人员")
    )
    house = models.ForeignKey(
        House, null=True, blank=True, on_delete=models.CASCADE, related_name="conflicts", verbose_name=_("房屋")
    )
    building = models.ForeignKey(
        Building, null=True, blank=True, on_delete=models.CASCADE, related_name="conflicts", verbose_name=_("楼栋")
    )
    field = models.CharField(_("字段"), max_length=40)
    current_value = EncryptedTextField(_("现有值"), blank=True, default="")
    incoming_value = EncryptedTextField(_("新来源的值"), blank=True, default="")
    source = models.CharField(_("新来源"), max_length=100)
    import_run = models.ForeignKey(ImportRun, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(_("发现时间"), default=timezone.now, db_index=True)
    choice = models.CharField(_("决定"), max_length=6, choices=Choice.choices, blank=True, default="")
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("决定人"),
    )
    decided_at = models.DateTimeField(_("决定时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("数据冲突")
        verbose_name_plural = _("数据冲突")
        ordering = ["created_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(person__isnull=False, house__isnull=True, building__isnull=True)
                    | Q(person__isnull=True, house__isnull=False, building__isnull=True)
                    | Q(person__isnull=True, house__isnull=True, building__isnull=False)
                ),
                name="conflict_has_one_target",
            ),
        ]

    def __str__(self):
        return f"{self.target} {self.field}"

    @property
    def target(self):
        return self.person or self.house or self.building


class Visit(models.Model):
    """探访: a grid worker's visit to (or call with) a special-care person."""

    class Kind(models.TextChoices):
        HOME = "home", _("上门")
        PHONE = "phone", _("电话")

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="visits", verbose_name=_("探访对象"))
    worker = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="visits", verbose_name=_("网格员")
    )
    at = models.DateTimeField(_("探访时间"), db_index=True)
    kind = models.CharField(_("方式"), max_length=6, choices=Kind.choices, default=Kind.HOME)
    note = models.TextField(_("情况记录"), blank=True, default="")
    created_at = models.DateTimeField(_("登记时间"), default=timezone.now)

    class Meta:
        verbose_name = _("探访记录")
        verbose_name_plural = _("探访记录")
        ordering = ["-at"]

    def __str__(self):
        return f"{self.person} {self.at:%Y-%m-%d}"
