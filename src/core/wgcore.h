/*
 * wgcore.h - the whole ABI of wgpy's C core, in two halves with their own
 * rules: the crypto half (primitives, replay window, protocol constants) is
 * pure and caller-owned; the datapath half (Linux only) allocates and runs
 * threads. Each half opens with its rules.
 *
 * This file is parsed by cffi's cdef(): integer #defines, plain declarations
 * and structs only. No inline functions, no #if around declarations.
 */
#ifndef WGCORE_H
#define WGCORE_H

#include <stddef.h>
#include <stdint.h>

/* ======================================================================
 * Part 1: crypto. Rules: caller-owned buffers, sizes passed beside
 * pointers, no allocation, no threads, no printing, no aborting. Functions
 * that can fail return 0 on success and -1 on failure; on an authentication
 * failure the output is left untouched. In-place operation (dst == src) is
 * allowed wherever noted.
 * ====================================================================== */

#define WGC_KEY_LEN 32
#define WGC_TAG_LEN 16
#define WGC_NONCE_LEN 12
#define WGC_XNONCE_LEN 24
#define WGC_HCHACHA_NONCE_LEN 16
#define WGC_BLAKE2S_OUT_LEN 32
#define WGC_BLAKE2S_BLOCK_LEN 64
#define WGC_MAC_LEN 16

/* Protocol constants (the whitepaper's, as src/wgpy/protocol/constants.py,
 * which a test compares with these): times in whole seconds. */
#define WGC_REKEY_AFTER_MESSAGES 1152921504606846976ULL
#define WGC_REJECT_AFTER_MESSAGES 18446744073709543423ULL
#define WGC_REKEY_AFTER_TIME_S 120
#define WGC_REJECT_AFTER_TIME_S 180
#define WGC_REKEY_TIMEOUT_S 5
#define WGC_KEEPALIVE_TIMEOUT_S 10
#define WGC_PADDING_MULTIPLE 16

/* ---- ChaCha20 (RFC 8439: 32-bit block counter, 96-bit nonce) ---- */

/* XORs len bytes of keystream into src, writing dst (dst may equal src). */
void wgc_chacha20(uint8_t *dst, const uint8_t *src, size_t len,
                  const uint8_t key[32], const uint8_t nonce[12],
                  uint32_t counter);

/* HChaCha20 (draft-irtf-cfrg-xchacha): a 32-byte subkey from key and 16-byte nonce. */
void wgc_hchacha20(uint8_t out[32], const uint8_t key[32], const uint8_t nonce[16]);

/* ---- Poly1305 (RFC 8439) ---- */

void wgc_poly1305(uint8_t mac[16], const uint8_t *msg, size_t msg_len,
                  const uint8_t key[32]);

/* ---- ChaCha20-Poly1305 AEAD (RFC 8439) ----
 * seal: dst receives src_len bytes of ciphertext followed by the 16-byte tag;
 *       dst must hold src_len + 16 bytes; dst may equal src.
 * open: src is ciphertext followed by the tag (src_len >= 16); dst receives
 *       src_len - 16 bytes of plaintext; dst may equal src. Returns -1 (dst
 *       untouched) on a forged tag or src_len < 16.
 */
void wgc_aead_seal(uint8_t *dst, const uint8_t *src, size_t src_len,
                   const uint8_t *ad, size_t ad_len,
                   const uint8_t nonce[12], const uint8_t key[32]);
int wgc_aead_open(uint8_t *dst, const uint8_t *src, size_t src_len,
                  const uint8_t *ad, size_t ad_len,
                  const uint8_t nonce[12], const uint8_t key[32]);

/* WireGuard's form: nonce = 4 zero bytes || little-endian 64-bit counter. */
void wgc_wg_seal(uint8_t *dst, const uint8_t *src, size_t src_len,
                 const uint8_t *ad, size_t ad_len,
                 uint64_t counter, const uint8_t key[32]);
int wgc_wg_open(uint8_t *dst, const uint8_t *src, size_t src_len,
                const uint8_t *ad, size_t ad_len,
                uint64_t counter, const uint8_t key[32]);

