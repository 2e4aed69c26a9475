//! Feeds arbitrary bytes to the PAC and KERB_VALIDATION_INFO decoders.
#![no_main]

use acceptor::pac::{Pac, logon_info};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = Pac::parse(data);
    let _ = logon_info::parse(data);
});
