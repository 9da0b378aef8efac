#!/usr/bin/env python3
"""Turn tests/vectors/*.json into a C header of static arrays for src/core/selftest.c.

Usage: gen_vectors.py OUT.h   (stdlib only: it also runs before the venv exists).
The header carries every known answer the C selftest checks, so the selftest itself
needs no parser and runs unchanged under qemu-user. HMAC-BLAKE2s and KDF answers
have no official vectors: they are computed here with Python's hmac + hashlib.
"""

import hashlib
import hmac
import json
import pathlib
import sys

VECTORS = pathlib.Path(__file__).resolve().parent.parent / "vectors"


class Blobs:
    """Byte strings emitted once each as `static const uint8_t bN[]`."""

    def __init__(self):
        self.index = {}
        self.lines = []

    def ref(self, data: bytes) -> str:
        if not data:
            return "v_empty"
        if data not in self.index:
            name = f"b{len(self.index)}"
            self.index[data] = name
            body = ",".join(str(x) for x in data)
            self.lines.append(f"static const uint8_t {name}[{len(data)}] = {{{body}}};")
        return self.index[data]


def cstr(s: str) -> str:
    return (
        '"'
        + s.encode("ascii", "replace")
        .decode()
        .replace("\\", "\\\\")
        .replace('"', '\\"')
        + '"'
    )


def h(s: str) -> bytes:
    return bytes.fromhex(s)


def load(name):
    with open(VECTORS / name) as f:
        return json.load(f)


def hmac_b2s(key: bytes, msg: bytes) -> bytes:
    return hmac.new(key, msg, hashlib.blake2s).digest()


def kdf(ck: bytes, data: bytes, n: int) -> bytes:
    t0 = hmac_b2s(ck, data)
    out, prev = b"", b""
    for i in range(1, n + 1):
        prev = hmac_b2s(t0, prev + bytes([i]))
        out += prev
    return out


def pattern(n: int, seed: int) -> bytes:
    """Deterministic filler bytes (a 32-bit LCG), so the header is reproducible."""
    x, out = seed * 2654435761 + 1, bytearray()
    for _ in range(n):
        x = (x * 1103515245 + 12345) & 0xFFFFFFFF
        out.append(x >> 24)
    return bytes(out)


