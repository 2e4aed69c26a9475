//! MS-FSCC SET_INFO buffers (first byte is the class), EA lists, UTF-16 names, 8.3 names,
//! wildcards.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| smbd::fuzzing::fscc(data));
