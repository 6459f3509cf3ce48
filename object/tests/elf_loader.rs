//! The ELF loader on the checked-in test objects (`testdata/elf/*.bpf.o`, rebuilt by
//! `testdata/elf/build.sh`): programs, types, maps and relocations as libbpf sees them.

use asm::insn::Insn;
use asm::isa::{AluOp, CallKind, Form, Pseudo};
use asm::types::{MapType, ProgType};
use obj::{MapSource, Object, ObjectError};

fn load(name: &str) -> Object {
    let path = format!("{}/../testdata/elf/{name}", env!("CARGO_MANIFEST_DIR"));
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    Object::parse(&bytes).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn load_err(name: &str) -> ObjectError {
    let path = format!("{}/../testdata/elf/{name}", env!("CARGO_MANIFEST_DIR"));
    Object::parse(&std::fs::read(&path).unwrap()).expect_err(name)
}

/// The `lddw` instructions of a program: (index, pseudo source, imm).
fn lddws(insns: &[Insn]) -> Vec<(usize, Pseudo, i64)> {
    insns
        .iter()
        .enumerate()
        .filter_map(|(n, i)| Some((n, i.pseudo()?, i.imm)))
        .collect()
}

/// Bpf-to-bpf calls: (slot of the call, slot it reaches).
fn calls(insns: &[Insn]) -> Vec<(usize, usize)> {
    let mut slot = 0;
    let mut out = Vec::new();
    for i in insns {
        if i.form() == Some(Form::Call(CallKind::Local)) {
            out.push((slot, i.jump_target(slot).unwrap()));
        }
        slot += i.slots();
    }
    out
}

#[test]
fn hello_world_tracepoint() {
    let o = load("hello.bpf.o");
    assert_eq!(o.license.as_deref(), Some("Dual BSD/GPL"));
    assert_eq!(o.programs.len(), 1);
    let p = &o.programs[0];
    assert_eq!(p.name, "hello");
    assert_eq!(p.section, "tracepoint/syscalls/sys_enter_execve");
    assert_eq!(p.prog_type, Some(ProgType::Tracepoint));
    assert_eq!(p.attach.as_deref(), Some("syscalls/sys_enter_execve"));
    // libbpf loads tracepoints without an expected attach type.
    assert_eq!(p.expected_attach_type, None);
    // The format string is a static const: .rodata, referenced as a map value.
    assert_eq!(o.maps.len(), 1);
    assert_eq!(o.maps[0].spec.name, ".rodata");
    assert_eq!(o.maps[0].data.as_deref(), Some(&b"Hello, BPF World!\0"[..]));
    assert_eq!(lddws(&p.insns), vec![(0, Pseudo::MapValue, 0)]);
    assert!(p.insns.contains(&Insn::call_helper(6)));
    // A local symbol of a static variable is a global of its data map too.
    assert_eq!(
        o.global("hello.____fmt").map(|g| (g.map, g.size)),
        Some((0, 18))
    );
}

#[test]
fn socket_filter_without_maps() {
    let o = load("socket_filter.bpf.o");
    assert!(o.maps.is_empty());
    let p = o.program("socket").expect("by section name");
    assert_eq!(
        (p.name.as_str(), p.prog_type),
        ("keep_tcp", Some(ProgType::SocketFilter))
    );
    assert_eq!(p.attach, None);
    assert_eq!(p.expected_attach_type, None);
    assert_eq!(p.insns.len(), 22);
}

#[test]
fn xdp_hash_map_from_btf() {
    let o = load("xdp_count.bpf.o");
    assert_eq!(o.maps.len(), 1);
    let m = &o.maps[0];
    assert_eq!(m.spec.name, "counts");
    assert_eq!(m.spec.map_type, MapType::Hash);
    assert_eq!(
        (
            m.spec.key_size,
            m.spec.value_size,
            m.spec.max_entries,
            m.spec.flags
        ),
        (4, 8, 256, 0)
    );
    assert_eq!(m.source, MapSource::Btf);
    let p = o.program("count_proto").unwrap();
    assert_eq!(p.prog_type, Some(ProgType::Xdp));
    // Both references to `counts` become `lddw r1, map 0`.
    assert_eq!(
        lddws(&p.insns),
        vec![(21, Pseudo::MapFd, 0), (31, Pseudo::MapFd, 0)]
    );
    let relocs = &o
        .sections
        .iter()
        .find(|s| s.name == "xdp")
        .unwrap()
        .relocations;
    assert_eq!(relocs.len(), 2);
    assert_eq!(relocs[0].kind, "R_BPF_64_64");
    assert_eq!(relocs[0].target.as_deref(), Some("counts"));
}

#[test]
fn kprobe_percpu_hash() {
    let o = load("kprobe_pid.bpf.o");
    let p = &o.programs[0];
    assert_eq!(p.prog_type, Some(ProgType::Kprobe));
    assert_eq!(p.attach.as_deref(), Some("do_sys_openat2"));
    assert_eq!(p.expected_attach_type, None);
    let m = &o.maps[o.map_index("calls").unwrap()];
    assert_eq!(m.spec.map_type, MapType::PercpuHash);
    assert_eq!(
        (m.spec.key_size, m.spec.value_size, m.spec.max_entries),
        (4, 8, 1024)
    );
}

#[test]
fn tail_calls_with_a_legacy_map() {
    let o = load("tail_call.bpf.o");
    let m = &o.maps[0];
    assert_eq!(m.spec.name, "jump_table");
    assert_eq!(m.source, MapSource::Legacy);
    assert_eq!(m.spec.map_type, MapType::ProgArray);
    assert_eq!(
        (m.spec.key_size, m.spec.value_size, m.spec.max_entries),
        (4, 4, 4)
    );
    // Three programs in one section, split by function symbol.
    let names: Vec<_> = o.programs.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, ["dispatch", "drop_all", "bounce"]);
    assert!(o.programs.iter().all(|p| p.section == "xdp"));
    assert_eq!(o.programs[1].insns.len(), 2);
    assert_eq!(o.programs[2].insns[0].imm, 3);
    assert_eq!(lddws(&o.programs[0].insns), vec![(7, Pseudo::MapFd, 0)]);
}