/* XChaCha20-Poly1305 (24-byte nonce), same conventions as wgc_aead_*. */
void wgc_xaead_seal(uint8_t *dst, const uint8_t *src, size_t src_len,
                    const uint8_t *ad, size_t ad_len,
                    const uint8_t nonce[24], const uint8_t key[32]);
int wgc_xaead_open(uint8_t *dst, const uint8_t *src, size_t src_len,
                   const uint8_t *ad, size_t ad_len,
                   const uint8_t nonce[24], const uint8_t key[32]);

/* ---- Batches: many WireGuard transport payloads under one key, in place ----
 * seal: data holds len bytes of plaintext and room for 16 more; becomes
 *       ciphertext || tag. open: data holds len bytes of ciphertext || tag;
 *       becomes plaintext (len - 16 bytes). status is set to 0 or -1 per item.
 * Both return the number of items whose status is 0. No associated data.
 */
struct wgc_batch_item {
    uint8_t *data;
    uint32_t len;
    int32_t status;
    uint64_t counter;
};
size_t wgc_wg_seal_batch(struct wgc_batch_item *items, size_t n, const uint8_t key[32]);
size_t wgc_wg_open_batch(struct wgc_batch_item *items, size_t n, const uint8_t key[32]);

/* ---- X25519 (RFC 7748) ----
 * out = X25519(scalar, point); the scalar is clamped internally and the top
 * bit of point is ignored. Returns -1 if out is all zeros (a low-order point:
 * WireGuard must refuse the handshake), else 0. out is always written.
 */
int wgc_x25519(uint8_t out[32], const uint8_t scalar[32], const uint8_t point[32]);
/* public = X25519(private, 9). */
void wgc_x25519_public(uint8_t pub[32], const uint8_t priv[32]);

/* ---- BLAKE2s (RFC 7693) ---- */
struct wgc_blake2s_state {
    uint32_t h[8];
    uint32_t t[2];
    uint32_t f[2];
    uint8_t buf[64];
    uint32_t buf_len;
    uint32_t out_len;
};
/* out_len 1..32, key_len 0..32; returns -1 on a bad length. */
int wgc_blake2s_init(struct wgc_blake2s_state *s, size_t out_len,
                     const uint8_t *key, size_t key_len);
void wgc_blake2s_update(struct wgc_blake2s_state *s, const uint8_t *in, size_t in_len);
/* Writes s->out_len bytes and wipes the state. */
void wgc_blake2s_final(struct wgc_blake2s_state *s, uint8_t *out);
/* One call: returns -1 on a bad length. */
int wgc_blake2s(uint8_t *out, size_t out_len, const uint8_t *in, size_t in_len,
                const uint8_t *key, size_t key_len);

/* HMAC-BLAKE2s (RFC 2104 over BLAKE2s-256, 64-byte block); any key length. */
void wgc_hmac_blake2s(uint8_t out[32], const uint8_t *key, size_t key_len,
                      const uint8_t *in, size_t in_len);

/* WireGuard's KDF_n (n = 1..3): out receives n * 32 bytes,
 * T0 = HMAC(ck, in); T1 = HMAC(T0, 0x1); Ti = HMAC(T0, T(i-1) || i).
 * Returns -1 if n is not 1..3. */
int wgc_kdf(uint8_t *out, size_t n, const uint8_t ck[32],
            const uint8_t *in, size_t in_len);

/* ---- Utilities ---- */
/* Constant-time comparison of 16 and 32 bytes: 0 if equal, -1 otherwise. */
int wgc_verify16(const uint8_t a[16], const uint8_t b[16]);
int wgc_verify32(const uint8_t a[32], const uint8_t b[32]);
/* Overwrites len bytes with zeros in a way the compiler may not elide. */
void wgc_wipe(void *p, size_t len);

/* ---- Replay window (RFC 6479 ring of 128 x 64-bit blocks: 8128 usable
 * counters, as the Linux kernel and wireguard-go) ---- */
