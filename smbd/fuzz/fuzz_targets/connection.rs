//! A whole connection: length-prefixed frames into dispatch::handle_frame with the null crypto provider.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| smbd::fuzzing::connection(data));
