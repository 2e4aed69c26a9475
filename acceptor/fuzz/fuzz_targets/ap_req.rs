//! Feeds arbitrary bytes to the Kerberos message decoders and the GSS unwrapping.
#![no_main]

use acceptor::krb5::{gss, messages};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = messages::parse_ap_req(data);
    let _ = messages::parse_enc_ticket_part(data);
    let _ = messages::parse_authenticator(data);
    let _ = messages::parse_auth_data(data);
    let _ = gss::unwrap_initial(data, gss::TOK_AP_REQ);
    let _ = gss::parse_checksum(data);
});
