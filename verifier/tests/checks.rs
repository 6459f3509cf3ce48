//! Checks that need more than a verdict: encodings the assembler refuses to write, the
//! rejection's path, log and counters, and programs generated in code. One-program cases
//! with a message and an instruction are files in `tests/cases/` (see `case_files.rs`).

use asm::text::{assemble, Dialect};
use asm::types::ProgType;
use asm::Insn;
use verifier::{verify, verify_bytes, Options, EINVAL};

fn prog(text: &str) -> Vec<Insn> {
    assemble(text, Dialect::Llvm)
        .unwrap_or_else(|d| panic!("{text}: {d:?}"))
        .insns
}

/// A hand-made first slot followed by `exit`.
fn reject_bytes(first: &[u8]) -> verifier::Rejection {
    let bytes = [first, &Insn::exit().encode()].concat();
    verify_bytes(&bytes, &Options::new(ProgType::SocketFilter)).unwrap_err()
}

#[test]
fn encodings_the_assembler_will_not_write() {
    // An opcode byte no instruction has: the raw byte is what is under test.
    let e = reject_bytes(&[0xff, 0, 0, 0, 0, 0, 0, 0]);
    assert_eq!((e.message.as_str(), e.errno), ("unknown opcode ff", EINVAL));
    // exit with dst = 1 (`encode` writes the reserved field as it is)
    let bytes = asm::encode(&[
        Insn::mov64_imm(0, 0),
        Insn {
            dst: 1,
            ..Insn::exit()
        },
    ]);
    let e = verify_bytes(&bytes, &Options::new(ProgType::SocketFilter)).unwrap_err();
    assert_eq!(
        (e.message.as_str(), e.errno),
        ("BPF_EXIT uses reserved fields", EINVAL)
    );
    // lddw without its second slot: its first slot only
    let e = reject_bytes(&Insn::lddw(0, 0).encode()[..Insn::SLOT]);
    assert_eq!(e.message, "invalid bpf_ld_imm64 insn");
    // r15 = 0: the builders stop at r10, `encode` writes the 4-bit field as it is
    let e = reject_bytes(
        &Insn {
            dst: 15,
            ..Insn::mov64_imm(0, 0)
        }
        .encode(),
    );
    assert_eq!((e.message.as_str(), e.errno), ("R15 is invalid", EINVAL));
}

#[test]
fn complexity_limit_counts_processed_insns() {
    // r0 += 1 while r0 < 2,000,000: two instructions per iteration, each state differs.
    let p = prog("r0 = 0\nloop:\nr0 += 1\nif r0 < 2000000 goto loop\nexit\n");
    let e = verify(&p, &Options::new(ProgType::SocketFilter)).unwrap_err();
    assert_eq!(
        e.message,
        "BPF program is too large. Processed 1000001 insn"
    );
    assert_eq!(e.errno, verifier::E2BIG);
    assert_eq!(e.processed, Some(1_000_001));
}

#[test]
fn rejection_carries_path_and_log() {
    // The taken branch reaches exit with r0 unset.
    let p = prog("if r1 == 0 goto +1\nr0 = 0\nexit\n");
    let mut opts = Options::new(ProgType::SocketFilter);
    opts.log_level = 2;
    let e = verify(&p, &opts).unwrap_err();
    assert_eq!(e.message, "R0 !read_ok");
    assert_eq!(e.insn, 2);
    assert_eq!(
        e.path,
        vec![verifier::Branch {
            insn: 0,
            taken: true
        }]
    );
    assert!(
        e.log.contains("0: (15) if r1 == 0x0 goto pc+1"),
        "{}",
        e.log
    );
    assert!(e.log.contains("1: (b7) r0 = 0"), "{}", e.log);
    let ok = verify(&prog("r0 = 0\nexit\n"), &opts).unwrap();
    assert!(ok.log.contains("; R0=0 R1=ctx() R10=fp0"), "{}", ok.log);
}

#[test]
fn too_many_pending_branches_fail_as_the_kernel_does() {
    // 9,000 undecided branches in a row: the kernel's push_stack gives up at the 8,193rd
    // pending state and check_cond_jmp_op reports EFAULT (measured on 6.18).
    let mut text = String::from("call 7\n"); // bpf_get_prandom_u32: r0 unknown
    for k in 0..9000 {
        text.push_str(&format!("if r0 == {k} goto +0\n"));
    }
    text.push_str("r0 = 0\nexit\n");
    let r = verify(&prog(&text), &Options::new(ProgType::SocketFilter)).unwrap_err();
    assert_eq!(r.message, "The sequence of 8193 jumps is too complex.");
    assert_eq!(r.errno, verifier::EFAULT);
}