#define WGC_REPLAY_BLOCKS 128
#define WGC_REPLAY_WINDOW 8128
struct wgc_replay {
    uint64_t last;
    uint64_t bitmap[WGC_REPLAY_BLOCKS];
};
void wgc_replay_init(struct wgc_replay *r);
/* Returns 0 and records counter if it is fresh, -1 if replayed, too old or
 * at/after REJECT_AFTER_MESSAGES. Call only after the packet authenticated. */
int wgc_replay_check(struct wgc_replay *r, uint64_t counter);

/* Which build this is: "portable", or names of SIMD paths compiled in. */
const char *wgc_impl(void);

/* ======================================================================
 * Part 2: the datapath (Linux only). Rules: unlike part 1, these calls
 * allocate (config calls may; the workers never do), start and stop two
 * worker threads, and own fds while running. Return 0 / -1 as part 1.
 * The calls on a running datapath take its lock, so they may overlap the
 * workers; wgc_dp_start, wgc_dp_stop and wgc_dp_free belong to the one
 * thread that owns the object.
 *
 * The per-packet fast path: two worker threads move transport packets
 * between a TUN fd and the UDP sockets without Python (datapath.h lists
 * the files). TX: read TUN, route by destination (allowed IPs), seal with
 * the peer's current keypair, sendmmsg. RX: recvmmsg, find the keypair by
 * receiver index, open, replay check, inner source check, write TUN.
 * Everything else (handshakes, cookie replies, unknown indices, packets for
 * peers without a usable keypair) is queued as an upcall and event_fd
 * becomes readable. Offloads, where the kernel has them: TSO/USO
 * super-packets from a vnet_hdr TUN are cut into segments, received
 * segments of one flow are written back coalesced (GRO), and datagrams to
 * one peer go out as UDP_SEGMENT sends and come in as UDP_GRO
 * super-datagrams.
 *
 * Python owns the decisions and installs state: peers are slots, keypairs are
 * pushed per peer as the three slots previous/current/next (kept state, i.e.
 * the send counter and replay window, follows the local index), allowed IPs
 * are replaced as a whole table. Per-peer counters, timestamps and event bits
 * accumulate in C; Python reads them with wgc_dp_poll + wgc_dp_peer_read.
 * Times are CLOCK_MONOTONIC nanoseconds (Python's time.monotonic clock).
 * The sticky source address of a peer's endpoint (src) is C's: set with
 * the endpoint, updated by roaming, cleared when a send finds it gone;
 * Python's own sends ask for it (wgc_dp_source_for).
 */
#define WGC_DP_UPCALLS 1024    /* wireguard-go's handshake queue (QueueHandshakeSize): bursts of initiations */
/* Event bits of a peer (wgc_dp_peer_state.events). */
#define WGC_DP_EV_ACTIVITY 1    /* counters or timestamps moved, or roaming */
#define WGC_DP_EV_CONFIRMED 2   /* authenticated packet under the next keypair */
#define WGC_DP_EV_REKEY_SEND 4  /* REKEY_AFTER_MESSAGES/_TIME reached while sending */
#define WGC_DP_EV_REKEY_RECV 8  /* our initiated keypair nears REJECT_AFTER_TIME */
/* Upcall kinds. */
#define WGC_DP_UP_UDP 1         /* a datagram for Python, with its addresses */
#define WGC_DP_UP_TUN 2         /* an IP packet whose peer has no usable keypair */
/* An initiation the RX worker answered (wgc_dp_hs_*), WGC_DP_HANDSHAKE_LEN
 * bytes, integers little-endian: 0 peer slot, 4 our (new) index, 8 their
 * index, 12 the TAI64N timestamp[12], 24 the response's mac1[16], 40 our
 * send key[32], 72 our receive key[32]. Python installs the keypair. */
#define WGC_DP_UP_HANDSHAKE 3
#define WGC_DP_HANDSHAKE_LEN 104

struct wgc_dp;

/* family is 4, 6 or 0 (none). src/src_ifindex: the local address to send
 * from (IP_PKTINFO), valid when has_src is 1. Ports in host order. */
struct wgc_dp_endpoint {
    uint8_t family;
    uint8_t has_src;
    uint16_t port;
    uint32_t src_ifindex;
    uint8_t addr[16];
    uint8_t src[16];
};

