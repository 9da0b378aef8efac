"""Per-call wall time of rpcd's exec plugin in the router-CPU guest (tests/bench/guest/init
runs it on MicroPython): `calls.py N IFNAME`.

Each round times, with time.ticks_us around os.system (so every figure includes one
/bin/sh, timed alone as `sh`): the shell alone, `micropython -c pass` (the interpreter's
start), the status method's imports alone, and the package's launcher as rpcd runs it per
call, `/usr/libexec/rpcd/wgpy call status` with `{}` on stdin. The rounds interleave them
so that a change in the host's load falls on all alike. The last status answer goes to
the console for the host to check.
"""

import os
import sys
import time

CALLS = (("sh", ":"),
         ("pass", "micropython -c pass"),
         # The modules the status method loads, without running it.
         ("import", "micropython -X heapsize=4M -c 'import wgpy.web.rpcd, wgpy.web.views'"),
         ("status", "/usr/libexec/rpcd/wgpy call status </tmp/call.json >/tmp/status.json"))


def main():
    rounds, ifname = int(sys.argv[1]), sys.argv[2]
    for _ in range(rounds):
        for name, cmd in CALLS:
            start = time.ticks_us()
            rc = os.system(cmd)
            us = time.ticks_diff(time.ticks_us(), start)
            if rc:
                print("@@ERROR %s call: exit status %d" % (name, rc))
            print("@@CALL %s %d" % (name, us))
    with open("/tmp/status.json") as f:
        print("@@STATUS %s %s" % (ifname, f.read().replace("\n", " ")))


main()
