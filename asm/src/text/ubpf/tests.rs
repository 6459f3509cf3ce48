use super::*;
use crate::text::{assemble, Dialect};

fn bytes(src: &str) -> Vec<u8> {
    assemble(src, Dialect::Ubpf)
        .unwrap_or_else(|e| panic!("{src}: {e:?}"))
        .bytes()
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn errors(src: &str) -> Vec<Diagnostic> {
    assemble(src, Dialect::Ubpf).expect_err(src)
}

#[test]
fn basic_forms() {
    assert_eq!(hex(&bytes("mov %r0, 1")), "b700000001000000");
    assert_eq!(hex(&bytes("mov32 %r1, %r2")), "bc21000000000000");
    assert_eq!(hex(&bytes("add64 %r1, -1")), "07010000ffffffff");
    assert_eq!(hex(&bytes("ldxw %r0, [%r1+4]")), "6110040000000000");
    assert_eq!(hex(&bytes("stxdw [%r10-8], %r0")), "7b0af8ff00000000");
    assert_eq!(hex(&bytes("stw [%r1], 0xffffffff")), "62010000ffffffff");
    assert_eq!(
        hex(&bytes("lock fetch add32 [%r10-4], %r1")),
        "c31afcff01000000"
    );
    assert_eq!(hex(&bytes("call %r2")), "8d02000000000000");
    assert_eq!(hex(&bytes("swap16 %r0")), "d700000010000000");
    assert_eq!(
        hex(&bytes("lddw %r0, 0x123456789abcdef0")),
        "18000000f0debc9a0000000078563412"
    );
}

#[test]
fn every_bad_line_is_reported() {
    let ds = errors("ldxq %r0, %r1\nmov32 %r0, 2147483648\nexit\nor %r0, %r50\n");
    let msgs: Vec<&str> = ds.iter().map(|d| d.message.as_str()).collect();
    assert_eq!(
        msgs,
        [
            "invalid mnemonic `ldxq`",
            "immediate `2147483648` is out of 32-bit range",
            "invalid register `%r50`"
        ]
    );
}

/// The single diagnostic for `src`, with the text its span covers.
fn one_error(src: &str) -> (Diagnostic, &str) {
    let mut ds = errors(src);
    assert_eq!(ds.len(), 1, "{src}: {ds:?}");
    let d = ds.remove(0);
    let text = &src[d.span.range()];
    (d, text)
}

#[test]
fn lock_errors() {
    let (d, at) = one_error("lock\nexit");
    assert!(
        d.message
            .starts_with("invalid number of operands for `lock`"),
        "{d}"
    );
    assert_eq!(at, "lock");
    assert!(
        d.expected.contains(&"`fetch add`".to_string()),
        "{:?}",
        d.expected
    );
    assert!(
        !d.expected.contains(&"`add32`".to_string()),
        "{:?}",
        d.expected
    );

    let (d, at) = one_error("lock or [%r10-8]\nexit");
    assert_eq!(
        d.message,
        "invalid number of operands for `lock or`: expected 2, found 1"
    );
    assert_eq!(at, "lock or [%r10-8]");
    assert_eq!(
        d.help.as_deref(),
        Some("write it as `lock or [%dst+off], %src`")
    );

    let (d, at) = one_error("lock nand [%r1], %r2");
    assert_eq!(d.message, "unknown atomic operation `nand`");
    assert_eq!(at, "nand");
    let (d, at) = one_error("lock fetch nand [%r1], %r2");
    assert_eq!(d.message, "unknown atomic operation `fetch nand`");
    assert_eq!(at, "fetch nand");
}

#[test]
fn operand_errors_point_at_the_operand() {
    let (d, at) = one_error("ldxb %r0, %r1");
    assert_eq!(d.message, "unexpected register `%r1`");
    assert_eq!(d.expected, ["a memory operand like `[%r1+4]`"]);
    assert_eq!(at, "%r1");

    let (d, at) = one_error("ldxb %r0, [%r1+0x10000]");
    assert_eq!(d.message, "offset `+0x10000` is out of 16-bit range");
    assert_eq!(at, "+0x10000");

    let (d, at) = one_error("or %r0, %r50");
    assert_eq!(
        (d.message.as_str(), at),
        ("invalid register `%r50`", "%r50")
    );
    for bad in ["%r11", "%r01", "%r", "%fp"] {
        let (d, _) = one_error(&format!("mov {bad}, 1"));
        assert_eq!(d.message, format!("invalid register `{bad}`"));
    }

    let (d, at) = one_error("mov %r0, 12ab");
    assert_eq!(
        (d.message.as_str(), at),
        ("malformed number `12ab`", "12ab")
    );

    let (d, _) = one_error("jeq %r1, done, +1\ndone: exit");
    assert_eq!(
        d.to_string(),
        "unexpected name `done` (expected a register or an immediate)"
    );

    let (d, at) = one_error("mov %r0, %r1, 1");
    assert_eq!(
        d.message,
        "invalid number of operands for `mov`: expected 2, found 3"
    );
    assert_eq!(at, "mov %r0, %r1, 1");
    let (d, _) = one_error("exit %r0");
    assert_eq!(
        d.message,
        "invalid number of operands for `exit`: expected 0, found 1"
    );
    let (d, _) = one_error("lddw %r0");
    assert_eq!(d.help.as_deref(), Some("write it as `lddw %dst, imm64`"));
}

#[test]
fn immediate_ranges() {
    let imm = |src: &str| assemble(src, Dialect::Ubpf).map(|a| a.insns[0].imm);
    assert_eq!(imm("mov %r0, 0xffffffff"), Ok(-1));
    assert_eq!(imm("mov %r0, -2147483648"), Ok(i32::MIN as i64));
    assert_eq!(imm("mov %r0, -0x80000000"), Ok(i32::MIN as i64));
    assert_eq!(imm("mov %r0, 2147483647"), Ok(i32::MAX as i64));
    assert_eq!(imm("lddw %r0, -1"), Ok(-1));
    assert_eq!(imm("lddw %r0, 0xffffffffffffffff"), Ok(-1));

    let (d, at) = one_error("mov32 %r0, 2147483648");
    assert_eq!(d.message, "immediate `2147483648` is out of 32-bit range");
    assert_eq!(at, "2147483648");
    assert!(d.help.unwrap().contains("0x80000000"));
    let (d, _) = one_error("mov32 %r0, 0x100000000");
    assert_eq!(d.message, "immediate `0x100000000` is out of 32-bit range");
    assert_eq!(
        d.help.as_deref(),
        Some("load a 64-bit constant with `lddw`")
    );
    let (d, _) = one_error("mov %r0, -2147483649");
    assert!(d.message.contains("out of 32-bit range"));
    let (d, _) = one_error("lddw %r0, 9223372036854775808");
    assert_eq!(
        d.message,
        "immediate `9223372036854775808` is out of 64-bit range"
    );
    let (d, _) = one_error("lddw %r0, 0x10000000000000000");
    assert_eq!(
        d.message,
        "number `0x10000000000000000` does not fit in 64 bits"
    );
}

#[test]
fn jump_targets() {
    assert_eq!(hex(&bytes("ja +2")), "0500020000000000");
    assert_eq!(hex(&bytes("ja -1")), "0500ffff00000000");
    assert_eq!(
        hex(&bytes("jne32 %r1, %r2, L\nL: exit")),
        "5e21000000000000".to_owned() + "9500000000000000"
    );
    assert_eq!(hex(&bytes("ja32 +3")), "0600000003000000");
    // `exit` names the first exit instruction unless a label says otherwise.
    assert_eq!(bytes("ja exit\nmov %r0, 1\nexit\nexit")[2], 1);
    assert_eq!(bytes("ja exit\nexit\nexit:\nexit")[2], 1);
    let (d, _) = one_error("ja exit\nmov %r0, 1");
    assert_eq!(d.message, "unknown label `exit`");
    // A label named `exit` is listed only when the program uses it.
    let a = assemble("mov %r0, 0\nexit", Dialect::Ubpf).unwrap();
    assert!(a.labels.is_empty());

    let (d, at) = one_error("ja 2");
    assert_eq!(
        d.message,
        "jump target `2` must be a label or a signed offset"
    );
    assert_eq!(
        (at, d.help.as_deref()),
        (
            "2",
            Some("write `+2` to jump that many instructions forward")
        )
    );
    let (d, _) = one_error("ja NOT_A_LABEL\nexit");
    assert_eq!(d.message, "unknown label `NOT_A_LABEL`");
    let (d, _) = one_error("call local 5");
    assert!(d.message.starts_with("jump target `5`"));
    let ds = errors("L: exit\nL: exit");
    assert_eq!(ds[0].message, "label `L` is defined twice");
}

#[test]
fn calls() {
    assert_eq!(hex(&bytes("call 1")), "8500000001000000");
    assert_eq!(hex(&bytes("call helper 1")), "8500000001000000");
    assert_eq!(hex(&bytes("call bpf_map_lookup_elem")), "8500000001000000");
    assert_eq!(
        hex(&bytes("call local f\nexit\nf: exit")),
        "8510000001000000".to_owned() + &"9500000000000000".repeat(2)
    );
    assert_eq!(
        hex(&bytes("call f\nexit\nf: exit"))[..16],
        *"8510000001000000"
    );
    assert_eq!(hex(&bytes("call local -1")), "85100000ffffffff");
    assert_eq!(hex(&bytes("call runtime 7")), "8520000007000000");
    assert_eq!(hex(&bytes("call kfunc 7")), "8520000007000000");
    assert_eq!(hex(&bytes("callx %r3")), "8d03000000000000");
}

#[test]
fn aliases_match_canonical_names() {
    for (alias, canonical) in [
        ("add64 %r1, 2", "add %r1, 2"),
        ("mov64 %r1, %r2", "mov %r1, %r2"),
        ("neg64 %r1", "neg %r1"),
        ("sdiv64 %r1, 3", "sdiv %r1, 3"),
        ("swap32 %r1", "bswap32 %r1"),
    ] {
        assert_eq!(bytes(alias), bytes(canonical), "{alias}");
    }
    let (d, _) = one_error("add3 %r1, 1");
    assert_eq!(d.message, "invalid mnemonic `add3`");
    assert!(d.help.unwrap().starts_with("did you mean `add"));
}

#[test]
fn extensions() {
    assert_eq!(
        hex(&bytes("lddw map_fd %r1, 3")),
        "1811000003000000".to_owned() + "0000000000000000"
    );
    assert_eq!(
        hex(&bytes("lddw map_value %r1, 3, 16")),
        "1821000003000000".to_owned() + "0000000010000000"
    );
    assert_eq!(
        hex(&bytes("lddw func %r2, 0x4")),
        "1842000004000000".to_owned() + "0000000000000000"
    );
    assert_eq!(
        hex(&bytes("addr_space_cast %r1, %r2, 1, 0")),
        "bf21010000000100"
    );
    let (d, _) = one_error("addr_space_cast %r1, %r2, 2, 0");
    assert!(d.message.contains("reserved field `imm`"), "{d}");
    assert_eq!(
        hex(&bytes("load_acquiredw %r0, [%r1+8]")),
        "db10080000010000"
    );
    assert_eq!(
        hex(&bytes("store_releasew [%r1-4], %r2")),
        "c321fcff10010000"
    );
    assert_eq!(hex(&bytes("may_goto +3")), "e500030000000000");
    assert_eq!(hex(&bytes("ldabsw 4")), "2000000004000000");
    assert_eq!(hex(&bytes("ldindb %r1, 4")), "5010000004000000");
    assert_eq!(hex(&bytes("movsx3264 %r0, %r1")), "bf10200000000000");
    assert_eq!(hex(&bytes("ldxsb %r0, [%r1]")), "9110000000000000");
}

#[test]
fn syntax_errors_and_comments() {
    let (d, at) = one_error("mov %r0 1");
    assert_eq!((d.message.as_str(), at), ("unexpected number `1`", "1"));
    assert!(d.expected.contains(&"`,`".to_string()), "{:?}", d.expected);
    let (d, _) = one_error("mov %r0,");
    assert_eq!(d.message, "unexpected end of line");
    assert_eq!(d.span, Span::new(8, 8));
    let (d, at) = one_error("stxw [%r1+], %r2");
    assert_eq!((d.message.as_str(), at), ("unexpected `]`", "]"));
    assert_eq!(d.expected, ["a number"]);
    let (d, at) = one_error("mov %r0, 1 @");
    assert_eq!((d.message.as_str(), at), ("unexpected character `@`", "@"));
    assert_eq!(
        bytes("# comment\n  mov %r0, 1 # trailing\n// slashes\nL1:\n\nexit // done\n"),
        bytes("mov %r0, 1\nexit")
    );
    assert_eq!(
        bytes("stxw [ %r1 + 4 ] , %r2\r\n"),
        bytes("stxw [%r1+4], %r2")
    );
}