/* One keypair slot as Python installs it; present 0 means an empty slot. */
struct wgc_dp_keypair {
    uint8_t send_key[32];
    uint8_t recv_key[32];
    uint64_t created_ns;
    uint32_t local_index;
    uint32_t remote_index;
    uint8_t present;
    uint8_t is_initiator;
    uint8_t can_send;       /* 0: expired for sending (private key changed) */
};

/* One allowed-IPs entry; addr holds 4 or 16 bytes, host bits may be set. */
struct wgc_dp_prefix {
    uint8_t family;
    uint8_t len;
    uint8_t addr[16];
    int32_t peer;
};

/* A peer's shared state as read (and its events cleared) by Python. */
struct wgc_dp_peer_state {
    uint32_t events;
    uint32_t confirmed_index;   /* local index of the confirmed next keypair */
    uint64_t rx_bytes;
    uint64_t tx_bytes;
    uint64_t last_data_sent_ns;
    uint64_t last_auth_sent_ns;
    uint64_t last_data_recv_ns;
    uint64_t last_auth_recv_ns;
    struct wgc_dp_endpoint endpoint;
};

/* An upcall copied out: data points into the caller's buffer. For UDP,
 * from.addr/port is the remote and from.src/src_ifindex our local address. */
struct wgc_dp_upcall {
    uint32_t kind;
    uint32_t len;
    uint8_t *data;
    struct wgc_dp_endpoint from;
};

/* Packets dropped by the workers, by reason. */
struct wgc_dp_stats {
    uint64_t tun_not_ip;
    uint64_t tun_no_route;
    uint64_t no_endpoint;
    uint64_t send_errors;
    uint64_t rx_expired_keypair;
    uint64_t rx_decrypt;
    uint64_t rx_replay;
    uint64_t rx_inner_malformed;
    uint64_t rx_inner_not_allowed;
    uint64_t upcall_full;
    uint64_t upcall_too_big;
    uint64_t tun_write_errors;
    uint64_t tun_gone;          /* 1 once reading the TUN failed for good */
    uint64_t tun_bad_offload;   /* TUN reads with a virtio_net_hdr we cannot honour */
    uint64_t udp_gso_refused;   /* 1 once the kernel refused UDP_SEGMENT for good (EIO: then off) */
    uint64_t hs_mac1;           /* handshake messages with a wrong mac1 */
    uint64_t hs_cookie_sent;    /* under load without a valid mac2: cookie reply sent */
    uint64_t hs_ratelimited;    /* under load, over the source's rate */
    uint64_t hs_decrypt;        /* initiations that did not decrypt (or no ephemeral) */
    uint64_t hs_unknown_peer;   /* initiations from a static key no slot has */
    uint64_t hs_replay;         /* initiations with a timestamp not after the last */
    uint64_t hs_flood;          /* a peer's initiations faster than 50/s */
    uint64_t hs_responses;      /* initiations answered in C */
    uint64_t hs_queue_full;     /* initiations dropped: the handshake workers were behind */
};

/* max_peers slots; packet_max is the largest IP packet handled (buffers
 * add room for the header, padding and tag); mtu caps padding.
 * NULL on a bad argument or out of memory. */
struct wgc_dp *wgc_dp_new(uint32_t max_peers, uint32_t packet_max, uint32_t mtu);
/* Stops the workers, wipes every key and frees everything. */
void wgc_dp_free(struct wgc_dp *dp);
/* Readable (eventfd: read 8 bytes) when upcalls or urgent events wait, or on
 * the first activity after wgc_dp_arm. */
int wgc_dp_event_fd(const struct wgc_dp *dp);
/* Start flags. VNET_HDR: every packet on tun_fd is framed by a struct
 * virtio_net_hdr (IFF_VNET_HDR): reads may be TSO super-packets (cut into
 * segments here) and writes coalesce same-flow TCP segments (GRO) unless
 * NO_TUN_GRO; with TUN_USO too, same-flow UDP datagrams. UDP GSO (UDP_SEGMENT sends) and GRO (UDP_GRO receives) are
 * used when the kernel takes them unless NO_UDP_GSO / NO_UDP_GRO. */
