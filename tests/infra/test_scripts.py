"""The test and benchmark plumbing: the throw-away PostgreSQL cluster, the two-database
test runner and the benchmark's arithmetic."""

import glob
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
HAVE_POSTGRES = bool(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
needs_postgres = pytest.mark.skipif(not HAVE_POSTGRES, reason="PostgreSQL server binaries are not installed")

sys.path.insert(0, str(REPO / "bench"))
import intake  # noqa: E402


def run(cmd, env=None, timeout=180):
    full_env = dict(os.environ)
    full_env.pop("DATABASE_URL", None)
    full_env.update(env or {})
    return subprocess.run(cmd, cwd=REPO, env=full_env, capture_output=True, text=True, timeout=timeout)


@needs_postgres
def test_throwaway_cluster_serves_the_command_then_disappears(tmp_path):
    probe = (
        "import os, psycopg\n"
        "url = os.environ['DATABASE_URL']\n"
        "with psycopg.connect(url) as c:\n"
        "    print(c.execute('select current_database()').fetchone()[0])\n"
        "    print(c.execute('show data_directory').fetchone()[0])\n"
        "raise SystemExit(3)\n"
    )
    result = run(["bash", "scripts/pg-throwaway.sh", "--", sys.executable, "-c", probe], env={"TMPDIR": str(tmp_path)})
    # The command's own exit status comes back, and the cluster is gone afterwards.
    assert result.returncode == 3, result.stderr
    lines = result.stdout.split()
    assert "jiedao" in lines
    data_dir = next(line for line in lines if line.endswith("/data"))
    assert not Path(data_dir).exists()
    assert not Path(data_dir).parent.exists()
    assert "stopped" in result.stdout


def fake_pytest(tmp_path, exit_code):
    script = tmp_path / "fake-pytest"
    script.write_text(f'#!/bin/sh\necho "db=${{DATABASE_URL:-sqlite}}"\nexit {exit_code}\n')
    script.chmod(0o755)
    return str(script)


def fake_checks(tmp_path, exit_code=0):
    script = tmp_path / "fake-checks"
    script.write_text(f'#!/bin/sh\necho "code checks ran"\nexit {exit_code}\n')
    return str(script)


@needs_postgres
@pytest.mark.parametrize("exit_code, verdict", [(5, "no tests collected"), (1, "some tests failed")])
def test_test_all_fails_when_a_run_fails_or_collects_nothing(tmp_path, exit_code, verdict):
    result = run(
        ["bash", "scripts/test-all.sh"],
        env={"PYTEST": fake_pytest(tmp_path, exit_code), "CHECK_CODE": fake_checks(tmp_path)},
    )
    assert result.returncode != 0
    assert "Run 1 of 2: SQLite" in result.stdout and "Run 2 of 2: PostgreSQL" in result.stdout
    assert "db=sqlite" in result.stdout and "db=postgres://" in result.stdout
    assert result.stdout.count(verdict) == 2


@needs_postgres
def test_test_all_passes_when_the_checks_and_both_runs_pass(tmp_path):
    result = run(
        ["bash", "scripts/test-all.sh"], env={"PYTEST": fake_pytest(tmp_path, 0), "CHECK_CODE": fake_checks(tmp_path)}
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "code checks ran" in result.stdout
    assert result.stdout.count("passed") == 3


@needs_postgres
def test_test_all_fails_when_the_code_checks_fail_but_still_runs_the_tests(tmp_path):
    result = run(
        ["bash", "scripts/test-all.sh"],
        env={"PYTEST": fake_pytest(tmp_path, 0), "CHECK_CODE": fake_checks(tmp_path, 3)},
    )
    assert result.returncode != 0
    assert "FAILED (code checks)" in result.stdout
    assert "db=sqlite" in result.stdout and "db=postgres://" in result.stdout


def test_system_deps_reports_each_package():
    if not all(
        subprocess.run(["dpkg-query", "-W", p], capture_output=True).returncode == 0
        for p in ("chromium", "postgresql", "fonts-noto-cjk")
    ):
        pytest.skip("a package is missing: the script would try to install it")
    result = run(["bash", "scripts/system-deps.sh"], timeout=60)
    assert result.returncode == 0
    assert "nothing to install" in result.stdout


def test_bench_rate_is_the_median_of_five_second_windows():
    start = 100.0
    # 10, 20 and 30 cases in three consecutive windows; one late finish outside them.
    finishes = ([start + 1] * 10) + ([start + 6] * 20) + ([start + 11] * 30) + [start + 16]
    median, rates = intake.windows_median(finishes, start, 15)
    assert rates == [2.0, 4.0, 6.0]
    assert median == 4.0


def test_bench_percentiles():
    values = sorted(float(i) for i in range(1, 101))
    assert intake.percentile(values, 50) in (50.0, 51.0)
    assert intake.percentile(values, 99) == 99.0
    assert intake.percentile([], 99) is None
