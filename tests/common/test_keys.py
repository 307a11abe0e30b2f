"""The keys of personal data: a key file made at first run, keys from the environment,
rotation that re-encrypts everything while look-ups keep working, and retiring old keys
only when nothing needs them."""

import io
import stat

import pytest
from cryptography.fernet import Fernet, InvalidToken
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from jiedao.cases import selectors as case_selectors
from jiedao.cases import services as case_services
from jiedao.cases.models import Case
from jiedao.common import crypto, selectors
from jiedao.org.models import User

pytestmark = pytest.mark.django_db

PHONES = ["13812345678", "13912345679", "13712345670"]


def keys_in(path):
    return [line for line in path.read_text().splitlines() if line and not line.startswith("#")]


def raw_phone(case):
    """The reporter's phone as the database holds it."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT reporter_phone FROM cases_case WHERE id = %s", [case.pk])
        return cursor.fetchone()[0]


def run(*args):
    out = io.StringIO()
    call_command("keys", *args, stdout=out)
    return out.getvalue()


def report(street, phone):
    case, _ = case_services.submit_case(
        street.users.operator,
        channel="phone",
        description="楼道灯不亮",
        reporter_name="张三丰",
        reporter_phone=phone,
        address="东湖小区3号楼2单元501",
    )
    return case


# --- the key files ----------------------------------------------------------------------


def test_first_use_creates_private_key_files(key_dir):
    assert not key_dir.exists()
    token = crypto.encrypt("13812345678")
    index = crypto.blind_index("13812345678")
    field_file, index_file = key_dir / "field.keys", key_dir / "index.key"
    assert stat.S_IMODE(field_file.stat().st_mode) == 0o600
    assert stat.S_IMODE(index_file.stat().st_mode) == 0o600
    assert stat.S_IMODE(key_dir.stat().st_mode) == 0o700
    [key] = keys_in(field_file)
    assert Fernet(key.encode()).decrypt(token.encode()) == b"13812345678"
    # Later use (another process, a restart) reads the same keys instead of making new ones.
    crypto.forget_cached_keys()
    assert crypto.decrypt(token) == "13812345678"
    assert crypto.blind_index("13812345678") == index
    assert keys_in(field_file) == [key]


def test_keys_do_not_come_from_the_secret_key(settings, key_dir):
    token = crypto.encrypt("13812345678")
    index = crypto.blind_index("13812345678")
    settings.SECRET_KEY = "another-secret-key-for-signing-cookies-only-0123456789"
    assert crypto.decrypt(token) == "13812345678"
    assert crypto.blind_index("13812345678") == index


def test_keys_from_the_environment_write_no_file(settings, key_dir):
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    old_token = Fernet(old.encode()).encrypt(b"13812345678").decode()
    settings.FIELD_ENCRYPTION_KEY = f"{new}, {old}"
    settings.BLIND_INDEX_KEY = crypto.generate_index_key()
    token = crypto.encrypt("13912345679")
    assert Fernet(new.encode()).decrypt(token.encode()) == b"13912345679"  # the first key encrypts
    assert crypto.decrypt(old_token) == "13812345678"  # every key decrypts
    crypto.blind_index("13812345678")
    assert not key_dir.exists()


def test_a_broken_key_is_refused_with_a_clear_message(settings):
    settings.FIELD_ENCRYPTION_KEY = "not-a-key"
    with pytest.raises(ImproperlyConfigured, match="field key 1 is not a valid key"):
        crypto.encrypt("13812345678")


def test_ciphertext_is_never_shown_as_data(settings):
    token = crypto.encrypt("13812345678")
    settings.FIELD_ENCRYPTION_KEY = Fernet.generate_key().decode()
    with pytest.raises(ValueError, match="cannot be decrypted"):
        crypto.decrypt(token)


# --- rotation ----------------------------------------------------------------------------


def test_rotation_reencrypts_every_value_and_look_ups_still_work(street, key_dir):
    cases = [report(street, phone) for phone in PHONES]
    old_tokens = {case.pk: raw_phone(case) for case in cases}
    [old_key] = keys_in(key_dir / "field.keys")
    before = selectors.key_status()
    assert before.key_count == 1 and before.older == 0 and before.current == before.total > 0

    out = run("rotate", "--batch", "2")

    keys = keys_in(key_dir / "field.keys")
    assert len(keys) == 2 and keys[1] == old_key and keys[0] != old_key
    assert "cases.Case: 2/3" in out and "cases.Case: 3/3" in out  # progress, batch by batch
    for case in cases:
        token = raw_phone(case)
        assert token != old_tokens[case.pk]
        assert Fernet(keys[0].encode()).decrypt(token.encode()).decode() == case.reporter_phone
        with pytest.raises(InvalidToken):
            Fernet(old_key.encode()).decrypt(token.encode())
    # Every value of every model: the users' phones too.
    resident = User.objects.get(username="resident")
    assert resident.phone == "13800138000"
    after = selectors.key_status()
    assert after.key_count == 2 and after.total == before.total and after.current == after.total
    # Old data reads in full, and the blind index still finds a case by its phone.
    for case, phone in zip(cases, PHONES, strict=False):
        fresh = Case.objects.get(pk=case.pk)
        assert (fresh.reporter_phone, fresh.reporter_name, fresh.address) == (phone, "张三丰", "东湖小区3号楼2单元501")
        assert case_selectors.public_case(case.number, phone) == fresh


def test_status_counts_values_under_the_current_and_older_keys(street, key_dir):
    report(street, PHONES[0])
    old_key = keys_in(key_dir / "field.keys")[0]
    crypto.write_field_keys([crypto.generate_key(), old_key])  # a new key, nothing re-encrypted yet
    report(street, PHONES[1])  # written under the new key
    status = selectors.key_status()
    by_field = {(row.model, row.field): row for row in status.fields}
    phones = by_field[("cases.Case", "reporter_phone")]
    assert (phones.total, phones.current, phones.older) == (2, 1, 1)
    out = run("status")
    assert "密钥数量：2" in out
    assert f"{status.total} 个加密值，{status.current} 个由当前密钥加密，{status.older} 个由旧密钥加密" in out


def test_retire_is_refused_while_values_under_the_old_key_remain(street, key_dir):
    case = report(street, PHONES[0])
    old_key = keys_in(key_dir / "field.keys")[0]
    new_key = crypto.generate_key()
    crypto.write_field_keys([new_key, old_key])
    with pytest.raises(CommandError, match="旧密钥加密"):
        run("retire-old")
    assert keys_in(key_dir / "field.keys") == [new_key, old_key]
    assert Case.objects.get(pk=case.pk).reporter_phone == PHONES[0]

    run("reencrypt")
    out = run("retire-old")
    assert "已停用 1 个旧密钥" in out
    assert keys_in(key_dir / "field.keys") == [new_key]
    crypto.forget_cached_keys()
    assert Case.objects.get(pk=case.pk).reporter_phone == PHONES[0]
    assert case_selectors.public_case(case.number, PHONES[0]).pk == case.pk
    assert run("retire-old").startswith("只有一个密钥")


def test_rotate_then_retire_leaves_one_new_key(street, key_dir):
    case = report(street, PHONES[0])
    old_key = keys_in(key_dir / "field.keys")[0]
    run("rotate")
    run("retire-old")
    [key] = keys_in(key_dir / "field.keys")
    assert key != old_key
    assert Fernet(key.encode()).decrypt(raw_phone(case).encode()).decode() == PHONES[0]


def test_unreadable_values_are_reported_and_block_retiring(street, key_dir):
    case = report(street, PHONES[0])
    foreign = Fernet(Fernet.generate_key()).encrypt(b"13800000000").decode()
    with connection.cursor() as cursor:
        cursor.execute("UPDATE cases_case SET address = %s WHERE id = %s", [foreign, case.pk])
    crypto.write_field_keys([crypto.generate_key(), *keys_in(key_dir / "field.keys")])
    with pytest.raises(CommandError, match="无法用已配置的任何密钥解密"):
        run("reencrypt")
    assert selectors.key_status().unreadable == 1
    with connection.cursor() as cursor:
        cursor.execute("SELECT address FROM cases_case WHERE id = %s", [case.pk])
        assert cursor.fetchone()[0] == foreign  # left as it was
    with pytest.raises(CommandError):
        run("retire-old")
    assert len(keys_in(key_dir / "field.keys")) == 2


def test_rotate_refuses_keys_from_the_environment(settings, street):
    settings.FIELD_ENCRYPTION_KEY = Fernet.generate_key().decode()
    with pytest.raises(CommandError, match="JIEDAO_FIELD_KEYS"):
        run("rotate")


def test_generate_prints_a_usable_key():
    key = run("generate").strip()
    assert Fernet(key.encode()).decrypt(Fernet(key.encode()).encrypt(b"x")) == b"x"
