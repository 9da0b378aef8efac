"""The C core through MicroPython's `ffi` (libwgcore.so, `make libwgcore`).

cffi reads wgcore.h; `ffi` reads nothing, so the functions' argument types and
the header's #defines are written down here, and tests/mpy/test_binding.py
compares both tables with what cffi read from the header. Type codes are
`ffi`'s: p pointer (a buffer, or an int address), L size_t, Q uint64_t,
I uint32_t, i int/int32_t, B uint8_t, v void, s a C string returned as str.
"""

import os

from wgpy.runtime import layout

FUNCTIONS = {
    # Part 1: crypto.
    "wgc_chacha20": ("v", "ppLppI"),
    "wgc_hchacha20": ("v", "ppp"),
    "wgc_poly1305": ("v", "ppLp"),
    "wgc_aead_seal": ("v", "ppLpLpp"),
    "wgc_aead_open": ("i", "ppLpLpp"),
    "wgc_wg_seal": ("v", "ppLpLQp"),
    "wgc_wg_open": ("i", "ppLpLQp"),
    "wgc_xaead_seal": ("v", "ppLpLpp"),
    "wgc_xaead_open": ("i", "ppLpLpp"),
    "wgc_wg_seal_batch": ("L", "pLp"),
    "wgc_wg_open_batch": ("L", "pLp"),
    "wgc_x25519": ("i", "ppp"),
    "wgc_x25519_public": ("v", "pp"),
    "wgc_blake2s_init": ("i", "pLpL"),
    "wgc_blake2s_update": ("v", "ppL"),
    "wgc_blake2s_final": ("v", "pp"),
    "wgc_blake2s": ("i", "pLpLpL"),
    "wgc_hmac_blake2s": ("v", "ppLpL"),
    "wgc_kdf": ("i", "pLppL"),
    "wgc_verify16": ("i", "pp"),
    "wgc_verify32": ("i", "pp"),
    "wgc_wipe": ("v", "pL"),
    "wgc_replay_init": ("v", "p"),
    "wgc_replay_check": ("i", "pQ"),
    "wgc_impl": ("s", ""),
    # Part 2: the datapath (a struct wgc_dp * is an int address).
    "wgc_dp_new": ("p", "III"),
    "wgc_dp_free": ("v", "p"),
    "wgc_dp_event_fd": ("i", "p"),
    "wgc_dp_start": ("i", "piiiI"),
    "wgc_dp_tun_offload": ("i", "i"),
    "wgc_dp_stop": ("v", "p"),
    "wgc_dp_set_mtu": ("v", "pI"),
    "wgc_dp_peer_add": ("i", "p"),
    "wgc_dp_peer_remove": ("i", "pi"),
    "wgc_dp_peer_set_endpoint": ("i", "pip"),
    "wgc_dp_source_for": ("i", "pp"),
    "wgc_dp_forget_source": ("i", "pp"),
    "wgc_dp_peer_set_keypairs": ("i", "pip"),
    "wgc_dp_peer_read": ("i", "pip"),
    "wgc_dp_replay_check": ("i", "pIQ"),
    "wgc_dp_set_allowed_ips": ("i", "ppL"),
    "wgc_dp_lookup": ("i", "pBp"),
    "wgc_dp_send": ("i", "pipL"),
    "wgc_dp_send_datagram": ("i", "pppL"),
    "wgc_dp_poll": ("L", "ppL"),
    "wgc_dp_arm": ("v", "p"),
    "wgc_dp_upcalls": ("L", "ppLpL"),
    "wgc_dp_get_stats": ("v", "pp"),
    "wgc_dp_set_cookie": ("i", "pppQ"),
    "wgc_dp_hs_set_key": ("i", "ppp"),
    "wgc_dp_hs_peer": ("i", "pippppQ"),
    "wgc_dp_hs_cookie": ("i", "pipQ"),
    # Part 3: the handshake's hot path.
    "wgc_hs_create_initiation": ("i", "pppppppI"),
    "wgc_hs_consume_initiation": ("i", "ppppp"),
    "wgc_hs_consume_initiation_payload": ("i", "pppp"),
    "wgc_hs_create_response": ("i", "pppppII"),
    "wgc_hs_consume_response": ("i", "pppp"),
    "wgc_hs_derive_keys": ("v", "pppi"),
    "wgc_cookie_keys": ("v", "ppp"),
    "wgc_mac1_check": ("i", "pLp"),
    "wgc_mac2_check": ("i", "pLppLH"),
    "wgc_cookie_reply": ("i", "ppLpppLHp"),
    "wgc_ratelimit_init": ("v", "pQ"),
    "wgc_ratelimit_allow": ("i", "pBpQ"),
}

