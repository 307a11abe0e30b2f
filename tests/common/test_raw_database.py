"""Identity numbers and phones are encrypted at rest: the raw database holds none of them
in plain text (on SQLite the file's bytes; on PostgreSQL every row of every table as text)."""

import sqlite3

import pytest
from django.apps import apps
from django.db import connection

from jiedao.cases import services
from jiedao.org.models import User

pytestmark = pytest.mark.django_db(transaction=True)

WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def identity_number(first17):
    """An identity number with its GB 11643 check character."""
    return first17 + "10X98765432"[sum(int(d) * w for d, w in zip(first17, WEIGHTS, strict=False)) % 11]


PHONES = ["13812345678", "13987654321", "15011112222"]
IDS = [identity_number("11010519490101003"), identity_number("11010519850612004")]
DESCRIPTION = "东湖小区北门的路灯坏了三天"


def database_bytes(tmp_path) -> bytes:
    if connection.vendor == "sqlite":
        copy = tmp_path / "copy.sqlite3"
        connection.ensure_connection()
        target = sqlite3.connect(copy)
        connection.connection.backup(target)  # page for page, what the file on disk holds
        target.close()
        return copy.read_bytes()
    texts = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            cursor.execute(f"SELECT t::text FROM {connection.ops.quote_name(table)} AS t")
            texts.extend(row[0] for row in cursor.fetchall())
    return "\n".join(texts).encode("utf-8")


def test_no_identity_number_or_phone_in_plain_text(street, tmp_path):
    u = street.users
    for phone in PHONES:
        services.submit_case(
            u.operator,
            channel="phone",
            description=DESCRIPTION,
            reporter_name="张三丰",
            reporter_phone=phone,
            address="东湖小区3号楼2单元501",
        )
    User.objects.create_user(username="worker7", password="x" * 12, phone=PHONES[0])
    persons = 0
    if apps.is_installed("jiedao.registry"):
        from jiedao.registry import services as registry

        for number, phone in zip(IDS, PHONES, strict=False):
            registry.create_person(u.admin, name="李四", id_number=number, phone=phone)
            persons += 1

    raw = database_bytes(tmp_path)

    assert DESCRIPTION.encode("utf-8") in raw  # the data is there: plain fields are readable
    if persons:
        assert "李四".encode() in raw
    for secret in PHONES + IDS + ["13800138000"]:  # the test street's resident has a phone too
        assert secret.encode("ascii") not in raw, secret
        assert secret.encode("utf-16-le") not in raw, secret
