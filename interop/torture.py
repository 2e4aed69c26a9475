"""Runs smbtorture suites one at a time against a freshly started server and compares the
results with torture-known-failures.txt. Started by torture.sh (see there for usage).

Each suite gets a new server process with empty shares (or, with SMBD_TEST_EXTERNAL, the
external server with its `share` emptied when SMBD_TEST_ROOT is given), its own time limit, and
its subunit output saved in the log folder. Required suites must have no unexpected failure;
informational suites are only counted. The last line printed is `N passed, N failed` over the
required suites.

Issue #12's suites (SESSION_SUITES: smb2.session on `share` and, as `smb2.session@enc`, on an
encrypted share, and its expire* tests once more on each with Kerberos against a private MIT
KDC, as `@krb5` and `@enc-krb5`; smb2.multichannel) are required, with Samba's selftest shares
and options.

The state suites of issue #10 (oplocks, leases, durable handles, replay, locks: STATE_SUITES) run
when asked (`--state`, as run-tests.sh does, or TORTURE_STATE=1), required, each with its own
share, options and time limit taken from Samba's selftest (source3/selftest/tests.py,
selftest/target/Samba3.pm).
"""

from __future__ import annotations

import argparse
import dataclasses
import fnmatch
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent / "tests"))

import kdc as krb5_realm  # noqa: E402
from accounts import ACCOUNTS  # noqa: E402
from netns import NetNs  # noqa: E402
from smbd_server import REPO, StartError, log_dir, prepare_root, start_server, stop, tail  # noqa: E402

#: NT security suites: required since they pass (a known failure listed with its reason is allowed).
ACL_SUITES = ["smb2.acls", "smb2.sdread", "smb2.maximum_allowed", "smb2.create.aclfile", "smb2.create.acldir",
              "smb2.create.nulldacl", "smb2.acls_non_canonical"]
#: Issue #11's suites: streams, change notify, file system controls, snapshots, file fidelity
#: (timestamps, DOS attributes, delete-on-close permissions), file ids, 8.3 short names,
#: extended attributes, and the listing, rename and set-info suites.
FS_SUITES = ["smb2.streams", "smb2.create_no_streams", "smb2.ioctl-on-stream", "smb2.notify",
             "smb2.notify-inotify", "smb2.ioctl", "smb2.set-sparse-ioctl", "smb2.zero-data-ioctl",
             "smb2.twrp", "smb2.create", "smb2.getinfo", "smb2.timestamps", "smb2.dosmode",
             "smb2.openattr", "smb2.delete-on-close-perms", "smb2.fileid", "smb2.mangle",
             "smb2.ea", "smb2.setinfo", "smb2.dir", "smb2.rename"]
#: Issue #12's multichannel suites (SESSION_SUITES).
SESSION_SUITE_NAMES = ["smb2.session", "smb2.session@enc", "smb2.session@krb5", "smb2.session@enc-krb5",
                       "smb2.multichannel"]
REQUIRED = ["smb2.connect", "smb2.read", "smb2.compound", *ACL_SUITES, *FS_SUITES, *SESSION_SUITE_NAMES]
INFORMATIONAL: list[str] = []
#: With TORTURE_ACL_ADMIN=1 the ACL suites' user (alice) is made a member of BUILTIN\\Administrators,
#: the configured admin group (security, backup, restore and take-ownership privileges). Off by
#: default: smbtorture learns a user's privileges through LSA, which the server does not offer,
#: so it expects an administrator to be refused what the privileges grant.
ADMIN_SUITES = set(ACL_SUITES) if os.environ.get("TORTURE_ACL_ADMIN", "0") == "1" else set()
ADMIN_GROUP = "S-1-5-32-544"
#: smb2.acls.ACCESSBASED connects to a share `hideunread` with access-based enumeration (Samba's
#: "hide unreadable"); suites matching these prefixes get it beside `share`.
ABE_SHARE = "hideunread"
ABE_SUITES = ("smb2.acls",)
#: Suites that connect to a share of their own, with its config lines: Samba's selftest runs
#: smb2.create_no_streams on a share without streams support (`streams = false` here), and
#: smb2.dosmode on one hiding dot files and `hidefile`.
OWN_SHARES = {"smb2.create_no_streams": ("nostreams", ["streams = false"]),
              # Samba3.pm's [dosmode]: hide files = /hidefile/, hide dot files = yes.
              "smb2.dosmode": ("dosmode", ["hide_dot_files = true", 'hide_files = ["hidefile"]']),
              # Samba3.pm's [tmpenc]: server smb encrypt = required.
              "smb2.session@enc": ("tmpenc", ['encrypt = "required"']),
              "smb2.session@enc-krb5": ("tmpenc", ['encrypt = "required"'])}
