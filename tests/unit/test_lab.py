"""netlab.Lab without building anything: files written for renamed labs, bad text refused
before anything is written, and the picture Jupyter shows of a lab that is down."""
from __future__ import annotations

import os

import pytest

import netlab
from netlab.errors import LabError, TopologyError


def test_lab_from_text_is_renamed_and_written(monkeypatch, tmp_path):
    monkeypatch.setattr("netlab.app.lab.LAB_DIR", str(tmp_path))
    lab = netlab.Lab(yaml="name: whatever\ncontainers:\n  a: {}\n", name="nbzz")
    assert lab.name == "nbzz" and lab.file == os.path.join(str(tmp_path), "nbzz.yaml")
    assert "name: nbzz" in open(lab.file).read()
    unnamed = netlab.Lab(yaml="containers:\n  a: {}\n", name="nbzy")
    assert unnamed.name == "nbzy"


def test_bad_text_is_refused_before_writing(monkeypatch, tmp_path):
    monkeypatch.setattr("netlab.app.lab.LAB_DIR", str(tmp_path))
    with pytest.raises(TopologyError):
        netlab.Lab(yaml="containers:\n  a: {networks: [nosuch]}\n", name="nbzx")
    assert not os.listdir(tmp_path)
    with pytest.raises(LabError):
        netlab.Lab()


def test_a_lab_that_is_down_draws_its_file():
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    lab = netlab.Lab(os.path.join(root, "topologies", "demo.yaml"))
    assert lab._repr_svg_().startswith("<svg")
    html = lab._repr_html_()
    assert "<svg" in html and "Namespaces" in html and "demo-a1" in html
    assert lab.predict("a1", "a2").outcome.status == "delivered"
