"""A server on every port given (`80/tcp 53/udp`), run inside a container's namespace by
the reachability conformance test, the same on netlab's side and Docker's: tcp accepts and
closes, udp echoes. Prints `ready` once every socket is bound."""
import selectors
import socket
import sys


def main(specs: list[str]) -> None:
    sel = selectors.DefaultSelector()
    for spec in specs:
        port, proto = spec.split("/")
        kind = socket.SOCK_STREAM if proto == "tcp" else socket.SOCK_DGRAM
        sock = socket.socket(socket.AF_INET, kind)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("0.0.0.0", int(port)))
        if proto == "tcp":
            sock.listen(64)
        sel.register(sock, selectors.EVENT_READ, proto)
    print("ready", flush=True)
    while True:
        for key, _ in sel.select():
            if key.data == "tcp":
                key.fileobj.accept()[0].close()
            else:
                data, peer = key.fileobj.recvfrom(2048)
                key.fileobj.sendto(data, peer)


if __name__ == "__main__":
    main(sys.argv[1:])
