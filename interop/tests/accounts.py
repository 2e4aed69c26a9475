"""Test accounts shared by the pytest fixture and samba-reference.sh, and the NT hash they need.

The server's config stores `nt_hash = MD4(UTF-16LE(password))` (MS-NLMP 3.3.1, NTOWFv1).
OpenSSL 3 may not offer MD4 through hashlib, so MD4 (RFC 1320) is written out here.
Run as a script, prints `name password` lines.
"""

import struct

#: name -> password of every account the server under test knows.
ACCOUNTS = {
    "alice": "Alice-Pass-1",
    "bob": "Bob-Pass-2",
}


def _rotl(x: int, n: int) -> int:
    x &= 0xFFFFFFFF
    return ((x << n) | (x >> (32 - n))) & 0xFFFFFFFF


def md4(data: bytes) -> bytes:
    """MD4 message digest (RFC 1320)."""
    length_bits = (len(data) * 8) & 0xFFFFFFFFFFFFFFFF
    msg = data + b"\x80" + b"\x00" * ((55 - len(data)) % 64) + struct.pack("<Q", length_bits)
    a, b, c, d = 0x67452301, 0xEFCDAB89, 0x98BADCFE, 0x10325476

    def f(x, y, z):
        return (x & y) | (~x & z)

    def g(x, y, z):
        return (x & y) | (x & z) | (y & z)

    def h(x, y, z):
        return x ^ y ^ z

    for off in range(0, len(msg), 64):
        x = struct.unpack("<16I", msg[off : off + 64])
        aa, bb, cc, dd = a, b, c, d
        # Round 1: [abcd k s] a = (a + F(b,c,d) + X[k]) <<< s
        for k in range(0, 16, 4):
            a = _rotl(a + f(b, c, d) + x[k], 3)
            d = _rotl(d + f(a, b, c) + x[k + 1], 7)
            c = _rotl(c + f(d, a, b) + x[k + 2], 11)
            b = _rotl(b + f(c, d, a) + x[k + 3], 19)
        # Round 2: [abcd k s] a = (a + G(b,c,d) + X[k] + 5A827999) <<< s
        for k in range(4):
            a = _rotl(a + g(b, c, d) + x[k] + 0x5A827999, 3)
            d = _rotl(d + g(a, b, c) + x[k + 4] + 0x5A827999, 5)
            c = _rotl(c + g(d, a, b) + x[k + 8] + 0x5A827999, 9)
            b = _rotl(b + g(c, d, a) + x[k + 12] + 0x5A827999, 13)
        # Round 3: [abcd k s] a = (a + H(b,c,d) + X[k] + 6ED9EBA1) <<< s
        for k in (0, 2, 1, 3):
            a = _rotl(a + h(b, c, d) + x[k] + 0x6ED9EBA1, 3)
            d = _rotl(d + h(a, b, c) + x[k + 8] + 0x6ED9EBA1, 9)
            c = _rotl(c + h(d, a, b) + x[k + 4] + 0x6ED9EBA1, 11)
            b = _rotl(b + h(c, d, a) + x[k + 12] + 0x6ED9EBA1, 15)
        a = (a + aa) & 0xFFFFFFFF
        b = (b + bb) & 0xFFFFFFFF
        c = (c + cc) & 0xFFFFFFFF
        d = (d + dd) & 0xFFFFFFFF
    return struct.pack("<4I", a, b, c, d)


def nt_hash(password: str) -> str:
    """NTOWFv1 of `password` as 32 lowercase hex digits (MS-NLMP 3.3.1)."""
    return md4(password.encode("utf-16-le")).hex()


if __name__ == "__main__":
    for name, password in ACCOUNTS.items():
        print(name, password)
