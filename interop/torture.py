"""Runs smbtorture suites one at a time against a freshly started server and compares the
results with torture-known-failures.txt. Started by torture.sh (see there for usage).

Each suite gets a new server process with empty shares (or, with SMBD_TEST_EXTERNAL, the
external server with its `share` emptied when SMBD_TEST_ROOT is given), its own time limit, and
its subunit output saved in the log folder. Required suites must have no unexpected failure;
informational suites are only counted. The last line printed is `N passed, N failed` over the
required suites.
"""

from __future__ import annotations

import argparse
import fnmatch
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent / "tests"))

from accounts import ACCOUNTS  # noqa: E402
from smbd_server import REPO, StartError, log_dir, prepare_root, start_server, stop, tail  # noqa: E402

#: NT security suites: required since they pass (a known failure listed with its reason is allowed).
ACL_SUITES = ["smb2.acls", "smb2.sdread", "smb2.maximum_allowed", "smb2.create.aclfile", "smb2.create.acldir",
              "smb2.create.nulldacl", "smb2.acls_non_canonical"]
REQUIRED = ["smb2.connect", "smb2.read", "smb2.compound", *ACL_SUITES]
INFORMATIONAL = ["smb2.create", "smb2.dir", "smb2.getinfo", "smb2.setinfo", "smb2.rename"]
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
KNOWN_FILE = Path(os.environ.get("TORTURE_KNOWN_FAILURES", Path(__file__).resolve().parent / "torture-known-failures.txt"))
RESULT_RE = re.compile(r"^(success|successful|failure|error|skip|xfail|uxsuccess|todo):\s*(\S+)")
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


def smbtorture_cmd(host: str, port: int, share: str, suite: str, conf: Path, timeout: int) -> list[str]:
    user = "alice"
    return [
        "smbtorture",
        f"//{host}/{share}",
        "-p",
        str(port),
        "-U",
        f"{user}%{ACCOUNTS[user]}",
        "-s",
        str(conf),
        "--target=samba3",
        "--format=subunit",
        "--fullname",
        f"--maximum-runtime={timeout}",
        suite,
    ]


def run_smbtorture(cmd: list[str], out_path: Path, timeout: int) -> tuple[str, str]:
    """Runs smbtorture in its own process group; returns (output, problem)."""
    # smbtorture leaves scratch folders in its working directory: give it a throwaway one.
    with open(out_path, "wb") as out, tempfile.TemporaryDirectory(prefix="smbtorture-cwd-") as cwd:
        proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True, cwd=cwd)
        problem = ""
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            problem = f"timed out after {timeout} s"
    text = out_path.read_text(errors="replace")
    if not problem and proc.returncode != 0 and not parse_subunit(text):
        problem = f"smbtorture exited {proc.returncode} without results"
    return text, problem


def clear_dir(path: Path) -> None:
    """Removes everything inside `path`."""
    for child in path.iterdir():
        if child.is_dir() and not child.is_symlink():
            shutil.rmtree(child)
        else:
            child.unlink()


