"""The Vagrantfile is valid for Vagrant itself, and names the VMs its provisioning expects."""
from __future__ import annotations

import os
import re
import shutil
import subprocess

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def test_vagrantfile_matches_the_overlay_example():
    from netlab.model import load_file
    with open(os.path.join(ROOT, "Vagrantfile")) as f:
        text = f.read()
    vms = dict(re.findall(r'"([a-z0-9]+)" => "([0-9.]+)"', re.search(r"VMS = \{(.*?)\}", text, re.S).group(1)))
    lab_file = re.search(r'LAB_FILE = "([^"]+)"', text).group(1)
    topo = load_file(os.path.join(ROOT, lab_file))
    # each node VM carries its host's underlay address; outside is the underlay's router
    assert {h.name: str(h.address) for h in topo.hosts} == {k: v for k, v in vms.items() if k != "outside"}
    assert vms["outside"] == str(topo.underlay.gateway)
    assert 'path: "scripts/vagrant-provision"' in text and '"NETLAB_ALLOW_ROOT_NS" => "1"' in text


@pytest.mark.skipif(shutil.which("vagrant") is None, reason="vagrant is not installed (Debian package vagrant)")
def test_vagrant_validates_the_vagrantfile(tmp_path):
    env = {**os.environ, "VAGRANT_CWD": ROOT, "VAGRANT_HOME": str(tmp_path / "home"),
           "VAGRANT_DOTFILE_PATH": str(tmp_path / "dot"), "VAGRANT_CHECKPOINT_DISABLE": "1"}
    proc = subprocess.run(["vagrant", "validate", "--ignore-provider"], capture_output=True, text=True,
                          env=env, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "validated successfully" in proc.stdout
