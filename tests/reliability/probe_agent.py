"""A probe agent living in one network namespace (a guest, or the LAN).

Reads one JSON request per line on stdin, answers one JSON line on stdout:
  {"op": "listen", "ports": [22, 80]}      TCP listeners on every address,
                                           accepting and closing at once
  {"op": "probe", "targets": [["10.0.0.1", 22, SOURCE?], ...], "timeout": 0.2,
   "source": "10.0.0.9" | null}            connects to every target (from
                                           SOURCE, else `source`) at the
                                           same time; results[i] is true when
                                           a SYN-ACK or a RST came back (the
                                           packets passed), false on timeout
A LAN connection that passes takes well under a millisecond, so 0.2 s
separates "dropped" from "passed" safely and keeps probing fast.
"""

import errno
import json
import select
import socket
import sys
import threading
import time

listeners = []


def accept_forever(server):
    while True:
        try:
            conn, _ = server.accept()
            conn.close()
        except OSError:
            return


def listen(ports):
    for port in ports:
        server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        server.bind(("0.0.0.0", port))
        server.listen(128)
        listeners.append(server)
        threading.Thread(target=accept_forever, args=(server,), daemon=True).start()
    return {}


def probe(targets, timeout, source):
    socks = []
    results = [False] * len(targets)
    pending = {}
    for index, target in enumerate(targets):
        ip, port = target[0], target[1]
        own_source = target[2] if len(target) > 2 and target[2] else source
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setblocking(False)
        if own_source:
            sock.bind((own_source, 0))
        code = sock.connect_ex((ip, int(port)))
        socks.append(sock)
        if code in (0, errno.ECONNREFUSED):
            results[index] = True
        elif code in (errno.EINPROGRESS, errno.EALREADY):
            pending[sock.fileno()] = index
    deadline = time.monotonic() + timeout
    while pending:
        left = deadline - time.monotonic()
        if left <= 0:
            break
        _, writable, _ = select.select([], list(pending), [], left)
        for fd in writable:
            index = pending.pop(fd)
            code = socks[index].getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
            # 0: handshake done; ECONNREFUSED: a RST came back. Both passed.
            results[index] = code in (0, errno.ECONNREFUSED)
    for sock in socks:
        sock.close()
    return {"results": results}


def main():
    for line in sys.stdin:
        try:
            request = json.loads(line)
            op = request["op"]
            if op == "listen":
                reply = listen(request["ports"])
            elif op == "probe":
                reply = probe(request["targets"], float(request.get("timeout", 0.2)),
                              request.get("source"))
            elif op == "ping":
                reply = {}
            else:
                raise ValueError("unknown op %r" % op)
            reply["ok"] = True
        except Exception as error:  # reported to the driver, which fails the test
            reply = {"ok": False, "error": "%s: %s" % (type(error).__name__, error)}
        sys.stdout.write(json.dumps(reply) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
