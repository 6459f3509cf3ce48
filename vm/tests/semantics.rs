//! Per-instruction semantics with edge values, Linux 6.18 behaviour. Each row is a small
//! ubpf-syntax program (r1 = the memory, r2 = its length) and the expected r0.

use asm::text::{assemble, Dialect};
use asm::{encode, Insn};
use vm::Vm;

fn run(src: &str, mem: &[u8]) -> Result<u64, vm::RunError> {
    let a = assemble(src, Dialect::Ubpf).unwrap_or_else(|d| panic!("{src}: {d:?}"));
    let mut m = Vm::new();
    let id = m.load_insns(&a.insns, None)?;
    m.set_mem(mem.to_vec());
    Ok(m.run(id)?.r0)
}

/// `op` applied to `a` (in r0) and `b` (in r1), 64-bit registers loaded with lddw.
fn binop(op: &str, a: u64, b: u64) -> u64 {
    let src = format!("lddw %r0, {a:#x}\nlddw %r1, {b:#x}\n{op} %r0, %r1\nexit\n");
    run(&src, &[]).unwrap()
}

fn immop(op: &str, a: u64, imm: i32) -> u64 {
    let src = format!("lddw %r0, {a:#x}\n{op} %r0, {imm}\nexit\n");
    run(&src, &[]).unwrap()
}

const MIN64: u64 = i64::MIN as u64;
const MIN32: u64 = i32::MIN as u32 as u64;
const HI: u64 = 0xdead_beef_0000_0000;

#[test]
fn alu_register_forms() {
    let rows: &[(&str, u64, u64, u64)] = &[
        ("add", u64::MAX, 1, 0),
        ("add32", HI | 0xffff_ffff, 1, 0),
        ("sub", 0, 1, u64::MAX),
        ("sub32", HI, 1, 0xffff_ffff),
        ("mul", 1 << 32, 1 << 32, 0),
        ("mul32", HI | 0x1_0001, 0x1_0001, 0x0002_0001),
        // Division by a zero register gives 0; modulo leaves dst (32-bit: truncated).
        ("div", 7, 0, 0),
        ("div32", HI | 7, 0, 0),
        ("mod", 7, 0, 7),
        ("mod32", HI | 7, 0, 7),
        ("div", u64::MAX, 2, u64::MAX / 2),
        ("div32", u64::MAX, 2, 0x7fff_ffff),
        ("mod", 10, 3, 1),
        ("mod32", HI | 10, 3, 1),
        ("sdiv", MIN64, u64::MAX, MIN64),
        ("sdiv", (-7i64) as u64, 2, (-3i64) as u64),
        ("sdiv", 7, 0, 0),
        ("sdiv32", MIN32, 0xffff_ffff, MIN32),
        ("sdiv32", HI | 7, 0, 0),
        ("smod", MIN64, u64::MAX, 0),
        ("smod", (-7i64) as u64, 2, (-1i64) as u64),
        ("smod", 7, 0, 7),
        ("smod32", MIN32, 0xffff_ffff, 0),
        ("smod32", HI | 7, 0, 7),
        ("smod32", (-7i32) as u32 as u64, 2, (-1i32) as u32 as u64),
        // Register shift counts are masked.
        ("lsh", 1, 63, 1 << 63),
        ("lsh", 1, 64, 1),
        ("lsh32", 1, 31, 1 << 31),
        ("lsh32", 1, 32, 1),
        ("rsh", 1 << 63, 63, 1),
        ("rsh", 1 << 63, 64, 1 << 63),
        ("rsh32", HI | 0x8000_0000, 31, 1),
        ("rsh32", HI | 0x8000_0000, 32, 0x8000_0000),
        ("arsh", MIN64, 63, u64::MAX),
        ("arsh", MIN64, 64, MIN64),
        ("arsh32", HI | 0x8000_0000, 31, 0xffff_ffff),
        ("arsh32", HI | 0x8000_0000, 32, 0x8000_0000),
        ("or32", HI, 1, 1),
        ("and", u64::MAX, 0xff, 0xff),
        ("xor32", HI | 0xff, 0xf, 0xf0),
        ("mov32", 0, u64::MAX, 0xffff_ffff),
        ("mov", 0, u64::MAX, u64::MAX),
    ];
    for &(op, a, b, want) in rows {
        assert_eq!(binop(op, a, b), want, "{op} {a:#x}, {b:#x}");
    }
}