#: Top-level config lines by suite name: smb2.session reauthenticates sessions as the anonymous
#: logon (reauth2-5), which Samba's selftest servers admit; ours refuse it unless
#: `allow_anonymous` is on.
OWN_TOP_LEVEL = {"smb2.session": ["allow_anonymous = true"]}
KNOWN_FILE = Path(os.environ.get("TORTURE_KNOWN_FAILURES", Path(__file__).resolve().parent / "torture-known-failures.txt"))
#: A test's name runs to the end of the line or to the ` [` that opens a failure's details: some
#: names have spaces (smb2.delete-on-close-perms.OVERWRITE_IF Existing).
RESULT_RE = re.compile(r"^(success|successful|failure|error|skip|xfail|uxsuccess|todo):\s*(.+?)(?:\s+\[.*)?\s*$")
START_RE = re.compile(r"^test:\s*(.+?)\s*$")
#: subunit outcome word -> our bucket.
OUTCOME = {
    "success": "pass",
    "successful": "pass",
    "failure": "fail",
    "error": "fail",
    "uxsuccess": "fail",
    "skip": "skip",
    "todo": "skip",
    "xfail": "skip",
}


@dataclass(frozen=True)
class SuiteSpec:
    """One smbtorture suite and how to run it (the state suites: as Samba's selftest runs them)."""

    name: str
    #: seconds allowed for the whole suite: smbtorture gets it as --maximum-runtime and is killed
    #: (the run reports "timed out", with the test it was in) a little after it.
    timeout: int
    #: the share the suite connects to (Samba's selftest: `tmp` or `durable`).
    share: str = "share"
    #: further smbtorture arguments.
    args: tuple[str, ...] = ()
    #: what smbtorture runs, when not the suite `name` (several test names may follow each other).
    tests: tuple[str, ...] = ()
    #: appended as `@variant` to each test name, so a second run of a test (on another share) has
    #: its own name in torture-known-failures.txt.
    variant: str = ""
    #: some tests stop a client connection from sending (smbtorture's test_block_smb2_transport):
    #: Samba's selftest does it with a Samba-only FSCTL, we with iptables
    #: (torture:use_iptables), so the server and smbtorture run in a private network namespace.
    blocks_transport: bool = False
    #: PENDING_FEATURES this suite uses once they are turned on.
    pending: tuple[str, ...] = ()
    #: fnmatch patterns of tests not to run (smbtorture gets the others as --load-list).
    exclude: tuple[str, ...] = ()
    #: authenticate with Kerberos (`--use-kerberos=required`): a private MIT realm (tests/kdc.py)
    #: is started for the suite, the server gets its keytab, smbtorture its krb5.conf.
    kerberos: bool = False

    @property
    def label(self) -> str:
        """The suite's name in the report and in log file names."""
        return self.name + (f"@{self.variant}" if self.variant else "")


#: Issue #12's multichannel suites, as Samba's selftest runs them (source3/selftest/tests.py,
#: samba 4.17): smb2.session on `tmp` ("plain") and on `tmpenc` ("enc", Samba3.pm's share with
#: `server smb encrypt = required`: our `encrypt = "required"`), smb2.multichannel on `tmp`.
#: bind_different_user binds as a second user (torture:user2name, as the ad_dc runs give it).
SESSION_USER2 = ("--option=torture:user2name=bob", f"--option=torture:user2password={ACCOUNTS['bob']}")
#: The expire* tests skip without Kerberos: they ask for a 4-second ticket
#: (gensec_gssapi:requested_life_time) and expect NETWORK_SESSION_EXPIRED once it ends, then a
#: reauthentication to revive the session. Samba's selftest runs smb2.session with `-k yes`
#: too; here only those six tests run with Kerberos, the rest with NTLM.
SESSION_EXPIRE_TESTS = tuple(f"smb2.session.{t}" for t in ("expire1n", "expire1s", "expire1e", "expire2s",
                                                           "expire2e", "expire_disconnect"))
