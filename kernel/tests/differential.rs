//! Differential testing: random kernel-acceptable programs run in the VM and in the kernel;
//! r0, the memory (holding r0 and a checksum of the stack) and the map must agree.
//!
//! A fixed seed and 2,000 cases by default; `BPFX_CROSSCHECK_CASES=N` runs N. A mismatch is
//! minimised by proptest and the minimal program is written to `testdata/regressions/`,
//! where `regressions.rs` keeps running it as a regular test.
//!
//! Program shape: a prolog (r9 = memory, r0-r8 = random constants, 10 stack slots filled),
//! random blocks, and an epilogue that stores r0 and a checksum of the stack into the memory.
//! Registers r0-r8 only ever hold scalars, so every block is valid wherever it lands.

mod common;

use asm::isa::{self, AluOp, AtomicOp, Cond, Form, OpDef, Size, Source, Width};
use asm::Insn;
use common::diff;
use proptest::prelude::*;
use proptest::test_runner::{Config, RngAlgorithm, TestError, TestRng, TestRunner};

/// Stack slots the programs use: r10-8 .. r10-80.
const SLOTS: i16 = 10;
/// Slots random loads, stores and atomics touch (the last two belong to helper calls).
const DATA_SLOTS: i16 = 8;

fn defs(pred: impl Fn(&OpDef) -> bool) -> Vec<&'static OpDef> {
    isa::table().iter().filter(|d| pred(d)).collect()
}

fn alu_defs() -> Vec<&'static OpDef> {
    defs(|d| {
        matches!(
            d.form,
            Form::Alu { .. } | Form::Neg { .. } | Form::MovSx { .. } | Form::Endian { .. }
        )
    })
}

fn jump_defs() -> Vec<&'static OpDef> {
    defs(|d| matches!(d.form, Form::Jump { .. } | Form::Ja | Form::Gotol))
}

fn mem_defs() -> Vec<&'static OpDef> {
    defs(|d| match d.form {
        Form::Load { .. } | Form::Store { .. } => true,
        // load-acquire / store-release are memory-ordering forms, not read-modify-write.
        Form::Atomic { op, .. } => !matches!(op, AtomicOp::LoadAcquire | AtomicOp::StoreRelease),
        _ => false,
    })
}

/// One generated piece of program.
#[derive(Clone, Debug)]
enum Block {
    /// An ALU instruction (table index, dst, src, imm).
    Alu(usize, u8, u8, i32),
    /// A stack access (table index, register, slot, imm).
    Mem(usize, u8, i16, i32),
    /// A forward jump over the next `skip` blocks (table index, dst, src, imm, skip).
    Jump(usize, u8, u8, i32, usize),
    /// `r8 = n; do { body } while (--r8 != 0)`; the body never writes r8.
    Loop(u8, Vec<(usize, u8, u8, i32)>),
    /// `bpf_map_update_elem(map0, &key, &reg)` or `r0 = *bpf_map_lookup_elem(map0, &key)`.
    Map { update: bool, key: u8, reg: u8 },
}

/// Instruction for an ALU block, with the immediate made acceptable to the verifier: shift
/// amounts inside the width (check_alu_op: "invalid shift"), no division by constant zero.
fn alu_insn(def: &OpDef, dst: u8, src: u8, imm: i32) -> Insn {
    let imm = match def.form {
        Form::Alu {
            op: AluOp::Lsh | AluOp::Rsh | AluOp::Arsh,
            width,
            source: Source::Imm,
        } => imm.rem_euclid(if width == Width::W64 { 64 } else { 32 }),
        Form::Alu {
            op: AluOp::Div | AluOp::Mod | AluOp::SDiv | AluOp::SMod,
            source: Source::Imm,
            ..
        } if imm == 0 => 1,
        _ => imm,
    };
    let f = def.fields();
    // Unused fields must be zero (the verifier: "BPF_ALU uses reserved fields").
    Insn::new(
        def,
        dst,
        if f.src { src } else { 0 },
        0,
        if f.imm { imm as i64 } else { 0 },
    )
}

