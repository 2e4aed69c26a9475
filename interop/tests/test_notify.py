"""Change notify with the PyPI smbprotocol client: a watch of a whole tree reports a file that
another program creates directly in the share folder (the server learns of it through inotify),
and the server's own changes once each.
"""

from __future__ import annotations

import threading
import uuid

import pytest
from smbprotocol.change_notify import ChangeNotifyFlags, CompletionFilter, FileAction, FileSystemWatcher
from smbprotocol.connection import Connection
from smbprotocol.open import (
    CreateDisposition,
    CreateOptions,
    DirectoryAccessMask,
    FilePipePrinterAccessMask,
    ImpersonationLevel,
    Open,
    ShareAccess,
)
from smbprotocol.session import Session
from smbprotocol.tree import TreeConnect

#: Seconds a watch may take to report; a watch that never reports fails the test, not hangs it.
WAIT_S = 10


@pytest.fixture
def tree(live_server):
    """A signed SMB 3.1.1 session of alice on `share`."""
    conn = Connection(uuid.uuid4(), live_server.host, live_server.port, require_signing=True)
    conn.connect(timeout=30)
    user, password = live_server.user()
    session = Session(conn, user, password)
    session.connect()
    t = TreeConnect(session, f"\\\\{live_server.host}\\share")
    t.connect()
    yield t
    conn.disconnect(True)


def open_dir(tree, name: str) -> Open:
    d = Open(tree, name)
    d.create(
        ImpersonationLevel.Impersonation,
        DirectoryAccessMask.FILE_LIST_DIRECTORY | DirectoryAccessMask.FILE_READ_ATTRIBUTES,
        0,
        ShareAccess.FILE_SHARE_READ | ShareAccess.FILE_SHARE_WRITE | ShareAccess.FILE_SHARE_DELETE,
        CreateDisposition.FILE_OPEN,
        CreateOptions.FILE_DIRECTORY_FILE,
    )
    return d


def wait(watcher: FileSystemWatcher) -> list[tuple[int, str]]:
    """The (action, name) pairs the watch reports, within WAIT_S seconds."""
    done = threading.Event()
    result: list = []

    def run():
        result.append(watcher.wait())
        done.set()

    threading.Thread(target=run, daemon=True).start()
    assert done.wait(WAIT_S), f"no change reported within {WAIT_S} s"
    return [(i["action"].get_value(), i["file_name"].get_value()) for i in result[0]]


def test_tree_watch_reports_a_file_created_in_the_share_folder(live_server, fresh_dir, tree):
    local = live_server.share_path("share")
    if local is None:
        pytest.skip("needs the share folder on this machine (SMBD_TEST_ROOT)")
    (local / fresh_dir / "sub").mkdir()
    root = open_dir(tree, "")
    try:
        watcher = FileSystemWatcher(root)
        watcher.start(CompletionFilter.FILE_NOTIFY_CHANGE_FILE_NAME, flags=ChangeNotifyFlags.SMB2_WATCH_TREE)
        # Let the request reach the server and the watch start before the change.
        assert not watcher.response_event.wait(1), "answered before anything changed"
        (local / fresh_dir / "sub" / "from-outside.txt").write_text("hello")
        changes = wait(watcher)
        assert changes[0] == (FileAction.FILE_ACTION_ADDED, f"{fresh_dir}\\sub\\from-outside.txt")
    finally:
        root.close()


def test_watch_reports_the_servers_own_changes_once(live_server, fresh_dir, tree):
    d = open_dir(tree, fresh_dir)
    try:
        watcher = FileSystemWatcher(d)
        watcher.start(CompletionFilter.FILE_NOTIFY_CHANGE_FILE_NAME)
        assert not watcher.response_event.wait(1), "answered before anything changed"
        f = Open(tree, f"{fresh_dir}\\made-here.txt")
        f.create(
            ImpersonationLevel.Impersonation,
            FilePipePrinterAccessMask.GENERIC_WRITE,
            0,
            ShareAccess.FILE_SHARE_READ,
            CreateDisposition.FILE_CREATE,
            CreateOptions.FILE_NON_DIRECTORY_FILE,
        )
        f.write(b"data", 0)
        f.close()
        assert wait(watcher) == [(FileAction.FILE_ACTION_ADDED, "made-here.txt")]
        # Nothing more is buffered: the kernel's echo of the server's own create was dropped.
        again = FileSystemWatcher(d)
        again.start(CompletionFilter.FILE_NOTIFY_CHANGE_FILE_NAME)
        assert not again.response_event.wait(1), "the create was reported twice"
        again.cancel()
    finally:
        d.close()
