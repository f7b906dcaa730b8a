"""Records what a pvAccess server sends to a minimal hand-written client monitoring one PV.

Usage: python capture_monitor.py HOST PORT PV_NAME UPDATES
Prints JSON: {"pv": name, "messages": [{"from": "server"|"client", "hex": "..."}]} with every message exchanged
(headers included), in order. The client side is written from the protocol description alone (little-endian,
anonymous authentication, pvRequest field()), so the recorded server bytes are independent of the TypeScript
code they are used to test.
"""

import json
import socket
import struct
import sys


def size(n):
    return bytes([n]) if n < 254 else b"\xfe" + struct.pack("<i", n)


def string(s):
    data = s.encode()
    return size(len(data)) + data


def message(command, payload):
    return struct.pack("<BBBBI", 0xCA, 2, 0x00, command, len(payload)) + payload


class Recorder:
    def __init__(self, sock):
        self.sock = sock
        self.buffer = b""
        self.messages = []

    def send(self, data):
        self.messages.append({"from": "client", "hex": data.hex()})
        self.sock.sendall(data)

    def _read(self, n):
        while len(self.buffer) < n:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise EOFError("server closed the connection")
            self.buffer += chunk
        out, self.buffer = self.buffer[:n], self.buffer[n:]
        return out

    def receive(self):
        """Next message from the server as (command, flags, payload)."""
        header = self._read(8)
        flags, command = header[2], header[3]
        order = ">" if flags & 0x80 else "<"
        length = 0 if flags & 0x01 else struct.unpack(order + "I", header[4:])[0]
        payload = self._read(length)
        self.messages.append({"from": "server", "hex": (header + payload).hex()})
        return command, flags, payload

    def expect(self, command):
        while True:
            got, flags, payload = self.receive()
            if not flags & 0x01 and got == command:
                return payload


def main():
    host, port, name, updates = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
    sock = socket.create_connection((host, port), timeout=10)
    rec = Recorder(sock)
    rec.expect(0x01)  # CONNECTION_VALIDATION (after SET_BYTE_ORDER)
    rec.send(message(0x01, struct.pack("<ihh", 0x10000, 0x7FFF, 0) + string("anonymous") + b"\xff"))
    rec.expect(0x09)  # CONNECTION_VALIDATED
    cid, ioid = 7, 0x2A
    rec.send(message(0x07, struct.pack("<HI", 1, cid) + string(name)))
    payload = rec.expect(0x07)
    sid = struct.unpack("<I", payload[4:8])[0]
    field_request = bytes.fromhex("80000105") + b"field" + bytes.fromhex("800000")
    rec.send(message(0x0D, struct.pack("<IIB", sid, ioid, 0x08) + field_request))
    rec.expect(0x0D)  # INIT reply
    rec.send(message(0x0D, struct.pack("<IIB", sid, ioid, 0x44)))
    for _ in range(updates):
        rec.expect(0x0D)
    rec.send(message(0x0F, struct.pack("<II", sid, ioid)))  # DESTROY_REQUEST
    rec.send(message(0x08, struct.pack("<II", sid, cid)))  # DESTROY_CHANNEL
    rec.expect(0x08)
    sock.close()
    print(json.dumps({"pv": name, "messages": rec.messages}, indent=1))


if __name__ == "__main__":
    main()