#[test]
fn alu_immediate_forms() {
    let rows: &[(&str, u64, i32, u64)] = &[
        ("add", 1, -1, 0),
        ("add32", HI | 1, -1, 0),
        // The immediate is sign-extended to 64 bits.
        ("mov", 0, -1, u64::MAX),
        ("mov32", HI, -1, 0xffff_ffff),
        ("and", u64::MAX, -2, u64::MAX - 1),
        ("div", 100, 7, 14),
        ("mod32", HI | 100, 7, 2),
        ("sdiv", (-100i64) as u64, 7, (-14i64) as u64),
        ("smod", (-100i64) as u64, 7, (-2i64) as u64),
        ("lsh", 1, 63, 1 << 63),
        ("arsh32", 0x8000_0000, 4, 0xf800_0000),
        // Out-of-range constant shifts (the verifier rejects them) are masked.
        ("lsh", 1, 64, 1),
        ("rsh32", 0x10, 36, 1),
    ];
    for &(op, a, imm, want) in rows {
        assert_eq!(immop(op, a, imm), want, "{op} {a:#x}, {imm}");
    }
}

#[test]
fn neg_movsx_and_byte_order() {
    let one = |src: &str| run(src, &[]).unwrap();
    assert_eq!(one("mov %r0, 1\nneg %r0\nexit"), u64::MAX);
    assert_eq!(
        one("lddw %r0, 0xdeadbeef00000001\nneg32 %r0\nexit"),
        0xffff_ffff
    );
    assert_eq!(
        one("lddw %r1, 0x180\nmovsx864 %r0, %r1\nexit"),
        (-128i64) as u64
    );
    assert_eq!(
        one("lddw %r1, 0x18000\nmovsx1664 %r0, %r1\nexit"),
        (-32768i64) as u64
    );
    assert_eq!(
        one("lddw %r1, 0x180000000\nmovsx3264 %r0, %r1\nexit"),
        0xffff_ffff_8000_0000
    );
    assert_eq!(
        one("lddw %r1, 0xff80\nmovsx832 %r0, %r1\nexit"),
        0xffff_ff80
    );
    assert_eq!(
        one("lddw %r1, 0x8000\nmovsx1632 %r0, %r1\nexit"),
        0xffff_8000
    );
    assert_eq!(one("lddw %r0, 0x1122334455667788\nbe16 %r0\nexit"), 0x8877);
    assert_eq!(
        one("lddw %r0, 0x1122334455667788\nbe32 %r0\nexit"),
        0x8877_6655
    );
    assert_eq!(
        one("lddw %r0, 0x1122334455667788\nbe64 %r0\nexit"),
        0x8877_6655_4433_2211
    );
    assert_eq!(one("lddw %r0, 0x1122334455667788\nle16 %r0\nexit"), 0x7788);
    assert_eq!(
        one("lddw %r0, 0x1122334455667788\nle32 %r0\nexit"),
        0x5566_7788
    );
    assert_eq!(
        one("lddw %r0, 0x1122334455667788\nle64 %r0\nexit"),
        0x1122_3344_5566_7788
    );
    assert_eq!(
        one("lddw %r0, 0x1122334455667788\nbswap16 %r0\nexit"),
        0x8877
    );
    assert_eq!(
        one("lddw %r0, 0x1122334455667788\nbswap32 %r0\nexit"),
        0x8877_6655
    );
    assert_eq!(
        one("lddw %r0, 0x1122334455667788\nbswap64 %r0\nexit"),
        0x8877_6655_4433_2211
    );
}

#[test]
fn loads_stores_unaligned_and_sign_extending() {
    let mem: Vec<u8> = (0x80..0x90).collect();
    let one = |src: &str| run(src, &mem).unwrap();
    assert_eq!(one("ldxdw %r0, [%r1+1]\nexit"), 0x8887_8685_8483_8281);
    assert_eq!(one("ldxw %r0, [%r1+3]\nexit"), 0x8685_8483);
    assert_eq!(one("ldxh %r0, [%r1+14]\nexit"), 0x8f8e);
    assert_eq!(one("ldxsb %r0, [%r1]\nexit"), (-128i64) as u64);
    assert_eq!(one("ldxsh %r0, [%r1+1]\nexit"), 0xffff_ffff_ffff_8281);
    assert_eq!(one("ldxsw %r0, [%r1+4]\nexit"), 0xffff_ffff_8786_8584);
    assert_eq!(
        one("stw [%r1+3], -1\nldxdw %r0, [%r1]\nexit"),
        0x87ff_ffff_ff82_8180
    );
    assert_eq!(
        one("sth [%r1+1], 0x1234\nldxw %r0, [%r1]\nexit"),
        0x8312_3480
    );
    assert_eq!(
        one("lddw %r2, 0x1122334455667788\nstxdw [%r1+7], %r2\nldxdw %r0, [%r1+7]\nexit"),
        0x1122_3344_5566_7788
    );
    assert_eq!(
        one("stdw [%r10-8], -2\nldxdw %r0, [%r10-8]\nexit"),
        (-2i64) as u64
    );
    // The last byte of the memory is readable; one past it is not.
    assert_eq!(one("ldxb %r0, [%r1+15]\nexit"), 0x8f);
    assert!(run("ldxb %r0, [%r1+16]\nexit", &mem).is_err());
}

