"""WireGuard's numbers: what the paper fixes, then what we chose.

The "Specification" block must match the whitepaper and every peer; the
"Implementation" block mirrors wireguard-go's choices (constants.go,
queueconstants_default.go) and may differ between implementations without
breaking interop. Times are seconds (float) unless the name says otherwise.
"""

# ---- Specification ----

CONSTRUCTION = b"Noise_IKpsk2_25519_ChaChaPoly_BLAKE2s"
IDENTIFIER = b"WireGuard v1 zx2c4 Jason@zx2c4.com"
LABEL_MAC1 = b"mac1----"
LABEL_COOKIE = b"cookie--"

REKEY_AFTER_MESSAGES = 1 << 60
REJECT_AFTER_MESSAGES = (1 << 64) - (1 << 13) - 1
REKEY_AFTER_TIME = 120.0
REJECT_AFTER_TIME = 180.0
REKEY_ATTEMPT_TIME = 90.0
REKEY_TIMEOUT = 5.0
KEEPALIVE_TIMEOUT = 10.0
COOKIE_REFRESH_TIME = 120.0
HANDSHAKE_INITIATION_RATE = 1.0 / 50
PADDING_MULTIPLE = 16

KEY_LEN = 32
MAC_LEN = 16
TAG_LEN = 16
TIMESTAMP_LEN = 12
COOKIE_NONCE_LEN = 24

# ---- Implementation ----

REKEY_TIMEOUT_JITTER_MAX_MS = 334          # jitter is 0..333 ms
MAX_TIMER_HANDSHAKES = int(REKEY_ATTEMPT_TIME / REKEY_TIMEOUT)   # 18 retries, 20 sends
UNDER_LOAD_AFTER_TIME = 1.0                # stay "under load" this long after seeing load
QUEUE_HANDSHAKE_SIZE = 1024
# wireguard-go is under load when its handshake queue holds >= 1024/8; a sans-I/O core
# has no queue, so we use the same number as handshake messages per second.
UNDER_LOAD_HANDSHAKES_PER_SECOND = QUEUE_HANDSHAKE_SIZE // 8
QUEUE_STAGED_SIZE = 128
MAX_PEERS = 1 << 16
DEFAULT_MTU = 1420
RATELIMIT_PACKETS_PER_SECOND = 20
RATELIMIT_BURST = 5
RATELIMIT_GC_INTERVAL = 1.0
REPLAY_WINDOW = 8128                       # usable window of crypto.ReplayWindow (C)
