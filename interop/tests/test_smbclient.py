"""Debian's smbclient against the server: every dialect, signing, encryption, negative cases."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from smbd_server import RO_CONTENT, RO_FILE
from helpers import ESCAPE_REFUSED, assert_ok, random_file, run_smbclient, sha256_file

BIG_SIZE = 64 * 1024 * 1024

#: (dialect, --client-protection) combinations that must all work.
CONFIGS = [
    ("SMB2_02", None),
    ("SMB2_10", None),
    ("SMB3_00", None),
    ("SMB3_02", None),
    ("SMB3_11", None),
    ("SMB3_11", "sign"),
    ("SMB3_11", "encrypt"),
]


@pytest.fixture(scope="session")
def client_conf(tmp_path_factory) -> Path:
    """An smb.conf for smbclient so that the machine's /etc/samba/smb.conf plays no part."""
    conf = tmp_path_factory.mktemp("smbclient") / "smb.conf"
    conf.write_text("[global]\n    workgroup = WORKGROUP\n    client min protocol = SMB2_02\n")
    return conf


@pytest.fixture(scope="session")
def big_file(tmp_path_factory):
    """A 64 MiB random local file and its SHA-256."""
    path = tmp_path_factory.mktemp("big") / "big.bin"
    yield path, random_file(path, BIG_SIZE)
    path.unlink()


def ids(config):
    dialect, protection = config
    return dialect if protection is None else f"{dialect}-{protection}"


@pytest.mark.parametrize("config", CONFIGS, ids=[ids(c) for c in CONFIGS])
def test_file_round_trip(live_server, fresh_dir, big_file, client_conf, tmp_path, config):
    """ls, mkdir, put/get of 64 MiB (byte-identical), allinfo, rename, rm, rmdir in one dialect."""
    dialect, protection = config
    src, digest = big_file
    dst = tmp_path / "back.bin"

    def smb(commands: str) -> str:
        return assert_ok(
            run_smbclient(live_server, "share", commands, dialect=dialect, protection=protection, conf=client_conf)
        )

    out = smb(f'cd {fresh_dir}; ls; mkdir sub; put "{src}" big.bin; allinfo big.bin; ls')
    assert f"{BIG_SIZE} bytes" in out, out
    assert "big.bin" in out and "sub" in out, out
    local = live_server.share_path("share")
    if local is not None:
        assert sha256_file(local / fresh_dir / "big.bin") == digest

    out = smb(f'cd {fresh_dir}; rename big.bin moved.bin; get moved.bin "{dst}"; ls')
    assert "moved.bin" in out and "big.bin" not in out, out
    assert dst.stat().st_size == BIG_SIZE
    assert sha256_file(dst) == digest
    dst.unlink()  # 64 MiB per dialect: do not leave them in pytest's kept temp dirs

    out = smb(f"cd {fresh_dir}; rm moved.bin; rmdir sub; ls")
    assert "moved.bin" not in out and "sub" not in out, out
    if local is not None:
        assert list((local / fresh_dir).iterdir()) == []


@pytest.mark.parametrize("dialect", ["SMB2_02", "SMB3_11"])
def test_multi_command_script(live_server, fresh_dir, client_conf, tmp_path, dialect):
    """A longer -c script: nested dirs, small files, listing, deletes, in one connection."""
    small = tmp_path / "small.txt"
    small.write_bytes(b"hello interop\n" * 100)
    script = "; ".join(
        [
            f"cd {fresh_dir}",
            "mkdir a",
            "cd a",
            "mkdir b",
            f'put "{small}" one.txt',
            f'put "{small}" two.txt',
            "ls",
            "cd b",
            f'put "{small}" three.txt',
            "cd ..",
            "rename one.txt uno.txt",
            "ls",
            f'get uno.txt "{tmp_path / "uno.txt"}"',
            "rm uno.txt",
            "rm two.txt",
            "rm b\\three.txt",
            "rmdir b",
            "cd ..",
            "rmdir a",
            "ls",
        ]
    )
    out = assert_ok(run_smbclient(live_server, "share", script, dialect=dialect, conf=client_conf))
    assert "uno.txt" in out and "two.txt" in out
    assert (tmp_path / "uno.txt").read_bytes() == small.read_bytes()
    local = live_server.share_path("share")
    if local is not None:
        assert list((local / fresh_dir).iterdir()) == []


def test_list_shares(live_server, client_conf):
    """smbclient -L lists the disk shares and IPC$ (srvsvc NetShareEnumAll over IPC$)."""
    out = run_smbclient(live_server, "", None, extra=["-L", live_server.host], conf=client_conf).stdout
    # `-L` also tries an SMB1 workgroup listing afterwards; only the share list matters here.
    names = {line.split()[0] for line in out.splitlines() if line.startswith("\t") and line.split()}
    assert {"share", "enc", "IPC$"} <= names, out