#define WGC_DP_VNET_HDR 1
#define WGC_DP_NO_TUN_GRO 2
#define WGC_DP_NO_UDP_GSO 4
#define WGC_DP_NO_UDP_GRO 8
#define WGC_DP_TUN_USO 16

/* Start the workers on these fds (udp4_fd/udp6_fd may be -1; tun_fd may be
 * any non-blocking packet fd, e.g. a SOCK_DGRAM socketpair in tests). Only
 * the workers read the fds until wgc_dp_stop. -1 if already running. */
int wgc_dp_start(struct wgc_dp *dp, int tun_fd, int udp4_fd, int udp6_fd, uint32_t flags);
/* TUNSETOFFLOAD checksum + TSO4/6 (+ USO4/6 where the kernel has them,
 * >= 6.2) on a TUN opened with IFF_VNET_HDR. Returns the start flags that
 * go with it (WGC_DP_TUN_USO or 0), or -1 when the kernel refuses (the TUN
 * then hands over plain packets). */
int wgc_dp_tun_offload(int tun_fd);
/* Stop and join the workers (no-op if not running). */
void wgc_dp_stop(struct wgc_dp *dp);
void wgc_dp_set_mtu(struct wgc_dp *dp, uint32_t mtu);

/* A free peer slot (>= 0), or -1 when all max_peers are used. */
int32_t wgc_dp_peer_add(struct wgc_dp *dp);
/* Wipe the peer's keys, drop its routes and free the slot. */
int wgc_dp_peer_remove(struct wgc_dp *dp, int32_t slot);
int wgc_dp_peer_set_endpoint(struct wgc_dp *dp, int32_t slot,
                             const struct wgc_dp_endpoint *ep);
/* The sticky source of the first peer whose endpoint is remote (family,
 * addr, port): copied into remote's has_src, src and src_ifindex (has_src
 * 0: none, or forgotten). -1 if no peer has that endpoint. */
int wgc_dp_source_for(struct wgc_dp *dp, struct wgc_dp_endpoint *remote);
/* That peer's sticky source is gone (a send failed with it): cleared, so
 * sends let routing choose until a datagram from the peer tells a new one.
 * -1 if no peer has that endpoint. */
int wgc_dp_forget_source(struct wgc_dp *dp, const struct wgc_dp_endpoint *remote);
/* Replace the peer's previous/current/next slots atomically. A keypair whose
 * local index is already installed for this peer keeps its send counter and
 * replay window; keypairs no longer named are wiped. -1 if a local index is
 * used by another peer or the slot is invalid (nothing changed). */
int wgc_dp_peer_set_keypairs(struct wgc_dp *dp, int32_t slot,
                             const struct wgc_dp_keypair kp[3]);
/* A transport packet Python opened itself (it reached C before its keypair
 * did and came up as an upcall): its counter goes into C's replay window too,
 * so the same packet sent again, now handled by C, is refused. 0 recorded,
 * -1 already seen or too old, 1 no keypair with that local index in C. */
int wgc_dp_replay_check(struct wgc_dp *dp, uint32_t local_index, uint64_t counter);
/* Copy the peer's state out and clear its event bits. */
int wgc_dp_peer_read(struct wgc_dp *dp, int32_t slot, struct wgc_dp_peer_state *out);
/* Replace the allowed-IPs table. -1 on a bad entry (table unchanged). */
int wgc_dp_set_allowed_ips(struct wgc_dp *dp, const struct wgc_dp_prefix *p, size_t n);
/* Longest-prefix match: the peer slot for a 4- or 16-byte address, or -1. */
int32_t wgc_dp_lookup(struct wgc_dp *dp, uint8_t family, const uint8_t *addr);

/* Seal one IP packet (len 0: keepalive) with the peer's current keypair and
 * send it to the peer's endpoint, sharing the workers' counter. -1 if the
 * peer has no usable keypair or no endpoint, or the send failed. */
int wgc_dp_send(struct wgc_dp *dp, int32_t slot, const uint8_t *packet, size_t len);
/* Send one datagram Python made (a handshake message, a cookie reply) to
 * `to` from the workers' socket of its family, from to's source if has_src
 * (IP_PKTINFO). 0 sent; 1 sent without that source, which was gone (the
 * caller forgets it); -1 failed. */