def main(out_path: str) -> None:
    b = Blobs()
    rows = {
        k: []
        for k in (
            "chacha",
            "poly",
            "keygen",
            "hchacha",
            "aead",
            "blake2s",
            "hmac",
            "kdf",
            "x25519",
        )
    }
    rfc = load("rfc_vectors.json")

    for e in rfc["chacha20"]:
        rows["chacha"].append(
            f"{{{cstr(e['source'])}, {b.ref(h(e['key']))}, {b.ref(h(e['nonce']))}, "
            f"{e['counter']}u, {b.ref(h(e['plaintext']))}, {b.ref(h(e['ciphertext']))}, "
            f"{len(h(e['plaintext']))}}}"
        )
    for e in rfc["poly1305"]:
        rows["poly"].append(
            f"{{{cstr(e['source'])}, {b.ref(h(e['key']))}, {b.ref(h(e['msg']))}, "
            f"{len(h(e['msg']))}, {b.ref(h(e['tag']))}}}"
        )
    for e in rfc["poly1305_keygen"]:
        rows["keygen"].append(
            f"{{{cstr(e['source'])}, {b.ref(h(e['key']))}, {b.ref(h(e['nonce']))}, "
            f"{b.ref(h(e['otk']))}}}"
        )
    for e in rfc["hchacha20"]:
        rows["hchacha"].append(
            f"{{{cstr(e['source'])}, {b.ref(h(e['key']))}, {b.ref(h(e['nonce']))}, "
            f"{b.ref(h(e['out']))}}}"
        )

    def aead_row(label, key, nonce, aad, msg, ct, tag, valid, x):
        rows["aead"].append(
            f"{{{cstr(label)}, {b.ref(key)}, {b.ref(nonce)}, {len(nonce)}, {b.ref(aad)}, {len(aad)}, "
            f"{b.ref(msg)}, {len(msg)}, {b.ref(ct)}, {len(ct)}, {b.ref(tag)}, {len(tag)}, {int(valid)}, {int(x)}}}"
        )

    for key, x in (("aead", 0), ("xaead", 1)):
        for e in rfc[key]:
            aead_row(
                e["source"],
                h(e["key"]),
                h(e["nonce"]),
                h(e["aad"]),
                h(e["plaintext"]),
                h(e["ciphertext"]),
                h(e["tag"]),
                True,
                x,
            )
    for name, x in (
        ("wycheproof_chacha20_poly1305_test.json", 0),
        ("wycheproof_xchacha20_poly1305_test.json", 1),
    ):
        for g in load(name)["testGroups"]:
            for t in g["tests"]:
                label = (
                    f"{'x' if x else ''}wycheproof tcId {t['tcId']} ({t['comment']})"
                )
                aead_row(
                    label,
                    h(t["key"]),
                    h(t["iv"]),
                    h(t["aad"]),
                    h(t["msg"]),
                    h(t["ct"]),
                    h(t["tag"]),
                    t["result"] == "valid",
                    x,
                )

    for g in load("wycheproof_x25519_test.json")["testGroups"]:
        for t in g["tests"]:
            shared = h(t["shared"])
            label = "wycheproof tcId {} ({})".format(t["tcId"], t["comment"])
            rows["x25519"].append(
                f"{{{cstr(label)}, "
                f"{b.ref(h(t['private']))}, {b.ref(h(t['public']))}, {b.ref(shared)}, "
                f"{int(shared == bytes(32))}}}"
            )
    for e in rfc["x25519"]:
        rows["x25519"].append(
            f"{{{cstr(e['source'])}, {b.ref(h(e['scalar']))}, {b.ref(h(e['u']))}, "
            f"{b.ref(h(e['out']))}, 0}}"
        )
    iters = ",\n".join(
        f"{{{cstr(e['source'])}, {e['iterations']}, {b.ref(h(e['out']))}}}"
        for e in rfc["x25519_iterated"]
    )
    million = b.ref(
        h("7c3911e0ab2586fd864497297e575e6f3bc601c0883c30df5f4dd2d24f665424")
    )

    def b2s_row(label, data, key, out):
        rows["blake2s"].append(
            f"{{{cstr(label)}, {b.ref(data)}, {len(data)}, {b.ref(key)}, {len(key)}, "
            f"{b.ref(out)}, {len(out)}}}"
        )

    for i, e in enumerate(load("blake2s-kat.json")):
        b2s_row(
            f"blake2s-kat.json #{i} ({'keyed' if e['key'] else 'unkeyed'}, {len(e['in']) // 2} bytes)",
            h(e["in"]),
            h(e["key"]),
            h(e["out"]),
        )
    for e in rfc["blake2s"]:
        b2s_row(e["source"], h(e["input"]), h(e["key"]), h(e["out"]))
    # Output lengths other than 32 (mac1/mac2 use 16): computed with hashlib.
    for out_len in (1, 16, 20, 31):
        for key_len in (0, 1, 16, 32):
            for n in (0, 1, 63, 64, 65, 200):
                data, key = pattern(n, n + 7), pattern(key_len, key_len + 99)
                b2s_row(
                    f"hashlib blake2s out {out_len} key {key_len} in {n}",
                    data,
                    key,
                    hashlib.blake2s(data, digest_size=out_len, key=key).digest(),
                )

    for key_len in (0, 1, 16, 32, 33, 63, 64, 65, 100, 200):
        for n in (0, 1, 32, 63, 64, 65, 150):
            key, data = pattern(key_len, 1000 + key_len), pattern(n, 2000 + n)
            rows["hmac"].append(
                f'{{"hmac key {key_len} in {n}", {b.ref(key)}, {len(key)}, {b.ref(data)}, '
                f"{len(data)}, {b.ref(hmac_b2s(key, data))}}}"
            )
    for n_out in (1, 2, 3):
        for n in (0, 32, 100):
            ck, data = pattern(32, 3000 + n), pattern(n, 4000 + n)
            rows["kdf"].append(
                f'{{"kdf{n_out} in {n}", {b.ref(ck)}, {b.ref(data)}, {len(data)}, {n_out}, '
                f"{b.ref(kdf(ck, data, n_out))}}}"
            )

    structs = """
struct v_chacha { const char *id; const uint8_t *key, *nonce; uint32_t counter; const uint8_t *pt, *ct; size_t len; };
struct v_poly { const char *id; const uint8_t *key, *msg; size_t msg_len; const uint8_t *tag; };
struct v_keygen { const char *id; const uint8_t *key, *nonce, *otk; };
struct v_hchacha { const char *id; const uint8_t *key, *nonce, *out; };
struct v_aead { const char *id; const uint8_t *key, *nonce; size_t nonce_len; const uint8_t *aad; size_t aad_len;
                const uint8_t *msg; size_t msg_len; const uint8_t *ct; size_t ct_len; const uint8_t *tag;
                size_t tag_len; int valid; int xchacha; };
struct v_x25519 { const char *id; const uint8_t *scalar, *point, *shared; int zero; };
struct v_x25519_iter { const char *id; unsigned iterations; const uint8_t *out; };
struct v_blake2s { const char *id; const uint8_t *in; size_t in_len; const uint8_t *key; size_t key_len;
                   const uint8_t *out; size_t out_len; };
struct v_hmac { const char *id; const uint8_t *key; size_t key_len; const uint8_t *in; size_t in_len; const uint8_t *out; };
struct v_kdf { const char *id; const uint8_t *ck, *in; size_t in_len; size_t n; const uint8_t *out; };
"""
    tables = [
        ("v_chacha", "chacha", "chacha"),
        ("v_poly", "poly", "poly"),
        ("v_keygen", "keygen", "keygen"),
        ("v_hchacha", "hchacha", "hchacha"),
        ("v_aead", "aead", "aead"),
        ("v_x25519", "x25519", "x25519"),
        ("v_blake2s", "blake2s", "blake2s"),
        ("v_hmac", "hmac", "hmac"),
        ("v_kdf", "kdf", "kdf"),
    ]
    out = [
        "/* Generated by tests/cross/gen_vectors.py from the JSON files in tests/vectors. Do not edit. */",
        "#include <stddef.h>",
        "#include <stdint.h>",
        structs,
        "static const uint8_t v_empty[1] = {0};",
    ]
    out += b.lines
    for struct, key, name in tables:
        out.append(
            f"static const struct {struct} {name}_vectors[] = {{\n"
            + ",\n".join(rows[key])
            + "\n};"
        )
        out.append(f"#define N_{name.upper()} {len(rows[key])}")
    out.append(
        f"static const struct v_x25519_iter x25519_iter_vectors[] = {{\n{iters}\n}};"
    )
    out.append(f"#define N_X25519_ITER {len(rfc['x25519_iterated'])}")
    out.append(f"static const uint8_t *const x25519_million = {million};")
    path = pathlib.Path(out_path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text("\n".join(out) + "\n")
    tmp.replace(path)
    print(f"{out_path}: " + ", ".join(f"{k} {len(v)}" for k, v in rows.items()))


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "build/vectors.h")