#[test]
fn every_reference_reaches_its_own_map() {
    let o = load("multi_maps.bpf.o");
    let names: Vec<_> = o.maps.iter().map(|m| m.spec.name.as_str()).collect();
    assert_eq!(names, ["byte_count", "config", "lengths", ".bss"]);
    let p = &o.programs[0];
    // Insn indexes count an lddw once: slots 8, 16, 28, 34, 42 are insns 8, 15, 26, 31, 38.
    assert_eq!(
        lddws(&p.insns),
        vec![
            (8, Pseudo::MapFd, 1),
            (15, Pseudo::MapFd, 2),
            (26, Pseudo::MapFd, 2),
            (31, Pseudo::MapFd, 0),
            (38, Pseudo::MapValue, 3)
        ]
    );
}

#[test]
fn program_array_slots_from_values() {
    let o = load("prog_array_init.bpf.o");
    let m = &o.maps[o.map_index("slots").unwrap()];
    assert_eq!(m.spec.map_type, MapType::ProgArray);
    assert_eq!(
        (m.spec.key_size, m.spec.value_size, m.spec.max_entries),
        (4, 4, 4)
    );
    assert_eq!(
        m.slots,
        [(1, "to_drop".to_string()), (3, "to_tx".to_string())]
    );
}

#[test]
fn bpf_to_bpf_calls_append_text_functions() {
    let o = load("calls.bpf.o");
    let xdp = o.program("xdp_calls").unwrap();
    // The program (14 slots), then sum_of_squares (7), then square (3), each once.
    assert_eq!(
        xdp.subprograms,
        vec![
            ("sum_of_squares".to_string(), 14),
            ("square".to_string(), 21)
        ]
    );
    assert_eq!(xdp.insns.len(), 24);
    assert_eq!(calls(&xdp.insns), vec![(8, 14), (15, 21), (18, 21)]);
    // The appended square is the .text one: w0 = w1; w0 *= w0; exit.
    assert_eq!(
        xdp.insns[21..],
        [
            Insn::mov32_reg(0, 1),
            Insn::alu32_reg(AluOp::Mul, 0, 0),
            Insn::exit()
        ]
    );

    let sock = o.program("socket_calls").unwrap();
    assert_eq!(sock.subprograms, vec![("square".to_string(), 3)]);
    assert_eq!(calls(&sock.insns), vec![(1, 3)]);
    // `.text` holds no program.
    assert_eq!(o.programs.len(), 2);
    let text = o.sections.iter().find(|s| s.name == ".text").unwrap();
    assert_eq!(
        text.symbols,
        vec![("square".to_string(), 0), ("sum_of_squares".to_string(), 3)]
    );
    let targets: Vec<_> = text
        .relocations
        .iter()
        .map(|r| (r.slot, r.kind, r.target.as_deref()))
        .collect();
    assert_eq!(
        targets,
        vec![
            (4, "R_BPF_64_32", Some("square")),
            (7, "R_BPF_64_32", Some("square"))
        ]
    );
}