fn mem_insn(def: &OpDef, reg: u8, slot: i16, imm: i32) -> Insn {
    let size = match def.form {
        Form::Load { size, .. } | Form::Store { size, .. } | Form::Atomic { size, .. } => size,
        _ => unreachable!("mem_defs only"),
    };
    // Aligned inside the slot: the verifier wants atomics aligned, and stays precise for
    // aligned stack accesses.
    let within = (imm.unsigned_abs() as usize % (8 / size.bytes())) * size.bytes();
    let off = -(slot + 1) * 8 + within as i16;
    match def.form {
        Form::Load { .. } => Insn::new(def, reg, 10, off, 0),
        Form::Store {
            source: Source::Imm,
            ..
        } => Insn::new(def, 10, 0, off, imm as i64),
        Form::Store {
            source: Source::Reg,
            ..
        }
        | Form::Atomic { .. } => Insn::new(def, 10, reg, off, 0),
        _ => unreachable!(),
    }
}

fn slots_of(insns: &[Insn]) -> i64 {
    insns.iter().map(|i| i.slots() as i64).sum()
}

/// Re-initialises the registers a helper call leaves unreadable (r1-r5).
fn reinit(out: &mut Vec<Insn>, seed: u8) {
    for r in 1..=5u8 {
        out.push(Insn::mov64_imm(r, i32::from(seed) * 7 + i32::from(r)));
    }
}

fn block_insns(
    b: &Block,
    alu: &[&OpDef],
    jumps: &[&OpDef],
    mems: &[&OpDef],
    rest: &[Vec<Insn>],
) -> Vec<Insn> {
    match b {
        Block::Alu(i, dst, src, imm) => vec![alu_insn(alu[*i], *dst, *src, *imm)],
        Block::Mem(i, reg, slot, imm) => vec![mem_insn(mems[*i], *reg, *slot, *imm)],
        Block::Jump(i, dst, src, imm, skip) => {
            let def = jumps[*i];
            // An unconditional jump over code would leave it unreachable, which check_cfg()
            // rejects: `goto +0` still exercises the instruction.
            let skip = if matches!(def.form, Form::Ja | Form::Gotol) {
                0
            } else {
                (*skip).min(rest.len())
            };
            let over: i64 = rest[..skip].iter().map(|b| slots_of(b)).sum();
            match def.form {
                Form::Gotol => vec![Insn::new(def, 0, 0, 0, over)],
                Form::Ja => vec![Insn::new(def, 0, 0, over as i16, 0)],
                _ => {
                    let f = def.fields();
                    let (src, imm) = if f.src { (*src, 0) } else { (0, *imm as i64) };
                    vec![Insn::new(def, *dst, src, over as i16, imm)]
                }
            }
        }
        Block::Loop(n, body) => {
            let mut out = vec![Insn::mov64_imm(8, i32::from(*n))];
            let start = out.len();
            for (i, dst, src, imm) in body {
                out.push(alu_insn(alu[*i], *dst, *src, *imm));
            }
            out.push(Insn::alu64_imm(AluOp::Add, 8, -1));
            let back = -(slots_of(&out[start..]) + 1);
            out.push(Insn::jmp_imm(Cond::Ne, 8, 0, back as i16));
            out
        }
        Block::Map { update, key, reg } => {
            let key_off = -(DATA_SLOTS + 1) * 8;
            let val_off = -(DATA_SLOTS + 2) * 8;
            let key_index = i32::from(*key % diff::MAP_ENTRIES as u8);
            let mut out = vec![Insn::st(Size::W, 10, key_off, key_index)];
            if *update {
                out.push(Insn::stx(Size::DW, 10, *reg, val_off));
            }
            out.push(Insn::ld_map_fd(1, 0));
            out.push(Insn::mov64_reg(2, 10));
            out.push(Insn::alu64_imm(AluOp::Add, 2, key_off.into()));
            if *update {
                out.push(Insn::mov64_reg(3, 10));
                out.push(Insn::alu64_imm(AluOp::Add, 3, val_off.into()));
                out.push(Insn::mov64_imm(4, 0));
                out.push(Insn::call_helper(2));
            } else {
                out.push(Insn::call_helper(1));
                out.push(Insn::jmp_imm(Cond::Eq, 0, 0, 1));
                out.push(Insn::ldx(Size::DW, 0, 0, 0));
            }
            reinit(&mut out, *key);
            out
        }
    }
}

