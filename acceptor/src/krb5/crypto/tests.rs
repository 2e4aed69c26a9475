//! Known-answer tests of the Kerberos cryptosystem: RFC 3962 appendix B and RFC 8009
//! appendix A.

use super::*;

/// Decodes hex, ignoring spaces.
pub(crate) fn hex(s: &str) -> Vec<u8> {
    let s: Vec<u8> = s.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
    s.chunks(2)
        .map(|c| u8::from_str_radix(std::str::from_utf8(c).unwrap(), 16).unwrap())
        .collect()
}

/// RFC 3962 appendix B: string-to-key for both AES sizes.
#[test]
fn rfc3962_string_to_key() {
    let x64 = "X".repeat(64);
    let x65 = "X".repeat(65);
    let salt5 = hex("1234567878563412");
    let cases: [(u32, &str, &[u8], &str, &str); 7] = [
        (
            1,
            "password",
            b"ATHENA.MIT.EDUraeburn",
            "42263c6e89f4fc28b8df68ee09799f15",
            "fe697b52bc0d3ce14432ba036a92e65bbb52280990a2fa27883998d72af30161",
        ),
        (
            2,
            "password",
            b"ATHENA.MIT.EDUraeburn",
            "c651bf29e2300ac27fa469d693bdda13",
            "a2e16d16b36069c135d5e9d2e25f896102685618b95914b467c67622225824ff",
        ),
        (
            1200,
            "password",
            b"ATHENA.MIT.EDUraeburn",
            "4c01cd46d632d01e6dbe230a01ed642a",
            "55a6ac740ad17b4846941051e1e8b0a7548d93b0ab30a8bc3ff16280382b8c2a",
        ),
        (
            5,
            "password",
            &salt5,
            "e9b23d52273747dd5c35cb55be619d8e",
            "97a4e786be20d81a382d5ebc96d5909cabcdadc87ca48f574504159f16c36e31",
        ),
        (
            1200,
            &x64,
            b"pass phrase equals block size",
            "59d1bb789a828b1aa54ef9c2883f69ed",
            "89adee3608db8bc71f1bfbfe459486b05618b70cbae22092534e56c553ba4b34",
        ),
        (
            1200,
            &x65,
            b"pass phrase exceeds block size",
            "cb8005dc5f90179a7f02104c0018751d",
            "d78c5c9cb872a8c9dad4697f0bb5b2d21496c82beb2caeda2112fceea057401b",
        ),
        (
            50,
            "\u{1D11E}",
            b"EXAMPLE.COMpianist",
            "f149c1f2e154a73452d43e7fe62a56e5",
            "4b6d9839f84406df1f09cc166db4b83c571848b784a3d6bdc346589a3e393f9e",
        ),
    ];
    for (iter, pw, salt, k128, k256) in cases {
        let k = Key::from_password(Etype::AES128_SHA1, pw, salt, Some(iter)).unwrap();
        assert_eq!(k.bytes(), hex(k128), "aes128 iter {iter}");
        let k = Key::from_password(Etype::AES256_SHA1, pw, salt, Some(iter)).unwrap();
        assert_eq!(k.bytes(), hex(k256), "aes256 iter {iter}");
    }
}

const RFC8009_SALT_PREFIX: &str = "10DF9DD783E5BC8ACEA1730E74355F61";

fn rfc8009_salt() -> Vec<u8> {
    let mut s = hex(RFC8009_SALT_PREFIX);
    s.extend_from_slice(b"ATHENA.MIT.EDUraeburn");
    s
}

/// RFC 8009 appendix A: string-to-key (32768 iterations, the default).
#[test]
fn rfc8009_string_to_key() {
    let k = Key::from_password(Etype::AES128_SHA256, "password", &rfc8009_salt(), None).unwrap();
    assert_eq!(k.bytes(), hex("089BCA48B105EA6EA77CA5D2F39DC5E7"));
    let k = Key::from_password(Etype::AES256_SHA384, "password", &rfc8009_salt(), None).unwrap();
    assert_eq!(
        k.bytes(),
        hex("45BD806DBF6A833A9CFFC1C94589A222367A79BC21C413718906E9F578A78467")
    );
}

