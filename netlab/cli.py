"""The `netlab` command: a few lines per verb over the Python API."""
from __future__ import annotations

import json
import os
import sys

import click

from .errors import NetlabError


class _Group(click.Group):
    """Every netlab error becomes its message and an exit status, never a traceback."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except NetlabError as e:
            click.echo(str(e), err=True)
            sys.exit(e.exit_code)
        except KeyboardInterrupt:
            verb = ctx.invoked_subcommand
            if verb in ("up", "apply"):
                click.echo("interrupted: the lab may be partly built; `netlab up FILE` again finishes it, "
                           "`netlab down LAB` removes it", err=True)
            else:
                click.echo("interrupted", err=True)
            # every `finally` has run by now; exit without the interpreter's teardown, where
            # half-closed event loops of the interrupted netlink work print "Exception ignored"
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(130)


def _engine_option(what: str):
    from .engine import ENGINES
    return click.option("--engine", type=click.Choice(list(ENGINES)), default=None,
                        help=f"the Docker engine every host runs {what}, whatever the file says "
                             "(default: the file's `engine:`, else 20.10)")


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
def main():
    """Docker's container networks, rebuilt from a YAML file with real kernel objects."""


def _lab_file(command):
    """FILE (a lab file or a Compose file) as an argument or `-f`, as `docker compose` takes
    it: compose.yaml / docker-compose.yml in the current directory when none is given; and
    `-p` for a Compose project's name."""
    command = click.argument("file", required=False)(command)
    command = click.option("-f", "--file", "file_option", multiple=True, metavar="FILE",
                           help="a lab file or a Compose file (default: ./compose.yaml, "
                                "./docker-compose.yml and its override file); Compose files given "
                                "again are merged in order")(command)
    command = click.option("--profile", "profiles", multiple=True, metavar="PROFILE",
                           help="a Compose profile to enable (also COMPOSE_PROFILES)")(command)
    return click.option("-p", "--project-name", "project", default=None,
                        help="a Compose file's project name (else COMPOSE_PROJECT_NAME, `name:`, "
                             "the directory)")(command)


def _load(file, file_option, project, profiles, engine=None):
    """(the file's path, the Loaded lab) for a command given FILE or -f FILE."""
    from .app.compose_labs import compose_files, load
    if file and file_option:
        raise click.BadParameter("give FILE or -f FILE, not both", param_hint="-f")
    path, more = compose_files(file, file_option)
    return path, load(path, engine, project, tuple(profiles), more)


def _notes(loaded, err=False):
    for note in loaded.notes:
        click.echo(f"note: {note}", err=err)


@main.command()
@_lab_file
def validate(file, file_option, project, profiles):
    """Check a lab file (every key: docs/lab-file.md); report every problem as FILE:LINE: key.path: message."""
    path, loaded = _load(file, file_option, project, profiles)
    topo = loaded.topology
    what = f"Compose project {loaded.project}, lab {topo.name}" if loaded.project else f"lab {topo.name}"
    click.echo(f"{path}: ok ({what}: {len(topo.hosts)} hosts, "
               f"{len({s.network for s in topo.segments})} networks, {len(topo.containers)} containers)")
    _notes(loaded)


@main.command()
@_lab_file
@click.option("--json", "as_json", is_flag=True, help="the plan as JSON")
@_engine_option("in this plan")
def plan(file, file_option, project, profiles, as_json, engine):
    """The kernel objects and rules `up` would create (no root needed)."""
    from .plan.planner import build_plan
    from .plan.render import render_plan
    _, loaded = _load(file, file_option, project, profiles, engine)
    p = build_plan(loaded.topology)
    click.echo(p.to_json() if as_json else render_plan(p))
    _notes(loaded, err=as_json)


def _diff_option():
    from .engine import ENGINES
    return click.option("--diff", "other", type=click.Choice(list(ENGINES)), default=None,
                        help="what this engine writes differently, per host, table and chain "
                             "(-: only the first engine, +: only this one, ~: both, at another place)")