int wgc_dp_send_datagram(struct wgc_dp *dp, const struct wgc_dp_endpoint *to,
                         const uint8_t *data, size_t len);

/* Peers with pending events, at most cap of them, removed from the queue. */
size_t wgc_dp_poll(struct wgc_dp *dp, int32_t *peers, size_t cap);
/* Let the next activity write the event fd once (Python calls this when it
 * stops polling on its own schedule). */
void wgc_dp_arm(struct wgc_dp *dp);
/* Move up to max waiting upcalls out, their bytes into buf (buf_len >=
 * max * packet_max is always enough). Returns how many. */
size_t wgc_dp_upcalls(struct wgc_dp *dp, struct wgc_dp_upcall *out, size_t max,
                      uint8_t *buf, size_t buf_len);
void wgc_dp_get_stats(struct wgc_dp *dp, struct wgc_dp_stats *out);
/* The responder's cookie state, owned by Python (protocol/cookie.py): with
 * pub set, the RX worker drops handshake messages with a wrong mac1 and,
 * under load (device.py's rule), answers those without a valid mac2 with a
 * cookie reply under secret and rate-limits the rest per source before they
 * go up. secret serves until WGC_COOKIE_REFRESH_S after secret_set_ns; then,
 * or with pub NULL, handshake messages go up unchecked. */
int wgc_dp_set_cookie(struct wgc_dp *dp, const uint8_t *pub, const uint8_t secret[32],
                      uint64_t secret_set_ns);
/* The responder in C (protocol/noise.py's rules, Python's state): with our
 * static key set (priv and pub; NULL: none), initiations that pass the gate
 * are answered by the handshake workers (one per CPU) for the peers
 * installed per slot, each answer a WGC_DP_UP_HANDSHAKE upcall queued before
 * the response is sent; without a key they go up as datagrams.
 * A slot holds the peer's static key (NULL: the slot answers nothing), PSK,
 * static-static DH, the last timestamp accepted and when (CLOCK_MONOTONIC
 * ns, 0: never); -1 if another slot has the key. Timestamps and times move
 * on in C with each answer; installing the same key again keeps the later
 * of C's and the given ones.
 * wgc_dp_hs_cookie: the cookie the peer sent us, for the responses' mac2. */
int wgc_dp_hs_set_key(struct wgc_dp *dp, const uint8_t *priv, const uint8_t *pub);
int wgc_dp_hs_peer(struct wgc_dp *dp, int32_t slot, const uint8_t *remote_static,
                   const uint8_t psk[32], const uint8_t static_static[32],
                   const uint8_t last_timestamp[12], uint64_t last_initiation_ns);
int wgc_dp_hs_cookie(struct wgc_dp *dp, int32_t slot, const uint8_t cookie[16],
                     uint64_t cookie_set_ns);

/* ======================================================================
 * Part 3: the handshake's hot path, pure like part 1 (caller-owned state,
 * no allocation, no threads).
 * ====================================================================== */

/* ---- WireGuard's Noise_IKpsk2 handshake, one call per message ----
 * (handshake.c; protocol/noise.py decides, these only compute). A wgc_hs
 * holds one handshake between messages and is the caller's: wgc_hs_derive_keys
 * wipes it, the caller wipes it when it drops a handshake. Messages are
 * whole datagrams with their mac1/mac2 left zero. Every call returns -1 (hs
 * and outputs untouched) on a low-order point or a failed decryption. */
#define WGC_HS_INITIATION_LEN 148
#define WGC_HS_RESPONSE_LEN 92
struct wgc_hs {
    uint8_t ck[32];         /* chaining key */
    uint8_t h[32];          /* handshake hash */
    uint8_t e_priv[32];     /* our ephemeral private key */
    uint8_t re_pub[32];     /* their ephemeral public key */
};
/* Initiator: message 1 from a fresh ephemeral e_priv. */
int wgc_hs_create_initiation(struct wgc_hs *hs, uint8_t msg[148],
                             const uint8_t s_pub[32], const uint8_t rs_pub[32],
                             const uint8_t static_static[32], const uint8_t e_priv[32],
                             const uint8_t timestamp[12], uint32_t sender);