const K128: &str = "3705D96080C17728A0E800EAB6E0D23C";
const K256: &str = "6D404D37FAF79F9DF0D33568D320669800EB4836472EA8A026D16B7182460C52";
const KE128: &str = "9B197DD1E8C5609D6E67C3E37C62C72E";
const KI128: &str = "9FDA0E56AB2D85E1569A688696C26A6C";
const KE256: &str = "56AB22BEE63D82D7BC5227F6773F8EA7A5EB1C825160C38312980C442E5C7E49";
const KI256: &str = "69B16514E3CD8E56B82010D5C73012B622C4D00FFC23ED1F";

/// RFC 8009 appendix A: key derivation for usage 2.
#[test]
fn rfc8009_key_derivation() {
    let (ke, ki) = sha2_aes::ke_ki(Etype::AES128_SHA256, &hex(K128), 2).unwrap();
    assert_eq!(ke, hex(KE128));
    assert_eq!(ki, hex(KI128));
    let kc = sha2_aes::kdf(
        Etype::AES128_SHA256,
        &hex(K128),
        &usage_constant(2, 0x99),
        16,
    );
    assert_eq!(kc.unwrap(), hex("B31A018A48F54776F403E9A396325DC3"));
    let (ke, ki) = sha2_aes::ke_ki(Etype::AES256_SHA384, &hex(K256), 2).unwrap();
    assert_eq!(ke, hex(KE256));
    assert_eq!(ki, hex(KI256));
    let kc = sha2_aes::kdf(
        Etype::AES256_SHA384,
        &hex(K256),
        &usage_constant(2, 0x99),
        24,
    );
    assert_eq!(
        kc.unwrap(),
        hex("EF5718BE86CC84963D8BBB5031E9F5C4BA41F28FAF69E73D")
    );
}

/// RFC 8009 appendix A: sample encryptions (empty, short, one block, longer plaintext), checked
/// with the listed Ke/Ki and, through the base key and usage 2, decrypted back.
#[test]
fn rfc8009_encryptions() {
    let pt: Vec<u8> = (0u8..21).collect();
    let cases128: [(&[u8], &str, &str); 4] = [
        (
            &[],
            "7E5895EAF2672435BAD817F545A37148",
            "EF85FB890BB8472F4DAB20394DCA781DAD877EDA39D50C870C0D5A0A8E48C718",
        ),
        (
            &pt[..6],
            "7BCA285E2FD4130FB55B1A5C83BC5B24",
            "84D7F30754ED987BAB0BF3506BEB09CFB55402CEF7E6877CE99E247E52D16ED4421DFDF8976C",
        ),
        (
            &pt[..16],
            "56AB21713FF62C0A1457200F6FA9948F",
            "3517D640F50DDC8AD3628722B3569D2AE07493FA8263254080EA65C1008E8FC295FB4852E7D83E1E7C48C37EEBE6B0D3",
        ),
        (
            &pt[..21],
            "A7A4E29A4728CE10664FB64E49AD3FAC",
            "720F73B18D9859CD6CCB4346115CD336C70F58EDC0C4437C5573544C31C813BCE1E6D072C186B39A413C2F92CA9B8334A287FFCBFC",
        ),
    ];
    let cases256: [(&[u8], &str, &str); 4] = [
        (
            &[],
            "F764E9FA15C276478B2C7D0C4E5F58E4",
            "41F53FA5BFE7026D91FAF9BE959195A058707273A96A40F0A01960621AC612748B9BBFBE7EB4CE3C",
        ),
        (
            &pt[..6],
            "B80D3251C1F6471494256FFE712D0B9A",
            "4ED7B37C2BCAC8F74F23C1CF07E62BC7B75FB3F637B9F559C7F664F69EAB7B6092237526EA0D1F61CB20D69D10F2",
        ),
        (
            &pt[..16],
            "53BF8A0D105265D4E276428624CE5E63",
            "BC47FFEC7998EB91E8115CF8D19DAC4BBBE2E163E87DD37F49BECA92027764F68CF51F14D798C2273F35DF574D1F932E40C4FF255B36A266",
        ),
        (
            &pt[..21],
            "763E65367E864F02F55153C7E3B58AF1",
            "40013E2DF58E8751957D2878BCD2D6FE101CCFD556CB1EAE79DB3C3EE86429F2B2A602AC86FEF6ECB647D6295FAE077A1FEB517508D2C16B4192E01F62",
        ),
    ];
    for (etype, base, ke, ki, cases) in [
        (Etype::AES128_SHA256, K128, KE128, KI128, cases128),
        (Etype::AES256_SHA384, K256, KE256, KI256, cases256),
    ] {
        let key = Key::new(etype, &hex(base)).unwrap();
        for (plain, conf, expected) in cases {
            let mut c = [0u8; 16];
            c.copy_from_slice(&hex(conf));
            let ct = sha2_aes::encrypt_with_keys(etype, &hex(ke), &hex(ki), &c, plain).unwrap();
            assert_eq!(ct, hex(expected));
            assert_eq!(key.encrypt_with_confounder(2, plain, &c).unwrap(), ct);
            assert_eq!(key.decrypt(2, &ct).unwrap(), plain);
            let mut bad = ct.clone();
            bad[0] ^= 1;
            assert_eq!(key.decrypt(2, &bad), Err(CryptoError::IntegrityFailure));
        }
    }
}

