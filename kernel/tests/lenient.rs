//! Which fields the kernel ignores, measured: encodings with one reserved or invalid field
//! set, once where the verifier reaches them and once in dead code behind a constant
//! branch, loaded into the running kernel. The kernel's verdicts pin the model of
//! `asm::insn::decode_lenient` (reached: only `exit`'s `off` is ignored; dead: only what
//! `resolve_pseudo_ldimm64` checks matters), and every program the kernel loads must load
//! in the VM too. Root only; elsewhere it prints `skipped: …`.

mod common;

use asm::insn::{decode_lenient, slots, Lenient};
use asm::types::ProgType;
use asm::Insn;
use kernel::prog::{LoadOptions, Program};

/// (what, the encoding as hex; 8 or 16 bytes).
const CASES: &[(&str, &str)] = &[
    ("exit off=1", "9500010000000000"),
    ("exit off=-1", "9500ffff00000000"),
    ("exit imm=1", "9500000001000000"),
    ("exit src=1", "9510000000000000"),
    ("exit dst=1", "9501000000000000"),
    ("goto imm=1", "0500000001000000"),
    ("goto src=1", "0510000000000000"),
    ("goto dst=1", "0501000000000000"),
    ("mov64 imm off=1", "b700010000000000"),
    ("mov64 imm src=1", "b710000000000000"),
    ("mov64 reg imm=1", "bf00000001000000"),
    ("mov64 dst=r15", "bf0f000000000000"),
    ("add64 imm off=1", "0700010000000000"),
    ("add64 reg imm=1", "0f00000001000000"),
    ("neg64 off=1", "8700010000000000"),
    ("neg64 imm=1", "8700000001000000"),
    ("neg64 src=1", "8710000000000000"),
    ("le16 src=1", "d410000010000000"),
    ("le16 off=1", "d400010010000000"),
    ("le imm=0 (0xd4)", "d400000000000000"),
    ("jeq imm src=1", "1510000000000000"),
    ("jeq reg imm=1", "1d00000001000000"),
    ("st src=1", "7a1af8ff00000000"),
    ("stx imm=1", "7b0af8ff01000000"),
    ("call dst=1", "8501000007000000"),
    ("call off=1", "8500010007000000"),
    ("lddw off=1", "18000100000000000000000000000000"),
    ("atomic byte imm=0 (0xd3)", "d300000000000000"),
    ("ldx imm=1", "790af8ff01000000"),
    ("opcode 0x8e", "8e00000000000000"),
    ("opcode 0xc2 (nospec)", "c200000000000000"),
];

use test_support::hex;

/// `*(u64 *)(r10 - 8) = 0; r0 = 0` + `mid` + `exit`.
fn program(mid: &[u8]) -> Vec<u8> {
    let mut b = hex("7a0af8ff00000000b700000000000000");
    b.extend_from_slice(mid);
    b.extend_from_slice(&hex("9500000000000000"));
    b
}

fn insns(bytes: &[u8]) -> Vec<Insn> {
    slots(bytes).map(|(_, i)| i).collect()
}

fn kernel_loads(bytes: &[u8]) -> bool {
    Program::load(&insns(bytes), &LoadOptions::new(ProgType::SocketFilter)).is_ok()
}

#[test]
fn kernel_ignores_only_exit_off_and_dead_code() {
    if !common::kernel_available("kernel_ignores_only_exit_off_and_dead_code") {
        return;
    }
    let mut table = String::new();
    let mut wrong = Vec::new();
    for (what, enc) in CASES {
        let x = hex(enc);
        // Reached: the instruction itself, or as the last one for `exit`.
        let reached = if enc.starts_with("95") {
            let mut b = hex("7a0af8ff00000000b700000000000000");
            b.extend_from_slice(&x);
            b
        } else {
            program(&x)
        };
        // Dead: `if r0 == 0 goto +N` over it.
        let mut dead_mid = hex("15000000000000ff");
        dead_mid[2] = (x.len() / 8) as u8;
        dead_mid[7] = 0;
        dead_mid.extend_from_slice(&x);
        let dead = program(&dead_mid);
        for (place, bytes) in [("reached", &reached), ("dead", &dead)] {
            let kernel = kernel_loads(bytes);
            let model = match decode_lenient(bytes) {
                Err(_) => false,
                Ok(items) => {
                    place == "dead" || items.iter().all(|i| matches!(i, Lenient::Valid(_)))
                }
            };
            let mut vm = vm::Vm::new();
            let vm_loads = vm.load(bytes, ProgType::SocketFilter).is_ok();
            table.push_str(&format!(
                "{what:28} {place:8} kernel {:6} model {:6} vm {}\n",
                if kernel { "loads" } else { "rejects" },
                if model { "loads" } else { "rejects" },
                if vm_loads { "loads" } else { "rejects" },
            ));
            if kernel != model || (kernel && !vm_loads) {
                wrong.push(format!(
                    "{what} ({place}): kernel loads: {kernel}, model: {model}, vm: {vm_loads}"
                ));
            }
        }
    }
    println!("{table}");
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}
