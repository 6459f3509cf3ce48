//! CO-RE relocations of testdata/elf/core_read.bpf.o against the BTF of
//! testdata/elf/core_target.bpf.o (a different layout of the same types), checked value
//! by value and instruction by instruction; and `.BTF.ext` info per program.

use asm::insn::Insn;
use obj::core::{relo::POISON_HELPER, Btf, CoreKind, Outcome};
use obj::Object;

fn dir() -> String {
    concat!(env!("CARGO_MANIFEST_DIR"), "/../testdata/elf/").to_owned()
}

fn load(name: &str) -> Object {
    Object::parse(&std::fs::read(format!("{}{name}", dir())).unwrap()).unwrap()
}

fn target() -> Btf {
    Btf::from_file_bytes(&std::fs::read(format!("{}core_target.bpf.o", dir())).unwrap()).unwrap()
}

/// The instruction at a slot.
fn at(insns: &[Insn], slot: usize) -> Insn {
    let mut s = 0;
    for i in insns {
        if s == slot {
            return *i;
        }
        s += i.slots();
    }
    panic!("no instruction at slot {slot}")
}

#[test]
fn every_kind_against_a_known_target() {
    let mut o = load("core_read.bpf.o");
    let before = o.programs[0].insns.clone();
    let results = o.relocate_core(&target());
    let got: Vec<String> = results
        .iter()
        .map(|r| {
            let out = match &r.outcome {
                Outcome::Patched => format!("{}", r.target_value.unwrap()),
                Outcome::Poisoned(_) => "poisoned".into(),
                Outcome::Failed(e) => format!("failed: {e}"),
            };
            format!(
                "{} {} {} {} {} -> {out}",
                r.insn, r.kind, r.local_type, r.access_path, r.local_value
            )
        })
        .collect();
    let want = [
        "1 byte_off struct sample y 8 -> 36",
        "12 byte_off struct sample in.b 20 -> 24",
        "23 byte_off struct sample arr[2] 32 -> 48",
        "30 enumval_value enum color BLUE 2 -> 20",
        "33 field_exists struct sample gone 1 -> 0",
        "35 type_size struct sample  64 -> 88",
        "37 byte_sz struct sample y 8 -> 4",
        "45 byte_off struct sample flag 40 -> 32",
        "50 byte_sz struct sample flag 4 -> 4",
        "53 lshift_u64 struct sample flag 61 -> 45",
        "54 signed struct sample flag 0 -> 0",
        "56 rshift_u64 struct sample flag 61 -> 61",
        "58 rshift_u64 struct sample flag 61 -> 61",
        "64 byte_off struct sample sflag 40 -> 32",
        "69 byte_sz struct sample sflag 4 -> 4",
        "72 lshift_u64 struct sample sflag 56 -> 40",
        "73 signed struct sample sflag 1 -> 1",
        "75 rshift_u64 struct sample sflag 59 -> 59",
        "77 rshift_u64 struct sample sflag 59 -> 59",
        "79 byte_off struct sample u2 44 -> 72",
        "86 enumval_exists enum color GREEN 1 -> 1",
        "89 type_exists struct inner  1 -> 1",
        "91 field_exists struct sample___v2 newer 1 -> 1",
        "97 byte_off struct sample___v2 y 0 -> 36",
        "106 target_type_id struct sample  2 -> 5",
        "109 byte_off struct sample gone 48 -> poisoned",
        "110 enumval_value enum color YELLOW 3 -> poisoned",
        "113 type_matches struct inner  1 -> 1",
        "116 byte_off struct sample cnt 56 -> 84",
        "118 byte_off struct sample y 8 -> poisoned",
        "120 local_type_id struct inner  5 -> 5",
    ];
    assert_eq!(got, want);

    let p = &o.programs[0].insns;
    // ALU immediates patched.
    assert_eq!(
        at(p, 1),
        Insn {
            imm: 36,
            ..at(&before, 1)
        }
    );
    assert_eq!(at(p, 53).imm, 45);
    // lddw patched.
    assert_eq!(at(p, 30).imm, 20);
    // A load of a missing field: `call 0xbad2310`.
    assert_eq!(at(p, 109), Insn::call_helper(POISON_HELPER));
    // A poisoned lddw: both slots, so slot numbering is unchanged.
    assert_eq!(at(p, 110), Insn::call_helper(POISON_HELPER));
    assert_eq!(at(p, 111), Insn::call_helper(POISON_HELPER));
    // An unsigned field that shrank: the load shrinks with it (`bpf_core_patch_insn`).
    let ldx = at(p, 116);
    assert_eq!((ldx.off, ldx.code), (84, asm::isa::op::LDXW));
    // A signed field that shrank cannot be read with a smaller load: poisoned.
    assert_eq!(at(p, 118), Insn::call_helper(POISON_HELPER));
    match &results[29].outcome {
        Outcome::Poisoned(why) => assert!(why.contains("accesses field incorrectly"), "{why}"),
        other => panic!("{other:?}"),
    }
    let slots = |v: &[Insn]| v.iter().map(Insn::slots).sum::<usize>();
    assert_eq!(slots(p), slots(&before));
    // Kinds are all the ones clang wrote.
    assert!(results.iter().any(|r| r.kind == CoreKind::TypeMatches));
}

