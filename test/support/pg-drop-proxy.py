"""A TCP proxy in front of PostgreSQL that loses a reply on purpose.

    python3 pg-drop-proxy.py UPSTREAM-PORT CONTROL-DIR

Listens on a free loopback port (printed on the first line of stdout) and
relays every connection to 127.0.0.1:UPSTREAM-PORT. When CONTROL-DIR/arm
holds a trigger, the first client message that matches it is passed to the
server, and then, once the server had time to act on it, both sides of that
connection are closed without relaying the reply: the client cannot tell
whether its statement took effect. Triggers:

    commit       a simple-protocol COMMIT (the end of a transaction)
    execute N    the N-th Execute message (a prepared statement) from now

On firing it removes CONTROL-DIR/arm and writes CONTROL-DIR/fired. It exits
after 300 seconds whatever happens.
"""
import os
import socket
import sys
import threading
import time

upstream_port = int(sys.argv[1])
control = sys.argv[2]
arm_file = os.path.join(control, "arm")
lock = threading.Lock()
executes_seen = 0

EXECUTE = b"E\x00\x00\x00\x09\x00\x00\x00\x00\x00"  # Execute, unnamed portal, all rows


def fires(chunk):
    """Whether this client chunk is the one to lose the reply to."""
    global executes_seen
    with lock:
        try:
            trigger = open(arm_file).read().split()
        except OSError:
            executes_seen = 0
            return False
        if not trigger:
            return False
        if trigger[0] == "commit":
            hit = b"COMMIT\x00" in chunk
        elif trigger[0] == "execute":
            executes_seen += chunk.count(EXECUTE)
            hit = executes_seen >= int(trigger[1])
        else:
            hit = False
        if hit:
            os.remove(arm_file)
            executes_seen = 0
            open(os.path.join(control, "fired"), "w").write(trigger[0] + "\n")
        return hit


def close(*socks):
    for s in socks:
        try:
            s.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        s.close()


def client_to_server(client, server, muted):
    try:
        while True:
            chunk = client.recv(65536)
            if not chunk:
                break
            if fires(chunk):
                muted.set()
                server.sendall(chunk)
                time.sleep(0.5)  # the server acts on it; its reply is never relayed
                break
            server.sendall(chunk)
    except OSError:
        pass
    close(client, server)


def server_to_client(server, client, muted):
    try:
        while True:
            chunk = server.recv(65536)
            if not chunk or muted.is_set():
                break
            client.sendall(chunk)
    except OSError:
        pass
    if not muted.is_set():
        close(client, server)


def main():
    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    print(listener.getsockname()[1], flush=True)
    threading.Timer(300, lambda: os._exit(0)).start()
    while True:
        client, _ = listener.accept()
        server = socket.create_connection(("127.0.0.1", upstream_port))
        muted = threading.Event()
        for target, args in ((client_to_server, (client, server, muted)), (server_to_client, (server, client, muted))):
            threading.Thread(target=target, args=args, daemon=True).start()


main()
