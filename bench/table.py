"""The one table every benchmark adds rows to, as aligned text (stdout) and Markdown (docs).

Every figure stands next to the baseline measured in the same invocation and their ratio;
absolute figures alone mean little on a shared, noisy machine."""
from __future__ import annotations

from dataclasses import astuple, dataclass, fields


@dataclass
class Row:
    what: str
    n: str = ""
    cli: str = ""          # netlab as a user runs it: `python -m netlab ...`, wall clock
    api: str = ""          # the same work through the Python API in an already started process
    baseline: str = ""
    ratio_cli: str = ""
    ratio_api: str = ""
    target: str = ""
    verdict: str = ""


HEADERS = ("what", "N", "netlab CLI", "netlab API", "baseline (same run)", "ratio CLI", "ratio API",
           "target", "verdict")


def text(rows: list[Row]) -> str:
    cells = [HEADERS] + [astuple(r) for r in rows]
    widths = [max(len(c[i]) for c in cells) for i in range(len(HEADERS))]
    lines = ["  ".join(c[i].ljust(widths[i]) for i in range(len(HEADERS))).rstrip() for c in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def markdown(rows: list[Row]) -> str:
    def line(cells):
        return "| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |"
    return "\n".join([line(HEADERS), line(["---"] * len(HEADERS))] + [line(astuple(r)) for r in rows])


assert len(HEADERS) == len(fields(Row))


def verdict(met_cli: bool | None, met_api: bool | None = None) -> str:
    """Judged on what the user runs (the CLI); the API's verdict is added when it differs."""
    if met_cli is None:
        return ""
    word = "met" if met_cli else "MISSED"
    if met_api is not None and met_api != met_cli:
        word += f" (API {'met' if met_api else 'missed'})"
    return word
