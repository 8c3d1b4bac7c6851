"""listener.py for both families: a server on every port given (`80/tcp 53/udp`) on
0.0.0.0 and on :: (IPV6_V6ONLY, so each family has its own socket); tcp accepts and closes,
udp echoes. A namespace whose IPv6 is off (a container without an IPv6 endpoint) still gets
its IPv6 sockets: binding :: does not need an address. Prints `ready` once all are bound."""
import selectors
import socket
import sys


def main(specs: list[str]) -> None:
    sel = selectors.DefaultSelector()
    for spec in specs:
        port, proto = spec.split("/")
        kind = socket.SOCK_STREAM if proto == "tcp" else socket.SOCK_DGRAM
        for family, anywhere in ((socket.AF_INET, "0.0.0.0"), (socket.AF_INET6, "::")):
            sock = socket.socket(family, kind)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if family == socket.AF_INET6:
                sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            sock.bind((anywhere, int(port)))
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