@main.command()
@_lab_file
@click.option("--host", "host", default=None, help="only this host")
@_engine_option("for these rules")
@_diff_option()
@click.option("--json", "as_json", is_flag=True, help="with --diff: the differences as JSON")
def rules(file, file_option, project, profiles, host, engine, other, as_json):
    """Each host's rules as its Docker engine would leave them: iptables-save text (then
    ip6tables-save, or `nft list table` for an nftables engine). No root needed."""
    from .plan.firewall.lab import lab_rules
    _, loaded = _load(file, file_option, project, profiles, engine)
    topo = loaded.topology
    names = [h.name for h in topo.hosts]
    if host is not None and host not in names:
        raise click.BadParameter(f"no host {host!r} (hosts: {', '.join(names)})", param_hint="--host")
    if other is None:
        if as_json:
            raise click.BadParameter("--json shows a difference: give --diff ENGINE", param_hint="--json")
        click.echo(lab_rules(topo, host), nl=False)
        return
    from .plan.firewall.compare import diff_rules
    from .plan.firewall.compare_text import render_diff
    d = diff_rules(topo, _load(file, file_option, project, profiles, other)[1].topology, host)
    click.echo(json.dumps(d.to_dict(), indent=1) if as_json else render_diff(d), nl=as_json)


FIREWALL = click.option("--firewall", type=click.Choice(["nft", "legacy"]), default=None,
                        help="iptables backend (default: the one `iptables` uses on this machine)")


HOST = click.option("--host", "host", default=None, metavar="H",
                    help="only host H's part of the lab (or `outside`'s)")
IN_PLACE = click.option("--in-place", "in_place", is_flag=True,
                        help="build host H's part in the namespace netlab runs in (a VM's own); "
                             "refused in the machine's initial namespace unless NETLAB_ALLOW_ROOT_NS=1")
DOWN_IN_PLACE = click.option("--in-place", "in_place", is_flag=True,
                             help="take host H's part out of the namespace netlab runs in, where "
                                  "`up --host H --in-place` built it")


@main.command()
@_lab_file
@FIREWALL
@HOST
@IN_PLACE
@_engine_option("in this lab")
def up(file, file_option, project, profiles, firewall, host, in_place, engine):
    """Build the lab (idempotent: a second run changes nothing). `up` and `apply` are one command."""
    from .app.compose_labs import compose_files, project_of
    from .app.lifecycle import up as build
    if file and file_option:
        raise click.BadParameter("give FILE or -f FILE, not both", param_hint="-f")
    path, more = compose_files(file, file_option)
    result = build(path, say=lambda m: click.echo(m, err=True), firewall=firewall, host=host, in_place=in_place,
                   engine=engine, project=project, profiles=tuple(profiles), more=more)
    named = project_of(result.lab)
    lab = f"{named} (kernel prefix {result.lab})" if named and named != result.lab else result.lab
    if not result.changed:
        click.echo(f"lab {lab}: no changes")
    else:
        for change in result.changes:
            click.echo(str(change))
        click.echo(f"lab {lab}: {len(result.changes)} changes applied")
    for note in result.notes:
        click.echo(f"note: {note}")


@main.command()
@click.argument("target", metavar="FILE|LAB", required=False)
@HOST
@DOWN_IN_PLACE
def down(target, host, in_place):
    """Remove everything the lab owns; works without the file. `down` and `teardown` are one command.
    With --host/--in-place: checked against what `up --host H [--in-place]` built here; in an
    adopted namespace only what the lab made is taken out."""
    from .app.compose_labs import compose_file
    from .app.lifecycle import down as remove
    from .app.lifecycle import lab_name
    target = compose_file(target)       # none given: the Compose file here, as `docker compose down`
    removed = remove(target, say=lambda m: click.echo(m, err=True), host=host, in_place=in_place)
    click.echo(f"removed {len(removed)} namespaces" if removed else
               f"nothing of lab {lab_name(target)!r} was left (`netlab ls` lists the labs here)")


# the brief's words and Compose's words for the same two verbs
main.add_command(up, "apply")
main.add_command(down, "teardown")


@main.command(name="ls")
def ls_():
    """Labs present on this machine."""
    from .app.lifecycle import ls
    labs = ls()
    if not labs:
        click.echo("no labs")
        return
    from .app.compose_labs import project_of
    names = [project_of(lab.name) or lab.name for lab in labs]
    width = max(10, *map(len, names))       # a Compose project's name may be long
    click.echo(f"{'LAB':{width}} {'STATUS':10} {'CONTAINERS':>10} {'NETNS':>6} {'AGENT':6} FILE")
    for lab, name in zip(labs, names):
        status = "damaged" if not lab.readable else "up" if lab.complete else "partial"
        click.echo(f"{name:{width}} {status:10} {lab.containers:>10} {lab.namespaces:>6} "
                   f"{'yes' if lab.agent else 'no':6} {lab.file}")
    if any(not lab.readable for lab in labs):
        click.echo("damaged: the state file cannot be read; `netlab down LAB` removes the lab by its marks",
                   err=True)


