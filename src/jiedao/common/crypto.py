"""Encryption at rest for personal data (identity numbers, phones, names, addresses).

Values are encrypted with Fernet (AES-128-CBC with HMAC-SHA256: authenticated
encryption). A keyed hash (HMAC-SHA256, the "blind index") stored beside a value
lets the system find records by exact value without decrypting them all.

Two kinds of keys, never derived from ``SECRET_KEY``:

- **Field keys** (``settings.FIELD_ENCRYPTION_KEY``, from ``JIEDAO_FIELD_KEYS``):
  comma-separated; the first encrypts, all decrypt. When the setting is empty the
  keys live in ``settings.FIELD_KEY_FILE`` (one key a line, first line encrypts),
  created with mode 0600 the first time a key is needed. ``jiedao keys rotate``
  puts a new key first and re-encrypts every value; the file is re-read whenever it
  changes, so running processes pick up a rotation without a restart.
- **The blind-index key** (``settings.BLIND_INDEX_KEY``, from ``JIEDAO_INDEX_KEY``,
  or ``settings.INDEX_KEY_FILE``). It is never rotated: a new one would make every
  stored index useless.
"""

import base64
import hashlib
import hmac
import logging
import secrets
import threading
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.apps import apps
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import models

from .filemodes import read_lines, write_private_file

logger = logging.getLogger("jiedao.keys")

FIELD_FILE_HEADER = (
    "# Jiedao: keys that encrypt personal data at rest (Fernet).\n"
    "# The first key encrypts, every key decrypts. Managed by `jiedao keys`.\n"
    "# Without this file the personal data in the database cannot be read: back it up,\n"
    "# separately from the database backups.\n"
)
INDEX_FILE_HEADER = (
    "# Jiedao: key of the blind index (keyed hashes for exact look-ups). Never change it.\n"
    "# Back it up together with the field keys.\n"
)


def generate_key() -> str:
    """A new random field key (32 bytes, url-safe base64, as Fernet expects)."""
    return Fernet.generate_key().decode("ascii")


def generate_index_key() -> str:
    return base64.urlsafe_b64encode(secrets.token_bytes(32)).decode("ascii")


# --- key files -----------------------------------------------------------------------

# Key files are written owner-only (0600, in a 0700 directory) and atomically.
write_key_file = write_private_file


_cache_lock = threading.Lock()
_file_cache: dict = {}


def _file_keys(path, create) -> tuple:
    """The keys in a key file, created by ``create()`` at first use; re-read when it changes."""
    path = Path(path)
    try:
        stat = path.stat()
    except FileNotFoundError:
        lines, header = create()
        write_key_file(path, lines, header=header, exclusive=True)
        stat = path.stat()
    signature = (stat.st_ino, stat.st_mtime_ns, stat.st_size)
    cached = _file_cache.get(str(path))
    if cached is not None and cached[0] == signature:
        return cached[1]
    with _cache_lock:
        keys = tuple(read_lines(path))
        if not keys:
            raise ImproperlyConfigured(f"the key file {path} holds no key")
        if stat.st_mode & 0o077:
            logger.warning("the key file %s can be read by other users: chmod 600 it", path)
        _file_cache[str(path)] = (signature, keys)
    return keys


def forget_cached_keys():
    """Drop what was read from key files (after a file was replaced by hand, or in tests)."""
    with _cache_lock:
        _file_cache.clear()
        _fernet_cache.clear()


@dataclass(frozen=True)
class KeySource:
    """Where the field keys come from: ``env`` (the setting) or ``file`` (the key file)."""

    kind: str
    path: Path | None

    @property
    def writable(self) -> bool:
        return self.kind == "file"


def field_key_source() -> KeySource:
    if settings.FIELD_ENCRYPTION_KEY.strip():
        return KeySource("env", None)
    return KeySource("file", Path(settings.FIELD_KEY_FILE))


def field_keys() -> tuple:
    """The field keys, first (current) key first."""
    configured = settings.FIELD_ENCRYPTION_KEY
    if configured.strip():
        keys = tuple(k.strip() for k in configured.split(",") if k.strip())
    else:
        keys = _file_keys(settings.FIELD_KEY_FILE, lambda: ([generate_key()], FIELD_FILE_HEADER))
    return keys


