"""The lab's agent: one long-running process per lab that supervises container commands
(and, later, the embedded DNS server and the userland proxies)."""

__all__ = ["commands", "control", "dns", "dnsmsg", "main", "names", "proxy"]
