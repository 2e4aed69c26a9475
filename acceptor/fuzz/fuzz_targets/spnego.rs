//! Feeds arbitrary bytes to the SPNEGO token parser and to each leg of an acceptor exchange.
#![no_main]

mod common;

use std::time::SystemTime;

use acceptor::spnego::tokens;
use acceptor::{AuthProvider, SpnegoProvider, Step};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = tokens::parse_client_token(data);
    let provider = SpnegoProvider::new(common::config());
    // The input split into up to three legs at 0xFF 0x00 separators.
    let mut auth = provider.start();
    for leg in data.split(|&b| b == 0xFF).take(3) {
        match auth.step(SystemTime::UNIX_EPOCH, leg) {
            Step::Continue(_) => {}
            Step::Done { .. } | Step::Failed(_) => break,
        }
    }
});
