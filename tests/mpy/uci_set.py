"""`uci_set.py CONFDIR CONFIG SECTION OPTION VALUE`: set one option through wgpy's Store
(libuci's lock, the journal, the write in place), under MicroPython; prints "done"."""

import sys

from wgpy.uci.store import Store

confdir, config, section, option, value = sys.argv[1:6]
Store(confdir, backend="syntax", overridedir=confdir + "/override").set_option(
    config, section, option, value)
print("done")