CONSTANTS = {
    "WGC_KEY_LEN": 32, "WGC_TAG_LEN": 16, "WGC_NONCE_LEN": 12, "WGC_XNONCE_LEN": 24,
    "WGC_HCHACHA_NONCE_LEN": 16, "WGC_BLAKE2S_OUT_LEN": 32, "WGC_BLAKE2S_BLOCK_LEN": 64,
    "WGC_MAC_LEN": 16,
    "WGC_REKEY_AFTER_MESSAGES": 1152921504606846976,
    "WGC_REJECT_AFTER_MESSAGES": 18446744073709543423,
    "WGC_REKEY_AFTER_TIME_S": 120, "WGC_REJECT_AFTER_TIME_S": 180, "WGC_REKEY_TIMEOUT_S": 5,
    "WGC_KEEPALIVE_TIMEOUT_S": 10, "WGC_PADDING_MULTIPLE": 16,
    "WGC_REPLAY_BLOCKS": 128, "WGC_REPLAY_WINDOW": 8128,
    "WGC_DP_UPCALLS": 1024,
    "WGC_DP_EV_ACTIVITY": 1, "WGC_DP_EV_CONFIRMED": 2, "WGC_DP_EV_REKEY_SEND": 4,
    "WGC_DP_EV_REKEY_RECV": 8,
    "WGC_DP_UP_UDP": 1, "WGC_DP_UP_TUN": 2, "WGC_DP_UP_HANDSHAKE": 3,
    "WGC_DP_HANDSHAKE_LEN": 104,
    "WGC_DP_VNET_HDR": 1, "WGC_DP_NO_TUN_GRO": 2, "WGC_DP_NO_UDP_GSO": 4, "WGC_DP_NO_UDP_GRO": 8,
    "WGC_DP_TUN_USO": 16,
    "WGC_HS_INITIATION_LEN": 148, "WGC_HS_RESPONSE_LEN": 92,
    "WGC_COOKIE_REPLY_LEN": 64, "WGC_COOKIE_REFRESH_S": 120,
    "WGC_UNDER_LOAD_HANDSHAKES_PER_SECOND": 128, "WGC_UNDER_LOAD_AFTER_S": 1,
    "WGC_RATELIMIT_PACKETS_PER_SECOND": 20, "WGC_RATELIMIT_BURST": 5, "WGC_RATELIMIT_SLOTS": 4096,
    "WGC_HANDSHAKE_INITIATIONS_PER_SECOND": 50,
}

# dlopen's search path finds it where the package installs it (/usr/lib); tests and
# developers name a build with WGPY_LIBWGCORE.
LIBRARY = os.getenv("WGPY_LIBWGCORE") or "libwgcore.so"

NULL = 0


class Library:
    """wgcore.h's functions and constants as attributes, like cffi's `lib`."""

    def __init__(self, path: str):
        import ffi

        handle = ffi.open(path)
        for name, (result, args) in FUNCTIONS.items():
            setattr(self, name, handle.func(result, name, args))
        for name, value in CONSTANTS.items():
            setattr(self, name, value)
        self._handle = handle   # the functions need the library to stay loaded


def buffer(data):
    """Any buffer as a pointer argument: `ffi` takes it as it is."""
    return data


def writable(buf):
    """A writable buffer's address, for a `uint8_t *` argument or a pointer field.

    `ffi` would also pass bytes and str, which C must never write; and an address
    keeps nothing alive, so the caller holds buf while C may use it."""
    import uctypes

    try:
        memoryview(buf)[0:0] = b""
    except TypeError:
        raise TypeError("in-place operations need a writable buffer (bytearray, memoryview)") from None
    return uctypes.addressof(buf)


_described = {}     # struct -> (uctypes description, size): computing them is slow


def new(struct: str, count=None):
    """Zeroed C memory for one struct, or an array of count: (memory for C calls,
    view of its fields). The view is a uctypes struct or array, valid while memory
    is held."""
    import uctypes

    if struct not in _described:
        _described[struct] = layout.uctypes_layout(struct), layout.sizeof(struct)
    desc, size = _described[struct]
    memory = bytearray(size * (count or 1))
    if count is None:
        return memory, uctypes.struct(uctypes.addressof(memory), desc, uctypes.NATIVE)
    array = {"items": (uctypes.ARRAY | 0, count, desc)}
    return memory, uctypes.struct(uctypes.addressof(memory), array, uctypes.NATIVE).items


def c_string(value) -> str:
    """A `const char *` result: `ffi` already returns str."""
    return value


def int32_array(count: int):
    """count zeroed int32_t for C to fill: (memory for C calls, indexable view)."""
    import array

    memory = array.array("i", [0] * count)
    return memory, memory


def copy_into(field, data) -> None:
    """data into a struct's uint8_t array field (a uctypes array)."""
    import uctypes

    uctypes.bytearray_at(uctypes.addressof(field), len(data))[:] = data


def field_bytes(field, size: int) -> bytes:
    """The first size bytes of a struct's uint8_t array field."""
    import uctypes

    return bytes(uctypes.bytearray_at(uctypes.addressof(field), size))


def pointed_bytes(pointer: int, size: int) -> bytes:
    """The size bytes a pointer field (an address) points at, which Python's own buffer
    holds (an upcall's data in the buffer handed to wgc_dp_upcalls)."""
    import uctypes

    return bytes(uctypes.bytearray_at(pointer, size))


def sizeof(struct: str) -> int:
    return layout.sizeof(struct)
