//! CO-RE relocations of testdata/elf/core_read.bpf.o against the BTF of
//! testdata/elf/core_target.bpf.o, checked value by value.

use obj::core::{Btf, CoreKind, Outcome};
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

#[test]
fn dump() {
    let mut o = load("core_read.bpf.o");
    for r in o.relocate_core(&target()) {
        println!(
            "{:3} {:14} {:20} {:8} {:12} {} -> {:?} {:?}",
            r.insn,
            r.kind.name(),
            r.local_type,
            r.access,
            r.access_path,
            r.local_value,
            r.target_value,
            r.outcome
        );
    }
}
