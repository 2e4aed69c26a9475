"""Small helpers shared by the interop suites."""

from __future__ import annotations

import hashlib
import os
import subprocess
from pathlib import Path
from typing import Optional, Sequence

#: NT status names a client may print when a path that leaves the share is refused or cut back
#: to the share root and not found there. Anything else (above all, success) is a failure.
ESCAPE_REFUSED = (
    "NT_STATUS_ACCESS_DENIED",
    "NT_STATUS_OBJECT_PATH_SYNTAX_BAD",
    "NT_STATUS_OBJECT_NAME_INVALID",
    "NT_STATUS_OBJECT_PATH_NOT_FOUND",
    "NT_STATUS_OBJECT_NAME_NOT_FOUND",
    "NT_STATUS_INVALID_PARAMETER",  # a leading backslash (MS-SMB2 3.3.5.9)
)


def sha256_file(path: Path) -> str:
    """Hex SHA-256 of a local file."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


def random_file(path: Path, size: int, chunk: int = 1 << 20) -> str:
    """Writes `size` random bytes to `path`; returns their SHA-256."""
    h = hashlib.sha256()
    with open(path, "wb") as f:
        left = size
        while left:
            block = os.urandom(min(chunk, left))
            f.write(block)
            h.update(block)
            left -= len(block)
    return h.hexdigest()


def run_smbclient(
    server,
    share: str,
    commands: Optional[str],
    *,
    dialect: Optional[str] = None,
    protection: Optional[str] = None,
    user: str = "alice",
    password: Optional[str] = None,
    extra: Sequence[str] = (),
    conf: Optional[Path] = None,
    timeout: float = 300,
) -> subprocess.CompletedProcess:
    """Runs Debian's smbclient against `share`; stdout and stderr are merged in `.stdout`.

    `dialect` forces one dialect (`-m D` and `client min protocol = D`), `protection` is
    passed as `--client-protection` (sign, encrypt).
    """
    if password is None:
        password = server.accounts[user]
    args = [*getattr(server, "exec_prefix", ()), "smbclient"]
    if share:
        args.append(f"//{server.host}/{share}")
    args += ["-p", str(server.port), "-U", f"{user}%{password}"]
    if conf is not None:
        args += ["-s", str(conf)]
    if dialect:
        args += ["-m", dialect, f"--option=client min protocol={dialect}"]
    if protection:
        args.append(f"--client-protection={protection}")
    args += list(extra)
    if commands is not None:
        args += ["-c", commands]
    return subprocess.run(
        args,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        errors="replace",
        timeout=timeout,
    )


def assert_ok(result: subprocess.CompletedProcess) -> str:
    """Asserts smbclient exited 0 and printed no NT_STATUS_ error (its exit code reflects only
    the last command of a script); returns the output."""
    out = result.stdout
    assert result.returncode == 0 and "NT_STATUS_" not in out, f"exit {result.returncode}:\n{out}"
    return out
