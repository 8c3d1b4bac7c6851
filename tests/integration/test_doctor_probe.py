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
    # IPv6 as `up` sees it: the machine's switch, and the backend's ip6tables row
    from netlab.kernel.features import ipv6_missing
    from netlab.kernel.firewall import default_name
    assert rows["ipv6"] == ("ok" if ipv6_missing() is None else "MISSING")
    assert rows["ip6tables"] == rows[f"ip6tables-{default_name()}"]
    assert rows["nftables-ip6"] == "ok" or rows["nftables"] == "MISSING"
    assert not [n for n in os.listdir("/run/netns") if n.startswith("nldoctor")]
