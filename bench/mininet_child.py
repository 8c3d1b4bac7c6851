"""Child of mininet.py: build and stop a single-switch Mininet of N hosts on a Linux bridge
and print the two times as JSON. Runs under the system python3 (where Debian's mininet
lives) with -P, so that bench/mininet.py does not shadow the real package, and inside the
namespace mininet.py made: Mininet's switch and veths live in the current namespace.

    mininet_child.py N PIDFILE"""
import json
import resource
import sys
import time

from mininet.log import setLogLevel
from mininet.net import Mininet
from mininet.nodelib import LinuxBridge
from mininet.topo import SingleSwitchTopo


def main() -> None:
    n, pidfile = int(sys.argv[1]), sys.argv[2]
    setLogLevel("error")
    # Mininet.init() would call fixLimits(), which raises machine-wide sysctls (fs.file-max,
    # kernel.pty.max, net.core.*mem_max): never touch the machine's settings. Of what it does
    # we need only more file descriptors (a pty per node), and for this process alone.
    Mininet.inited = True
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))

    t0 = time.perf_counter()
    net = Mininet(topo=SingleSwitchTopo(k=n), switch=LinuxBridge, controller=None, build=False)
    built = None
    try:
        net.build()
        with open(pidfile, "w") as f:   # the parent ends these if we die before net.stop()
            json.dump([node.pid for node in net.hosts + net.switches], f)
        net.start()
        built = time.perf_counter() - t0
    finally:
        t1 = time.perf_counter()
        net.stop()
        stopped = time.perf_counter() - t1
    print(json.dumps({"build_s": built, "stop_s": stopped}))


if __name__ == "__main__":
    main()
