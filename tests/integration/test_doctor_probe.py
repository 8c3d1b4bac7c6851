"""`netlab doctor` probes this machine for real and leaves nothing behind."""
import os
import subprocess
import sys

import pytest
from conftest import needs_root


@needs_root
@pytest.mark.root
def test_doctor_probes_this_machine():
    proc = subprocess.run([sys.executable, "-m", "netlab", "doctor"], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    rows = {line.split()[0]: line.split()[1] for line in proc.stdout.splitlines() if line[:1].strip()}
    for core in ("netns", "veth", "bridge", "vxlan", "macvlan", "iptables-nft"):
        assert rows[core] == "ok"
    # what the kernel offers must agree with a probe by other means
    with open("/proc/filesystems") as f:
        assert rows["tracefs"] == ("ok" if "tracefs" in f.read() else "MISSING")
    assert not [n for n in os.listdir("/run/netns") if n.startswith("nldoctor")]
