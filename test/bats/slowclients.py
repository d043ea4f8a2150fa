#!/usr/bin/env python3
"""Slow HTTP clients for test/bats/slowclients.bats.

    slowclients.py HOST PORT CLIENTS SOURCES READY_FILE

CLIENTS connections to HOST:PORT, spread over the source addresses SOURCES
(comma-separated, e.g. 127.0.0.1,127.0.0.2: loopback takes any 127/8
address), each sending a request line and then one header line every 3 s,
never finishing the request.  A connection the server closes is opened
again at once (after 50 ms), as an attacker would.  READY_FILE is written
once every client has connected; runs until killed, then prints how many
connections the server closed."""
import select
import signal
import socket
import sys
import threading
import time

host, port, clients, sources, ready = (sys.argv[1], int(sys.argv[2]), int(sys.argv[3]),
                                       sys.argv[4].split(","), sys.argv[5])
lock = threading.Lock()
connected = set()
closed_by_server = 0


def client(i):
    global closed_by_server
    src = sources[i % len(sources)]
    while True:
        try:
            s = socket.socket()
            s.bind((src, 0))
            s.connect((host, port))
            s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
            with lock:
                if i not in connected:
                    connected.add(i)
                    if len(connected) == clients:
                        open(ready, "w").write("ready\n")
            while True:
                r, _, _ = select.select([s], [], [], 3.0)
                if r:  # the server answered or closed: it is gone
                    s.recv(4096)
                    break
                s.sendall(b"X-Slow: 1\r\n")
        except OSError:
            pass
        with lock:
            closed_by_server += 1
        s.close()
        time.sleep(0.05)


def done(*_):
    print(f"slow clients: {clients} from {len(sources)} addresses; "
          f"{closed_by_server} connections closed by the server", flush=True)
    sys.exit(0)


signal.signal(signal.SIGTERM, done)
for i in range(clients):
    threading.Thread(target=client, args=(i,), daemon=True).start()
while True:
    time.sleep(1)
