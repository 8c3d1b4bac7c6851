"""A server on every port given (`80/tcp 53/udp`), run inside a container's namespace by
the reachability conformance tests, the same on netlab's side and Docker's: tcp accepts and
closes, udp echoes. With `--dual` first, on 0.0.0.0 and on :: (IPV6_V6ONLY, so each family
has its own socket; binding :: needs no address, so a namespace without IPv6 addresses still
gets them). Prints `ready` once every socket is bound."""
import selectors
import socket
import sys

ANYWHERE = {socket.AF_INET: "0.0.0.0", socket.AF_INET6: "::"}


def main(specs: list[str], families: tuple[socket.AddressFamily, ...]) -> None:
    sel = selectors.DefaultSelector()
    for spec in specs:
        port, proto = spec.split("/")
        kind = socket.SOCK_STREAM if proto == "tcp" else socket.SOCK_DGRAM
        for family in families:
            sock = socket.socket(family, kind)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if family == socket.AF_INET6:
                sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            sock.bind((ANYWHERE[family], int(port)))
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
    dual = sys.argv[1:2] == ["--dual"]
    main(sys.argv[2:] if dual else sys.argv[1:],
         (socket.AF_INET, socket.AF_INET6) if dual else (socket.AF_INET,))
