//! Known-answer tests from Microsoft's published SMB examples.
//!
//! Sources:
//! * [ANATOMY] Microsoft Open Specifications blog, "SMB 2 and SMB 3 security in Windows 10:
//!   the anatomy of signing and cryptographic keys", appendix "Key derivation examples"
//!   (SMB 3.0 and SMB 3.1.1 multichannel, with the full 3.1.1 preauth walk-through).
//! * [ENC30] Microsoft Open Specifications blog, "Encryption in SMB 3.0: A protocol
//!   perspective" (2012-10-05), section "Test vector" (AES-128-CCM WRITE and READ).
//!
//! The blogs print keys from the client's side: the client's EncryptionKey is the server's
//! DecryptionKey and vice versa.

use super::test_util::{each_provider_test, hex};
use super::*;

/// A random source that always yields the same bytes, so encryption is reproducible.
struct FixedRandom(&'static [u8]);

impl RandomSource for FixedRandom {
    fn fill(&self, buf: &mut [u8]) -> Result<(), CryptoError> {
        for (i, b) in buf.iter_mut().enumerate() {
            *b = self.0.get(i).copied().unwrap_or(0);
        }
        Ok(())
    }
}

/// The [ANATOMY] 3.0 example, master session: every key of the session.
fn anatomy_smb30_key_derivation(p: &CryptoProvider) {
    let keys = derive_session_keys(
        p,
        0x0300,
        &hex("7CD451825D0450D235424E44BA6E78CC"),
        None,
        Some(Cipher::Aes128Ccm),
    );
    assert_eq!(keys.signing, hex("0B7E9C5CAC36C0F6EA9AB275298CEDCE"));
    // Client EncryptionKey (ServerIn) = server decryption key, and the reverse.
    assert_eq!(keys.decryption, hex("FAD27796665B313EBB578F388632B4F7"));
    assert_eq!(keys.encryption, hex("B0F0427F7CEB416D1D9DCC0CD4F99447"));
    assert_eq!(keys.application, hex("BB23A4575AA26C721AF525AF15A87B4F"));

    // Second channel (session binding): its own signing key.
    let bound = derive_session_keys(
        p,
        0x0300,
        &hex("4E01A2B313BCF660CC250BEF021AEDE6"),
        None,
        Some(Cipher::Aes128Ccm),
    );
    assert_eq!(bound.signing, hex("BA1A17DBBFEC349BCA105563D598952F"));
}

/// The [ENC30] keys.
fn enc30_key_derivation(p: &CryptoProvider) {
    let keys = derive_session_keys(
        p,
        0x0300,
        &hex("B4546771B515F766A86735532DD6C4F0"),
        None,
        None,
    );
    assert_eq!(keys.signing, hex("F773CD23C18FD1E08EE510CADA7CF852"));
    assert_eq!(keys.decryption, hex("261B72350558F2E9DCF613070383EDBF"));
    assert_eq!(keys.encryption, hex("8FE2B57EC34D2DB5B1A9727F526BBDB5"));
    assert_eq!(keys.application, hex("77432F808CE99156B5BC6A3676D730D1"));
}

/// [ENC30] WRITE request (client to server): the AES-128-CCM seal of the SMB2 packet with
/// the published nonce and AAD gives the published ciphertext and signature, and the
/// server decrypts the published transformed message back to the packet.
fn enc30_write_request(p: &CryptoProvider) {
    let key = hex("261B72350558F2E9DCF613070383EDBF");
    let packet = hex(
        "FE534D4240000100000000000900400008000000000000000400000000000000
         FFFE0000010000001100001400E4080000000000000000000000000000000000
         3100700017000000000000000000000015010000390000020100000039020000
         00000000000000007000000000000000536D623320656E6372797074696F6E20
         74657374696E67",
    );
    let aad = hex("66E69A111892584FB5ED524A744DA3EE87000000000001001100001400E40800");
    let encrypted = hex(
        "25C8FEE16605A437832D1CD52DA9F4645333482A175FE5384563F45FCDAFAEF3
         8BC62BA4D5C62897996625A44C29BE5658DE2E6117585779E7B59FFD971278D0
         8580D7FA899E410E910EABF5AA1DB43050B33B49182637759AC15D84BFCDF5B6
         B238993C0F4CF4D6012023F6C627297075D84B7803912D0A9639634453595EF3
         E33FFE4E7AC2AB",
    );
    let mut buf = packet.clone();
    let tag = p
        .aead
        .seal_in_place(
            Cipher::Aes128Ccm,
            &key,
            &hex("66E69A111892584FB5ED52"),
            &aad,
            &mut buf,
        )
        .unwrap();
    assert_eq!(buf, encrypted);
    assert_eq!(tag.to_vec(), hex("81A286535415445DAE393921E44FA42E"));

    let transformed = hex(
        "FD534D4281A286535415445DAE393921E44FA42E66E69A111892584FB5ED524A
         744DA3EE87000000000001001100001400E4080025C8FEE16605A437832D1CD5
         2DA9F4645333482A175FE5384563F45FCDAFAEF38BC62BA4D5C62897996625A4
         4C29BE5658DE2E6117585779E7B59FFD971278D08580D7FA899E410E910EABF5
         AA1DB43050B33B49182637759AC15D84BFCDF5B6B238993C0F4CF4D6012023F6
         C627297075D84B7803912D0A9639634453595EF3E33FFE4E7AC2AB",
    );
    let header = TransformHeader::parse(&transformed).unwrap();
    assert_eq!(header.session_id, 0x8e40014000011);
    assert_eq!(header.original_size, 0x87);
    let plain = decrypt_message(p, Cipher::Aes128Ccm, &key, &transformed).unwrap();
    assert_eq!(plain, packet);
}

/// [ENC30] WRITE and READ responses (server to client), decrypted with the server's
/// EncryptionKey. The server's nonces use all 16 bytes of the Nonce field in the AAD.
fn enc30_responses(p: &CryptoProvider) {
    let key = hex("8FE2B57EC34D2DB5B1A9727F526BBDB5");
    let write_resp = hex(
        "FD534D42A6015530A18F6D9AFFE22AFAE8E66484860000000000000011000014
         00E4080050000000000001001100001400E40800DBF46435C5F14169293CE079
         E344479BF670227E49873F458672C3098DAC467DD5809F369D67409166515787
         1483E01F7BECD02064EAC3E235F913668BBC2F097980D4B378F1993EFF6E60D1
         77309E5B",
    );
    let write_plain = hex(
        "FE534D4240000100000000000900210009000000000000000400000000000000
         FFFE0000010000001100001400E4080000000000000000000000000000000000
         11000000170000000000000000000000",
    );
    let got = decrypt_message(p, Cipher::Aes128Ccm, &key, &write_resp).unwrap();
    assert_eq!(got, write_plain);

    let read_resp = hex(
        "FD534D42ABD518B68C2F04D7879F482B689EB83F870000000000000011000014
         00E4080067000000000001001100001400E40800493D6FE2BDBEB435CF5F5469
         70C7BB57BF20E713C75A3D045507E0D68E5C0346659D6FFB8AC1504A786CA2BB
         89C9E7FE4F313E910A04180D2D0EA7DF636329E5A3285984500EF86FE9D55DA4
         FAB9531CFDD4C551D47F3C73124BB4590A45052B694048B991CCF5",
    );
    let read_plain = hex(
        "FE534D4240000100000000000800210009000000000000000500000000000000
         FFFE0000010000001100001400E4080000000000000000000000000000000000
         11005000170000000000000000000000536D623320656E6372797074696F6E20
         74657374696E67",
    );
    let mut buf = read_resp.clone();
    let header = decrypt_in_place(p, Cipher::Aes128Ccm, &key, &mut buf).unwrap();
    assert_eq!(header.original_size, 0x67);
    assert_eq!(&buf[TRANSFORM_HEADER_LEN..], &read_plain[..]);
}

/// encrypt_message with a fixed "random" nonce (the [ENC30] READ request's CCM nonce):
/// the header carries the nonce zero-padded to 16 bytes, and the body and Signature equal an
/// independent AES-128-CCM seal with header bytes 20..52 as AAD.
fn encrypt_message_with_fixed_nonce_is_reproducible(p: &CryptoProvider) {
    static NONCE: [u8; 11] = [
        0xA5, 0x12, 0x3A, 0x25, 0xF9, 0x83, 0xE2, 0x45, 0x98, 0x3F, 0x41,
    ];
    static FIXED: FixedRandom = FixedRandom(&NONCE);
    let provider = CryptoProvider {
        random: &FIXED,
        ..*p
    };
    let key = hex("8FE2B57EC34D2DB5B1A9727F526BBDB5");
    let plain = b"\xfeSMB some response bytes".to_vec();
    let sealed =
        encrypt_message(&provider, Cipher::Aes128Ccm, &key, 0x8e40014000011, &plain).unwrap();
    let header = TransformHeader::parse(&sealed).unwrap();
    assert_eq!(header.nonce[..11], NONCE);
    assert_eq!(header.nonce[11..], [0; 5]);
    // Independent construction: seal with the header bytes 20..52 as AAD.
    let mut body = plain.clone();
    let tag = p
        .aead
        .seal_in_place(Cipher::Aes128Ccm, &key, &NONCE, &sealed[20..52], &mut body)
        .unwrap();
    assert_eq!(tag, header.signature);
    assert_eq!(&sealed[TRANSFORM_HEADER_LEN..], &body[..]);
}

/// [ANATOMY] 3.1.1 example, master session: the preauth integrity hash over NEGOTIATE and
/// the three SESSION_SETUP messages, the keys derived from it, and the signature of the
/// final SESSION_SETUP response.
fn anatomy_smb311_preauth_keys_and_signature(p: &CryptoProvider) {
    let messages = [
        (
            // NEGOTIATE request
            "FE534D4240000100000000000000800000000000000000000100000000000000FFFE000000000000
             00000000000000000000000000000000000000000000000024000500000000003F000000ECD86F32
             6276024F9F7752B89BB33F3A70000000020000000202100200030203110300000100260000000000
             010020000100FA49E6578F1F3A9F4CD3E9CC14A67AA884B3D05844E0E5A118225C15887F32FF0000
             0200060000000000020002000100",
            "DD94EFC5321BB618A2E208BA8920D2F422992526947A409B5037DE1E0FE8C7362B8C47122594CDE0
             CE26AA9DFC8BCDBDE0621957672623351A7540F1E54A0426",
        ),
        (
            // NEGOTIATE response
            "FE534D4240000100000000000000010001000000000000000100000000000000FFFE000000000000
             000000000000000000000000000000000000000000000000410001001103020039CBCAF329714942
             BDCE5D60F09AB3FB2F000000000080000000800000008000D8DAE5ADCBAED00109094AB095AED001
             80004001C00100006082013C06062B0601050502A08201303082012CA01A3018060A2B0601040182
             3702021E060A2B06010401823702020AA282010C048201084E45474F455854530100000000000000
             60000000700000007C7CC0FD06D6362D02DDE1CF343BFE292900F49750B4AA97934D9C4296B26E51
             FD370471B235E15A50DAE15BD5489C87000000000000000060000000010000000000000000000000
             5C33530DEAF90D4DB2EC4AE3786EC3084E45474F4558545303000000010000004000000098000000
             7C7CC0FD06D6362D02DDE1CF343BFE295C33530DEAF90D4DB2EC4AE3786EC3084000000058000000
             3056A05430523027802530233121301F06035504031318546F6B656E205369676E696E6720507562
             6C6963204B65793027802530233121301F06035504031318546F6B656E205369676E696E67205075
             626C6963204B6579010026000000000001002000010060A3C3B95C3C7CCD51EC536648D9B3AC74C4
             83CA5B65385A251117BEB30712E50000020004000000000001000200",
            "324BFA92A4F3A190E466EBEA08D9C110DC88BFED758D9846ECC6F541CC1D02AE3C94A79F36011E99
             7E13F841B91B50957AD07B19C8E2539C0B23FDAE09D2C513",
        ),
        (
            // SESSION_SETUP request 1 (NTLM NEGOTIATE)
            "FE534D4240000100000000000100800000000000000000000200000000000000FFFE000000000000
             00000000000000000000000000000000000000000000000019000001010000000000000058004A00
             0000000000000000604806062B0601050502A03E303CA00E300C060A2B06010401823702020AA22A
             04284E544C4D5353500001000000978208E200000000000000000000000000000000060380250000
             000F",
            "AC0B0F2B9986257700365E416D142A6EDC96DF03594A19E52A15F6BD0D041CD5D432F8ED42C55E33
             197A50C9EC00F1462B50C592211B1471A04B56088FDFD5F9",
        ),
        (
            // SESSION_SETUP response 1 (STATUS_MORE_PROCESSING_REQUIRED, NTLM CHALLENGE)
            "FE534D4240000100160000C00100010001000000000000000200000000000000FFFE000000000000
             190000000010000000000000000000000000000000000000090000004800B300A181B03081ADA003
             0A0101A10C060A2B06010401823702020AA281970481944E544C4D53535000020000000C000C0038
             00000015828AE20D1D8BA31179D008000000000000000050005000440000000A0092270000000F53
             005500540033003100310002000C0053005500540033003100310001000C00530055005400330031
             00310004000C0053005500540033003100310003000C0053005500540033003100310007000800A1
             A1F5ADCBAED00100000000",
            "2729E3440DFDDD839E37193F6E8F20C20CEFB3469E453A70CD980EEC06B8835740A7376008563336
             4C8989895ECE81BF102DEEB14D4B7D48AFA76901A7A38387",
        ),
        (
            // SESSION_SETUP request 2 (NTLM AUTHENTICATE)
            "FE534D4240000100000000000100800000000000000000000300000000000000FFFE000000000000
             1900000000100000000000000000000000000000000000001900000101000000000000005800CF01
             0000000000000000A18201CB308201C7A0030A0101A28201AA048201A64E544C4D53535000030000
             001800180090000000EE00EE00A80000000C000C00580000001A001A0064000000120012007E0000
             001000100096010000158288E2060380250000000FECAC77A5F385A8BF9C38C706EEEDDCD3530055
             005400330031003100610064006D0069006E006900730074007200610074006F0072004400520049
             0056004500520033003100310000000000000000000000000000000000000000000000000063078E
             B639FE03E20A231C3AE3BF23080101000000000000A1A1F5ADCBAED001BC4AD05F223CC90F000000
             0002000C0053005500540033003100310001000C0053005500540033003100310004000C00530055
             00540033003100310003000C0053005500540033003100310007000800A1A1F5ADCBAED001060004
             00020000000800300030000000000000000000000000300000B61FEFCAA857EA57BF1EDCEBF8974B
             8E0EBA5A6DFD9D07A31D11B548F8C9D0CC0A00100000000000000000000000000000000000090016
             0063006900660073002F005300550054003300310031000000000000000000000000003B9BDFF38F
             5EE8F9663F11A0F4C03A78A31204100100000063775A9A5FD97F0600000000",
            "0DD13628CC3ED218EF9DF9772D436D0887AB9814BFAE63A80AA845F36909DB7928622DDDAD522D97
             51640A459762C5A9D6BB084CBB3CE6BDADEF5D5BCE3C6C01",
        ),
    ];
    let mut hash = [0u8; 64];
    for (i, (message, want)) in messages.iter().enumerate() {
        preauth_update(p, &mut hash, &hex(message));
        assert_eq!(hash.to_vec(), hex(want), "after message {i}");
    }

    let keys = derive_session_keys(
        p,
        0x0311,
        &hex("270E1BA896585EEB7AF3472D3B4C75A7"),
        Some(&hash),
        Some(Cipher::Aes128Gcm),
    );
    assert_eq!(keys.signing, hex("73FE7A9A77BEF0BDE49C650D8CCB5F76"));
    // Client EncryptionKey (SMBC2SCipherKey) = server decryption key, and the reverse.
    assert_eq!(keys.decryption, hex("629BCBC54422A0F572B97F45989B6073"));
    assert_eq!(keys.encryption, hex("E2AF0DCEFAC68DA71A0DFBD0D1350D74"));
    assert_eq!(keys.application, hex("6D7AD7954E9EC61E907B4D473DC178FF"));

    // The final SESSION_SETUP response, signed by the server with AES-128-CMAC.
    let response = hex(
        "FE534D4240000100000000000100800009000000000000000300000000000000FFFE000000000000
         1900000000100000EBE146DA120BA25FC3376A49DFE31BC10900000048001D00A11B3019A0030A01
         00A3120410010000003B453CDC3524164200000000",
    );
    assert!(verify_message(
        p,
        SigningAlgorithm::AesCmac,
        &keys.signing,
        &response
    ));
    let mut resigned = response.clone();
    resigned[48..64].fill(0);
    sign_message(p, SigningAlgorithm::AesCmac, &keys.signing, &mut resigned).unwrap();
    assert_eq!(resigned, response);
}

/// [ANATOMY] 3.1.1 example, second channel: the NEGOTIATE request from a zero hash.
fn anatomy_smb311_second_channel_negotiate_hash(p: &CryptoProvider) {
    let request = hex(
        "FE534D4240000100000000000000800000000000000000000100000000000000FFFE000000000000
         00000000000000000000000000000000000000000000000024000500010000003F000000ECD86F32
         6276024F9F7752B89BB33F3A70000000020000000202100200030203110300000100260000000000
         0100200001003E38B8B81A9AFB172278056F4898FD09A1B9976A49B2D771161FCD4D40DF7D7D0000
         0200060000000000020002000100",
    );
    let mut hash = [0u8; 64];
    preauth_update(p, &mut hash, &request);
    assert_eq!(
        hash.to_vec(),
        hex(
            "F035C2B2BAB116E0DCF6A74E26670604D1BF6DDA065913AF7C30E93C1F025AC3CE2DD44D4DE26524
             A785E5D8E06AF0BE1C74296FEF05B045C3793A12B32C49DF"
        )
    );
}

each_provider_test!(
    anatomy_smb30_key_derivation,
    enc30_key_derivation,
    enc30_write_request,
    enc30_responses,
    encrypt_message_with_fixed_nonce_is_reproducible,
    anatomy_smb311_preauth_keys_and_signature,
    anatomy_smb311_second_channel_negotiate_hash
);
