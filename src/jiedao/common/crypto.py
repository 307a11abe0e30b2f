"""Encryption at rest for personal data (identity numbers, phones, addresses).

Values are encrypted with Fernet (AES-128-CBC + HMAC-SHA256) under the key in
``settings.FIELD_ENCRYPTION_KEY``; a keyed hash (HMAC-SHA256, "blind index")
stored beside a value lets the system find records by exact value without
decrypting them all.
"""

import base64
import hashlib
import hmac
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.db import models


@lru_cache(maxsize=4)
def _fernet(key_setting: str, secret_key: str) -> MultiFernet:
    keys = [k.strip() for k in key_setting.split(",") if k.strip()]
    if not keys:
        # Demo fallback: derive a key from SECRET_KEY so a laptop works out of the box.
        digest = hashlib.sha256(("jiedao-field-key:" + secret_key).encode()).digest()
        keys = [base64.urlsafe_b64encode(digest).decode()]
    # The first key encrypts; all keys decrypt (key rotation).
    return MultiFernet([Fernet(k.encode()) for k in keys])


def fernet() -> MultiFernet:
    return _fernet(settings.FIELD_ENCRYPTION_KEY, settings.SECRET_KEY)


def encrypt(value: str) -> str:
    return fernet().encrypt(value.encode("utf-8")).decode("ascii")


def decrypt(token: str) -> str:
    try:
        return fernet().decrypt(token.encode("ascii")).decode("utf-8")
    except InvalidToken as exc:  # wrong key: never show ciphertext as if it were data
        raise ValueError("personal data cannot be decrypted with the configured key") from exc


def blind_index(value: str) -> str:
    key = hashlib.sha256(("jiedao-blind-index:" + settings.SECRET_KEY).encode()).digest()
    return hmac.new(key, value.strip().encode("utf-8"), hashlib.sha256).hexdigest()


class EncryptedTextField(models.TextField):
    """A text field stored encrypted; Python code sees the plain value."""

    description = "Encrypted text"

    def from_db_value(self, value, expression, connection):
        if value is None or value == "":
            return value
        return decrypt(value)

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        if value is None or value == "":
            return value
        return encrypt(value)

    def deconstruct(self):
        name, path, args, kwargs = super().deconstruct()
        return name, "jiedao.common.crypto.EncryptedTextField", args, kwargs
