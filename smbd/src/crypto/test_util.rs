//! Helpers shared by the crypto unit tests.

use super::{AWS_LC_PROVIDER, CryptoProvider, DEFAULT_PROVIDER, RUSTCRYPTO_PROVIDER};

/// Every real provider, named: known-answer tests run against each of them.
pub(crate) const PROVIDERS: [(&str, &CryptoProvider); 3] = [
    ("default", &DEFAULT_PROVIDER),
    ("rustcrypto", &RUSTCRYPTO_PROVIDER),
    ("aws-lc", &AWS_LC_PROVIDER),
];

/// Decodes a hex string (whitespace allowed); panics on bad input, for tests only.
pub(crate) fn hex(text: &str) -> Vec<u8> {
    let digits: Vec<u8> = text
        .bytes()
        .filter(|b| !b.is_ascii_whitespace())
        .map(|b| match b {
            b'0'..=b'9' => b - b'0',
            b'a'..=b'f' => b - b'a' + 10,
            b'A'..=b'F' => b - b'A' + 10,
            _ => panic!("not a hex digit: {b}"),
        })
        .collect();
    assert_eq!(digits.len() & 1, 0, "odd number of hex digits");
    digits.chunks(2).map(|p| (p[0] << 4) | p[1]).collect()
}

/// Declares one `#[test]` for each named `fn(&CryptoProvider)` in scope, running it against
/// every provider of [`PROVIDERS`] (the failing provider's name is printed before it runs).
macro_rules! each_provider_test {
    ($($name:ident),* $(,)?) => {
        mod each_provider {
            $(
                #[test]
                fn $name() {
                    for (provider, p) in $crate::crypto::test_util::PROVIDERS {
                        eprintln!("provider: {provider}");
                        super::$name(p);
                    }
                }
            )*
        }
    };
}
pub(crate) use each_provider_test;
