"""Charts drawn on the server as inline SVG: no script, works on any phone."""

from django.utils.html import format_html
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _

SERIES = (
    ("response_rate", "#1d4ed8"),
    ("resolution_rate", "#15803d"),
    ("satisfaction_rate", "#b45309"),
)


def _series_labels():
    return {"response_rate": _("响应率"), "resolution_rate": _("解决率"), "satisfaction_rate": _("满意率")}


def rates_chart(rows, width=720):
    """Grouped horizontal bars of the 三率 for each unit (rows from measures.three_rates_by_unit)."""
    labels = _series_labels()
    label_w, right_pad, bar_h, gap = 190, 70, 14, 14
    plot_w = width - label_w - right_pad
    group_h = bar_h * len(SERIES) + gap
    legend_h = 34
    height = legend_h + max(1, len(rows)) * group_h + 10
    parts = [
        format_html(
            '<svg class="chart" viewBox="0 0 {} {}" width="100%" role="img" aria-label="{}" '
            'xmlns="http://www.w3.org/2000/svg" font-size="13">',
            width,
            height,
            _("各单位三率"),
        )
    ]
    x = label_w
    for key, color in SERIES:
        parts.append(format_html('<rect x="{}" y="8" width="14" height="14" fill="{}"/>', x, color))
        parts.append(format_html('<text x="{}" y="20" fill="#1f2937">{}</text>', x + 20, labels[key]))
        x += 110
    if not rows:
        parts.append(
            format_html('<text x="{}" y="{}" fill="#4b5563">{}</text>', label_w, legend_h + 20, _("本月还没有数据"))
        )
    for index, row in enumerate(rows):
        top = legend_h + index * group_h
        name = row.unit_name if len(row.unit_name) <= 12 else row.unit_name[:11] + "…"
        parts.append(
            format_html(
                '<text x="{}" y="{}" text-anchor="end" fill="#111827">{}</text>', label_w - 8, top + bar_h * 2 - 2, name
            )
        )
        for offset, (key, color) in enumerate(SERIES):
            value = getattr(row, key)
            y = top + offset * bar_h
            if value is None:
                parts.append(
                    format_html(
                        '<text x="{}" y="{}" fill="#6b7280" font-size="11">{}</text>',
                        label_w + 4,
                        y + bar_h - 3,
                        _("无数据"),
                    )
                )
                continue
            w = max(1.0, plot_w * value)
            parts.append(
                format_html(
                    '<rect x="{}" y="{}" width="{}" height="{}" fill="{}"><title>{} {}</title></rect>',
                    label_w,
                    y + 1,
                    f"{w:.1f}",
                    bar_h - 2,
                    color,
                    row.unit_name,
                    labels[key],
                )
            )
            parts.append(
                format_html(
                    '<text x="{}" y="{}" fill="#111827" font-size="11">{}%</text>',
                    f"{label_w + w + 4:.1f}",
                    y + bar_h - 3,
                    f"{value * 100:.0f}",
                )
            )
    parts.append(mark_safe("</svg>"))
    return mark_safe("".join(str(p) for p in parts))


def count_bars(rows, label, target=None, target_label="", width=720):
    """Horizontal bars of counts, one per ``(name, count)`` row, with an optional dashed line
    at ``target`` (e.g. the count a required reduction would leave)."""
    label_w, right_pad, bar_h, gap, top = 120, 60, 40, 22, 12
    plot_w = width - label_w - right_pad
    largest = max([count for _name, count in rows] + [target or 0, 1])
    legend_h = 26 if target is not None else 0
    height = top + len(rows) * (bar_h + gap) + legend_h
    parts = [
        format_html(
            '<svg class="chart" viewBox="0 0 {} {}" width="100%" role="img" aria-label="{}" '
            'xmlns="http://www.w3.org/2000/svg" font-size="15">',
            width,
            height,
            label,
        )
    ]
    for index, (name, count) in enumerate(rows):
        y = top + index * (bar_h + gap)
        w = max(1.0, plot_w * count / largest) if count else 0
        parts.append(
            format_html(
                '<text x="{}" y="{}" text-anchor="end" fill="#111827">{}</text>', label_w - 10, y + bar_h // 2 + 5, name
            )
        )
        parts.append(
            format_html(
                '<rect x="{}" y="{}" width="{}" height="{}" fill="{}"><title>{} {}</title></rect>',
                label_w,
                y,
                f"{w:.1f}",
                bar_h,
                "#9ca3af" if index == 0 else "#1d4ed8",
                name,
                count,
            )
        )
        parts.append(
            format_html(
                '<text x="{}" y="{}" fill="#111827" font-weight="700">{}</text>',
                f"{label_w + w + 8:.1f}",
                y + bar_h // 2 + 5,
                count,
            )
        )
    if target is not None:
        x = label_w + plot_w * target / largest
        bottom = top + len(rows) * (bar_h + gap) - gap + 6
        parts.append(
            format_html(
                '<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="#b91c1c" stroke-width="2" stroke-dasharray="6 4"/>',
                f"{x:.1f}",
                top - 6,
                f"{x:.1f}",
                bottom,
            )
        )
        parts.append(
            format_html(
                '<text x="{}" y="{}" fill="#b91c1c" font-size="13" text-anchor="middle">{}</text>',
                f"{x:.1f}",
                bottom + 16,
                target_label,
            )
        )
    parts.append(mark_safe("</svg>"))
    return mark_safe("".join(str(p) for p in parts))