/// RFC 8009 appendix A: sample checksums (usage 2).
#[test]
fn rfc8009_checksums() {
    let pt: Vec<u8> = (0u8..21).collect();
    let k = Key::new(Etype::AES128_SHA256, &hex(K128)).unwrap();
    let expected = hex("D78367186643D67B411CBA9139FC1DEE");
    assert_eq!(k.checksum(2, &pt).unwrap(), expected);
    k.verify_checksum(CKSUM_HMAC_SHA256_128_AES128, 2, &pt, &expected)
        .unwrap();
    let k = Key::new(Etype::AES256_SHA384, &hex(K256)).unwrap();
    let expected = hex("45EE791567EEFCA37F4AC1E0222DE80D43C3BFA06699672A");
    assert_eq!(k.checksum(2, &pt).unwrap(), expected);
    assert_eq!(
        k.verify_checksum(CKSUM_HMAC_SHA384_192_AES256, 3, &pt, &expected),
        Err(CryptoError::IntegrityFailure)
    );
}

/// RFC 3962 and RC4 round trips at every length around the block size, and tamper detection.
#[test]
fn round_trips_and_tampering() {
    for etype in [Etype::AES128_SHA1, Etype::AES256_SHA1, Etype::RC4_HMAC] {
        let key = Key::new(etype, &vec![7u8; etype.key_len().unwrap()]).unwrap();
        for len in 0..50 {
            let pt: Vec<u8> = (0..len as u8).collect();
            let ct = key.encrypt(11, &pt).unwrap();
            assert_eq!(key.decrypt(11, &ct).unwrap(), pt, "{etype:?} {len}");
            assert!(key.decrypt(12, &ct).is_err());
            let mut bad = ct.clone();
            *bad.last_mut().unwrap() ^= 0x80;
            assert_eq!(key.decrypt(11, &bad), Err(CryptoError::IntegrityFailure));
            for cut in 0..ct.len().min(30) {
                assert!(key.decrypt(11, &ct[..cut]).is_err());
            }
        }
        let ck = key.checksum(17, b"data").unwrap();
        let ty = etype.checksum_type().unwrap();
        key.verify_checksum(ty, 17, b"data", &ck).unwrap();
        assert!(key.verify_checksum(ty, 17, b"datb", &ck).is_err());
        assert!(key.verify_checksum(1, 17, b"data", &ck).is_err());
    }
    assert!(Key::new(Etype(1), &[0; 8]).is_err());
    assert!(Key::new(Etype::AES256_SHA1, &[0; 16]).is_err());
}