#[test]
fn atomics() {
    let mem = 10u64.to_le_bytes().to_vec();
    let one = |src: &str| run(src, &mem).unwrap();
    assert_eq!(
        one("mov %r2, 5\nlock add [%r1], %r2\nldxdw %r0, [%r1]\nexit"),
        15
    );
    assert_eq!(
        one("mov %r2, 5\nlock fetch add [%r1], %r2\nmov %r0, %r2\nexit"),
        10
    );
    assert_eq!(
        one("mov %r2, 3\nlock or [%r1], %r2\nldxdw %r0, [%r1]\nexit"),
        11
    );
    assert_eq!(
        one("mov %r2, 3\nlock fetch and [%r1], %r2\nldxdw %r0, [%r1]\nexit"),
        2
    );
    assert_eq!(
        one("mov %r2, 3\nlock fetch xor [%r1], %r2\nmov %r0, %r2\nexit"),
        10
    );
    assert_eq!(
        one("mov %r2, 3\nlock xchg [%r1], %r2\nldxdw %r0, [%r1]\nadd %r0, %r2\nexit"),
        13
    );
    // cmpxchg: stores when r0 equals memory; r0 gets the old value either way.
    assert_eq!(one("mov %r0, 10\nmov %r2, 7\nlock cmpxchg [%r1], %r2\nldxdw %r3, [%r1]\nlsh %r0, 8\nor %r0, %r3\nexit"), 0xa07);
    assert_eq!(one("mov %r0, 9\nmov %r2, 7\nlock cmpxchg [%r1], %r2\nldxdw %r3, [%r1]\nlsh %r0, 8\nor %r0, %r3\nexit"), 0xa0a);
    // 32-bit forms touch 4 bytes and zero-extend what they fetch.
    assert_eq!(
        one("lddw %r2, 0xffffffffffffffff\nlock fetch add32 [%r1], %r2\nldxdw %r0, [%r1]\nexit"),
        9
    );
    assert_eq!(
        one("lddw %r0, 0x100000000a\nmov %r2, 1\nlock cmpxchg32 [%r1], %r2\nexit"),
        10
    );
    assert_eq!(
        one(
            "lddw %r0, 0x100000000a\nmov %r2, 1\nlock cmpxchg32 [%r1], %r2\nldxdw %r0, [%r1]\nexit"
        ),
        1
    );
    assert_eq!(one("load_acquiredw %r0, [%r1]\nexit"), 10);
    assert_eq!(
        one("mov %r2, 77\nstore_releaseb [%r1], %r2\nldxdw %r0, [%r1]\nexit"),
        77
    );
}

#[test]
fn jumps_signed_unsigned_32_64() {
    let t = |src: &str| {
        run(
            &format!("lddw %r1, 0x1ffffffff\nmov %r0, 0\n{src}\nexit\nyes:\nmov %r0, 1\nexit"),
            &[],
        )
        .unwrap()
    };
    assert_eq!(t("jsgt %r1, 0, yes"), 1);
    assert_eq!(t("jsgt32 %r1, 0, yes"), 0); // low half is -1
    assert_eq!(t("jgt32 %r1, 0, yes"), 1);
    assert_eq!(t("jeq32 %r1, -1, yes"), 1);
    assert_eq!(t("jeq %r1, -1, yes"), 0);
    assert_eq!(t("jset32 %r1, 2, yes"), 1);
    assert_eq!(t("jset %r1, 0x80000000, yes"), 1); // the immediate is sign-extended
    assert_eq!(t("jslt32 %r1, 0, yes"), 1);
    assert_eq!(t("jle %r1, 0x7fffffff, yes"), 0);
    assert_eq!(t("mov %r2, -1\njlt %r1, %r2, yes"), 1);
    assert_eq!(t("mov32 %r2, -1\njsle32 %r1, %r2, yes"), 1);
    assert_eq!(t("ja32 yes"), 1);
}

