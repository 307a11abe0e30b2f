"""GET /api/v1/cases/export: the case export as a file, for the signed-in API caller."""

from django.http import HttpResponse
from ninja import Router

from jiedao.common.schemas import ErrorsOut

from . import services

router = Router(tags=["cases"])


@router.get(
    "/cases/export",
    response={401: ErrorsOut, 403: ErrorsOut, 422: ErrorsOut},
    summary="Export cases (导出工单) as CSV or Excel",
)
def export_cases(request, format: str = "csv", status: str = "", unit: str = "", category: str = "", month: str = ""):
    """The cases the caller may see, filtered by ``status`` (codes separated by commas, or
    ``open``), ``unit`` code, ``category`` code (with its sub-categories) and ``month``
    (YYYY-MM, month of intake); ``format`` is ``csv`` (UTF-8 with BOM) or ``xlsx``. The
    reporter's name, phone and address are masked unless the caller may see them."""
    filename, content_type, data = services.export_cases(
        request.user,
        fmt=format.strip().lower(),
        status=status.strip(),
        unit=unit.strip(),
        category=category.strip(),
        month=month.strip(),
    )
    response = HttpResponse(data, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
