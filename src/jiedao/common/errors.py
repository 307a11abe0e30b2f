"""Domain errors, raised by services and mapped once to HTTP codes and form errors.

- ``NotAllowed`` → 403: the user's role or unit may not do this.
- ``InvalidTransition`` → 409: the action is not possible in the current state.
- ``ValidationFailed`` → 422: one or more fields break a rule; each error names the
  field and says the rule in the user's language.
"""

from django.utils.translation import gettext as _


class DomainError(Exception):
    http_status = 400


class NotAllowed(DomainError):
    http_status = 403

    def __init__(self, message=None):
        super().__init__(message or _("您没有权限执行此操作。"))
        self.message = str(self.args[0])


class InvalidTransition(DomainError):
    http_status = 409

    def __init__(self, message):
        super().__init__(message)
        self.message = message


class NotFound(DomainError):
    http_status = 404

    def __init__(self, message=None):
        super().__init__(message or _("未找到。"))
        self.message = str(self.args[0])


class ValidationFailed(DomainError):
    """One or more field errors: ``errors`` is a list of ``{"field", "message"}``."""

    http_status = 422

    def __init__(self, field=None, message=None, errors=None):
        self.errors = list(errors or [])
        if field is not None:
            self.errors.append({"field": field, "message": str(message)})
        super().__init__("; ".join(f"{e['field']}: {e['message']}" for e in self.errors))
        # Like the other errors, one message a page can show: the fields' messages.
        self.message = "；".join(e["message"] for e in self.errors)


class FieldErrors:
    """Collects field errors while checking input, then raises them all at once."""

    def __init__(self):
        self.errors = []

    def add(self, field, message):
        self.errors.append({"field": field, "message": str(message)})

    def __bool__(self):
        return bool(self.errors)

    def raise_if_any(self):
        if self.errors:
            raise ValidationFailed(errors=self.errors)