SESSION_SUITES = {
    "smb2.session": SuiteSpec("smb2.session", timeout=300, args=SESSION_USER2),
    "smb2.session@enc": SuiteSpec("smb2.session", timeout=300, share="tmpenc", variant="enc", args=SESSION_USER2),
    "smb2.session@krb5": SuiteSpec("smb2.session", timeout=240, variant="krb5", tests=SESSION_EXPIRE_TESTS,
                                   kerberos=True),
    "smb2.session@enc-krb5": SuiteSpec("smb2.session", timeout=240, share="tmpenc", variant="enc-krb5",
                                       tests=SESSION_EXPIRE_TESTS, kerberos=True),
    # Its oplock and lease tests stop a channel from sending (test_block_smb2_transport): run
    # in a private network namespace with iptables, as smb2.oplock is.
    "smb2.multichannel": SuiteSpec("smb2.multichannel", timeout=400, blocks_transport=True),
}


#: Issue #10's suites are required: an unexpected failure fails the run.
STATE_REQUIRED = True
#: With the `break_timeout` feature: the oplock and lease break acknowledgment timeout of the
#: server and smbtorture's torture:oplocktimeout (default 35 s, Windows' value; MS-SMB2 leaves
#: it to the server). smb2.oplock.batch22a checks that an open waits between this - 1 and this
#: + 15 s; batch22b and lease.timeout also wait for it: about 70 s of the two suites. Not for
#: smb2.replay: its dhv2-pending* tests hold a break unanswered for 5 s and then acknowledge it,
#: so they need the 35 s.
BREAK_TIMEOUT_S = 10
#: Config lines of the state suites by feature: "top_level" lines, or "share:NAME" lines for
#: that share. All on by default; TORTURE_STATE_FEATURES=name[,name] picks some (an empty
#: value none), e.g. to run against a server that does not have the keys.
PENDING_FEATURES = {
    # The server's timeout a second under smbtorture's: batch22b counts the second its client
    # takes to see the break after the timeout.
    "break_timeout": {"top_level": [f"oplock_break_timeout_seconds = {BREAK_TIMEOUT_S - 1}"]},
    # SMB2_SHARE_CAP_CONTINUOUS_AVAILABILITY in TREE_CONNECT: persistent handles may be granted.
    "ca": {"share:ca": ["continuous_availability = true"]},
}
STATE_FEATURES = (
    {f for f in os.environ["TORTURE_STATE_FEATURES"].split(",") if f}
    if "TORTURE_STATE_FEATURES" in os.environ
    else set(PENDING_FEATURES)
)
#: Shares beside `share` for the state suites. `durable`: Samba3.pm's [durable] (a copy of [tmp]
#: without kernel share modes, kernel oplocks and POSIX locking), which the durable suites use.
#: `ca`: a continuously available share; Samba's selftest has none (Samba offers CA only with
#: ctdb), so persistent handles are tested there only by the STATE_CA_SUITES.
STATE_SHARES = ("durable", "ca")
#: iptables inside the namespace of a blocks_transport suite.
IPTABLES = shutil.which("iptables") or "/usr/sbin/iptables"
#: Issue #10's suites with Samba's selftest setup (source3/selftest/tests.py, samba 4.17):
#: smb2.oplock on `tmp` with --client-protection=sign; smb2.lease, durable-open-disconnect and
#: smb2.lock on `tmp` (lock also on an `aio` share: Samba's async I/O, nothing here);
#: durable-open, durable-v2-open, durable-v2-delay and replay on `durable`. Time limits: two to
#: three times what Samba 4.17 takes on this machine (oplock 110 s, lease 185 s, replay 172 s,
#: durable-v2-delay 11 s, each of the others 2 s or less: 8 minutes in all), at least 60 s.
STATE_SUITES = [
    SuiteSpec("smb2.oplock", timeout=300, args=("--client-protection=sign",), blocks_transport=True,
              pending=("break_timeout",)),
    SuiteSpec("smb2.lease", timeout=400, pending=("break_timeout",)),
    SuiteSpec("smb2.durable-open", timeout=120, share="durable"),
    SuiteSpec("smb2.durable-v2-open", timeout=120, share="durable"),
    SuiteSpec("smb2.durable-open-disconnect", timeout=60),
    SuiteSpec("smb2.durable-v2-delay", timeout=60, share="durable"),
    SuiteSpec("smb2.lock", timeout=120),
    # The dhv2-pending*-windows tests expect Windows' answers (see torture-known-failures.txt)
    # and half of them wait out a 35 s break timeout first: not run, they would take 4 minutes.
    SuiteSpec("smb2.replay", timeout=400, share="durable", blocks_transport=True,
              exclude=("smb2.replay.dhv2-pending*-windows",)),
]
#: With the `ca` feature, the tests that behave differently on a continuously available share run
#: once more on `ca`: durable-v2-open.persistent-open-* expect persistent handles granted there
#: (and refused on `durable`), replay.replay5 skips unless the share is CA.
STATE_CA_SUITES = [
    SuiteSpec("smb2.persistent", timeout=120, share="ca", variant="ca", pending=("ca",),
              tests=("smb2.durable-v2-open.persistent-open-oplock", "smb2.durable-v2-open.persistent-open-lease",
                     "smb2.replay.replay5")),
]
#: The snapshot smb2.twrp opens (Samba's test_shadow_copy_torture.sh).
TWRP_SNAPSHOT = "@GMT-2015.10.31-19.40.30"
#: Issue #11's suites that Samba's selftest skips as "for manual testing, needs additional
#: parameters" (selftest/skip), given those parameters: set-sparse-ioctl sets the sparse flag on
#: the file it names (creating it); zero-data-ioctl opens an existing file, so set-sparse-ioctl
#: runs first in the same smbtorture run to create it, then zeroes a range of it.
MANUAL_SUITES = {
    "smb2.set-sparse-ioctl": SuiteSpec("smb2.set-sparse-ioctl", timeout=60,
                                       args=("--option=torture:filename=manual_sparse.dat",)),
    "smb2.zero-data-ioctl": SuiteSpec("smb2.zero-data-ioctl", timeout=60,
                                      args=("--option=torture:filename=manual_zero.dat",
                                            "--option=torture:offset=4096",
                                            "--option=torture:beyond_final_zero=8192"),
                                      tests=("smb2.set-sparse-ioctl", "smb2.zero-data-ioctl")),
    # Samba's selftest gives smb2.ea the name its NT ACL xattr has as an EA
    # (torture:acl_xattr_name); ours is user.smbd.security.sd, so a client would spell it
    # `smbd.security.sd`: it must be neither listed nor settable (ACCESS_DENIED).
    "smb2.ea": SuiteSpec("smb2.ea", timeout=60, args=("--option=torture:acl_xattr_name=smbd.security.sd",)),
    # As Samba's test_shadow_copy_torture.sh drives it (selftest runs smb2.twrp only from
    # there): a share `shadow` with one snapshot holding `foo` and a hard link of the live
    # `subdir/hardlink` (see prepare_shadow).
    "smb2.twrp": SuiteSpec("smb2.twrp", timeout=60, share="shadow",
                           args=("--option=torture:twrp_file=foo",
                                 f"--option=torture:twrp_snapshot={TWRP_SNAPSHOT}")),
}