@main.command()
@click.argument("lab")
@click.argument("name", required=False)
def inspect(lab, name):
    """JSON shaped like `docker network inspect` / `docker container inspect`."""
    from .app.compose_labs import lab_of
    lab = lab_of(lab)
    from .app.lifecycle import snapshot_topology
    from .model.inspect import inspect_lab
    click.echo(json.dumps(inspect_lab(snapshot_topology(lab), name), indent=4))


@main.command(name="exec", context_settings={"ignore_unknown_options": True})
@click.argument("lab")
@click.argument("name")
@click.argument("command", nargs=-1, required=True, type=click.UNPROCESSED)
def exec_(lab, name, command):
    """Run COMMAND in a container, a host or `outside` (as `ip netns exec` does).

    In a container it runs in the container's UTS namespace too: `hostname` prints its own."""
    from .app.compose_labs import lab_of
    lab = lab_of(lab)
    from .app.lifecycle import require_root, snapshot_topology
    from .model.targets import endpoint
    require_root()
    from .errors import LabError
    from .kernel import netns
    topo = snapshot_topology(lab)
    target = endpoint(topo, name)
    if not netns.exists(target.netns):
        raise LabError(f"{name}'s namespace {target.netns} is gone (deleted outside netlab); "
                       f"`netlab verify {lab}` shows the drift and `netlab up FILE` repairs it")
    _exit_unless_runnable(command[0])
    from .kernel import uts
    from .plan.hostnames import uts_of
    argv = ["ip", "netns", "exec", target.netns, *uts.enter(uts_of(topo, name)), *command]
    sys.stdout.flush()
    try:
        os.execvp(argv[0], argv)
    except OSError as e:
        raise click.ClickException(f"cannot run ip netns exec: {e.strerror}") from None


def _exit_unless_runnable(program: str) -> None:
    """127 and 126 as a shell (and `docker run`) give them: ip's own exit status for a failed
    exec is 1, which cannot be told from the command's."""
    import shutil
    found = program if "/" in program else shutil.which(program)
    if found is None or not os.path.exists(found):
        click.echo(f"netlab exec: {program}: command not found", err=True)
        sys.exit(127)
    if os.path.isdir(found) or not os.access(found, os.X_OK):
        click.echo(f"netlab exec: {program}: permission denied (not an executable file)", err=True)
        sys.exit(126)


@main.command()
@click.argument("lab")
def verify(lab):
    """Check the lab file's `expect:` entries; exit 1 on any mismatch."""
    from .app.compose_labs import lab_of
    lab = lab_of(lab)
    from .app.lifecycle import drift, require_root, snapshot_topology
    from .app.verify import agent_notes, agent_problems, check
    require_root()
    topo = snapshot_topology(lab)
    outcomes = check(topo)
    problems = agent_problems(topo) + [f"drift: {c}" for c in drift(lab)]
    rows = [("FROM", "TO", "PROTO", "EXPECT", "SEEN", "RESULT")]
    for o in outcomes:
        e = o.expectation
        to = o.target if e.target == o.target.split(":")[0] else f"{e.target} ({o.target})"
        seen = f"- ({o.missing} is missing)" if o.missing else "ok" if o.seen else "blocked"
        if o.resolution is not None:        # `name: true`: resolving, then reaching, each told
            to = f"{e.target} (by name: {o.target or 'no answer'})"
            seen = seen if o.resolution.resolved else f"no name ({o.resolution.status})"
        rows.append((e.source, to, e.proto, "ok" if e.ok else "blocked", seen, "pass" if o.ok else "FAIL"))
    widths = [max(len(r[i]) for r in rows) for i in range(5)]
    for r in rows if outcomes else []:
        click.echo(" ".join(f"{cell:{w}}" for cell, w in zip(r, widths)) + " " + r[5])
    for p in problems:
        click.echo(f"problem: {p}")
    for o in outcomes:
        if o.resolution is not None and not o.resolution.resolved:
            click.echo(f"name: {o.resolution.detail}")
    for n in agent_notes(topo):
        click.echo(f"note: {n}")
    bad = sum(not o.ok for o in outcomes)
    click.echo(f"{len(outcomes) - bad} passed, {bad} failed")
    if bad or problems:
        sys.exit(1)


# -4 / -6 as ping and ip take them: which of a name's addresses the probe goes to
FAMILY = click.option("-6", "family", flag_value=6, default=None,
                      help="to DST's IPv6 address (an IPv6 address as DST needs no -6)")

# by name is the default: a container's ping resolves before it sends
RESOLVE = click.option("--name/--no-resolve", "by_name", default=True, show_default=False,
                       help="--name (the default): DST's name is resolved as SRC would, and the probe "
                            "goes to the answer; --no-resolve: DST is taken as the lab knows it (the "
                            "container's address on a network SRC shares, else on its default route's); SRC's "
                            "resolver is not asked")


