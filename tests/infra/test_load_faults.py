"""The real server and worker under mixed load, killed with SIGKILL in the middle and restarted
(and, on PostgreSQL, the database server restarted too): clients retry with their idempotency
keys, and counting in the database shows that no case, event, rating, sensor reading or points
posting was lost or written twice, and no request failed outside those moments (the short form
of bench/load.py)."""

import os
import sys
import uuid
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "bench"))
import load  # noqa: E402


@pytest.fixture
def empty_database_url():
    """On the PostgreSQL run, a fresh database in the same cluster; on SQLite, None (a new file)."""
    url = os.environ.get("DATABASE_URL")
    if not url:
        yield None
        return
    import psycopg

    name = f"jiedao_load_{uuid.uuid4().hex[:8]}"
    base, _, _db = url.rpartition("/")
    with psycopg.connect(url, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    yield f"{base}/{name}"
    with psycopg.connect(url, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_killing_server_and_worker_mid_load_loses_and_duplicates_nothing(empty_database_url):
    # On the PostgreSQL run of scripts/test-all.sh the database server is also restarted under load.
    restart_db = (18,) if empty_database_url and os.environ.get("JIEDAO_PG_RESTART") else ()
    result = load.run_load(
        seconds=26,
        clients=3,
        kill_at=(8,),
        restart_db_at=restart_db,
        database_url=empty_database_url,
        port=8720,
        out=lambda message: None,
    )
    assert result["problems"] == []
    assert result["kills"] == 1 + len(restart_db)
    assert result["errors_in_kill_windows"] > 0  # the clients felt the crash and retried
    assert result["cases"] > 10 and result["rated"] > 5
    counts = result["counts"]
    assert counts["cases_total"] == counts["cases_known"] == counts["keys"] == result["cases"]
    assert set(counts["events_max_per_action"].values()) == {1}
