"""The C structs of wgcore.h that Python reads or fills, as field lists.

cffi reads the structs from the header itself; MicroPython's `ffi` knows no
structs, so there they are `uctypes` descriptions computed from these lists with
the C rules (natural alignment; pointers are 4 or 8 bytes). tests/mpy checks the
result against the C compiler's offsetof/sizeof on every target architecture.
"""

import sys

# Scalar C types: (size, uctypes type name). "ptr" is filled with an address (int).
SCALARS = {
    "uint8_t": (1, "UINT8"),
    "uint16_t": (2, "UINT16"),
    "uint32_t": (4, "UINT32"),
    "int32_t": (4, "INT32"),
    "uint64_t": (8, "UINT64"),
}

# (field, C type[, array length]) in declaration order; a type may name a struct above it.
STRUCTS = {
    "wgc_batch_item": (
        ("data", "ptr"), ("len", "uint32_t"), ("status", "int32_t"), ("counter", "uint64_t"),
    ),
    "wgc_replay": (
        ("last", "uint64_t"), ("bitmap", "uint64_t", 128),
    ),
    "wgc_dp_endpoint": (
        ("family", "uint8_t"), ("has_src", "uint8_t"), ("port", "uint16_t"),
        ("src_ifindex", "uint32_t"), ("addr", "uint8_t", 16), ("src", "uint8_t", 16),
    ),
    "wgc_dp_keypair": (
        ("send_key", "uint8_t", 32), ("recv_key", "uint8_t", 32), ("created_ns", "uint64_t"),
        ("local_index", "uint32_t"), ("remote_index", "uint32_t"), ("present", "uint8_t"),
        ("is_initiator", "uint8_t"), ("can_send", "uint8_t"),
    ),
    "wgc_dp_prefix": (
        ("family", "uint8_t"), ("len", "uint8_t"), ("addr", "uint8_t", 16), ("peer", "int32_t"),
    ),
    "wgc_dp_peer_state": (
        ("events", "uint32_t"), ("confirmed_index", "uint32_t"), ("rx_bytes", "uint64_t"),
        ("tx_bytes", "uint64_t"), ("last_data_sent_ns", "uint64_t"),
        ("last_auth_sent_ns", "uint64_t"), ("last_data_recv_ns", "uint64_t"),
        ("last_auth_recv_ns", "uint64_t"), ("endpoint", "wgc_dp_endpoint"),
    ),
    "wgc_dp_upcall": (
        ("kind", "uint32_t"), ("len", "uint32_t"), ("data", "ptr"), ("from", "wgc_dp_endpoint"),
    ),
    "wgc_hs": (
        ("ck", "uint8_t", 32), ("h", "uint8_t", 32), ("e_priv", "uint8_t", 32),
        ("re_pub", "uint8_t", 32),
    ),
    "wgc_ratelimit_entry": (
        ("tokens_ns", "uint64_t"), ("last_ns", "uint64_t"), ("addr", "uint8_t", 16),
        ("family", "uint8_t"),
    ),
    "wgc_ratelimit": (
        ("seed", "uint64_t"), ("e", "wgc_ratelimit_entry", 4096),
    ),
    "wgc_dp_stats": tuple((name, "uint64_t") for name in (
        "tun_not_ip", "tun_no_route", "no_endpoint", "send_errors", "rx_expired_keypair",
        "rx_decrypt", "rx_replay", "rx_inner_malformed", "rx_inner_not_allowed",
        "upcall_full", "upcall_too_big", "tun_write_errors", "tun_gone", "tun_bad_offload",
        "udp_gso_refused", "hs_mac1", "hs_cookie_sent", "hs_ratelimited", "hs_decrypt",
        "hs_unknown_peer", "hs_replay", "hs_flood", "hs_responses", "hs_queue_full",
    )),
}

POINTER_SIZE = 8 if sys.maxsize > 2 ** 32 else 4


def _align_up(n: int, align: int) -> int:
    return (n + align - 1) // align * align


def fields(struct: str, pointer_size: int = POINTER_SIZE) -> tuple:
    """(size, alignment, [(field, offset, C type, element size, count)]) of one struct."""
    offset, align, out = 0, 1, []
    for spec in STRUCTS[struct]:
        name, ctype = spec[0], spec[1]
        count = spec[2] if len(spec) > 2 else 1
        if ctype == "ptr":
            size = field_align = pointer_size
        elif ctype in SCALARS:
            size = field_align = SCALARS[ctype][0]
        else:
            size, field_align, _ = fields(ctype, pointer_size)
        offset = _align_up(offset, field_align)
        out.append((name, offset, ctype, size, count))
        offset += size * count
        align = max(align, field_align)
    return _align_up(offset, align), align, out


def sizeof(struct: str) -> int:
    return fields(struct)[0]


def uctypes_layout(struct: str) -> dict:
    """The uctypes description of one struct on this machine (MicroPython only)."""
    import uctypes

    layout = {}
    for name, offset, ctype, size, count in fields(struct)[2]:
        if ctype == "ptr":
            kind = uctypes.UINT64 if size == 8 else uctypes.UINT32
        elif ctype in SCALARS:
            kind = getattr(uctypes, SCALARS[ctype][1])
        else:
            nested = uctypes_layout(ctype)
            layout[name] = (offset | uctypes.ARRAY, count, nested) if count > 1 else (offset, nested)
            continue
        layout[name] = (offset | uctypes.ARRAY, kind | count) if count > 1 else offset | kind
    return layout
