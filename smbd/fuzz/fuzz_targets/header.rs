//! SMB2 header decode, and the round trip decode -> encode -> decode.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| smbd::fuzzing::header(data));
