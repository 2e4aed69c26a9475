//! DCE/RPC on the srvsvc and wkssvc named pipes: writes in chunks, reads, transceive.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| smbd::fuzzing::rpc_pipe(data));
