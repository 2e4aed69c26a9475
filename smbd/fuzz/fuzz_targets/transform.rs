//! The transform header and message decryption, with the null and default crypto providers.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| smbd::fuzzing::transform(data));
