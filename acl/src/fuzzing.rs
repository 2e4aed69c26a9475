//! Entry points for the cargo-fuzz targets in `acl/fuzz`: each asserts the round-trip
//! properties of one parser and exercises what consumes its output.

use crate::{GenericMapping, SecurityDescriptor, Sid, Token, access_check, inherit};

/// Binary descriptor: whatever decodes encodes canonically, decodes back to the same value and
/// re-encodes to the same bytes; the access check, inheritance and SDDL printing do not panic.
pub fn sd_round_trip(data: &[u8]) {
    let Ok(sd) = SecurityDescriptor::decode(data) else {
        return;
    };
    let Ok(bytes) = sd.encode() else {
        return;
    };
    let again = SecurityDescriptor::decode(&bytes).expect("canonical encoding decodes");
    assert_eq!(again, sd, "decode(encode(sd)) == sd");
    assert_eq!(
        again.encode().expect("encodes"),
        bytes,
        "encoding is stable"
    );
    let token = Token::network_logon(Sid::new(5, &[21, 1, 2, 3, 1001]), Vec::new());
    let m = &GenericMapping::FILE;
    let _ = access_check(&sd, &token, crate::access::MAXIMUM_ALLOWED, m);
    let _ = access_check(&sd, &token, 0x001F_01FF, m);
    let _ = inherit(&sd, Some(&sd), &token, true, m);
    let _ = sd.to_sddl(None);
}

/// SDDL: whatever parses prints, and the printed text parses back to the same descriptor,
/// which survives the binary form too.
pub fn sddl_round_trip(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let domain = Sid::new(5, &[21, 1, 2, 3]);
    let Ok(sd) = SecurityDescriptor::from_sddl(text, Some(&domain)) else {
        return;
    };
    let printed = sd.to_sddl(Some(&domain)).expect("parsed SDDL prints");
    let back = SecurityDescriptor::from_sddl(&printed, Some(&domain)).expect("printed SDDL parses");
    assert_eq!(back, sd, "parse(format(sd)) == sd for {printed}");
    assert_eq!(
        back.to_sddl(Some(&domain)).expect("prints"),
        printed,
        "format is stable"
    );
    if let Ok(bytes) = sd.encode() {
        assert_eq!(SecurityDescriptor::decode(&bytes).expect("decodes"), sd);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A small deterministic mutation run over seeds, so the properties are checked in CI too.
    #[test]
    fn mutated_seeds_keep_the_properties() {
        let seeds = [
            crate::FSLOGIX_ROOT_SDDL,
            "O:DAG:DUD:PARAI(OA;CIIO;RP;4c164200-20c0-11d0-a768-00aa006e0529;;RU)(XA;;FA;;;WD)",
            "S:(ML;OINPIO;NWNRNX;;;HI)(AU;SAFA;0x1200a9;;;S-1-0x123456789abc-7)D:NO_ACCESS_CONTROL",
        ];
        let mut state = 0x2545_F491_4F6C_DD1Du64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let alphabet = b"OGDS:();-0123456789xABCDEFIPNRUWYLabcdef_ ";
        for seed in seeds {
            sddl_round_trip(seed.as_bytes());
            let bin = SecurityDescriptor::from_sddl(seed, Some(&Sid::new(5, &[21, 1, 2, 3])))
                .unwrap()
                .encode()
                .unwrap();
            sd_round_trip(&bin);
            for _ in 0..3000 {
                let mut text = seed.as_bytes().to_vec();
                let mut b = bin.clone();
                for _ in 0..1 + next() % 4 {
                    let r = next() as usize;
                    let i = r % text.len();
                    match r % 3 {
                        0 => text[i] = alphabet[(r >> 8) % alphabet.len()],
                        1 => {
                            text.remove(i);
                        }
                        _ => text.insert(i, alphabet[(r >> 8) % alphabet.len()]),
                    }
                    let j = (r >> 16) % b.len();
                    b[j] = (r >> 24) as u8;
                }
                sddl_round_trip(&text);
                sd_round_trip(&b);
                sd_round_trip(&b[..(next() as usize) % b.len()]);
            }
        }
    }
}