#[test]
fn calls_frames_and_callx() {
    // r6-r9 are restored after a local call; the callee has its own stack.
    let src = "mov %r6, 1\nstdw [%r10-8], 5\ncall local f\nldxdw %r1, [%r10-8]\nadd %r0, %r1\nadd %r0, %r6\nexit\n\
               f:\nmov %r6, 100\nstdw [%r10-8], 7\nldxdw %r0, [%r10-8]\nexit";
    assert_eq!(run(src, &[]).unwrap(), 7 + 5 + 1);
    // callx through a function address.
    assert_eq!(
        run("lddw func %r2, 3\ncall %r2\nexit\nmov %r0, 42\nexit", &[]).unwrap(),
        42
    );
    // A callee reads its caller's stack through a pointer; frames deeper than the current
    // one are not mapped.
    let src = "stdw [%r10-8], 9\nmov %r1, %r10\ncall local f\nexit\nf:\nldxdw %r0, [%r1-8]\nexit";
    assert_eq!(run(src, &[]).unwrap(), 9);
    let e = run("lddw %r1, 0x200000200\nldxdw %r0, [%r1-8]\nexit", &[]).unwrap_err();
    assert!(e.to_string().contains("stack frame 1 is not active"), "{e}");
}

#[test]
fn runaway_programs_end_with_errors() {
    let e = run("loop:\nja loop", &[]).unwrap_err().to_string();
    assert!(e.contains("budget of 1000000"), "{e}");
    let e = run("f:\ncall local f\nexit", &[]).unwrap_err().to_string();
    assert!(e.contains("call depth limit of 8"), "{e}");
    // Falling off the end, or out of a subprogram, is refused at load (check_subprogs).
    let e = run("mov %r0, 0", &[]).unwrap_err().to_string();
    assert_eq!(
        e,
        "instruction 0: last instruction of a subprogram is not an exit or jump"
    );
    let e = run("mov %r0, 1\ncall local f\nf:\nexit", &[])
        .unwrap_err()
        .to_string();
    assert_eq!(
        e,
        "instruction 1: last instruction of a subprogram is not an exit or jump"
    );
    let e = run("begin:\ncall local f\nexit\nf:\nja begin\nexit", &[])
        .unwrap_err()
        .to_string();
    assert_eq!(
        e,
        "instruction 2: jump target 0 is outside its subprogram (slots 2 to 3)"
    );
}

#[test]
fn memory_faults_name_pc_address_size_region() {
    let err = |src: &str, mem: &[u8]| match run(src, mem).unwrap_err() {
        vm::RunError::Run(e) => e,
        other => panic!("{other}"),
    };
    let e = err("mov %r0, 0\nldxw %r0, [%r1+2]\nexit", &[0; 4]);
    assert_eq!(e.pc, 1);
    let vm::ErrorKind::Memory(f) = &e.kind else {
        panic!("{e}")
    };
    assert_eq!(
        (f.size, f.write, f.region),
        (4, false, Some(vm::Region::Mem))
    );
    assert_eq!(f.addr, vm::Region::Mem.addr(2));
    assert_eq!(e.to_string(), "instruction 1: read of 4 bytes at 0xb00000002: offset 2 is out of bounds of user memory (4 bytes)");
    let e = err("stxdw [%r10], %r1\nexit", &[]);
    assert!(
        e.to_string()
            .contains("out of bounds of stack frame 0 (512 bytes)"),
        "{e}"
    );
    let e = err("mov %r1, 0\nldxb %r0, [%r1]\nexit", &[]);
    assert!(e.to_string().contains("null pointer dereference"), "{e}");
    // Regions 1-15 are all taken (stacks, context, packet, memory, code, map handles,
    // helper data, sockets); the first map-value region with no map behind it says so.
    let e = err("lddw %r1, 0x1000000000\nldxb %r0, [%r1]\nexit", &[]);
    assert!(
        e.to_string()
            .contains("values of map 0 does not exist in this run"),
        "{e}"
    );
}

#[test]
fn may_goto_jumps_once_the_frame_budget_is_spent() {
    // may_goto falls through BPF_MAX_LOOPS (8M) times, then jumps.
    let src = "mov %r0, 0\nloop:\nmay_goto done\nadd %r0, 1\nja loop\ndone:\nexit";
    let a = assemble(src, Dialect::Ubpf).unwrap();
    let mut m = Vm::new();
    m.set_budget(u64::MAX);
    let id = m.load_insns(&a.insns, None).unwrap();
    assert_eq!(m.run(id).unwrap().r0, vm::MAY_GOTO_BUDGET);
}