def prepare_shadow(root: Path) -> list[str]:
    """The `shadow` share of smb2.twrp and its snapshot folder; returns its config lines."""
    live, snaps = root / "shadow", root / "shadow-snapshots"
    snap = snaps / TWRP_SNAPSHOT
    (live / "subdir").mkdir(parents=True, exist_ok=True)
    (snap / "subdir").mkdir(parents=True, exist_ok=True)
    for d in (live, snap):
        (d / "foo").write_text("shadow copy content\n")
    (live / "subdir" / "hardlink").touch()
    os.link(live / "subdir" / "hardlink", snap / "subdir" / "hardlink")
    return [f'snapshot_dir = "{snaps}"']


def named_spec(name: str, timeout: int) -> SuiteSpec:
    """The spec of a suite named on the command line: its own (MANUAL_SUITES), or a plain one on
    its share (OWN_SHARES) or the default share."""
    spec = MANUAL_SUITES.get(name) or SESSION_SUITES.get(name)
    if spec is not None:
        return spec
    return SuiteSpec(name, timeout=timeout, share=OWN_SHARES.get(name, ("share",))[0])


#: Seconds smbtorture gets past its --maximum-runtime before it is killed.
KILL_GRACE_S = 30


class KnownFailuresError(Exception):
    """The known-failures file has a line without a `# reason`."""


