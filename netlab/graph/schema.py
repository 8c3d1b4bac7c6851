"""The attribute schema of netlab's graphs: what every node, edge and graph carries.

Two graphs, sharing node ids, so a trace can be drawn on its lab:

**Topology graph** (`networkx.Graph`): one node per network interface.

- node id: `"<netns>/<ifname>"`, the same string as `Hop.node` (`demo-a1/eth0`);
- node attributes: `kind` = `interface`; `link` (one of LINKS); `netns`, `ifname`;
  `owner` (the lab's name for the namespace: a container, a host, `outside`,
  `node1@ov4096` for an overlay sandbox); `host` (the Docker host the namespace belongs
  to, None for `outside`); `addresses` (CIDR strings); `mac`, `mtu`, `master` (the bridge
  it is a port of), `vni` (vxlan), `mode` (macvlan), `network` (the Docker network a
  bridge or a container endpoint serves), `remotes` (a VXLAN device's remote VTEPs);
  `state` (live graphs only: `up`,
  `down` or `missing`; None when drawn from a file);
- edge attributes: `kind` (one of TOPOLOGY_EDGES), `label` (short text for pictures, may
  be empty), `vni` on `tunnel` edges;
- graph attributes: `lab`, `source` (`file` | `live`), `outside` (its netns), `hosts`
  ({host: {"netns", "address", "engine"}}, `engine` the name of the host's Docker engine,
  `28.5`), `namespaces` ({netns: {"role", "owner", "host", "containers", "present"}}), in
  the order the lab makes them. `containers` lists every
  container whose processes run in that namespace (network_mode host and container:
  included); `present` is None from a file, True/False in a live graph.

**Trace graph** (`networkx.MultiDiGraph`): the interfaces one probe crossed.

- node id: `"<netns>/<ifname>"` as above, plus `DROP` where the probe was dropped;
- node attributes: `kind` (`interface` | `drop`), `netns`, `ifname`, `owner`, `host` and
  `link` (when the lab's topology is known), `steps` (the hop numbers seen here, 1-based, in
  order), `rules` (a list of `{"step", "hook", "rule": RuleHit}`: every netfilter decision,
  attached to the hop where it happened), `nat` (a list of `{"step", "nat": NatRewrite}`),
  `first` (the probe left here), `sent` (the numbers of the hops whose leg starts here),
  `delivered` (the request arrived here); on `DROP`:
  `outcome` (the Outcome);
- edge attributes (one edge per hop after the first of its leg, in order): `step` (the
  number of the hop it leads to), `leg` (`request` | `reply`), `how` (the word for how the
  packet moved: trace/vocabulary.py's), `via` (the Hop's own word), `bridge`, `packet` (the
  PacketView at the hop it leads to), `rewritten` (NAT changed the flow on the way); and, for a probe
  that did not arrive, one edge `how` = `dropped` from its last hop to `DROP`;
- graph attributes: `lab`, `trace` (the Trace itself), `source` (`observed` |
  `predicted`), `outcome`, `hops` (the Hops in order, numbered as the steps:
  from 1 across the trace, the request's then the reply's, as every view of a trace is).
"""
from __future__ import annotations

LINKS = ("veth", "bridge", "vxlan", "macvlan", "vlan", "lo")

# veth: the two ends of a veth pair; port: a bridge and one of its ports; macvlan / vlan:
# a child device and its parent; underlay: a VXLAN device and the host interface its
# outer UDP packets leave by; tunnel: two VXLAN devices of one VNI on different hosts
TOPOLOGY_EDGES = ("veth", "port", "macvlan", "vlan", "underlay", "tunnel")

DROP = "drop"
