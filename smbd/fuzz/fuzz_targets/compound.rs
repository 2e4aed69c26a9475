//! A compound chain: NextCommand links walked as the dispatcher does, each message decoded.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| smbd::fuzzing::compound(data));