def write_field_keys(keys):
    """Replace the key file's keys (the first encrypts). Only for a file source."""
    source = field_key_source()
    if not source.writable:
        raise ImproperlyConfigured("the field keys come from JIEDAO_FIELD_KEYS; change the environment instead")
    keys = list(keys)
    for position, key in enumerate(keys, start=1):
        _check_key(key, position)
    write_key_file(source.path, keys, header=FIELD_FILE_HEADER)


def _check_key(key: str, position: int) -> Fernet:
    try:
        return Fernet(key.encode("ascii"))
    except (ValueError, UnicodeEncodeError):
        raise ImproperlyConfigured(
            f"field key {position} is not a valid key (32 bytes, url-safe base64); "
            "generate one with `jiedao keys generate`"
        ) from None


_fernet_cache: dict = {}


def _multi_fernet(keys: tuple) -> tuple:
    cached = _fernet_cache.get(keys)
    if cached is None:
        singles = [_check_key(k, i) for i, k in enumerate(keys, start=1)]
        cached = (MultiFernet(singles), singles)
        if len(_fernet_cache) > 8:
            _fernet_cache.clear()
        _fernet_cache[keys] = cached
    return cached


def fernet() -> MultiFernet:
    """All field keys: encrypts with the first, decrypts with any."""
    return _multi_fernet(field_keys())[0]


def current_fernet() -> Fernet:
    """The current (first) key alone."""
    return _multi_fernet(field_keys())[1][0]


def encrypt(value: str) -> str:
    return fernet().encrypt(value.encode("utf-8")).decode("ascii")


def decrypt(token: str) -> str:
    try:
        return fernet().decrypt(token.encode("ascii")).decode("utf-8")
    except InvalidToken as exc:  # wrong key: never show ciphertext as if it were data
        raise ValueError("personal data cannot be decrypted with the configured keys") from exc


def key_position(token: str):
    """Which field key encrypted ``token``: 0 for the current key, 1… for older ones,
    None when no configured key opens it."""
    for position, single in enumerate(_multi_fernet(field_keys())[1]):
        try:
            single.decrypt(token.encode("ascii"))
        except InvalidToken:
            continue
        return position
    return None


# --- blind index ---------------------------------------------------------------------


def index_key_source() -> KeySource:
    if settings.BLIND_INDEX_KEY.strip():
        return KeySource("env", None)
    return KeySource("file", Path(settings.INDEX_KEY_FILE))


def _index_key() -> bytes:
    configured = settings.BLIND_INDEX_KEY.strip()
    if not configured:
        configured = _file_keys(settings.INDEX_KEY_FILE, lambda: ([generate_index_key()], INDEX_FILE_HEADER))[0]
    return _decoded_index_key(configured)


@lru_cache(maxsize=4)
def _decoded_index_key(configured: str) -> bytes:
    try:
        key = base64.urlsafe_b64decode(configured.encode("ascii"))
    except (ValueError, UnicodeEncodeError):
        key = b""
    if len(key) < 32:
        raise ImproperlyConfigured("the blind-index key must be at least 32 bytes in url-safe base64")
    return key


def blind_index(value: str) -> str:
    """HMAC-SHA256 of the value under the blind-index key, hex (64 characters)."""
    return hmac.new(_index_key(), value.strip().encode("utf-8"), hashlib.sha256).hexdigest()


# --- the field -------------------------------------------------------------------------


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
        name, _path, args, kwargs = super().deconstruct()
        return name, "jiedao.common.crypto.EncryptedTextField", args, kwargs


def encrypted_fields():
    """Every ``(model, [field, …])`` of the installed apps that stores encrypted values."""

    found = []
    for model in apps.get_models():
        meta = model._meta
        if meta.proxy or not meta.managed:
            continue
        fields = [f for f in meta.local_concrete_fields if isinstance(f, EncryptedTextField)]
        if fields:
            found.append((model, fields))
    return found
