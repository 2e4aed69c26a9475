use crate::ace::{AceType, flags};
use crate::descriptor::control;
use crate::{SddlError, SddlFormatError, SecurityDescriptor, Sid};

const USER: &str = "S-1-5-21-1111111111-2222222222-3333333333-1001";
const TI: &str = "S-1-5-80-956008885-3418522649-1831038044-1853292631-2271478464";

/// Real-world SDDL, each exactly as Windows prints it.
fn corpus() -> Vec<(&'static str, String)> {
    vec![
        // C:\Windows and C:\Program Files (owner TrustedInstaller), as Get-Acl prints it.
        ("program files", format!(
            "O:{TI}G:{TI}D:PAI(A;OICIIO;GA;;;CO)(A;OICIIO;GA;;;SY)(A;;0x1301bf;;;SY)\
             (A;OICIIO;GA;;;BA)(A;;0x1301bf;;;BA)(A;OICIIO;GXGR;;;BU)(A;;0x1200a9;;;BU)\
             (A;CIIO;GA;;;{TI})(A;;FA;;;{TI})(A;;0x1200a9;;;AC)(A;OICIIO;GXGR;;;AC)"
        )),
        // The root of a freshly formatted NTFS data volume.
        ("ntfs root", "O:SYG:SYD:AI(A;OICIIO;SDGXGWGR;;;AU)(A;;0x1301bf;;;AU)(A;;FA;;;SY)\
             (A;OICIIO;GA;;;SY)(A;OICIIO;GA;;;BA)(A;;FA;;;BA)(A;;0x1200a9;;;BU)\
             (A;OICIIO;GXGR;;;BU)".to_string()),
        // C:\ itself, with its mandatory label.
        ("c root", "O:SYG:SYD:AI(A;OICI;FA;;;BA)(A;OICI;FA;;;SY)(A;OICI;0x1200a9;;;BU)\
             (A;OICIIO;SDGXGWGR;;;AU)(A;;LC;;;AU)S:(ML;OINPIO;NW;;;HI)".to_string()),
        // C:\Users.
        ("users", "O:SYG:SYD:PAI(A;OICI;FA;;;SY)(A;OICI;FA;;;BA)(A;;0x1200a9;;;BU)\
             (A;OICIIO;GXGR;;;BU)(A;;0x1200a9;;;WD)(A;OICIIO;GXGR;;;WD)".to_string()),
        // A user profile folder and a file inside it.
        ("profile", format!(
            "O:BAG:SYD:PAI(A;OICI;FA;;;SY)(A;OICI;FA;;;BA)(A;OICI;FA;;;{USER})"
        )),
        ("profile subdir", format!(
            "O:{USER}G:{USER}D:AI(A;OICIID;FA;;;SY)(A;OICIID;FA;;;BA)(A;OICIID;FA;;;{USER})"
        )),
        ("recycle bin", format!(
            "O:{USER}G:{USER}D:PAI(A;OICI;FA;;;SY)(A;OICI;FA;;;BA)(A;;0x1201ad;;;BU)"
        )),
        // FSLogix profile share root.
        ("fslogix", crate::FSLOGIX_ROOT_SDDL.to_string()),
        // Azure Files' default share root as its documentation lists the entries.
        ("azure files root", "O:BAG:SYD:(A;OICI;FA;;;BA)(A;;0x1200a9;;;BU)(A;OICIIO;GXGR;;;BU)\
             (A;OICI;0x1301bf;;;AU)(A;OICI;FA;;;SY)(A;;FA;;;SY)(A;OICIIO;FA;;;CO)".to_string()),
        // Mandatory labels and audit ACEs.
        ("low label", "S:(ML;;NW;;;LW)".to_string()),
        ("pipe", "D:(A;;GA;;;SY)(A;;GA;;;BA)(A;;GA;;;OW)(A;;0x12008b;;;IU)S:(ML;;NWNR;;;ME)"
            .to_string()),
        ("high label", "O:SYD:P(A;;GA;;;SY)(A;;GA;;;BA)S:(ML;;NWNRNX;;;HI)".to_string()),
        ("audit", "O:NSG:BAD:P(A;;GA;;;BA)(A;;GR;;;IU)(A;;GXGR;;;S-1-5-21-1-2-3-1145)\
             S:P(AU;FA;GA;;;WD)(AU;SA;GXGW;;;WD)".to_string()),
        ("task", "O:SYG:SYD:P(A;;GA;;;SY)(A;;GA;;;BA)(A;;GXGR;;;LS)".to_string()),
        // Active Directory style: object ACEs, per-bit rights, flags P AR AI.
        ("ad", "O:DAG:DAD:PARAI(A;;CCDCLCSWRPWPDTLOCRSDRCWDWO;;;DA)\
             (OA;CIIO;RP;4c164200-20c0-11d0-a768-00aa006e0529;bf967aba-0de6-11d0-a285-00aa003049e2;RU)\
             (OA;;CR;ab721a53-1e2f-11d0-9819-00aa0040529b;;WD)(A;;LCRPLORC;;;AU)".to_string()),
        ("null dacl", "O:BAG:BAD:NO_ACCESS_CONTROL".to_string()),
        ("empty protected dacl", "D:P".to_string()),
        ("registry", "O:BAG:SYD:PAI(A;CI;KA;;;BA)(A;CI;KR;;;BU)(A;CIIO;KA;;;CO)".to_string()),
        ("deny first", "D:(D;OICI;SD;;;WD)(A;OICI;FR;;;WD)(A;;FW;;;AU)(A;;FX;;;NU)".to_string()),
    ]
}

