"""E-mail through SMTP, with Django's SMTP backend and the ``EMAIL_*`` settings (environment
``JIEDAO_EMAIL_*``). The message's key is its Message-ID, so a receiving system can drop a
message it has already taken. The server's answer decides: 2xx sent; 4xx (busy, greylisting,
mailbox temporarily unavailable) and a connection that fails are tried again later; 5xx (the
recipient refused, authentication failed) fail at once."""

from __future__ import annotations

import smtplib

from django.conf import settings
from django.core.mail import EmailMessage
from django.core.mail.backends.smtp import EmailBackend
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .base import Outgoing, Sent


def _words(value: bytes | str) -> str:
    text = value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)
    return text[:500]


def _answer(code: int, words: bytes | str) -> Sent:
    return Sent(ok=False, code=str(code), answer=_words(words), retry=400 <= code < 500)


class EmailChannel:
    name = "email"
    label = gettext_lazy("电子邮件")

    def check(self) -> list[str]:
        problems = []
        if not settings.EMAIL_HOST:
            problems.append(_("未设置发信服务器（SMTP）地址，电子邮件无法发出。"))
        if "@" not in (settings.DEFAULT_FROM_EMAIL or ""):
            problems.append(_("发件人地址不是有效的电子邮件地址。"))
        return problems

    def message_id(self, key: str) -> str:
        domain = (settings.DEFAULT_FROM_EMAIL or "").rpartition("@")[2].strip("> ") or "localhost"
        return f"<{key}@{domain}>"

    def send(self, message: Outgoing) -> Sent:
        problems = self.check()
        if problems:
            return Sent(ok=False, code="config", answer=" ".join(problems)[:500], retry=False)
        body = message.text + (f"\n\n{message.link}" if message.link else "")
        message_id = self.message_id(message.key)
        backend = EmailBackend(
            host=settings.EMAIL_HOST,
            port=settings.EMAIL_PORT,
            username=settings.EMAIL_HOST_USER or None,
            password=settings.EMAIL_HOST_PASSWORD or None,
            use_tls=settings.EMAIL_USE_TLS,
            use_ssl=settings.EMAIL_USE_SSL,
            timeout=settings.EMAIL_TIMEOUT,
            fail_silently=False,
        )
        email = EmailMessage(
            subject=message.subject or message.text[:40],
            body=body,
            from_email=settings.DEFAULT_FROM_EMAIL,
            to=[message.address],
            headers={"Message-ID": message_id},
            connection=backend,
        )
        try:
            email.send()
        except smtplib.SMTPRecipientsRefused as error:
            code, words = next(iter(error.recipients.values()), (550, b""))
            return _answer(code, words)
        except smtplib.SMTPResponseException as error:  # sender refused, data refused, authentication
            return _answer(error.smtp_code, error.smtp_error)
        except (TimeoutError, smtplib.SMTPException, OSError) as error:
            return Sent(
                ok=False,
                code="connection",
                answer=(_("无法连接发信服务器：%(error)s") % {"error": error})[:500],
                retry=True,
            )
        except ValueError as error:  # an address that cannot be written in a header
            return Sent(ok=False, code="address", answer=str(error)[:500], retry=False)
        return Sent(ok=True, provider_id=message_id, code="250")
