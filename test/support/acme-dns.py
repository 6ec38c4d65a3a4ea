"""A tiny authoritative DNS server for the ACME dns-01 tests, on loopback UDP.

Usage: acme-dns.py PORT RECORDS-FILE
Answers TXT queries from RECORDS-FILE (lines "name value", re-read on each
query, so hooks just append) and A queries from its lines "name A address"
(scripts/bench-acme points pebble's look-ups at loopback this way); any other
query gets an empty NOERROR answer.
Stops by itself after 900 seconds (a test that dies cannot leave it behind).
"""
import sys
import time

from dnslib import QTYPE, RR, TXT, A, DNSRecord
from dnslib.server import BaseResolver, DNSServer


class FileResolver(BaseResolver):
    def __init__(self, path):
        self.path = path

    def resolve(self, request, handler):
        reply = request.reply()
        q = request.q
        name = str(q.qname).rstrip(".").lower()
        try:
            lines = open(self.path).read().splitlines()
        except OSError:
            lines = []
        for line in lines:
            parts = line.split()
            if not parts or parts[0].rstrip(".").lower() != name:
                continue
            if q.qtype == QTYPE.TXT and len(parts) == 2:
                reply.add_answer(RR(q.qname, QTYPE.TXT, rdata=TXT(parts[1]), ttl=1))
            elif q.qtype == QTYPE.A and len(parts) == 3 and parts[1] == "A":
                reply.add_answer(RR(q.qname, QTYPE.A, rdata=A(parts[2]), ttl=1))
        return reply


port, path = int(sys.argv[1]), sys.argv[2]
server = DNSServer(FileResolver(path), port=port, address="127.0.0.1")
server.start_thread()
print("dns ready", flush=True)
deadline = time.time() + 900
while time.time() < deadline and server.isAlive():
    time.sleep(0.5)