fn domain() -> Sid {
    "S-1-5-21-1-2-3".parse().unwrap()
}

#[test]
fn corpus_round_trips_text_and_binary() {
    let d = domain();
    for (name, text) in corpus() {
        let sd = SecurityDescriptor::from_sddl(&text, Some(&d))
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(sd.to_sddl(Some(&d)).unwrap(), text, "{name}");
        let bin = sd.encode().unwrap();
        let back = SecurityDescriptor::decode(&bin).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(back, sd, "{name}");
        assert_eq!(back.encode().unwrap(), bin, "{name}");
    }
}

#[test]
fn known_binary_encoding() {
    let sd = SecurityDescriptor::from_sddl("O:BAG:SYD:(A;;FA;;;WD)", None).unwrap();
    let expected: Vec<u8> = [
        // Revision 1, Sbz1, control SR|DP, owner 20, group 36, SACL 0, DACL 48.
        &[
            1u8, 0, 0x04, 0x80, 20, 0, 0, 0, 36, 0, 0, 0, 0, 0, 0, 0, 48, 0, 0, 0,
        ][..],
        // S-1-5-32-544, S-1-5-18.
        &[1, 2, 0, 0, 0, 0, 0, 5, 32, 0, 0, 0, 0x20, 2, 0, 0],
        &[1, 1, 0, 0, 0, 0, 0, 5, 18, 0, 0, 0],
        // ACL: revision 2, size 28, one ACE.
        &[2, 0, 28, 0, 1, 0, 0, 0],
        // ACCESS_ALLOWED, no flags, size 20, 0x001F01FF, S-1-1-0.
        &[
            0, 0, 20, 0, 0xFF, 0x01, 0x1F, 0x00, 1, 1, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0,
        ],
    ]
    .concat();
    assert_eq!(sd.encode().unwrap(), expected);
    assert_eq!(SecurityDescriptor::decode(&expected).unwrap(), sd);
}