@main.command()
@click.argument("target", metavar="LAB|FILE")
@click.argument("src")
@click.argument("dst")
@click.option("--proto", type=click.Choice(["icmp", "tcp", "udp"]), default=None,
              help="the probe's protocol (default: icmp, or tcp with a port)")
@click.option("--port", type=click.IntRange(1, 65535), default=None, metavar="1-65535",
              help="destination port (tcp, udp); or DST as HOST:PORT")
@click.option("--json", "as_json", is_flag=True, help="the trace as JSON (docs/trace-json.md)")
@click.option("--predict", is_flag=True, help="walk the plan only: no root, no probe (FILE or LAB)")
@click.option("--pcap", default=None, metavar="FILE", help="every captured copy, one pcapng interface per hop")
@click.option("--all-rules", is_flag=True, help="show the chain policies that accepted, too")
@click.option("--ttl", type=click.IntRange(1, 255), default=64, metavar="1-255",
              help="the probe's TTL (IPv6: hop limit), 64 by default; lower, it runs out at a router, which "
                   "sends time exceeded")
@RESOLVE
@FAMILY
def trace(target, src, dst, proto, port, as_json, predict, pcap, all_rules, ttl, by_name, family):
    """Follow one probe from SRC (a container, a host, `outside`) to DST (a container, an
    address, a name, HOST:PORT, [IPv6]:PORT): hops, rules, NAT, outcome; live beside the
    prediction.

    A DST that is a name is first resolved as SRC would (its /etc/hosts, then its
    nameserver: the embedded DNS on a user-defined network, the host's resolver on the
    default bridge), and the probe goes to the answer; a name SRC cannot resolve is the
    outcome and no probe is sent (tomcat01 -> tomcat02 on the default bridge: unresolved).
    A host's name and `outside` are the lab's names for its machines: taken as the lab
    knows them. --no-resolve: the lab's view for any name."""
    from .app.tracing import for_target
    from .trace.report import render
    t = for_target(target, src, dst, proto, port, predict, pcap, family, by_name, ttl=ttl)
    click.echo(json.dumps(t.to_dict(), indent=1) if as_json else render(t, all_rules), nl=as_json)


@main.command()
@click.argument("target", metavar="FILE|LAB")
@click.option("--trace", "trace_", nargs=2, metavar="SRC DST", default=None,
              help="draw the path of one probe from SRC to DST on the lab")
@click.option("--proto", type=click.Choice(["icmp", "tcp", "udp"]), default=None, help="the probe's protocol")
@click.option("--port", type=click.IntRange(1, 65535), default=None, metavar="1-65535",
              help="destination port (tcp, udp)")
@click.option("--predict", is_flag=True, help="for a live LAB: draw the predicted path (no probe sent)")
@click.option("-o", "--output", required=True, metavar="OUT", help="out.svg, out.png, out.dot or out.html")
@RESOLVE
@FAMILY
def graph(target, trace_, proto, port, predict, output, by_name, family):
    """Draw the lab (a file: no root; a live lab: as it is now), and a probe's path on it."""
    from . import graph as pictures
    from .app.observe_lab import graph_for
    pictures.format_of(output)          # a wrong suffix fails before any work
    src, dst = trace_ or (None, None)
    topology, path = graph_for(target, src, dst, proto, port, predict, family, by_name)
    fmt = pictures.save(output, topology, path)
    click.echo(f"wrote {output} ({fmt}" + ("" if fmt in ("dot",) else f", drawn with {pictures.engine()}") + ")")


@main.command()
def doctor():
    """What this kernel and machine offer, and what each missing feature would disable."""
    from .app.doctor import report
    from .app.lifecycle import require_root
    require_root()
    text, core_ok = report()
    click.echo(text, nl=False)
    if not core_ok:
        sys.exit(1)


@main.command()
@click.option("--keep", is_flag=True, help="leave the lab up afterwards")
@click.option("-o", "--output", default=None, metavar="OUT",
              help="where to draw the traced path (.svg, .png, .dot, .html; default: netlab-demo-trace.svg "
                   "in the temporary directory)")
def demo(keep, output):
    """The built-in lab: up, show, ping, verify, trace one packet, draw it, down."""
    from .app.demo import run_demo
    if output is not None:
        from .graph import format_of
        format_of(output)               # a wrong suffix fails before anything is built
    run_demo(keep=keep, echo=click.echo, picture=output)


if __name__ == "__main__":
    main()
