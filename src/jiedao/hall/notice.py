"""一次性告知单: everything needed for an item on one printable page (PDF). The Noto
CJK font of the system is embedded (subset) so that Chinese prints everywhere."""

from pathlib import Path

from django.utils.translation import gettext as _
from fpdf import FPDF

FONT_FILES = (
    Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"),
    Path("/usr/share/fonts/opentype/noto-cjk/NotoSansCJK-Regular.ttc"),
)
SC_IN_COLLECTION = 2  # Noto Sans CJK SC in the collection


def _font():
    for path in FONT_FILES:
        if path.exists():
            return path
    raise RuntimeError("Noto Sans CJK (Debian package fonts-noto-cjk) is not installed")


def notice_pdf(item, street_name="") -> bytes:
    pdf = FPDF(format="A4")
    pdf.set_auto_page_break(True, margin=15)
    pdf.add_page()
    pdf.add_font("cjk", fname=str(_font()), collection_font_number=SC_IN_COLLECTION)
    width = pdf.w - pdf.l_margin - pdf.r_margin

    def line(text, size=11, gap=2):
        pdf.set_font("cjk", size=size)
        pdf.multi_cell(width, size * 0.55, text, new_x="LMARGIN", new_y="NEXT")
        pdf.ln(gap)

    line(f"{street_name}{_('便民服务中心')}", 12, 1)
    line(_("一次性告知单"), 20, 3)
    line(f"{_('事项名称')}：{item.name}", 14)
    line(f"{_('实施编码')}：{item.code}    {_('基本编码')}：{item.basic_code}", 10)
    line(
        f"{_('事项类型')}：{item.get_item_type_display()}    {_('行使层级')}：{item.get_level_display()}    "
        f"{_('实施主体')}：{item.unit.name}",
        10,
    )
    if item.legal_basis:
        line(f"{_('设定依据')}：{item.legal_basis}", 10)
    if item.conditions:
        line(f"{_('受理条件')}：{item.conditions}", 10)
    line(_("申请材料（请一次备齐；标注“免提交”的无需提供）："), 12, 1)
    for index, m in enumerate(item.materials.all(), start=1):
        tags = [
            _("核心") if m.core else _("非核心，可容缺后补"),
            m.get_form_display(),
            _("%(n)d份") % {"n": m.copies},
            m.get_source_display(),
        ]
        if m.exemptible:
            tags.append(_("本街道有户籍记录的免提交"))
        line(f"{index}. {m.name}（{'；'.join(str(t) for t in tags)}）", 10, 1)
    pdf.ln(2)
    line(
        f"{_('法定办结时限')}：{item.statutory_days}{_('个工作日')}    "
        f"{_('承诺办结时限')}：{item.promised_days}{_('个工作日')}",
        11,
    )
    line(f"{_('收费标准')}：{item.fee}{('（' + item.fee_basis + '）') if item.fee_basis else ''}", 11)
    line(f"{_('办理地点')}：{item.place}    {_('办理时间')}：{item.hours}", 11)
    line(
        f"{_('到现场次数')}：{item.visits_required}    {_('网办深度')}：{item.get_online_depth_display()}    "
        f"{_('支持预约')}：{_('是') if item.appointment_allowed else _('否')}    "
        f"{_('告知承诺')}：{_('可') if item.pledge_allowed else _('不适用')}",
        11,
    )
    line(f"{_('服务对象')}：{item.target_group}", 11)
    pdf.ln(4)
    line(_("本告知单所列即为办理本事项的全部要求，窗口不得要求提供清单以外的材料。"), 10)
    return bytes(pdf.output())