def load_known(path: Path) -> list[str]:
    """Test name patterns (fnmatch) listed as known failures; each line must carry a reason."""
    patterns = []
    if not path.exists():
        return patterns
    for number, raw in enumerate(path.read_text().splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        name, sep, reason = line.partition("#")
        if not sep or not reason.strip() or not name.strip():
            raise KnownFailuresError(f"{path}:{number}: entry needs a name and a reason after '#': {raw!r}")
        patterns.append(name.strip())
    return patterns


def parse_subunit(text: str) -> dict[str, str]:
    """Test name -> pass/fail/skip from smbtorture's subunit (v1) output."""
    results: dict[str, str] = {}
    for line in text.splitlines():
        m = RESULT_RE.match(line)
        if m:
            results[m.group(2)] = OUTCOME[m.group(1)]
    return results


def unfinished_test(text: str) -> str:
    """The test smbtorture started last and gave no result for, or ""."""
    started = ""
    for line in text.splitlines():
        m = START_RE.match(line)
        if m:
            started = m.group(1)
        elif (r := RESULT_RE.match(line)) and r.group(2) == started:
            started = ""
    return started


@dataclass
class SuiteResult:
    """Outcome of one suite."""

    suite: str
    required: bool
    passed: list[str] = field(default_factory=list)
    unexpected: list[str] = field(default_factory=list)
    known: list[str] = field(default_factory=list)
    fixed: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    problem: str = ""
    seconds: float = 0.0

    def ok(self) -> bool:
        """No unexpected failure and the suite ran to its end."""
        return not self.unexpected and not self.problem


def classify(suite: str, required: bool, results: dict[str, str], known: list[str]) -> SuiteResult:
    """Sorts each test's outcome against the known-failures patterns."""
    r = SuiteResult(suite, required)
    for name, outcome in sorted(results.items()):
        listed = any(fnmatch.fnmatchcase(name, p) for p in known)
        if outcome == "pass":
            (r.fixed if listed else r.passed).append(name)
        elif outcome == "fail":
            (r.known if listed else r.unexpected).append(name)
        else:
            r.skipped.append(name)
    return r


def load_list(spec: SuiteSpec, logs: Path) -> list[str]:
    """`--load-list=FILE` with the tests of `spec` not excluded, or nothing when none is."""
    if not spec.exclude:
        return []
    listed = subprocess.run(["smbtorture", "--list", *(spec.tests or (spec.name,))],
                            capture_output=True, text=True, check=True).stdout.split()
    names = []
    for full in listed:
        # `--list` prints suite.tcase.test; a one-test tcase runs as suite.test.
        parts = full.split(".")
        name = ".".join(parts[:-1]) if len(parts) > 2 and parts[-1] == parts[-2] else full
        if name.startswith("smb") and not any(fnmatch.fnmatch(name, p) for p in spec.exclude):
            names.append(name)
    path = logs / f"torture-{spec.label}.load-list"
    path.write_text("".join(f"{n}\n" for n in names))
    return [f"--load-list={path}"]


def smbtorture_cmd(host: str, port: int, spec: SuiteSpec, conf: Path, prefix: list[str],
                   logs: Path) -> list[str]:
    user = "alice"
    creds = [f"{user}%{ACCOUNTS[user]}"]
    if spec.kerberos:
        host = krb5_realm.HOST
        creds = [f"{user}@{krb5_realm.REALM}%{krb5_realm.USERS[user]}", "--use-kerberos=required"]
    block = ["--option=torture:use_iptables=yes", f"--option=torture:iptables_command={IPTABLES}"] if prefix else []
    if "break_timeout" in spec.pending and "break_timeout" in STATE_FEATURES:
        block.append(f"--option=torture:oplocktimeout={BREAK_TIMEOUT_S}")
    return [
        *prefix,
        "smbtorture",
        f"//{host}/{spec.share}",
        "-p",
        str(port),
        "-U",
        *creds,
        "-s",
        str(conf),
        "--target=samba3",
        "--format=subunit",
        "--fullname",
        f"--maximum-runtime={spec.timeout}",
        *spec.args,
        *block,
        *load_list(spec, logs),
        *(spec.tests or (spec.name,)),
    ]


def run_smbtorture(cmd: list[str], out_path: Path, timeout: int, env: dict | None = None) -> tuple[str, str]:
    """Runs smbtorture in its own process group; returns (output, problem). smbtorture ends
    itself after `timeout` seconds (--maximum-runtime); it is killed KILL_GRACE_S later."""
    # smbtorture leaves scratch folders in its working directory: give it a throwaway one.
    with open(out_path, "wb") as out, tempfile.TemporaryDirectory(prefix="smbtorture-cwd-") as cwd:
        proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True, cwd=cwd, env=env)
        problem = ""
        try:
            proc.wait(timeout=timeout + KILL_GRACE_S)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            problem = f"timed out after {timeout} s, killed"
    text = out_path.read_text(errors="replace")
    if not problem and "maximum runtime exceeded" in text:
        problem = f"timed out after {timeout} s"
    if not problem and proc.returncode != 0 and not parse_subunit(text):
        problem = f"smbtorture exited {proc.returncode} without results"
    running = unfinished_test(text)
    if running:
        problem = (problem or f"smbtorture exited {proc.returncode}") + f" in {running}"
    return text, problem