#[test]
fn canonicalises_what_windows_canonicalises() {
    let cases = [
        // Rights as hex that an alias covers, aliases in another order, lower case.
        ("D:(A;;0x1f01ff;;;S-1-5-32-544)", "D:(A;;FA;;;BA)"),
        ("D:(A;;GRGX;;;BU)", "D:(A;;GXGR;;;BU)"),
        // Schema defaults are hand-written; Windows prints the bits in ascending order.
        ("D:(A;;RPLCLORC;;;AU)", "D:(A;;LCRPLORC;;;AU)"),
        (
            "D:(A;;RPWPCRCCDCLCLORCWOWDSDDTSW;;;SY)",
            "D:(A;;CCDCLCSWRPWPDTLOCRSDRCWDWO;;;SY)",
        ),
        ("D:(A;CIOI;GA;;;CO)", "D:(A;OICI;GA;;;CO)"),
        ("D:(A;IDIOCIOI;GA;;;CO)", "D:(A;OICIIOID;GA;;;CO)"),
        ("D:(A;;0X1200A9;;;bu)", "D:(A;;0x1200a9;;;BU)"),
        ("D:(A;;1179817;;;BU)", "D:(A;;0x1200a9;;;BU)"),
        ("D:(A;;FRFX;;;BU)", "D:(A;;0x1200a9;;;BU)"),
        (
            "d:ai (a;;fa;;;sy) (A;;FA;;;s-1-5-32-544)",
            "D:AI(A;;FA;;;SY)(A;;FA;;;BA)",
        ),
        ("D:AIARP", "D:PARAI"),
        ("S:(ML;;0x1;;;S-1-16-4096)", "S:(ML;;NW;;;LW)"),
        ("S:(ML;;0x8;;;LW)", "S:(ML;;0x8;;;LW)"),
        ("D:(A;;0x1;;;WD)", "D:(A;;CC;;;WD)"),
        ("D:(A;;0x100000;;;WD)", "D:(A;;0x100000;;;WD)"),
        ("D:(A;;0;;;WD)", "D:(A;;;;;WD)"),
        ("D:(A;;KX;;;WD)", "D:(A;;KR;;;WD)"),
        ("G:SYO:BA", "O:BAG:SY"),
        // Authorities of 2^32 and above print in hex, as ConvertSidToStringSid does.
        ("O:S-1-0x123456789abc-1", "O:S-1-0x123456789ABC-1"),
        ("D:(AU;SAFA;FA;;;WD)", "D:(AU;SAFA;FA;;;WD)"),
        ("S:(AU;TP;FA;;;WD)", "S:(AU;SA;FA;;;WD)"),
    ];
    for (input, want) in cases {
        let sd =
            SecurityDescriptor::from_sddl(input, None).unwrap_or_else(|e| panic!("{input}: {e}"));
        assert_eq!(sd.to_sddl(None).unwrap(), want, "{input}");
    }
}

#[test]
fn domain_relative_aliases() {
    let d = domain();
    let sd =
        SecurityDescriptor::from_sddl("O:DAG:DUD:(A;;FA;;;LA)(A;;FA;;;EA)(A;;FA;;;RO)", Some(&d))
            .unwrap();
    assert_eq!(sd.owner.as_ref().unwrap().to_string(), "S-1-5-21-1-2-3-512");
    assert_eq!(sd.group.as_ref().unwrap().to_string(), "S-1-5-21-1-2-3-513");
    let dacl = sd.dacl.as_ref().unwrap();
    assert_eq!(dacl.aces[0].sid.to_string(), "S-1-5-21-1-2-3-500");
    assert_eq!(dacl.aces[1].sid.to_string(), "S-1-5-21-1-2-3-519");
    assert_eq!(dacl.aces[2].sid.to_string(), "S-1-5-21-1-2-3-498");
    // Without the domain they print as SIDs, and cannot be parsed.
    assert_eq!(
        sd.to_sddl(None).unwrap(),
        "O:S-1-5-21-1-2-3-512G:S-1-5-21-1-2-3-513D:(A;;FA;;;S-1-5-21-1-2-3-500)\
         (A;;FA;;;S-1-5-21-1-2-3-519)(A;;FA;;;S-1-5-21-1-2-3-498)"
    );
    assert_eq!(
        SecurityDescriptor::from_sddl("O:DA", None),
        Err(SddlError::DomainRequired { at: 2 })
    );
    // Another domain's RIDs do not print as aliases.
    let other: Sid = "S-1-5-21-9-9-9".parse().unwrap();
    assert_eq!(sd.to_sddl(Some(&other)).unwrap(), sd.to_sddl(None).unwrap());
}

