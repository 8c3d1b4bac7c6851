"""Facts about the machine a run was taken on, for the report next to the table."""
from __future__ import annotations

import datetime
import os
import platform
from importlib import metadata


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            return next((l.split(":", 1)[1].strip() for l in f if l.startswith("model name")), "unknown")
    except OSError:
        return "unknown"


def mem_total_gib() -> float:
    with open("/proc/meminfo") as f:
        kb = next(int(l.split()[1]) for l in f if l.startswith("MemTotal:"))
    return kb / 1024 / 1024


def load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def facts() -> dict[str, str]:
    def version(pkg):
        try:
            return metadata.version(pkg)
        except metadata.PackageNotFoundError:
            return "not installed"
    return {
        "date": datetime.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z"),
        "cpus (nproc)": str(os.cpu_count()),
        "cpu model": cpu_model(),
        "memory": f"{mem_total_gib():.1f} GiB",
        "kernel": platform.release(),
        "os": platform.freedesktop_os_release().get("PRETTY_NAME", "unknown"),
        "python": platform.python_version(),
        "pyroute2": version("pyroute2"),
    }
