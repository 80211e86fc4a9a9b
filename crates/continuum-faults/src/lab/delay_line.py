"""The fault lab's delay line (see delay.rs).

Holds each packet that tc diverts to a TUN device for the delay set for its source address,
then writes it back, so the host's stack receives it late. Run inside the host's network
namespace as `python3 -c <this file> <device>`: creates <device>, prints "ready", then reads
lines "<source IPv4 address> <milliseconds>" on standard input. At the end of its input it
writes back what it still holds and exits. A packet from an address with no delay set passes
at once.
"""

import fcntl
import heapq
import os
import select
import socket
import struct
import sys
import time

TUNSETIFF = 0x400454CA
IFF_TUN = 0x0001
IFF_NO_PI = 0x1000
# Packets read per wake-up, so a burst cannot starve the release of held packets.
BATCH = 256


def main():
    device = sys.argv[1]
    tun = os.open("/dev/net/tun", os.O_RDWR | os.O_NONBLOCK)
    fcntl.ioctl(tun, TUNSETIFF, struct.pack("16sH", device.encode(), IFF_TUN | IFF_NO_PI))
    os.set_blocking(0, False)
    delays = {}  # source address, 4 bytes -> seconds
    held = []  # heap of (due, sequence, packet); sequence keeps equal dues in arrival order
    sequence = 0
    pending = b""
    print("ready", flush=True)
    while True:
        timeout = max(0.0, held[0][0] - time.monotonic()) if held else None
        ready, _, _ = select.select([tun, 0], [], [], timeout)
        if 0 in ready:
            chunk = os.read(0, 4096)
            if not chunk:
                break
            pending += chunk
            *lines, pending = pending.split(b"\n")
            for line in lines:
                address, ms = line.split()
                delays[socket.inet_aton(address.decode())] = int(ms) / 1000.0
        if tun in ready:
            for _ in range(BATCH):
                try:
                    packet = os.read(tun, 65536)
                except BlockingIOError:
                    break
                delay = delays.get(packet[12:16], 0.0) if packet[0] >> 4 == 4 else 0.0
                if delay <= 0.0:
                    write(tun, packet)
                else:
                    sequence += 1
                    heapq.heappush(held, (time.monotonic() + delay, sequence, packet))
        now = time.monotonic()
        while held and held[0][0] <= now:
            write(tun, heapq.heappop(held)[2])
    for _, _, packet in sorted(held):
        write(tun, packet)


def write(tun, packet):
    try:
        os.write(tun, packet)
    except OSError:
        pass  # the host's stack refused it: a lost packet, which TCP repairs


main()
