//! Differential test against LLVM: a generated program covering every instruction LLVM
//! can write (random registers, offsets and immediates) is assembled by llvm-mc-19 and
//! by bpfx, and llvm-objdump-19's text is compared with bpfx's printer.
//! Prints `skipped: ...` when the LLVM tools are not installed.

use asm::isa::{self, AtomicOp, CallKind, Form, OpDef, PacketMode, Pseudo};
use asm::text::{assemble, llvm, Dialect};
use asm::Insn;
use std::process::Command;

/// xorshift64*: deterministic, so a failure reproduces.
use test_support::Rng;

/// Small values, extremes and everything in between, so both ends of each field show up.
fn interesting(rng: &mut Rng) -> i64 {
    match rng.next() % 6 {
        0 => (rng.next() % 64) as i64 - 32,
        1 => [
            0,
            -1,
            i32::MIN as i64,
            i32::MAX as i64,
            i16::MIN as i64,
            i16::MAX as i64,
        ][(rng.next() % 6) as usize],
        _ => rng.next() as i64,
    }
}

/// Whether llvm-mc 19 can write this instruction in a way that gives the same bytes.
fn llvm_can_write(def: &OpDef) -> bool {
    !matches!(
        def.form,
        Form::Atomic {
            op: AtomicOp::LoadAcquire | AtomicOp::StoreRelease,
            ..
        } | Form::Call(CallKind::Local | CallKind::Kfunc)
    )
}

fn generate(def: &'static OpDef, rng: &mut Rng) -> Insn {
    let f = def.fields();
    let mut imm = interesting(rng);
    let mut src = if f.src { (rng.next() % 11) as u8 } else { 0 };
    match def.form {
        Form::LoadImm64 => {
            src = (rng.next() % Pseudo::ALL.len() as u64) as u8;
            if src != 0 {
                // objdump's `ld_pseudo` has only the first slot's value.
                imm = imm as u32 as i64;
            }
        }
        Form::AddrSpaceCast => imm = if rng.next() % 2 == 0 { 1 } else { 1 << 16 },
        // llvm-objdump drops the imm of an indirect packet load.
        Form::LoadPacket {
            mode: PacketMode::Ind,
            ..
        } => imm = 0,
        // llvm-mc 19 parses a `gotol` target as a 16-bit value.
        Form::Gotol => imm = imm as i16 as i64,
        _ => imm = imm as i32 as i64,
    }
    let insn = Insn::new(
        def,
        if f.dst { (rng.next() % 11) as u8 } else { 0 },
        src,
        if f.off { interesting(rng) as i16 } else { 0 },
        if f.imm { imm } else { 0 },
    );
    insn.check().unwrap_or_else(|e| panic!("{}: {e}", def.name));
    insn
}

/// `0x1f` → `31`, `-0x1` → `-1`: another spelling llvm-mc accepts, so the test also covers
/// decimal input.
fn decimal(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(at) = rest.find("0x") {
        out.push_str(&rest[..at]);
        let digits: String = rest[at + 2..]
            .chars()
            .take_while(|c| c.is_ascii_hexdigit())
            .collect();
        out.push_str(&u64::from_str_radix(&digits, 16).unwrap().to_string());
        rest = &rest[at + 2 + digits.len()..];
    }
    out.push_str(rest);
    out
}

fn tool(name: &str) -> Option<String> {
    Command::new(name)
        .arg("--version")
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|_| name.to_string())
}

#[test]
fn llvm_mc_and_objdump_agree_with_bpfx() {
    let (Some(mc), Some(objdump)) = (tool("llvm-mc-19"), tool("llvm-objdump-19")) else {
        println!("skipped: llvm-mc-19 not found");
        return;
    };
    let defs: Vec<&'static OpDef> = isa::table().iter().filter(|d| llvm_can_write(d)).collect();
    let mut rng = Rng::new(0x5eed_1234_abcd_0001);
    let mut insns = Vec::new();
    // Every form several times, then random ones.
    for _ in 0..8 {
        for def in &defs {
            insns.push(generate(def, &mut rng));
        }
    }
    while insns.len() < 4000 {
        let def = defs[(rng.next() % defs.len() as u64) as usize];
        insns.push(generate(def, &mut rng));
    }
    let mut text = String::new();
    for (i, insn) in insns.iter().enumerate() {
        let line = llvm::print(insn);
        text.push_str(&if i % 2 == 0 { line } else { decimal(&line) });
        text.push('\n');
    }

    // bpfx reads its own output back.
    let ours = assemble(&text, Dialect::Llvm).unwrap_or_else(|e| panic!("{e:?}"));
    assert_eq!(ours.insns, insns);

    let dir = std::env::temp_dir().join(format!("bpfx-llvm-diff-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (s, o) = (dir.join("prog.s"), dir.join("prog.o"));
    std::fs::write(&s, &text).unwrap();
    let out = Command::new(&mc)
        .args(["-triple", "bpfel", "-mcpu=v4", "-filetype=obj", "-o"])
        .arg(&o)
        .arg(&s)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "llvm-mc failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = Command::new(&objdump)
        .args(["-d", "--mcpu=v4"])
        .arg(&o)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "llvm-objdump failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::remove_dir_all(&dir).ok();

    // `      12:\t61 10 04 00 00 00 00 00\tw0 = *(u32 *)(r1 + 0x4)`
    let listing = String::from_utf8(out.stdout).unwrap();
    let mut rows = Vec::new();
    for line in listing.lines() {
        let Some((addr, rest)) = line.split_once(":\t") else {
            continue;
        };
        if addr.trim().parse::<usize>().is_err() {
            continue;
        }
        let (hex, txt) = rest.split_once('\t').unwrap();
        let bytes: Vec<u8> = hex
            .split_whitespace()
            .map(|b| u8::from_str_radix(b, 16).unwrap())
            .collect();
        // Drop the `<.text+0x..>` target annotation (but not a `<` comparison).
        let txt = match txt.rfind(" <") {
            Some(at) if txt.ends_with('>') && !txt[at + 2..].contains(' ') => &txt[..at],
            _ => txt,
        };
        rows.push((bytes, txt.to_string()));
    }
    assert_eq!(rows.len(), insns.len(), "objdump listed every instruction");
    let (mut same_bytes, mut same_text) = (0, 0);
    for (insn, (bytes, txt)) in insns.iter().zip(&rows) {
        assert_eq!(
            &insn.encode(),
            bytes,
            "llvm-mc bytes for {:?}",
            llvm::print(insn)
        );
        same_bytes += 1;
        assert_eq!(&llvm::print(insn), txt, "objdump text for {:02x?}", bytes);
        same_text += 1;
    }
    println!(
        "{same_bytes} of {} instructions: identical bytes; {same_text}: identical objdump text",
        insns.len()
    );
}