def clear_dir(path: Path) -> None:
    """Removes everything inside `path`."""
    for child in path.iterdir():
        if child.is_dir() and not child.is_symlink():
            shutil.rmtree(child)
        else:
            child.unlink()


def server_config(spec: SuiteSpec, root: Path, realm=None) -> dict:
    """start_server's keyword arguments (config lines) for `spec` (with `realm`'s keytab and
    alice's principal for a Kerberos suite)."""
    # Signing when the client asks, as Samba's selftest servers run: smbtorture's suites probe
    # requests on deleted or invalid sessions, whose answers no server can sign, and Samba's
    # client refuses unsigned answers once the server made signing mandatory (our default; the
    # pytest suites run with it).
    top = ['signing = "enabled"']
    extra: dict = {"top_level": top, "tables": []}
    if realm is not None:
        top += [f'keytabs = ["{realm.keytab}"]', "allow_rc4 = false", "clock_skew_seconds = 300"]
        # An MIT ticket's PAC has no LOGON_INFO: the principal is mapped to a SID here.
        extra["tables"] += ["[[principal]]", f'name = "alice@{krb5_realm.REALM}"', 'sid = "S-1-5-21-1-2-3-1105"',
                            'groups = ["S-1-5-21-1-2-3-513"]', ""]
    top.extend(OWN_TOP_LEVEL.get(spec.name, []))
    if spec.name in ADMIN_SUITES:
        top.append(f'admin_groups = ["{ADMIN_GROUP}"]')
        extra["account_lines"] = {"alice": [f'groups = ["{ADMIN_GROUP}"]']}
    shares: dict[str, list[str]] = {}
    if spec.name.startswith(ABE_SUITES):
        shares[ABE_SHARE] = ["access_based_enumeration = true"]
    if spec.share in STATE_SHARES:
        shares.update({name: [] for name in STATE_SHARES})
    for key in {spec.name, spec.label}:
        if key in OWN_SHARES:
            own, lines = OWN_SHARES[key]
            shares[own] = list(lines)
    if spec.name == "smb2.twrp":
        shares["shadow"] = prepare_shadow(root)
    if spec.name == "smb2.ioctl":
        # smb2.ioctl.bug14788 probes VALIDATE_NEGOTIATE_INFO and QUERY_NETWORK_INTERFACE_INFO on
        # a second tree, Samba3.pm's `noperm` share (skipped when it does not exist).
        shares["noperm"] = []
    for feature in sorted(STATE_FEATURES & set(spec.pending)):
        for where, lines in PENDING_FEATURES.get(feature, {}).items():
            if where == "top_level":
                top.extend(lines)
            elif where.removeprefix("share:") in shares:
                shares[where.removeprefix("share:")].extend(lines)
    for name, lines in shares.items():
        (root / name).mkdir(exist_ok=True)
        extra["tables"] += ["[[share]]", f'name = "{name}"', f'path = "{root / name}"', *lines, ""]
    return extra


