"""A private network namespace for tests whose client cannot dial another port than 445.

Debian's smbcacls (Samba 4.17) always dials port 445, then 139. Rather than bind port 445 of
the machine, the server runs inside a namespace of its own (`ip netns add`, its loopback up):
its 127.0.0.1:445 there is private to the test and is gone when the namespace is deleted.
Programs reach it by running inside the namespace (`prefix()` before the command line), and
in-process Python clients by creating their sockets while the calling thread is inside it
(`entered()`; a socket stays in the namespace it was created in).

Needs root (CAP_SYS_ADMIN) and iproute2; `NetNs.create()` returns None when either is missing.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import shutil
import subprocess
import uuid
from typing import Iterator, Optional

CLONE_NEWNET = 0x40000000
_libc = ctypes.CDLL(None, use_errno=True)


def _setns(fd: int) -> None:
    if _libc.setns(fd, CLONE_NEWNET) != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"setns: {os.strerror(err)}")


class NetNs:
    """A named network namespace with its loopback up; delete() removes it."""

    def __init__(self, name: str):
        self.name = name

    @classmethod
    def create(cls) -> Optional["NetNs"]:
        """A fresh namespace, or None without root or `ip` (or with SMBD_TEST_NO_NETNS=1, to
        exercise the fallbacks)."""
        if os.geteuid() != 0 or shutil.which("ip") is None or os.environ.get("SMBD_TEST_NO_NETNS") == "1":
            return None
        name = f"smbdtest-{os.getpid()}-{uuid.uuid4().hex[:6]}"
        try:
            subprocess.run(["ip", "netns", "add", name], check=True, capture_output=True, timeout=20)
        except (subprocess.SubprocessError, OSError):
            return None
        ns = cls(name)
        try:
            subprocess.run(["ip", "-n", name, "link", "set", "lo", "up"], check=True, capture_output=True,
                           timeout=20)
        except (subprocess.SubprocessError, OSError):
            ns.delete()
            return None
        return ns

    def prefix(self) -> list[str]:
        """What to put before a command line so that it runs inside the namespace."""
        return ["ip", "netns", "exec", self.name]

    @contextlib.contextmanager
    def entered(self) -> Iterator[None]:
        """Runs the block with the calling thread inside the namespace, then returns it to the
        namespace it was in."""
        with open("/proc/thread-self/ns/net", "rb") as home, open(f"/run/netns/{self.name}", "rb") as ns:
            _setns(ns.fileno())
            try:
                yield
            finally:
                _setns(home.fileno())

    def delete(self) -> None:
        """Removes the namespace (its sockets go with the last process holding them)."""
        subprocess.run(["ip", "netns", "delete", self.name], capture_output=True, timeout=20)