def test_second_account(live_server, client_conf):
    """bob can log on and list the share too."""
    assert_ok(run_smbclient(live_server, "share", "ls", user="bob", dialect="SMB3_11", conf=client_conf))


def test_encrypted_share_with_smb311(live_server, make_dir, client_conf, tmp_path):
    """The `enc` share works with SMB 3.1.1 (smbclient turns encryption on itself)."""
    d = make_dir("enc")
    small = tmp_path / "s.bin"
    digest = random_file(small, 300_000)
    back = tmp_path / "back.bin"
    assert_ok(
        run_smbclient(
            live_server, "enc", f'cd {d}; put "{small}" s.bin; get s.bin "{back}"; rm s.bin; cd ..; rmdir {d}',
            dialect="SMB3_11", conf=client_conf,
        )
    )
    assert sha256_file(back) == digest


def test_encrypted_share_refuses_smb21(live_server, client_conf):
    """SMB 2.1 cannot encrypt: tree connect to `enc` is refused with ACCESS_DENIED."""
    r = run_smbclient(live_server, "enc", "ls", dialect="SMB2_10", conf=client_conf)
    assert r.returncode != 0 and "NT_STATUS_ACCESS_DENIED" in r.stdout, r.stdout


def test_read_only_share(live_server, client_conf, tmp_path):
    """`ro`: reading works, writing is refused."""
    back = tmp_path / "ro.txt"
    small = tmp_path / "w.txt"
    small.write_bytes(b"x")
    assert_ok(run_smbclient(live_server, "ro", f'get {RO_FILE} "{back}"', dialect="SMB3_11", conf=client_conf))
    if live_server.root is not None:
        assert back.read_bytes() == RO_CONTENT
    for cmd in (f'put "{small}" new.txt', "mkdir newdir", f"rm {RO_FILE}"):
        r = run_smbclient(live_server, "ro", cmd, dialect="SMB3_11", conf=client_conf)
        assert any(s in r.stdout for s in ("NT_STATUS_ACCESS_DENIED", "NT_STATUS_MEDIA_WRITE_PROTECTED")), (
            cmd,
            r.stdout,
        )


def test_wrong_password(live_server, client_conf):
    r = run_smbclient(live_server, "share", "ls", password="not-the-password", conf=client_conf)
    assert r.returncode != 0 and "NT_STATUS_LOGON_FAILURE" in r.stdout, r.stdout


def test_unknown_user(live_server, client_conf):
    r = run_smbclient(live_server, "share", "ls", user="mallory", password="x", conf=client_conf)
    assert r.returncode != 0 and "NT_STATUS_LOGON_FAILURE" in r.stdout, r.stdout


def test_unknown_share(live_server, client_conf):
    r = run_smbclient(live_server, "nosuchshare", "ls", conf=client_conf)
    assert r.returncode != 0 and "NT_STATUS_BAD_NETWORK_NAME" in r.stdout, r.stdout


def test_get_escaping_share(live_server, client_conf, tmp_path):
    """`get ..\\..\\etc\\passwd` never yields a file from outside the share.

    smbclient folds the `..` itself and asks for `\\etc\\passwd` relative to the share root;
    the server must refuse the path or not find it there.
    """
    out_file = tmp_path / "passwd"
    r = run_smbclient(live_server, "share", f'get ..\\..\\etc\\passwd "{out_file}"', conf=client_conf)
    assert r.returncode != 0 and any(s in r.stdout for s in ESCAPE_REFUSED), r.stdout
    assert not out_file.exists() or out_file.stat().st_size == 0


def test_cd_escaping_share(live_server, fresh_dir, client_conf):
    """`cd ..` at the root stays in the share: a later ls shows the share's own entries."""
    r = run_smbclient(live_server, "share", "cd ..; cd ..; ls", conf=client_conf)
    if r.returncode == 0 and "NT_STATUS_" not in r.stdout:
        assert fresh_dir in r.stdout, r.stdout
    else:
        assert any(s in r.stdout for s in ESCAPE_REFUSED), r.stdout
    r = run_smbclient(live_server, "share", "cd ..\\..\\..\\etc; ls passwd", conf=client_conf)
    assert any(s in r.stdout for s in ESCAPE_REFUSED), r.stdout
    assert not re.search(r"^\s+passwd\s+\S*\s+\d+\s", r.stdout, re.M), r.stdout


def test_still_serving_after_negative_cases(live_server, client_conf):
    """Runs last in this file: the failed logons and refused paths left the server healthy."""
    for dialect in ("SMB2_02", "SMB3_11"):
        assert_ok(run_smbclient(live_server, "share", "ls", dialect=dialect, conf=client_conf))
