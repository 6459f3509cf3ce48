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
