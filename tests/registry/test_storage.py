"""Identity numbers and phones are encrypted at rest: the raw database holds neither."""

from django.db import connection

from jiedao.registry import importing, services

from .conftest import PERSON_HEADERS, xlsx_bytes


def _raw_database_text():
    """Everything the database holds, as the bytes an attacker with the file would see."""
    if connection.vendor == "sqlite":
        connection.ensure_connection()
        return connection.connection.serialize().decode("utf-8", errors="replace")
    with connection.cursor() as cursor:
        cursor.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
        tables = [row[0] for row in cursor.fetchall()]
        parts = []
        for table in tables:
            cursor.execute(f'SELECT t::text FROM "{table}" t')
            parts.extend(row[0] for row in cursor.fetchall())
    return "\n".join(parts)


def test_the_raw_database_holds_no_identity_number_or_phone(registry, street):
    zhang = registry.people["张桂兰"]
    # A second source adds a conflict: its values are personal data too.
    rows = [["张桂兰", zhang.id_number, "", "", "13999998888", "", "", "", "", "", "", "", "", ""]]
    importing.import_file(
        street.users.admin,
        kind="persons",
        file=xlsx_bytes(PERSON_HEADERS, rows),
        source="社区走访",
        filename="second.xlsx",
    )
    services.record_visit(street.users.grid, person_id=zhang.pk, kind="home", note="一切正常")
    raw = _raw_database_text()
    # The dump is real: plain fields are in it.
    assert "张桂兰" in raw and "东湖家园1号楼" in raw and "一切正常" in raw
    secrets = [p.id_number for p in registry.people.values()] + [p.phone for p in registry.people.values()]
    secrets.append("13999998888")
    for secret in secrets:
        assert secret not in raw
        assert secret[-8:] not in raw  # not even the tail of a number
