"""The Prometheus endpoint (`metrics_listen`) during an interop run: Debian's smbclient writes
and reads a file and fails one logon, then the scrape must pass `promtool check metrics`
(Debian's prometheus package) and its counters must have moved: requests and latency of
READ and WRITE, bytes per share, sessions by auth method, the failed logon by reason.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import urllib.request

import pytest

from helpers import assert_ok, random_file, run_smbclient

SIZE = 3 * 1024 * 1024
SAMPLE = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})? (\S+)$")


def scrape(url: str) -> tuple[str, str]:
    """(Content-Type, body) of one scrape."""
    with urllib.request.urlopen(url, timeout=10) as r:
        return r.headers.get("Content-Type", ""), r.read().decode()


def samples(text: str) -> dict[str, float]:
    """`name{labels}` -> value of every sample."""
    out = {}
    for line in text.splitlines():
        m = SAMPLE.match(line)
        if m and not line.startswith("#"):
            out[m.group(1) + (m.group(2) or "")] = float(m.group(3))
    return out


def value(found: dict[str, float], name: str, **labels: str) -> float:
    """The value of the sample `name` whose labels include `labels` (0 when there is none)."""
    want = [f'{k}="{v}"' for k, v in labels.items()]
    for key, v in found.items():
        base, _, rest = key.partition("{")
        if base == name and all(w in rest for w in want):
            return v
    return 0.0


def test_scrape_is_valid_and_counters_move(live_server, make_dir, tmp_path):
    if live_server.metrics_url is None:
        pytest.skip("the server under test has no metrics endpoint (SMBD_TEST_EXTERNAL)")
    promtool = shutil.which("promtool")
    assert promtool, "promtool missing: interop/setup.sh installs Debian's prometheus package"
    _, before_text = scrape(live_server.metrics_url)
    before = samples(before_text)

    d = make_dir()
    src = tmp_path / "up.bin"
    random_file(src, SIZE)
    assert_ok(run_smbclient(live_server, "share",
                            f'put "{src}" "{d}\\up.bin"; get "{d}\\up.bin" "{tmp_path / "down.bin"}"'))
    bad = run_smbclient(live_server, "share", "ls", password="not-the-password")
    assert bad.returncode != 0 and "LOGON_FAILURE" in bad.stdout, bad.stdout

    content_type, text = scrape(live_server.metrics_url)
    assert content_type.startswith("text/plain; version=0.0.4"), content_type
    check = subprocess.run([promtool, "check", "metrics"], input=text, capture_output=True, text=True, timeout=60)
    # promtool exits 0 on a valid exposition; lint remarks (none expected) are printed too.
    assert check.returncode == 0, check.stdout + check.stderr
    after = samples(text)

    def moved(name: str, least: float = 1, **labels: str) -> None:
        delta = value(after, name, **labels) - value(before, name, **labels)
        assert delta >= least, f"{name}{labels} moved by {delta}, expected at least {least}"

    moved("smbd_requests_total", command="write")
    moved("smbd_requests_total", command="read")
    moved("smbd_request_duration_seconds_count", command="read")
    moved("smbd_request_duration_seconds_bucket", command="create", le="+Inf")
    moved("smbd_share_written_bytes_total", SIZE, share="share")
    moved("smbd_share_read_bytes_total", SIZE, share="share")
    moved("smbd_auth_failures_total", reason="logon_failure")
    assert value(after, "smbd_connections") >= 0
    for gauge in ("smbd_open_handles", "smbd_leases", "smbd_byte_range_locks", "smbd_send_queue_bytes",
                  "smbd_requests_in_flight", "smbd_async_operations"):
        assert any(k.split("{")[0] == gauge for k in after), f"{gauge} missing"


def test_the_dashboard_plots_metrics_the_server_exports(live_server):
    """Every metric tools/grafana-dashboard.json queries is in a scrape."""
    import json

    from smbd_server import REPO

    if live_server.metrics_url is None:
        pytest.skip("the server under test has no metrics endpoint (SMBD_TEST_EXTERNAL)")
    dash = json.loads((REPO / "tools" / "grafana-dashboard.json").read_text())
    exprs = [t["expr"] for p in dash["panels"] for t in p["targets"]]
    used = {m for e in exprs for m in re.findall(r"\bsmbd_[a-z_]+", e)}
    assert len(dash["panels"]) >= 8 and used
    _, text = scrape(live_server.metrics_url)
    exported = {line.split()[2] for line in text.splitlines() if line.startswith("# TYPE ")}
    exported |= {f"{name}_bucket" for name in exported}
    assert used <= exported, f"queried but not exported: {sorted(used - exported)}"
