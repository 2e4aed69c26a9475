//! Binary security descriptors: decode, encode, decode again.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| acl::fuzzing::sd_round_trip(data));
