"""Everything that touches the kernel: network namespaces, netlink, iptables, ip6tables and
nftables (an engine's own tables too), sysctls, processes, probes and DNS queries from inside
a lab namespace, and the adoption of a namespace netlab did not make (`--in-place`). The pure
layers (model, plan) never import this package; app and trace use it.

Submodules are imported by name (`from netlab.kernel import netns`): importing the package
loads none of them, so a command pays only for what it uses."""

__all__ = ["adopt", "apply", "dnsquery", "features", "firewall", "handlers", "links", "netlink", "netns",
           "nfnetlink", "nft_dump", "nft_list", "nft_tables", "nftables", "observe", "observe_l2", "ops", "probe",
           "processes", "requirements", "rtnl_dump", "system", "tools"]