#[test]
fn ambiguous_candidates_fail_as_in_libbpf() {
    let mut o = load("core_read.bpf.o");
    let t = Btf::from_file_bytes(&std::fs::read(format!("{}core_ambiguous.bpf.o", dir())).unwrap())
        .unwrap();
    let results = o.relocate_core(&t);
    match &results[0].outcome {
        Outcome::Failed(e) => assert!(e.contains("field offset ambiguity: 0 != 32"), "{e}"),
        other => panic!("{other:?}"),
    }
    let e = load("core_read.bpf.o")
        .relocate_core_for_load(Some(&t))
        .unwrap_err()
        .to_string();
    assert!(e.starts_with("program `read_all` has a CO-RE relocation (byte_off of struct sample, access 0:1) at insn 1, which cannot be applied: field offset ambiguity"), "{e}");
}

#[test]
fn the_target_btf_of_the_host_kernel_is_readable() {
    match obj::core::kernel_btf() {
        Ok(b) => assert!(b.find(obj::core::kind::STRUCT, "task_struct").is_some()),
        Err(e) => println!("skipped: {e}"),
    }
}

#[test]
fn func_and_line_info_follow_linked_subprograms() {
    let o = load("calls.bpf.o");
    for p in &o.programs {
        let btf = p.ext.btf.as_ref().expect("calls.bpf.o has .BTF");
        // One func_info per function: the program at 0, each subprogram at its slot.
        let mut want = vec![0];
        want.extend(p.subprograms.iter().map(|s| s.1));
        want.sort();
        assert_eq!(
            p.ext.func_info.iter().map(|f| f.insn).collect::<Vec<_>>(),
            want,
            "{}",
            p.name
        );
        for f in &p.ext.func_info {
            assert_eq!(btf.ty(f.type_id).kind, obj::core::kind::FUNC);
        }
        assert!(!p.ext.line_info.is_empty());
        assert!(p.ext.line_info.windows(2).all(|w| w[0].insn <= w[1].insn));
        let total: usize = p.insns.iter().map(Insn::slots).sum();
        assert!(p.ext.line_info.iter().all(|l| l.insn < total));
        let l = &p.ext.line_info[0];
        assert!(btf
            .string(l.file_name_off)
            .unwrap()
            .ends_with("calls.bpf.c"));
        assert!(l.line > 0);
    }
}

#[test]
fn objects_without_core_relos_are_unchanged() {
    let mut o = load("xdp_count.bpf.o");
    let before = o.clone();
    assert!(!o.has_core_relos());
    assert!(o.relocate_core(&target()).is_empty());
    assert_eq!(o, before);
    assert!(o.relocate_core_for_load(None).unwrap().is_empty());
}

#[test]
fn bad_btf_ext_is_a_typed_error() {
    let btf = target();
    let e = obj::btf_ext::BtfExt::parse(&[0x9f, 0xeb, 1, 0], &btf).unwrap_err();
    assert_eq!(e.offset, 0);
    // A func_info record size below 8.
    let mut b = vec![0x9f, 0xeb, 1, 0];
    for w in [32u32, 0, 12, 0, 0, 0, 0] {
        b.extend_from_slice(&w.to_le_bytes());
    }
    for w in [4u32, 1, 1] {
        b.extend_from_slice(&w.to_le_bytes());
    }
    let e = obj::btf_ext::BtfExt::parse(&b, &btf).unwrap_err();
    assert_eq!(e.offset, 32);
    assert!(e.reason.contains("record size 4"), "{e}");
}

#[test]
fn relocations_in_a_shared_subprogram_follow_each_copy() {
    let mut o = load("core_calls.bpf.o");
    let results = o.relocate_core(&target());
    for (pi, p) in o.programs.iter().enumerate() {
        let sub = p
            .subprograms
            .iter()
            .find(|s| s.0 == "read_b")
            .expect("read_b appended")
            .1;
        // `read_b`'s relocation is its second instruction, wherever it was appended.
        let r = results
            .iter()
            .find(|r| r.program == pi && r.kind == CoreKind::FieldByteOffset)
            .unwrap();
        assert_eq!(
            (r.insn, r.local_value, r.target_value),
            (sub + 1, 4, Some(8)),
            "{}",
            p.name
        );
        assert_eq!(at(&p.insns, sub + 1).imm, 8);
        assert!(p.ext.func_info.iter().any(|f| f.insn == sub));
    }
}