/* Responder, in two steps around the caller's peer lookup: the initiator's
 * static key out of message 1, then its timestamp under that peer's
 * static_static (DH of the two static keys). */
int wgc_hs_consume_initiation(struct wgc_hs *hs, uint8_t initiator_static[32],
                              const uint8_t msg[148],
                              const uint8_t s_priv[32], const uint8_t s_pub[32]);
int wgc_hs_consume_initiation_payload(struct wgc_hs *hs, uint8_t timestamp[12],
                                      const uint8_t msg[148],
                                      const uint8_t static_static[32]);
/* Responder: message 2 after consuming message 1. */
int wgc_hs_create_response(struct wgc_hs *hs, uint8_t msg[92],
                           const uint8_t rs_pub[32], const uint8_t psk[32],
                           const uint8_t e_priv[32], uint32_t sender, uint32_t receiver);
/* Initiator: message 2 against our message 1. */
int wgc_hs_consume_response(struct wgc_hs *hs, const uint8_t msg[92],
                            const uint8_t s_priv[32], const uint8_t psk[32]);
/* The transport keys for this side; wipes hs. */
void wgc_hs_derive_keys(struct wgc_hs *hs, uint8_t send_key[32], uint8_t recv_key[32],
                        int32_t is_initiator);

/* ---- mac1/mac2, cookie replies, per-source rate limit (cookie.c;
 * protocol/cookie.py and ratelimiter.py are the spec). msg is a whole
 * handshake datagram (its last 32 bytes are mac1 || mac2); addr is the
 * source's 4- or 16-byte address, port in host order. Checks return 0 when
 * the MAC is right, -1 otherwise. ---- */
#define WGC_COOKIE_REPLY_LEN 64
#define WGC_COOKIE_REFRESH_S 120
#define WGC_UNDER_LOAD_HANDSHAKES_PER_SECOND 128
#define WGC_UNDER_LOAD_AFTER_S 1
#define WGC_RATELIMIT_PACKETS_PER_SECOND 20
#define WGC_RATELIMIT_BURST 5
/* A peer's initiations answered at most this often (HANDSHAKE_INITIATION_RATE = 1/50 s). */
#define WGC_HANDSHAKE_INITIATIONS_PER_SECOND 50
/* mac1_key = HASH("mac1----" || pub), cookie_key = HASH("cookie--" || pub). */
void wgc_cookie_keys(uint8_t mac1_key[32], uint8_t cookie_key[32], const uint8_t pub[32]);
int wgc_mac1_check(const uint8_t *msg, size_t len, const uint8_t mac1_key[32]);
int wgc_mac2_check(const uint8_t *msg, size_t len, const uint8_t secret[32],
                   const uint8_t *addr, size_t addr_len, uint16_t port);
/* The cookie reply to msg (to its sender index), sealed under nonce; -1 on
 * a bad length. */
int wgc_cookie_reply(uint8_t out[64], const uint8_t *msg, size_t len,
                     const uint8_t cookie_key[32], const uint8_t secret[32],
                     const uint8_t *addr, size_t addr_len, uint16_t port,
                     const uint8_t nonce[24]);
/* Token buckets of RATELIMIT_PACKETS_PER_SECOND, burst RATELIMIT_BURST, per
 * source address, in a fixed table (family 0: free slot). seed keys the
 * slot hash; a source that finds no slot is refused. */
#define WGC_RATELIMIT_SLOTS 4096
struct wgc_ratelimit_entry {
    uint64_t tokens_ns;
    uint64_t last_ns;
    uint8_t addr[16];
    uint8_t family;
};
struct wgc_ratelimit {
    uint64_t seed;
    struct wgc_ratelimit_entry e[4096];
};
void wgc_ratelimit_init(struct wgc_ratelimit *r, uint64_t seed);
/* 0 if the source (family 4 or 6) may pass one handshake message at now_ns. */
int wgc_ratelimit_allow(struct wgc_ratelimit *r, uint8_t family, const uint8_t *addr,
                        uint64_t now_ns);

#endif
