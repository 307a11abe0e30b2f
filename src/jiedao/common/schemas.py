"""Schemas every app's API shares: the one shape of an error answer (``{"errors": [{"field",
"message"}]}``, docs/api.md)."""

from ninja import Schema


class ErrorItem(Schema):
    field: str | None
    message: str


class ErrorsOut(Schema):
    errors: list[ErrorItem]
