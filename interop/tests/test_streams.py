"""Alternate data streams with real clients: the `Zone.Identifier` stream a browser or Explorer
writes on a downloaded file survives the copies people make of it.

- A copy through SMB as Windows' CopyFile makes it (the data by server-side copy, then each
  named stream listed by FileStreamInformation, read and written), checked with PyPI
  smbprotocol and with Samba's smbclient (`allinfo` lists the stream, `get file:stream` reads it).
- A rename through SMB keeps it.
- A copy of the share folder with POSIX tools (`cp -a`, as a backup would) carries it: a second
  server started on the copy serves it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import uuid
from pathlib import Path

import pytest
import smbclient
from smbprotocol.connection import Connection, Dialects

from accounts import ACCOUNTS
from helpers import assert_ok, run_smbclient
from smbd_server import REPO, SERVER_NAME, ServerInfo, log_dir, prepare_root, start_server, stop, tail

ZONE = b"[ZoneTransfer]\r\nZoneId=3\r\nHostUrl=https://example.invalid/setup.exe\r\n"
DATA = os.urandom(300_000)


def unc(server: ServerInfo, *parts: str) -> str:
    return "\\".join([f"\\\\{server.host}", "share", *parts])


def session(server: ServerInfo) -> dict:
    """A connection cache with a signed SMB 3.1.1 session of alice."""
    conn = Connection(uuid.uuid4(), server.host, server.port, require_signing=True)
    conn.connect(dialect=Dialects.SMB_3_1_1, timeout=30)
    cache = {f"{server.host.lower()}:{server.port}": conn}
    user, password = server.user()
    smbclient.register_session(server.host, user, password, port=server.port, connection_cache=cache)
    return cache


@pytest.fixture
def cache(live_server):
    cache = session(live_server)
    yield cache
    smbclient.reset_connection_cache(fail_on_error=False, connection_cache=cache)


def download(server: ServerInfo, path: str, kw: dict) -> None:
    """Writes `path` and its Zone.Identifier stream, as a browser saving a download does."""
    with smbclient.open_file(path, mode="wb", **kw) as f:
        f.write(DATA)
    with smbclient.open_file(path + ":Zone.Identifier", mode="wb", **kw) as f:
        f.write(ZONE)


def named_streams(path: str, kw: dict) -> dict[str, int]:
    """Named streams of `path` (name -> size), from FileStreamInformation."""
    return {s.name: s.size for s in smbclient.liststreams(path, **kw) if s.name != "::$DATA"}


def read(path: str, kw: dict) -> bytes:
    with smbclient.open_file(path, mode="rb", **kw) as f:
        return f.read()


def test_zone_identifier_survives_a_copy_as_windows_makes_it(live_server, fresh_dir, cache, tmp_path):
    kw = {"port": live_server.port, "connection_cache": cache}
    src, dst = unc(live_server, fresh_dir, "setup.exe"), unc(live_server, fresh_dir, "copy of setup.exe")
    download(live_server, src, kw)
    assert named_streams(src, kw) == {":Zone.Identifier:$DATA": len(ZONE)}

    # CopyFile: the unnamed stream by server-side copy, then every named stream one by one.
    smbclient.copyfile(src, dst, **kw)
    for name in named_streams(src, kw):
        stream = name.removesuffix(":$DATA")
        with smbclient.open_file(dst + stream, mode="wb", **kw) as f:
            f.write(read(src + stream, kw))

    assert read(dst, kw) == DATA
    assert named_streams(dst, kw) == {":Zone.Identifier:$DATA": len(ZONE)}
    assert read(dst + ":Zone.Identifier", kw) == ZONE

    # Samba's smbclient sees the same: allinfo lists the stream and `get` reads it.
    target = f"{fresh_dir}\\copy of setup.exe"
    out = assert_ok(run_smbclient(live_server, "share", f'allinfo "{target}"', dialect="SMB3_11"))
    assert "stream: [:Zone.Identifier:$DATA]" in out, out
    local = tmp_path / "zone.txt"
    assert_ok(run_smbclient(live_server, "share", f'get "{target}:Zone.Identifier" "{local}"', dialect="SMB3_11"))
    assert local.read_bytes() == ZONE


def test_zone_identifier_follows_a_rename(live_server, fresh_dir, cache):
    kw = {"port": live_server.port, "connection_cache": cache}
    src = unc(live_server, fresh_dir, "report.docx")
    download(live_server, src, kw)
    smbclient.makedirs(unc(live_server, fresh_dir, "archive"), exist_ok=True, **kw)
    moved = unc(live_server, fresh_dir, "archive", "Report 2026.docx")
    smbclient.rename(src, moved, **kw)
    assert read(moved + ":Zone.Identifier", kw) == ZONE
    assert named_streams(moved, kw) == {":Zone.Identifier:$DATA": len(ZONE)}


def test_streams_survive_a_posix_copy_of_the_share_folder(tmp_path):
    if os.environ.get("SMBD_TEST_EXTERNAL"):
        pytest.skip("starts servers of its own on copies of a share folder")
    binary = Path(os.environ.get("SMBD_BIN", REPO / "target" / "release" / "smbd"))
    if not binary.is_file():
        pytest.fail(f"server binary {binary} missing: run `cargo build --release -p smbd` first")
    def serve(root: Path, name: str):
        prepare_root(root)
        log = log_dir() / f"streams-{name}-{uuid.uuid4().hex[:8]}.log"
        proc, port = start_server(binary, root, tmp_path / f"state-{name}", log)
        info = ServerInfo(host="127.0.0.1", port=port, server_name=SERVER_NAME, accounts=dict(ACCOUNTS), root=root)
        return proc, info, log

    first, copy = tmp_path / "first" / "shares", tmp_path / "copy" / "shares"
    proc, info, log = serve(first, "first")
    try:
        cache = session(info)
        kw = {"port": info.port, "connection_cache": cache}
        smbclient.makedirs(unc(info, "Downloads"), exist_ok=True, **kw)
        download(info, unc(info, "Downloads", "tool.msi"), kw)
        smbclient.reset_connection_cache(fail_on_error=False, connection_cache=cache)
    finally:
        stop(proc)
        print(f"server log {log}:\n{tail(log, 40)}")

    # A backup of the share folder with POSIX tools, restored elsewhere.
    copy.parent.mkdir(parents=True)
    subprocess.run(["cp", "-a", str(first), str(copy)], check=True)
    shutil.rmtree(first)

    proc, info, log = serve(copy, "copy")
    try:
        cache = session(info)
        kw = {"port": info.port, "connection_cache": cache}
        path = unc(info, "Downloads", "tool.msi")
        assert read(path, kw) == DATA
        assert read(path + ":Zone.Identifier", kw) == ZONE
        # The streams' store is not part of the share's namespace.
        assert ".smbd-streams" not in [n.lower() for n in smbclient.listdir(unc(info), **kw)]
        smbclient.reset_connection_cache(fail_on_error=False, connection_cache=cache)
    finally:
        stop(proc)
        print(f"server log {log}:\n{tail(log, 40)}")
