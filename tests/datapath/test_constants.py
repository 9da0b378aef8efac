"""One set of protocol constants: the WGC_* that C acts on (wgcore.h) are the numbers of
src/wgpy/protocol/constants.py, the Python side's one source."""

from wgpy.crypto import lib
from wgpy.protocol import constants as c
from wgpy.protocol import messages

# wgcore.h name -> constants.py value; C counts times in whole seconds.
SAME = {
    "WGC_KEY_LEN": c.KEY_LEN,
    "WGC_TAG_LEN": c.TAG_LEN,
    "WGC_MAC_LEN": c.MAC_LEN,
    "WGC_REKEY_AFTER_MESSAGES": c.REKEY_AFTER_MESSAGES,
    "WGC_REJECT_AFTER_MESSAGES": c.REJECT_AFTER_MESSAGES,
    "WGC_REKEY_AFTER_TIME_S": c.REKEY_AFTER_TIME,
    "WGC_REJECT_AFTER_TIME_S": c.REJECT_AFTER_TIME,
    "WGC_REKEY_TIMEOUT_S": c.REKEY_TIMEOUT,
    "WGC_KEEPALIVE_TIMEOUT_S": c.KEEPALIVE_TIMEOUT,
    "WGC_PADDING_MULTIPLE": c.PADDING_MULTIPLE,
    "WGC_REPLAY_WINDOW": c.REPLAY_WINDOW,
    "WGC_COOKIE_REFRESH_S": c.COOKIE_REFRESH_TIME,
    "WGC_UNDER_LOAD_HANDSHAKES_PER_SECOND": c.UNDER_LOAD_HANDSHAKES_PER_SECOND,
    "WGC_UNDER_LOAD_AFTER_S": c.UNDER_LOAD_AFTER_TIME,
    "WGC_RATELIMIT_PACKETS_PER_SECOND": c.RATELIMIT_PACKETS_PER_SECOND,
    "WGC_RATELIMIT_BURST": c.RATELIMIT_BURST,
    "WGC_HANDSHAKE_INITIATIONS_PER_SECOND": round(1 / c.HANDSHAKE_INITIATION_RATE),
    "WGC_HS_INITIATION_LEN": messages.INITIATION_SIZE,
    "WGC_HS_RESPONSE_LEN": messages.RESPONSE_SIZE,
    "WGC_COOKIE_REPLY_LEN": messages.COOKIE_REPLY_SIZE,
}


def test_c_and_python_protocol_constants_agree():
    differ = {name: (getattr(lib, name), value) for name, value in SAME.items()
              if getattr(lib, name) != value}
    assert differ == {}


def test_every_c_protocol_constant_is_compared():
    # A WGC_ constant added to wgcore.h's protocol block must join SAME (or be no protocol number).
    not_protocol = {"WGC_NONCE_LEN", "WGC_XNONCE_LEN", "WGC_HCHACHA_NONCE_LEN",
                    "WGC_BLAKE2S_OUT_LEN", "WGC_BLAKE2S_BLOCK_LEN", "WGC_REPLAY_BLOCKS",
                    "WGC_RATELIMIT_SLOTS"}
    exported = {name for name in dir(lib) if name.startswith("WGC_") and
                not name.startswith("WGC_DP_")}
    assert exported - not_protocol == set(SAME)