#[test]
fn well_known_aliases_parse_to_their_sids() {
    for (alias, sid) in [
        ("WD", "S-1-1-0"),
        ("AU", "S-1-5-11"),
        ("NU", "S-1-5-2"),
        ("BA", "S-1-5-32-544"),
        ("BU", "S-1-5-32-545"),
        ("BG", "S-1-5-32-546"),
        ("SY", "S-1-5-18"),
        ("CO", "S-1-3-0"),
        ("CG", "S-1-3-1"),
        ("OW", "S-1-3-4"),
        ("LS", "S-1-5-19"),
        ("NS", "S-1-5-20"),
        ("AN", "S-1-5-7"),
        ("IU", "S-1-5-4"),
        ("SU", "S-1-5-6"),
        ("RD", "S-1-5-32-555"),
        ("PU", "S-1-5-32-547"),
        ("BO", "S-1-5-32-551"),
        ("SO", "S-1-5-32-549"),
        ("AO", "S-1-5-32-548"),
        ("PO", "S-1-5-32-550"),
        ("RU", "S-1-5-32-554"),
        ("WR", "S-1-5-33"),
        ("RC", "S-1-5-12"),
        ("ED", "S-1-5-9"),
        ("LW", "S-1-16-4096"),
        ("ME", "S-1-16-8192"),
        ("HI", "S-1-16-12288"),
        ("SI", "S-1-16-16384"),
        ("AC", "S-1-15-2-1"),
    ] {
        let sd = SecurityDescriptor::from_sddl(&format!("O:{alias}"), None).unwrap();
        assert_eq!(sd.owner.as_ref().unwrap().to_string(), sid, "{alias}");
        assert_eq!(sd.to_sddl(None).unwrap(), format!("O:{alias}"));
    }
}

#[test]
fn ace_fields() {
    let sd = SecurityDescriptor::from_sddl(
        "D:(OA;CIIO;RP;4c164200-20c0-11d0-a768-00aa006e0529;bf967aba-0de6-11d0-a285-00aa003049e2;RU)\
         (XA;;FA;;;WD;)",
        None,
    )
    .unwrap();
    let dacl = sd.dacl.as_ref().unwrap();
    assert_eq!(dacl.revision, crate::ACL_REVISION_DS);
    let oa = &dacl.aces[0];
    assert_eq!(oa.kind, AceType::ACCESS_ALLOWED_OBJECT);
    assert_eq!(oa.flags, flags::CONTAINER_INHERIT | flags::INHERIT_ONLY);
    assert_eq!(oa.mask, 0x10);
    assert_eq!(oa.object.as_ref().unwrap().flags, 3);
    assert_eq!(dacl.aces[1].kind, AceType::ACCESS_ALLOWED_CALLBACK);
    assert_eq!(sd.control, control::SELF_RELATIVE | control::DACL_PRESENT);
}