def run_suite(suite: str, required: bool, args, known: list[str], conf: Path, logs: Path) -> SuiteResult:
    """One suite against a fresh server (or an emptied external one)."""
    safe = suite.replace("/", "_")
    out_path = logs / f"torture-{safe}.subunit"
    external = os.environ.get("SMBD_TEST_EXTERNAL")
    proc = None
    base = None
    try:
        if external:
            host, _, port_s = external.rpartition(":")
            port = int(port_s)
            if os.environ.get("SMBD_TEST_ROOT"):
                root = Path(os.environ["SMBD_TEST_ROOT"])
                prepare_root(root)
                clear_dir(root / "share")
        else:
            host = "127.0.0.1"
            base = Path(tempfile.mkdtemp(prefix=f"torture-{safe}-"))
            root = base / "shares"
            (base / "state").mkdir()
            prepare_root(root)
            server_log = logs / f"torture-{safe}-smbd.log"
            server_log.write_text("")
            try:
                # Signing when the client asks, as Samba's selftest servers run: smbtorture's
                # suites probe requests on deleted or invalid sessions, whose answers no server
                # can sign, and Samba's client refuses unsigned answers once the server made
                # signing mandatory (our default; the pytest suites run with it).
                extra = {"top_level": ['signing = "enabled"']}
                if suite in ADMIN_SUITES:
                    extra = {"top_level": ['signing = "enabled"', f'admin_groups = ["{ADMIN_GROUP}"]'],
                             "account_lines": {"alice": [f'groups = ["{ADMIN_GROUP}"]']}}
                if suite.startswith(ABE_SUITES):
                    (root / ABE_SHARE).mkdir(exist_ok=True)
                    extra["tables"] = ["[[share]]", f'name = "{ABE_SHARE}"', f'path = "{root / ABE_SHARE}"',
                                       "access_based_enumeration = true", ""]
                proc, port = start_server(args.binary, root, base / "state", server_log, **extra)
            except StartError as e:
                return SuiteResult(suite, required, problem=f"server did not start: {e}")
        text, problem = run_smbtorture(smbtorture_cmd(host, port, "share", suite, conf, args.timeout), out_path,
                                       args.timeout)
        result = classify(suite, required, parse_subunit(text), known)
        result.problem = problem
        if proc is not None and proc.poll() is not None:
            result.problem = (result.problem + "; " if result.problem else "") + (
                f"server exited with code {proc.returncode}"
            )
        if not result.problem and not (result.passed or result.unexpected or result.known or result.fixed):
            result.problem = "no test results"
        if result.problem and proc is not None:
            print(f"--- {suite}: server log tail ({server_log})\n{tail(server_log, 60)}", file=sys.stderr)
        return result
    finally:
        if proc is not None:
            stop(proc)
        if base is not None:
            shutil.rmtree(base, ignore_errors=True)


def print_report(results: list[SuiteResult]) -> tuple[int, int]:
    """Summary table; returns (passed, failed) over the required suites."""
    print()
    print(f"{'suite':<16} {'kind':<13} {'pass':>5} {'fail':>5} {'known':>6} {'fixed':>6} {'skip':>5}  note")
    for r in results:
        kind = "required" if r.required else "informational"
        print(
            f"{r.suite:<16} {kind:<13} {len(r.passed):>5} {len(r.unexpected):>5} {len(r.known):>6} "
            f"{len(r.fixed):>6} {len(r.skipped):>5}  {r.problem}"
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


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--timeout", type=int, default=int(os.environ.get("TORTURE_TIMEOUT", "300")),
                    help="seconds allowed for one suite")
    ap.add_argument("--binary", type=Path, default=Path(os.environ.get("SMBD_BIN", REPO / "target/release/smbd")))
    ap.add_argument("--required", nargs="*", default=REQUIRED, help="suites that must pass")
    ap.add_argument("--informational", nargs="*", default=INFORMATIONAL, help="suites only counted")
    args = ap.parse_args()

    known = load_known(KNOWN_FILE)
    if not os.environ.get("SMBD_TEST_EXTERNAL") and not args.binary.is_file():
        print(f"torture: server binary {args.binary} missing (cargo build --release -p smbd)", file=sys.stderr)
        print("0 passed, 1 failed")
        return 1
    logs = log_dir()
    conf = logs / "smbtorture-client.conf"
    conf.write_text("[global]\n    workgroup = WORKGROUP\n    client min protocol = SMB2_02\n")

    results = []
    for suite, required in [(s, True) for s in args.required] + [(s, False) for s in args.informational]:
        print(f"torture: {suite} ({'required' if required else 'informational'})", flush=True)
        results.append(run_suite(suite, required, args, known, conf, logs))
    passed, failed = print_report(results)
    print(f"subunit output and server logs: {logs}")
    print(f"{passed} passed, {failed} failed")
    return 0 if failed == 0 and all(r.ok() for r in results if r.required) else 1


if __name__ == "__main__":
    sys.exit(main())