def run_suite(spec: SuiteSpec, required: bool, args, known: list[str], conf: Path, logs: Path) -> SuiteResult:
    """One suite against a fresh server (or an emptied external one), timed."""
    started = time.monotonic()
    result = run_suite_once(spec, required, args, known, conf, logs)
    result.seconds = time.monotonic() - started
    return result


def run_suite_once(spec: SuiteSpec, required: bool, args, known: list[str], conf: Path, logs: Path) -> SuiteResult:
    """One suite against a fresh server (or an emptied external one)."""
    safe = spec.label.replace("/", "_")
    out_path = logs / f"torture-{safe}.subunit"
    external = os.environ.get("SMBD_TEST_EXTERNAL")
    proc = None
    base = None
    ns = None
    if spec.blocks_transport and not external:
        ns = NetNs.create() if shutil.which("iptables") else None
    if spec.blocks_transport and ns is None:
        print(f"torture: {spec.label}: no private network namespace with iptables (needs root, ip, iptables and no "
              "SMBD_TEST_EXTERNAL), so its tests that block a connection fail", file=sys.stderr)
    prefix = ns.prefix() if ns is not None else []
    realm = None
    hosts_added: list = []
    env = None
    try:
        if spec.kerberos:
            if external:
                return SuiteResult(spec.label, required, problem="a Kerberos suite needs a server started here "
                                   "with the test realm's keytab (SMBD_TEST_EXTERNAL is set)")
            hosts_added = krb5_realm.add_hosts(krb5_realm.ALL_HOSTS)
            realm_dir = Path(tempfile.mkdtemp(prefix=f"torture-{safe}-krb5-"))
            try:
                realm = krb5_realm.start_realm(realm_dir)
            except (krb5_realm.RealmError, OSError, subprocess.SubprocessError) as e:
                return SuiteResult(spec.label, required, problem=f"the test KDC did not start: {e}")
            env = realm.env(ccache=realm_dir / "smbtorture.ccache")
        if external:
            host, _, port_s = external.rpartition(":")
            port = int(port_s)
            if os.environ.get("SMBD_TEST_ROOT"):
                root = Path(os.environ["SMBD_TEST_ROOT"])
                prepare_root(root)
                for name in {"share", spec.share}:
                    if (root / name).is_dir():
                        clear_dir(root / name)
        else:
            host = "127.0.0.1"
            base = Path(tempfile.mkdtemp(prefix=f"torture-{safe}-"))
            root = base / "shares"
            (base / "state").mkdir()
            prepare_root(root)
            server_log = logs / f"torture-{safe}-smbd.log"
            server_log.write_text("")
            try:
                proc, port = start_server(args.binary, root, base / "state", server_log, prefix=prefix,
                                          **server_config(spec, root, realm))
            except StartError as e:
                return SuiteResult(spec.label, required, problem=f"server did not start: {e}")
        text, problem = run_smbtorture(smbtorture_cmd(host, port, spec, conf, prefix, logs), out_path, spec.timeout,
                                       env)
        results = parse_subunit(text)
        if spec.variant:
            results = {f"{name}@{spec.variant}": outcome for name, outcome in results.items()}
        result = classify(spec.label, required, results, known)
        result.problem = problem
        if proc is not None and proc.poll() is not None:
            result.problem = (result.problem + "; " if result.problem else "") + (
                f"server exited with code {proc.returncode}"
            )
        if not result.problem and not (result.passed or result.unexpected or result.known or result.fixed):
            result.problem = f"every test skipped ({len(result.skipped)})" if result.skipped else "no test results"
        if result.problem and proc is not None:
            print(f"--- {spec.label}: server log tail ({server_log})\n{tail(server_log, 60)}", file=sys.stderr)
        return result
    finally:
        if proc is not None:
            stop(proc)
        if ns is not None:
            ns.delete()
        if realm is not None:
            krb5_realm.stop_realm(realm)
            shutil.rmtree(realm.base, ignore_errors=True)
        krb5_realm.remove_hosts(hosts_added)
        if base is not None:
            shutil.rmtree(base, ignore_errors=True)


