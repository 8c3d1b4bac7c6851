"""Predict, then check: a learner writes the stops they expect a packet to make, and the
observed trace grades that list.

A stop is one namespace the packet passed through (a container, a host, an overlay's sandbox
`node1@ov4096`, `outside`), the trace's consecutive hops in it taken together. A prediction
names each stop by its owner, as the trace's table prints it, optionally with an interface
the packet must have crossed there: `"node1/docker0"`, `"node1/veth*"` (shell wildcards).

    expected = ["a", "node1/docker0", "b"]
    print(grade(expected, lab.trace("a", "b")))

The two lists are aligned in order (their longest common run of stops), so one wrong guess
costs one stop, not the rest of the path."""
from __future__ import annotations

from dataclasses import dataclass
from fnmatch import fnmatchcase

from ..trace.model import REQUEST, Trace

__all__ = ["Grade", "Stop", "grade", "stops"]


@dataclass(frozen=True)
class Stop:
    owner: str
    ifnames: tuple[str, ...]        # the interfaces crossed there, in order, each once

    def __str__(self) -> str:
        return f"{self.owner} ({', '.join(self.ifnames)})"


@dataclass(frozen=True)
class Grade:
    lines: tuple[str, ...]
    matched: int
    expected: int
    observed: int
    outcome_ok: bool

    @property
    def ok(self) -> bool:
        """Every stop predicted and nothing else on the path (and the outcome, if predicted)."""
        return self.matched == self.expected == self.observed and self.outcome_ok

    def __str__(self) -> str:
        return "\n".join(self.lines)


def stops(trace: Trace, leg: str = REQUEST) -> list[Stop]:
    found: list[tuple[str, list[str]]] = []
    for hop in trace.leg(leg):
        owner = hop.owner or hop.netns
        if not found or found[-1][0] != owner:
            found.append((owner, []))
        if hop.ifname not in found[-1][1]:
            found[-1][1].append(hop.ifname)
    return [Stop(owner, tuple(names)) for owner, names in found]


def matches(item: str, stop: Stop) -> bool:
    owner, _, ifname = item.partition("/")
    return owner == stop.owner and (not ifname or any(fnmatchcase(n, ifname) for n in stop.ifnames))


def align(expected: list[str], seen: list[Stop]) -> list[tuple[str | None, Stop | None]]:
    """Pairs in path order: (item, stop) matched, (item, None) not on the path, (None, stop)
    not predicted; the longest common subsequence (a path is a few stops: quadratic is fine)."""
    n, m = len(expected), len(seen)
    best = [[0] * (m + 1) for _ in range(n + 1)]
    for i in range(n - 1, -1, -1):
        for j in range(m - 1, -1, -1):
            best[i][j] = (best[i + 1][j + 1] + 1 if matches(expected[i], seen[j])
                          else max(best[i + 1][j], best[i][j + 1]))
    pairs: list[tuple[str | None, Stop | None]] = []
    i = j = 0
    while i < n or j < m:
        if i < n and j < m and matches(expected[i], seen[j]) and best[i][j] == best[i + 1][j + 1] + 1:
            pairs.append((expected[i], seen[j]))
            i, j = i + 1, j + 1
        elif i < n and (j == m or best[i + 1][j] >= best[i][j + 1]):
            pairs.append((expected[i], None))
            i += 1
        else:
            pairs.append((None, seen[j]))
            j += 1
    return pairs


def grade(expected: list[str], trace: Trace, outcome: str | None = None, leg: str = REQUEST) -> Grade:
    """`expected` (stops, as above) against `trace`'s `leg`; `outcome`, if given, against the
    trace's outcome status (delivered, dropped, no-path, lost)."""
    seen = stops(trace, leg)
    pairs = align(list(expected), seen)
    lines = [f"your {leg} path against the trace {trace.src} -> {trace.dst}:"]
    for item, stop in pairs:
        if item is not None and stop is not None:
            lines.append(f"  ok       {item:24} {stop}")
        elif item is not None:
            lines.append(f"  missing  {item:24} not on the path here")
        else:
            lines.append(f"  extra    {'':24} {stop}  (not in your list)")
    matched = sum(1 for item, stop in pairs if item is not None and stop is not None)
    lines.append(f"{matched} of {len(expected)} predicted stops on the path in order; the path has {len(seen)}")
    outcome_ok = outcome is None or outcome == trace.outcome.status
    if outcome is not None:
        verdict = "as predicted" if outcome_ok else f"you predicted {outcome}"
        lines.append(f"outcome: {trace.outcome.status} ({verdict}): {trace.outcome.detail}")
    right = matched == len(expected) == len(seen) and outcome_ok
    lines.append("all right" if right else "not quite: compare with the trace's table")
    return Grade(lines=tuple(lines), matched=matched, expected=len(expected), observed=len(seen),
                 outcome_ok=outcome_ok)
