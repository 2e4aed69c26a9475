//! Feeds arbitrary bytes to the NTLM message parsers and, after a valid NEGOTIATE, to the
//! acceptor as an AUTHENTICATE message (bare NTLMSSP framing).
#![no_main]

mod common;

use std::time::SystemTime;

use acceptor::ntlm::messages::{self, AuthenticateMessage, ChallengeMessage, NegotiateMessage};
use acceptor::{AuthProvider, SpnegoProvider, Step};
use libfuzzer_sys::fuzz_target;

/// A minimal NEGOTIATE asking for the usual flags.
const NEGOTIATE: [u8; 16] = [
    b'N', b'T', b'L', b'M', b'S', b'S', b'P', 0, 1, 0, 0, 0, 0x97, 0x82, 0x88, 0xe2,
];

fuzz_target!(|data: &[u8]| {
    let _ = NegotiateMessage::parse(data);
    let _ = ChallengeMessage::parse(data);
    let _ = AuthenticateMessage::parse(data);
    let _ = messages::parse_av_pairs(data);
    let _ = messages::utf16le_to_string(data);

    let provider = SpnegoProvider::new(common::config());
    let mut auth = provider.start();
    if let Step::Continue(_) = auth.step(SystemTime::UNIX_EPOCH, &NEGOTIATE) {
        let _ = auth.step(SystemTime::UNIX_EPOCH, data);
    }
});