def print_report(results: list[SuiteResult]) -> tuple[int, int]:
    """Summary table; returns (passed, failed) over the required suites."""
    width = max([16, *(len(r.suite) for r in results)])
    print()
    print(f"{'suite':<{width}} {'kind':<13} {'pass':>5} {'fail':>5} {'known':>6} {'fixed':>6} {'skip':>5} "
          f"{'secs':>5}  note")
    for r in results:
        kind = "required" if r.required else "informational"
        print(
            f"{r.suite:<{width}} {kind:<13} {len(r.passed):>5} {len(r.unexpected):>5} {len(r.known):>6} "
            f"{len(r.fixed):>6} {len(r.skipped):>5} {r.seconds:>5.0f}  {r.problem}"
        )
    for r in results:
        for name in r.unexpected:
            print(f"unexpected failure ({'required' if r.required else 'informational'}): {name}")
        for name in r.fixed:
            print(f"now passing, remove from {KNOWN_FILE.name}: {name}")
    req = [r for r in results if r.required]
    passed = sum(len(r.passed) for r in req)
    failed = sum(len(r.unexpected) + (1 if r.problem else 0) for r in req)
    return passed, failed


def state_specs(names: list[str]) -> list[SuiteSpec]:
    """The state suites named (all of them when `names` is empty), with the CA runs when the `ca`
    feature is on."""
    specs = STATE_SUITES + (STATE_CA_SUITES if "ca" in STATE_FEATURES else [])
    if os.environ.get("TORTURE_STATE_TIMEOUT"):
        limit = int(os.environ["TORTURE_STATE_TIMEOUT"])
        specs = [dataclasses.replace(s, timeout=limit) for s in specs]
    unknown = set(names) - {s.label for s in specs}
    if unknown:
        raise SystemExit(f"torture: not a state suite: {', '.join(sorted(unknown))} "
                         f"(known: {', '.join(s.label for s in specs)})")
    return [s for s in specs if not names or s.label in names]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--timeout", type=int, default=int(os.environ.get("TORTURE_TIMEOUT", "300")),
                    help="seconds allowed for one suite of --required/--informational (state suites have their own)")
    ap.add_argument("--binary", type=Path, default=Path(os.environ.get("SMBD_BIN", REPO / "target/release/smbd")))
    ap.add_argument("--required", nargs="*", default=REQUIRED, help="suites that must pass")
    ap.add_argument("--informational", nargs="*", default=INFORMATIONAL, help="suites only counted")
    ap.add_argument("--state", nargs="*", metavar="SUITE",
                    default=[] if os.environ.get("TORTURE_STATE", "0") == "1" else None,
                    help="also run the state suites of issue #10 (all, or those named); TORTURE_STATE=1 runs all")
    ap.add_argument("--only-state", action="store_true",
                    help="run only the state suites (implies --state when it is not given)")
    args = ap.parse_args()

    runs: list[tuple[SuiteSpec, bool]] = []
    if not args.only_state:
        runs += [(named_spec(s, args.timeout), True) for s in args.required]
        runs += [(named_spec(s, args.timeout), False) for s in args.informational]
    if args.state is not None or args.only_state:
        runs += [(spec, STATE_REQUIRED) for spec in state_specs(args.state or [])]

    known = load_known(KNOWN_FILE)
    if not os.environ.get("SMBD_TEST_EXTERNAL") and not args.binary.is_file():
        print(f"torture: server binary {args.binary} missing (cargo build --release -p smbd)", file=sys.stderr)
        print("0 passed, 1 failed")
        return 1
    logs = log_dir()
    conf = logs / "smbtorture-client.conf"
    conf.write_text("[global]\n    workgroup = WORKGROUP\n    client min protocol = SMB2_02\n")

    results = []
    for spec, required in runs:
        print(f"torture: {spec.label} ({'required' if required else 'informational'}, "
              f"//{spec.share}, limit {spec.timeout} s)", flush=True)
        results.append(run_suite(spec, required, args, known, conf, logs))
    passed, failed = print_report(results)
    print(f"subunit output and server logs: {logs}")
    print(f"{passed} passed, {failed} failed")
    return 0 if failed == 0 and all(r.ok() for r in results if r.required) else 1


if __name__ == "__main__":
    sys.exit(main())
