"""Server-side copy with the PyPI smbprotocol client: `smbclient.copyfile` asks for a resume key
(FSCTL_SRV_REQUEST_RESUME_KEY) and copies with FSCTL_SRV_COPYCHUNK_WRITE, 16 chunks of 1 MiB
per request, as robocopy and Explorer do. The data never crosses the connection, so a 1 GiB
copy should run at the speed of a local copy of the same file (printed beside it).
"""

from __future__ import annotations

import shutil
import time
import uuid

import pytest
import smbclient
from smbprotocol.connection import Connection, Dialects

from helpers import random_file, sha256_file

SIZE = 1 << 30


def unc(server, *parts) -> str:
    return "\\".join([f"\\\\{server.host}", "share", *parts])


@pytest.fixture
def cache(live_server):
    """A connection cache with a signed SMB 3.1.1 session for alice; closed after the test."""
    conn = Connection(uuid.uuid4(), live_server.host, live_server.port, require_signing=True)
    conn.connect(dialect=Dialects.SMB_3_1_1, timeout=30)
    cache = {f"{live_server.host.lower()}:{live_server.port}": conn}
    user, password = live_server.user()
    smbclient.register_session(live_server.host, user, password, port=live_server.port, connection_cache=cache)
    yield cache
    smbclient.reset_connection_cache(fail_on_error=False, connection_cache=cache)


def test_copychunk_1gib(live_server, fresh_dir, cache, report):
    local = live_server.share_path("share")
    if local is None:
        pytest.skip("needs the share's local folder (SMBD_TEST_ROOT) to write the source")
    src = local / fresh_dir / "source.bin"
    digest = random_file(src, SIZE)

    # The local reference: the same copy on the same disk, page cache as warm as for the server.
    start = time.monotonic()
    shutil.copyfile(src, local / fresh_dir / "local-copy.bin")
    local_secs = time.monotonic() - start
    (local / fresh_dir / "local-copy.bin").unlink()

    kw = {"port": live_server.port, "connection_cache": cache}
    start = time.monotonic()
    smbclient.copyfile(unc(live_server, fresh_dir, "source.bin"), unc(live_server, fresh_dir, "copy.bin"), **kw)
    secs = time.monotonic() - start

    copy = local / fresh_dir / "copy.bin"
    assert copy.stat().st_size == SIZE
    assert sha256_file(copy) == digest
    mib = SIZE / (1 << 20)
    report(
        f"server-side copy of 1 GiB: {secs:.2f} s, {mib / secs:.0f} MiB/s "
        f"(local copy of the same file: {local_secs:.2f} s, {mib / local_secs:.0f} MiB/s)"
    )