#[test]
fn static_subprograms_and_callbacks() {
    let o = load("callbacks.bpf.o");
    let p = o.program("use_callbacks").unwrap();
    // The callback (a function address) and the static function (a call through the
    // `.text` section symbol) are both appended.
    assert_eq!(
        p.subprograms,
        vec![("add_index".to_string(), 16), ("twice".to_string(), 22)]
    );
    let lddw = p.insns.iter().position(|i| i.pseudo().is_some()).unwrap();
    assert_eq!(p.insns[lddw].pseudo(), Some(Pseudo::Func));
    // The lddw is at slot 5 and reaches slot 16: 5 + 1 + 10.
    assert_eq!(p.insns[lddw].imm, 10);
    assert_eq!(calls(&p.insns), vec![(10, 22)]);
    let relocs: Vec<_> = o
        .sections
        .iter()
        .find(|s| s.name == "xdp")
        .unwrap()
        .relocations
        .iter()
        .map(|r| (r.slot, r.symbol.as_str(), r.target.as_deref()))
        .collect();
    assert_eq!(
        relocs,
        [
            (5, ".text", Some("add_index")),
            (10, ".text", Some("twice"))
        ]
    );
}

#[test]
fn global_data_sections_become_array_maps() {
    let o = load("globals.bpf.o");
    let names: Vec<_> = o.maps.iter().map(|m| m.spec.name.as_str()).collect();
    assert_eq!(names, [".rodata", ".data", ".bss", ".rodata.str1.1"]);
    for m in &o.maps {
        assert_eq!(
            (m.spec.map_type, m.spec.key_size, m.spec.max_entries),
            (MapType::Array, 4, 1)
        );
        assert_eq!(m.source, MapSource::Data);
        assert_eq!(
            m.data.as_ref().map(Vec::len),
            Some(m.spec.value_size as usize)
        );
    }
    let rodata = &o.maps[0];
    assert_eq!(rodata.data.as_deref(), Some(&100u32.to_le_bytes()[..]));
    assert_eq!(rodata.spec.flags, obj::F_RDONLY_PROG);
    assert_eq!(o.maps[1].data.as_deref(), Some(&7u64.to_le_bytes()[..]));
    assert_eq!(o.maps[2].data.as_deref(), Some(&[0u8; 8][..]));
    assert_eq!(o.maps[2].spec.flags, 0);
    assert_eq!(
        o.maps[3].data.as_deref(),
        Some(&b"big packet: %u bytes\n\0"[..])
    );
    let globals: Vec<_> = o
        .globals
        .iter()
        .map(|g| {
            (
                g.name.as_str(),
                o.maps[g.map].spec.name.as_str(),
                g.offset,
                g.size,
            )
        })
        .collect();
    assert_eq!(
        globals,
        [
            ("packets", ".data", 0, 8),
            ("threshold", ".rodata", 0, 4),
            ("big_packets", ".bss", 0, 8)
        ]
    );
    // packets (.data), threshold (.rodata), big_packets (.bss), the format (.rodata.str1.1),
    // each as a map value address at offset 0.
    let p = &o.programs[0];
    let v = |map: i64, off: i64| (Pseudo::MapValue, (off << 32) | map);
    let got: Vec<_> = lddws(&p.insns).iter().map(|&(_, s, i)| (s, i)).collect();
    assert_eq!(got, vec![v(1, 0), v(0, 0), v(2, 0), v(3, 0)]);
}

