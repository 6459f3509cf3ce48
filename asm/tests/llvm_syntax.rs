//! Whole-source features of the LLVM dialect: labels, local calls, constants, comments,
//! directives, separators, and pasted verifier logs.

use asm::text::{assemble, helpers, llvm, Dialect};

fn hex(bytes: &[u8]) -> Vec<String> {
    bytes
        .chunks(8)
        .map(|c| c.iter().map(|b| format!("{b:02x}")).collect())
        .collect()
}

fn assembled(src: &str) -> Vec<String> {
    match assemble(src, Dialect::Llvm) {
        Ok(a) => hex(&a.bytes()),
        Err(e) => panic!("{src:?}: {e:?}"),
    }
}

#[test]
fn labels_and_local_calls_match_llvm_mc() {
    // What clang's assembly output looks like; bytes from `llvm-mc-19 -filetype=obj`
    // (llvm-objdump-19 -d), where `call helper` became a local call (src 1).
    let src = "\t.text
\t.globl\tprog
\t.p2align\t3
prog:                                   # @prog
\tr6 = r1
\tif r6 == 0 goto out
loop:
\tr6 += -1
\tcall helper
\tif r6 s> 0 goto loop
\tgotol loop
out:
\tr0 = 0
\texit
helper:
\tr0 = 1 ; exit
";
    let want = [
        "bf16000000000000",
        "1506040000000000",
        "07060000ffffffff",
        "8510000004000000",
        "6506fdff00000000",
        "06000000fcffffff",
        "b700000000000000",
        "9500000000000000",
        "b700000001000000",
        "9500000000000000",
    ];
    assert_eq!(assembled(src), want);
    let a = assemble(src, Dialect::Llvm).unwrap();
    let labels: Vec<(&str, usize)> = a.labels.iter().map(|(n, pc)| (n.as_str(), *pc)).collect();
    assert_eq!(
        labels,
        [("prog", 0), ("loop", 2), ("out", 6), ("helper", 8)]
    );
}

#[test]
fn local_labels_and_lddw_slots() {
    // A label after an `lddw` counts its two slots; `.LBB` names are labels, not directives.
    let src = "r1 = 0x123456789 ll\n.LBB0_2:\ngoto .LBB0_2\n";
    assert_eq!(
        assembled(src),
        ["1801000089674523", "0000000001000000", "0500ffff00000000"]
    );
}

#[test]
fn constants_comments_and_separators() {
    let src = "
.equ SIZE, 16
.set NEG, -8
LIMIT = 0x100
/* a block
   comment */ r0 = SIZE   // trailing
# a whole-line comment
r1 = *(u64 *)(r10 + NEG) # hash comment
if r0 > LIMIT goto +1; r0 = -1
call bpf_get_current_pid_tgid; exit
";
    assert_eq!(
        assembled(src),
        [
            "b700000010000000",
            "79a1f8ff00000000",
            "2500010000010000",
            "b7000000ffffffff",
            "850000000e000000",
            "9500000000000000",
        ]
    );
}

#[test]
fn pasted_verifier_log_reassembles() {
    // The shape of a verifier log (`N: (xx) text`), including an lddw without `ll`.
    let log = "0: (bf) r6 = r1                      ; R1=ctx() R6_w=ctx()
1: (18) r1 = 0xffff888100000000
3: (b7) r2 = 0                        ; R2_w=0
4: (63) *(u32 *)(r10 -4) = r2
5: (85) call bpf_map_lookup_elem#1
6: (15) if r0 == 0x0 goto pc+2
7: (61) r0 = *(u32 *)(r0 +0)
8: (95) exit
9: (b4) w0 = 0
10: (95) exit
";
    let a = assemble(log, Dialect::Llvm).unwrap();
    let kernel: Vec<String> = a.insns.iter().map(asm::text::kernel::print).collect();
    let stripped: Vec<&str> = log
        .lines()
        .map(|l| {
            l.split_once(": ")
                .unwrap()
                .1
                .split(" ;")
                .next()
                .unwrap()
                .trim_end()
        })
        .collect();
    assert_eq!(kernel, stripped);
    assert_eq!(a.insns[1].imm as u64, 0xffff_8881_0000_0000);
    assert_eq!(a.insns[1].slots(), 2);
}

#[test]
fn helper_names_cover_the_kernel_table() {
    // Every helper by name assembles to its id.
    for id in 1..helpers::HELPERS.len() as u32 {
        let name = helpers::name(id).unwrap();
        let a = assemble(&format!("call {name}"), Dialect::Llvm).unwrap();
        assert_eq!(a.insns[0].imm, id as i64, "{name}");
        assert_eq!(llvm::print(&a.insns[0]), format!("call {:#x}", id));
    }
}