/// The whole program for a list of blocks and the prolog constants.
fn build(consts: &[i64; 9], stack: &[i32; SLOTS as usize], blocks: &[Block]) -> Vec<Insn> {
    let (alu, jumps, mems) = (alu_defs(), jump_defs(), mem_defs());
    let mut prog = vec![Insn::mov64_reg(9, 1)];
    for (r, c) in consts.iter().enumerate() {
        prog.push(Insn::lddw(r as u8, *c));
    }
    for (s, v) in stack.iter().enumerate() {
        prog.push(Insn::st(Size::DW, 10, -(s as i16 + 1) * 8, *v));
    }
    // Blocks are built back to front so a jump knows the size of what it skips.
    let mut built: Vec<Vec<Insn>> = Vec::with_capacity(blocks.len());
    for b in blocks.iter().rev() {
        let rest: Vec<Vec<Insn>> = built.iter().rev().cloned().collect();
        built.push(block_insns(b, &alu, &jumps, &mems, &rest));
    }
    for b in built.iter().rev() {
        prog.extend_from_slice(b);
    }
    // Epilogue: mem[0..8] = r0; mem[8..16] = fold(stack) with r1 = r1 * 31 ^ slot.
    prog.push(Insn::stx(Size::DW, 9, 0, 0));
    prog.push(Insn::mov64_imm(1, 0));
    for s in 0..SLOTS {
        prog.push(Insn::ldx(Size::DW, 2, 10, -(s + 1) * 8));
        prog.push(Insn::alu64_imm(AluOp::Mul, 1, 31));
        prog.push(Insn::alu64_reg(AluOp::Xor, 1, 2));
    }
    prog.push(Insn::stx(Size::DW, 9, 1, 8));
    prog.push(Insn::exit());
    prog
}

fn reg() -> impl Strategy<Value = u8> {
    0u8..9
}

/// Immediates biased towards edge values.
fn imm() -> impl Strategy<Value = i32> {
    prop_oneof![
        3 => any::<i32>(),
        2 => -3i32..70,
        1 => prop::sample::select(vec![i32::MIN, i32::MAX, -1, 0x7fff, 0x8000, 0xffff, 0x8000_0000u32 as i32, 32, 63, 64]),
    ]
}

fn consts() -> impl Strategy<Value = i64> {
    prop_oneof![
        3 => any::<i64>(),
        1 => prop::sample::select(vec![0, 1, -1, i64::MIN, i64::MAX, 0xffff_ffff, 0x8000_0000, 0x7fff_ffff, -0x8000_0000]),
        1 => -5i64..300,
    ]
}

fn block() -> impl Strategy<Value = Block> {
    let (na, nj, nm) = (alu_defs().len(), jump_defs().len(), mem_defs().len());
    // Loop bodies must not write the counter r8.
    let loop_alu = (0..na, 0u8..8, reg(), imm());
    prop_oneof![
        8 => (0..na, reg(), reg(), imm()).prop_map(|(i, d, s, m)| Block::Alu(i, d, s, m)),
        4 => (0..nm, reg(), 0..DATA_SLOTS, imm()).prop_map(|(i, r, s, m)| Block::Mem(i, r, s, m)),
        3 => (0..nj, reg(), reg(), imm(), 0usize..4).prop_map(|(i, d, s, m, k)| Block::Jump(i, d, s, m, k)),
        1 => (1u8..5, prop::collection::vec(loop_alu, 1..4)).prop_map(|(n, b)| Block::Loop(n, b)),
        1 => (any::<bool>(), any::<u8>(), reg()).prop_map(|(update, key, reg)| Block::Map { update, key, reg }),
    ]
}

type Case = ([i64; 9], [i32; SLOTS as usize], Vec<Block>);

fn case() -> impl Strategy<Value = Case> {
    (
        prop::array::uniform9(consts()),
        prop::array::uniform10(any::<i32>()),
        prop::collection::vec(block(), 1..24),
    )
}

fn regressions_dir() -> std::path::PathBuf {
    std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../testdata/regressions")
}

