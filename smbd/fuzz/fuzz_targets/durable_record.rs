//! Durable-handle records (decode, then re-encode to the same bytes) and journal entries.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| smbd::fuzzing::durable::durable_record(data));
