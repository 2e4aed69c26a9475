//! One SMB2 request: the header, then the body decoder of its command.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| smbd::fuzzing::request(data));