#[test]
fn vm_and_kernel_agree_on_random_programs() {
    if !common::kernel_available("vm_and_kernel_agree_on_random_programs") {
        return;
    }
    let cases = std::env::var("BPFX_CROSSCHECK_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(2000);
    let config = Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    };
    // A fixed seed: CI sees the same programs every run.
    let seed: [u8; 32] = *b"bpfx differential kernel vs vm!!";
    let mut runner =
        TestRunner::new_with_rng(config, TestRng::from_seed(RngAlgorithm::ChaCha, &seed));
    let seen = std::cell::RefCell::new(std::collections::HashSet::new());
    let result = runner.run(&case(), |(consts, stack, blocks)| {
        let prog = build(&consts, &stack, &blocks);
        let out = diff::compare(&prog).map_err(TestCaseError::fail)?;
        seen.borrow_mut().insert((out.r0, out.mem));
        Ok(())
    });
    match result {
        Ok(()) => {
            let distinct = seen.borrow().len();
            println!("differential: {cases} random programs, VM and kernel agree ({distinct} distinct results)");
            // Guards against a degenerate generator whose programs all compute the same thing.
            assert!(
                distinct as u32 * 10 >= cases * 9,
                "only {distinct} distinct results in {cases} programs"
            );
        }
        Err(TestError::Fail(why, (consts, stack, blocks))) => {
            let prog = build(&consts, &stack, &blocks);
            let dir = regressions_dir();
            std::fs::create_dir_all(&dir).unwrap();
            let hex = diff::to_hex(&prog);
            let name = format!("diff-{:016x}.hex", fnv(hex.as_bytes()));
            let text = format!(
                "# found by differential.rs: {}\n{hex}",
                why.message().replace('\n', "\n# ")
            );
            std::fs::write(dir.join(&name), text).unwrap();
            panic!("VM and kernel differ ({why}); minimal program saved as testdata/regressions/{name}");
        }
        Err(e) => panic!("{e}"),
    }
}

fn fnv(b: &[u8]) -> u64 {
    b.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, x| {
        (h ^ *x as u64).wrapping_mul(0x100_0000_01b3)
    })
}

/// The generator must cover what the issue lists; this fails if a class drops out.
#[test]
fn generator_covers_every_class() {
    let alu = alu_defs();
    assert!(alu.iter().any(|d| matches!(
        d.form,
        Form::Alu {
            op: AluOp::SDiv,
            width: Width::W32,
            ..
        }
    )));
    assert!(alu.iter().any(|d| matches!(
        d.form,
        Form::Alu {
            op: AluOp::Mod,
            source: Source::Reg,
            ..
        }
    )));
    assert!(alu.iter().any(|d| matches!(d.form, Form::MovSx { .. })));
    assert!(alu.iter().any(|d| matches!(
        d.form,
        Form::Endian {
            order: isa::ByteOrder::Swap,
            ..
        }
    )));
    let jumps = jump_defs();
    assert!(jumps.iter().any(|d| matches!(
        d.form,
        Form::Jump {
            width: Width::W32,
            ..
        }
    )));
    assert!(jumps.iter().any(|d| d.form == Form::Gotol));
    let mems = mem_defs();
    for size in Size::ALL {
        assert!(
            mems.iter().any(|d| d.form
                == Form::Load {
                    size,
                    signed: false
                }),
            "{size:?}"
        );
        assert!(
            mems.iter()
                .any(|d| matches!(d.form, Form::Store { size: s, .. } if s == size)),
            "{size:?}"
        );
    }
    assert!(mems
        .iter()
        .any(|d| matches!(d.form, Form::Load { signed: true, .. })));
    assert!(mems.iter().any(|d| matches!(
        d.form,
        Form::Atomic {
            op: AtomicOp::CmpXchg,
            ..
        }
    )));
    // A loop block jumps backwards onto its own first body instruction.
    let b = Block::Loop(3, vec![(0, 1, 2, 5)]);
    let insns = block_insns(&b, &alu, &jumps, &mems, &[]);
    let last = insns.last().unwrap();
    assert_eq!(last.off as i64, -(insns.len() as i64 - 1));
}
