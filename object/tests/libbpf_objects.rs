//! Objects libbpf or iproute2 can open open here too (issue 11): every section name of
//! libbpf's `section_defs` and names it does not know, iproute2's `bpf_elf_map` maps,
//! externs, undefined functions, and `EM_NONE`.

use asm::types::{AttachType, MapType, ProgType};
use obj::{ExternKind, MapSource, Object, Pinning};

fn bytes(name: &str) -> Vec<u8> {
    let path = format!("{}/../testdata/elf/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn load(name: &str) -> Object {
    Object::parse(&bytes(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

#[test]
fn section_names_as_libbpf_reads_them() {
    let o = load("sections.bpf.o");
    let t = |name: &str| {
        let p = o.program(name).unwrap_or_else(|| panic!("{name}"));
        (p.prog_type, p.expected_attach_type, p.sleepable)
    };
    use AttachType as A;
    use ProgType as P;
    assert_eq!(t("frags"), (Some(P::Xdp), Some(A::Xdp), false));
    assert_eq!(t("devmap"), (Some(P::Xdp), Some(A::XdpDevmap), false));
    assert_eq!(t("tcx_in"), (Some(P::SchedCls), Some(A::TcxIngress), false));
    assert_eq!(
        t("nk_peer"),
        (Some(P::SchedCls), Some(A::NetkitPeer), false)
    );
    assert_eq!(
        t("parser"),
        (Some(P::SkSkb), Some(A::SkSkbStreamParser), false)
    );
    assert_eq!(t("msg"), (Some(P::SkMsg), Some(A::SkMsgVerdict), false));
    assert_eq!(t("ops"), (Some(P::SockOps), Some(A::CgroupSockOps), false));
    assert_eq!(
        t("connect4"),
        (Some(P::CgroupSockAddr), Some(A::CgroupInet4Connect), false)
    );
    assert_eq!(t("lookup"), (Some(P::SkLookup), Some(A::SkLookup), false));
    assert_eq!(t("sys"), (Some(P::Syscall), None, true));
    assert_eq!(t("sleepy"), (Some(P::Tracing), Some(A::TraceFentry), true));
    assert_eq!(t("lsm_sleepy"), (Some(P::Lsm), Some(A::LsmMac), true));
    assert_eq!(
        t("umulti"),
        (Some(P::Kprobe), Some(A::TraceUprobeMulti), false)
    );
    assert_eq!(t("task_iter"), (Some(P::Tracing), Some(A::TraceIter), true));
    assert_eq!(t("lwt"), (Some(P::LwtXmit), None, false));
    assert_eq!(t("cls"), (Some(P::SchedCls), None, false));
    assert_eq!(t("act"), (Some(P::SchedAct), None, false));
    assert_eq!(
        o.program("umulti").unwrap().attach.as_deref(),
        Some("./bin:f*")
    );
    // Names neither libbpf nor the section name types: programs of no known type.
    for name in ["sock1", "xprog", "tail_slot"] {
        let p = o.program(name).unwrap();
        assert_eq!(p.prog_type, None, "{name}");
        let e = p.type_or(None).unwrap_err();
        assert!(e.contains(&format!("section `{}`", p.section)), "{e}");
        assert!(e.contains("--type"), "{e}");
        assert_eq!(p.type_or(Some(P::Xdp)), Ok(P::Xdp));
    }
    assert_eq!(asm::types::iproute2_tail_call("2/1"), Some((2, 1)));
}

#[test]
fn iproute2_bpf_elf_map_and_custom_data_sections() {
    let o = load("iproute2_maps.bpf.o");
    let names: Vec<&str> = o.maps.iter().map(|m| m.name()).collect();
    assert_eq!(
        names,
        [
            "jmp",
            "counters",
            "events",
            "stacks",
            ".data.hits",
            ".rodata.config"
        ]
    );
    let m = |n: &str| &o.maps[o.map_index(n).unwrap()];
    assert_eq!(m("jmp").spec.map_type, MapType::ProgArray);
    assert_eq!(m("jmp").iproute2_ids, (1, 0, 0));
    assert_eq!(m("counters").pinning, Pinning::GlobalNs);
    assert_eq!(m("stacks").pinning, Pinning::ObjectNs);
    assert_eq!(m("stacks").source, MapSource::Legacy);
    // PERF_EVENT_ARRAY with max_elem 0: libbpf's map_set_def_max_entries gives it one
    // entry per possible CPU at creation.
    assert!(m("events").max_entries_nr_cpus);
    assert_eq!(m("events").max_entries_for(8), 8);
    assert_eq!(m("events").spec_for(8).max_entries, 8);
    assert_eq!(
        m(".data.hits").data.as_deref(),
        Some(&5u64.to_le_bytes()[..])
    );
    assert_eq!(m(".rodata.config").spec.flags, obj::F_RDONLY_PROG);
    assert_eq!(
        o.global("mark").unwrap().map,
        o.map_index(".rodata.config").unwrap()
    );
    let slot = o.program("slot0").unwrap();
    assert_eq!((slot.section.as_str(), slot.prog_type), ("1/0", None));
    assert_eq!(
        o.program("ingress").unwrap().prog_type,
        Some(ProgType::SchedCls)
    );
}

#[test]
fn externs_are_recorded_and_undefined_calls_reported_per_program() {
    let o = load("externs.bpf.o");
    let ext: Vec<(&str, ExternKind, bool, bool)> = o
        .externs
        .iter()
        .map(|e| (e.name.as_str(), e.kind, e.weak, e.func))
        .collect();
    assert_eq!(
        ext,
        [
            ("LINUX_KERNEL_VERSION", ExternKind::Kconfig, false, false),
            ("CONFIG_HZ", ExternKind::Kconfig, true, false),
            ("bpf_rcu_read_lock", ExternKind::Ksym, false, true),
        ]
    );
    assert_eq!(o.program("plain").unwrap().loadable(), Ok(()));
    let k = o.program("kconfig").unwrap();
    assert_eq!(k.externs, ["LINUX_KERNEL_VERSION", "CONFIG_HZ"]);
    let e = k.loadable().unwrap_err();
    assert!(
        e.contains("extern `LINUX_KERNEL_VERSION`") && e.contains("not resolved yet"),
        "{e}"
    );
    assert_eq!(o.program("kfunc").unwrap().externs, ["bpf_rcu_read_lock"]);
    let u = o.program("undefined").unwrap();
    assert_eq!(u.undefined_calls, ["not_a_kfunc"]);
    assert_eq!(
        u.loadable().unwrap_err(),
        "program `undefined` calls undefined function `not_a_kfunc`: it cannot be loaded \
         anywhere (libbpf refuses it too)"
    );
}

#[test]
fn em_none_is_accepted_like_libbpf() {
    // Old LLVM wrote e_machine = EM_NONE (0); libbpf's bpf_object__elf_init accepts it.
    let mut b = bytes("xdp_count.bpf.o");
    assert_eq!(&b[18..20], &247u16.to_le_bytes());
    b[18..20].copy_from_slice(&0u16.to_le_bytes());
    let o = Object::parse(&b).unwrap();
    assert_eq!(o, load("xdp_count.bpf.o"));
    // Any other machine is refused, naming it.
    b[18..20].copy_from_slice(&62u16.to_le_bytes());
    let e = Object::parse(&b).unwrap_err().to_string();
    assert!(e.contains("62"), "{e}");
}

#[test]
fn text_only_objects_offer_their_functions_without_a_type() {
    let o = load("text_only.bpf.o");
    let p = o.program(".text").unwrap();
    assert_eq!((p.name.as_str(), p.prog_type), ("helper_only", None));
}

#[test]
fn btf_maps_defaults_and_pinning() {
    let o = load("btf_defaults.bpf.o");
    let m = |n: &str| &o.maps[o.map_index(n).unwrap()];
    assert_eq!(m("events").spec.map_type, MapType::PerfEventArray);
    assert!(m("events").max_entries_nr_cpus);
    assert_eq!(m("events").spec_for(4).max_entries, 4);
    assert_eq!(m("pinned").pinning, Pinning::ByName);
    assert_eq!(m("socks").pinning, Pinning::None);
    assert_eq!(m("socks").spec.map_type, MapType::Sockmap);
}
