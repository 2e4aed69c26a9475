//! SDDL: parse, format, parse again.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| acl::fuzzing::sddl_round_trip(data));