#[test]
fn ld_abs_and_ld_ind_are_big_endian_and_end_the_program_out_of_bounds() {
    let pkt = [0x12, 0x34, 0x56, 0x78, 0x9a];
    let one = |src: &str| run(src, &pkt).unwrap();
    assert_eq!(one("ldabsh 1\nexit"), 0x3456);
    assert_eq!(one("ldabsw 1\nexit"), 0x3456_789a);
    assert_eq!(one("ldabsb 4\nexit"), 0x9a);
    assert_eq!(one("mov %r2, 3\nldindh %r2, 0\nexit"), 0x789a);
    // Out of bounds: the program ends with r0 = 0, the rest does not run.
    assert_eq!(one("ldabsw 2\nmov %r0, 5\nexit"), 0);
    assert_eq!(one("mov %r2, -1\nldindb %r2, 0\nmov %r0, 5\nexit"), 0);
}

#[test]
fn load_errors() {
    let mut m = Vm::new();
    let e = m
        .load(&encode(&[Insn::ja(5), Insn::exit()]), None)
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "instruction 0: jump target 6 is outside the program (2 slots)"
    );
    let e = m.load(&[], None).unwrap_err();
    assert_eq!(e, vm::LoadError::Empty);
    // A jump into the middle of an lddw.
    let a = assemble("ja +1\nlddw %r0, 1\nexit", Dialect::Ubpf).unwrap();
    let e = m.load_insns(&a.insns, None).unwrap_err();
    assert!(e.to_string().contains("second slot of an lddw"), "{e}");
    let a = assemble("lddw map_fd %r1, 9\nexit", Dialect::Ubpf).unwrap();
    let e = m.load_insns(&a.insns, None).unwrap_err();
    assert_eq!(
        e.to_string(),
        "instruction 0: lddw refers to map 9, but the VM has no such map (maps are numbered 0, 1, ... in creation order)"
    );
}

#[test]
fn fused_pairs_respect_the_budget_and_jump_targets() {
    // mov+add, ldxh+be16 and add+jlt are fused in plain runs; with a budget that ends
    // between the halves, the error names the second instruction as in a traced run.
    let src = "mov %r2, %r1\nadd %r2, 1\nldxh %r0, [%r2]\nbe16 %r0\nmov %r3, 0\nloop:\nadd %r3, 1\njlt %r3, 3, loop\nexit";
    let a = assemble(src, Dialect::Ubpf).unwrap();
    let full = {
        let mut m = Vm::new();
        m.set_mem(vec![0, 0x12, 0x34]);
        let id = m.load_insns(&a.insns, None).unwrap();
        m.run(id).unwrap()
    };
    assert_eq!((full.r0, full.insns), (0x1234, 12));
    let all_steps = {
        let mut m = Vm::new();
        m.set_mem(vec![0, 0x12, 0x34]);
        let id = m.load_insns(&a.insns, None).unwrap();
        m.run_traced(id).1
    };
    for budget in 1..12 {
        let mut m = Vm::new();
        m.set_mem(vec![0, 0x12, 0x34]);
        m.set_budget(budget);
        let id = m.load_insns(&a.insns, None).unwrap();
        let plain = m.run(id).unwrap_err();
        let (traced, steps) = m.run_traced(id);
        assert_eq!(Err(plain.clone()), traced, "budget {budget}");
        assert_eq!(steps.len() as u64, budget);
        // The error names the instruction that would have run next.
        assert_eq!(plain.pc, all_steps[budget as usize].pc, "budget {budget}");
    }
    // A jump into the second half of a would-be pair keeps it unfused.
    let src = "mov %r0, 0\nja +1\nmov %r0, %r1\nadd %r0, 5\nexit";
    assert_eq!(run(src, &[]).unwrap(), 5);
}

#[test]
fn every_run_starts_with_a_clean_stack_and_programs_have_a_size_limit() {
    let a = assemble("ldxdw %r0, [%r10-8]\nstdw [%r10-8], 5\ncall local f\nexit\nf:\nldxdw %r0, [%r10-8]\nstdw [%r10-8], 6\nexit", Dialect::Ubpf).unwrap();
    let mut m = Vm::new();
    let id = m.load_insns(&a.insns, None).unwrap();
    assert_eq!(m.run(id).unwrap().r0, 0);
    assert_eq!(m.run(id).unwrap().r0, 0, "frames 0 and 1 were cleared");
    let big = Insn::mov64_imm(0, 0).encode().repeat(vm::MAX_INSNS + 1);
    let e = m.load(&big, None).unwrap_err();
    assert_eq!(
        e.to_string(),
        "the program has 1000001 instructions; the limit is 1000000"
    );
}
