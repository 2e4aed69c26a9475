//! Feeds arbitrary bytes to the keytab parser and re-encodes what parses.
#![no_main]

use acceptor::krb5::keytab::Keytab;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(kt) = Keytab::parse(data) {
        let _ = kt.encode();
    }
});
