"""The C core's files call each other one way only (datapath.h lists the layers).

Each src/core/*.c is compiled to an object; `nm` gives the symbols it defines and the ones it
needs, and an edge A -> B means A needs a symbol B defines. The graph must have no cycle.
"""

import shutil
import subprocess
from pathlib import Path

import pytest

CORE = Path(__file__).resolve().parents[2] / "src" / "core"


def _symbols(obj: Path):
    out = subprocess.run(["nm", str(obj)], capture_output=True, text=True, check=True).stdout
    defined, needed = set(), set()
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[0] == "U":
            needed.add(parts[1])
        elif len(parts) == 3 and parts[1] in "TDBR":
            defined.add(parts[2])
    return defined, needed


@pytest.fixture(scope="module")
def call_graph(tmp_path_factory):
    cc = shutil.which("gcc") or shutil.which("cc")
    if cc is None or shutil.which("nm") is None:
        pytest.skip("no C compiler or nm")
    out = tmp_path_factory.mktemp("objs")
    symbols = {}
    for src in sorted(CORE.glob("*.c")):
        if src.name == "selftest.c":
            continue
        obj = out / (src.stem + ".o")
        subprocess.run([cc, "-std=gnu99", "-O2", "-pthread", f"-I{CORE}", "-c", str(src),
                        "-o", str(obj)], check=True)
        symbols[src.name] = _symbols(obj)
    owner = {sym: name for name, (defined, _) in symbols.items() for sym in defined}
    return {name: {owner[sym] for sym in needed if sym in owner} - {name}
            for name, (_, needed) in symbols.items()}


def _cycle(graph):
    """A list of files forming a cycle, or None."""
    state = {}

    def visit(node, path):
        state[node] = "open"
        for nxt in sorted(graph[node]):
            if state.get(nxt) == "open":
                return path[path.index(nxt):] + [nxt]
            if nxt not in state:
                found = visit(nxt, path + [nxt])
                if found:
                    return found
        state[node] = "done"
        return None

    for node in sorted(graph):
        if node not in state:
            found = visit(node, [node])
            if found:
                return found
    return None


def test_the_checker_sees_a_cycle():
    assert _cycle({"a.c": {"b.c"}, "b.c": {"c.c"}, "c.c": {"a.c"}}) == ["a.c", "b.c", "c.c", "a.c"]
    assert _cycle({"a.c": {"b.c"}, "b.c": set()}) is None


def test_the_graph_has_the_expected_edges(call_graph):
    # The checker must see real calls, or an empty graph would pass.
    assert "dp_send.c" in call_graph["datapath.c"]          # spawns dp_tx_main
    assert "dp_event.c" in call_graph["dp_recv.c"]          # dp_signal, dp_upcall
    assert "dp_udp.c" in call_graph["dp_send.c"]            # dp_send_msgs


def test_no_two_files_call_each_other_in_a_cycle(call_graph):
    assert _cycle(call_graph) is None, " -> ".join(_cycle(call_graph))


def test_the_socket_edge_and_the_pure_files_are_leaves(call_graph):
    datapath = {name for name in call_graph if name.startswith(("dp_", "datapath"))}
    for leaf in ("dp_udp.c", "dp_offload.c", "dp_lpm.c", "dp_event.c"):
        assert not call_graph[leaf] & datapath, (leaf, call_graph[leaf])