#[test]
fn parse_errors_name_the_place() {
    let cases = [
        ("X:BA", SddlError::ExpectedPart { at: 0 }),
        ("O:BAO:SY", SddlError::DuplicatePart { at: 4 }),
        ("O:ZZ", SddlError::BadSid { at: 2 }),
        ("O:S-1-", SddlError::BadSid { at: 2 }),
        ("O:B", SddlError::BadSid { at: 2 }),
        ("D:(A;;FA;;;WD", SddlError::UnterminatedAce { at: 2 }),
        ("D:(A;;FA;;WD)", SddlError::FieldCount { at: 2 }),
        ("D:(Q;;FA;;;WD)", SddlError::AceType { at: 3 }),
        ("D:(A;XX;FA;;;WD)", SddlError::AceFlag { at: 5 }),
        ("D:(A;OIX;FA;;;WD)", SddlError::AceFlag { at: 7 }),
        ("D:(A;;QQ;;;WD)", SddlError::Rights { at: 6 }),
        ("D:(A;;0x1g;;;WD)", SddlError::Rights { at: 6 }),
        ("D:(A;;0x100000000;;;WD)", SddlError::Rights { at: 6 }),
        (
            "D:(A;;FA;4c164200-20c0-11d0-a768-00aa006e0529;;WD)",
            SddlError::Guid { at: 9 },
        ),
        ("D:(OA;;FA;nope;;WD)", SddlError::Guid { at: 10 }),
        ("D:(A;;FA;;;WD;x)", SddlError::FieldCount { at: 14 }),
        (
            "D:(XA;;FA;;;WD;(Member_of {SID(BA)}))",
            SddlError::Unsupported { at: 15 },
        ),
        (
            "D:NO_ACCESS_CONTROL(A;;FA;;;WD)",
            SddlError::AcesInNullAcl { at: 19 },
        ),
        ("D:(A;;FA;;;)", SddlError::BadSid { at: 11 }),
        ("D:(A;;FA;;;WD)x", SddlError::ExpectedPart { at: 14 }),
    ];
    for (text, err) in cases {
        assert_eq!(
            SecurityDescriptor::from_sddl(text, None),
            Err(err),
            "{text}"
        );
    }
}

#[test]
fn null_and_absent_acls() {
    let sd = SecurityDescriptor::from_sddl("O:BAD:NO_ACCESS_CONTROL", None).unwrap();
    assert!(sd.dacl.is_none() && sd.has_null_dacl());
    let absent = SecurityDescriptor::from_sddl("O:BA", None).unwrap();
    assert!(absent.dacl.is_none() && !absent.has_null_dacl());
    assert_eq!(absent.to_sddl(None).unwrap(), "O:BA");
    let bin = sd.encode().unwrap();
    assert_eq!(SecurityDescriptor::decode(&bin).unwrap(), sd);
}

#[test]
fn unprintable_aces_are_reported() {
    let mut sd = SecurityDescriptor::from_sddl("D:(XA;;FA;;;WD)", None).unwrap();
    sd.dacl.as_mut().unwrap().aces[0].application_data = b"artx".to_vec();
    assert_eq!(
        sd.to_sddl(None),
        Err(SddlFormatError::ApplicationData(0x09))
    );
    sd.dacl.as_mut().unwrap().aces[0].kind = AceType::ACCESS_DENIED_CALLBACK_OBJECT;
    assert_eq!(sd.to_sddl(None), Err(SddlFormatError::UnnamedAceType(0x0C)));
}

/// An owner whose identifier authority is 2^32 or more prints in hex ("S-1-0x0002540BE400"); a
/// part tag right after it is not read as more hex digits (found by the sddl fuzz target:
/// "D:O:S-1-10000000000" printed "O:S-1-0x0002540BE400D:" which did not parse back).
#[test]
fn a_hex_authority_ends_after_twelve_digits() {
    let sd = SecurityDescriptor::from_sddl("D:O:S-1-10000000000", None).unwrap();
    let printed = sd.to_sddl(None).unwrap();
    assert_eq!(printed, "O:S-1-0x0002540BE400D:");
    assert_eq!(SecurityDescriptor::from_sddl(&printed, None).unwrap(), sd);
    let g = SecurityDescriptor::from_sddl("O:S-1-0x0002540BE400-5G:BA", None).unwrap();
    assert_eq!(g.to_sddl(None).unwrap(), "O:S-1-0x0002540BE400-5G:BA");
}