#[test]
fn ring_buffer_map_has_no_key_or_value() {
    let o = load("ringbuf.bpf.o");
    let m = &o.maps[0];
    assert_eq!(m.spec.map_type, MapType::Ringbuf);
    assert_eq!(
        (m.spec.key_size, m.spec.value_size, m.spec.max_entries),
        (0, 0, 4096)
    );
    assert_eq!(
        lddws(&o.programs[0].insns)
            .iter()
            .filter(|l| l.1 == Pseudo::MapFd)
            .count(),
        2
    );
}

#[test]
fn errors_name_section_symbol_and_relocation() {
    let e = load_err("bad/extern_var.bpf.o");
    let text = e.to_string();
    assert!(
        matches!(&e, ObjectError::Relocation { section, symbol, offset: 0, .. }
        if section == "xdp" && symbol == "defined_elsewhere"),
        "{text}"
    );
    assert!(text.contains("extern"), "{text}");

    let e = load_err("bad/static_prog.bpf.o");
    assert!(
        matches!(&e, ObjectError::StaticProgram { section, symbol }
        if section == "xdp" && symbol == "hidden"),
        "{e}"
    );

    // A map of maps' `.values` name maps (libbpf's init_map_in_map_slots): it loads.
    let o = load("bad/map_in_map.bpf.o");
    let outer = &o.maps[o.map_index("outer").unwrap()];
    assert_eq!(outer.slots, vec![(1, "inner0".to_string())]);

    let e = load_err("bad/no_btf.bpf.o");
    assert!(
        matches!(&e, ObjectError::Section { section, reason }
            if section == ".maps" && reason.contains("-g")),
        "{e}"
    );

    let e = load_err("bad/legacy_short.bpf.o");
    assert!(
        matches!(&e, ObjectError::Map { map, reason }
            if map == "stubby" && reason.contains("needs 16 bytes")),
        "{e}"
    );

    let e = load_err("bad/no_max_entries.bpf.o");
    assert!(
        matches!(&e, ObjectError::Map { map, reason }
        if map == "incomplete" && reason.contains("max_entries")),
        "{e}"
    );
}

#[test]
fn not_an_object() {
    assert!(matches!(Object::parse(b"hello"), Err(ObjectError::Elf(_))));
    // An x86-64 ELF header: the right magic, the wrong machine.
    let exe = std::fs::read("/proc/self/exe").unwrap();
    assert!(matches!(Object::parse(&exe), Err(ObjectError::NotBpf(_))));
}

#[test]
fn truncated_objects_are_errors_not_panics() {
    let path = format!("{}/../testdata/elf/calls.bpf.o", env!("CARGO_MANIFEST_DIR"));
    let bytes = std::fs::read(path).unwrap();
    for len in (0..bytes.len()).step_by(97) {
        let _ = Object::parse(&bytes[..len]);
    }
    // Cut inside the section headers at the end of the file: an ELF error.
    assert!(matches!(
        Object::parse(&bytes[..bytes.len() - 8]),
        Err(ObjectError::Elf(_))
    ));
    // Flip every byte of the code and relocation area in turn: errors or objects, no panic.
    for i in (0..bytes.len()).step_by(3) {
        let mut b = bytes.clone();
        b[i] ^= 0xa5;
        let _ = Object::parse(&b);
    }
}

#[test]
fn xdp_programs_expect_the_xdp_attach_type_and_maps_are_specs() {
    let o = load("xdp_count.bpf.o");
    let p = &o.programs[0];
    assert_eq!(p.expected_attach_type, Some(asm::types::AttachType::Xdp));
    // A BTF-defined map is a MapSpec with nothing special in its value.
    let m = &o.maps[0];
    assert_eq!(m.source, MapSource::Btf);
    assert_eq!(m.spec.inner, None);
    assert_eq!(m.spec.value_fields, asm::types::ValueFields::default());
    assert_eq!(m.name(), "counts");
    let declared = obj::Map::from(asm::types::MapSpec::array(8, 1).named("runs"));
    assert_eq!(declared.source, MapSource::Declared);
    assert_eq!((declared.data, declared.slots), (None, Vec::new()));
}
