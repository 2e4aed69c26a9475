"""Known-answer tests of the harness's own MD4 / NT hash (needs no server)."""

import pytest

from accounts import md4, nt_hash


# RFC 1320, appendix A.5 (MD4 test suite).
@pytest.mark.parametrize(
    "message, digest",
    [
        (b"", "31d6cfe0d16ae931b73c59d7e0c089c0"),
        (b"a", "bde52cb31de33e46245e05fbdbd6fb24"),
        (b"abc", "a448017aaf21d8525fc10ae87aa6729d"),
        (b"message digest", "d9130a8164549fe818874806e1c7014b"),
        (b"abcdefghijklmnopqrstuvwxyz", "d79e1c308aa5bbcdeea8ed63df412da9"),
        (
            b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
            "043f8582f241db351ce627e153e7f0e4",
        ),
        (
            b"1234567890" * 8,
            "e33b4ddc9c38f2199c3e7b164fcc0536",
        ),
    ],
)
def test_md4_rfc1320_vectors(message, digest):
    assert md4(message).hex() == digest


def test_nt_hash_ms_nlmp_vector():
    # MS-NLMP 4.2.2.1.2 (NTOWFv1 of the password "Password").
    assert nt_hash("Password") == "a4f49c406510bdcab6824ee7c30fd852"
