//! Externs as libbpf resolves them, and the object's BTF as the kernel is given it, on
//! `testdata/elf/extern_values.bpf.o` (source beside it): the `.kconfig` layout and values from
//! a given configuration, the errors naming an extern, `__ksym` resolution against a given
//! BTF and symbol table, and the fixed-up BTF (`Object::btf_for_load`).

use obj::core::{kind, Btf, Detail};
use obj::externs::{KcfgType, KernelConfig};
use obj::Object;

fn open() -> Object {
    let p = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../testdata/elf/extern_values.bpf.o"
    );
    Object::parse(&std::fs::read(p).unwrap()).unwrap()
}

fn config() -> KernelConfig {
    let mut c = KernelConfig::parse(
        "# comment\nCONFIG_BPF_SYSCALL=y\n# CONFIG_FOO is not set\nCONFIG_XFS_FS=m\nCONFIG_HZ=300\nCONFIG_DEFAULT_HOSTNAME=\"bpfx-host\"\n",
    )
    .unwrap();
    c.kernel_version = KernelConfig::version_code("6.18.44-fc").unwrap();
    c
}

#[test]
fn kconfig_layout_is_libbpfs() {
    let o = open();
    let slot = |n: &str| {
        let e = o.externs.iter().find(|e| e.name == n).unwrap();
        let s = e.kconfig.unwrap();
        (s.offset, s.size, s.ty)
    };
    // Alignment first (largest), then size, then name (libbpf's cmp_externs).
    assert_eq!(slot("CONFIG_BPFX_ABSENT"), (0, 4, KcfgType::Int));
    assert_eq!(slot("CONFIG_HZ"), (4, 4, KcfgType::Int));
    assert_eq!(slot("CONFIG_XFS_FS"), (8, 4, KcfgType::Tristate));
    assert_eq!(slot("LINUX_KERNEL_VERSION"), (12, 4, KcfgType::Int));
    assert_eq!(slot("CONFIG_BPF_SYSCALL"), (16, 1, KcfgType::Bool));
    assert_eq!(
        slot("CONFIG_DEFAULT_HOSTNAME"),
        (17, 8, KcfgType::CharArray)
    );
}

#[test]
fn kconfig_values_fill_a_kconfig_map() {
    let mut o = open();
    let before = o.maps.len();
    assert!(o.program("kconfig_values").unwrap().loadable().is_err());
    o.resolve_kconfig(&config()).unwrap();
    let m = &o.maps[before];
    assert_eq!(m.spec.name, ".kconfig");
    assert_eq!(m.spec.flags, obj::F_RDONLY_PROG);
    let data = m.data.as_ref().unwrap();
    assert_eq!(data.len(), 25);
    assert_eq!(&data[0..4], &0u32.to_le_bytes(), "weak and absent: 0");
    assert_eq!(&data[4..8], &300u32.to_le_bytes());
    assert_eq!(&data[8..12], &2u32.to_le_bytes(), "m is TRI_MODULE");
    assert_eq!(&data[12..16], &0x06122cu32.to_le_bytes());
    assert_eq!(data[16], 1);
    assert_eq!(
        &data[17..25],
        b"bpfx-ho\0",
        "cut to 7 bytes and a NUL, as libbpf does"
    );
    let p = o.program("kconfig_values").unwrap();
    p.loadable().unwrap();
    // Every reference is a map-value load from .kconfig at the extern's offset.
    for (i, name) in &p.extern_refs {
        let insn = p.insns[*i];
        assert_eq!(insn.pseudo(), Some(asm::isa::Pseudo::MapValue), "{name}");
        assert_eq!(insn.imm as u32 as usize, before);
        let off = o
            .externs
            .iter()
            .find(|e| &e.name == name)
            .unwrap()
            .kconfig
            .unwrap()
            .offset;
        assert_eq!((insn.imm >> 32) as u32, off, "{name}");
    }
    // ksym_values still uses its __ksym externs.
    assert!(o.program("ksym_values").unwrap().loadable().is_err());
}

#[test]
fn kconfig_errors_name_the_extern() {
    let err = |text: &str| {
        let mut o = open();
        let mut c = KernelConfig::parse(text).unwrap();
        c.kernel_version = 1;
        o.resolve_kconfig(&c).unwrap_err().to_string()
    };
    let full = "CONFIG_BPF_SYSCALL=y\nCONFIG_HZ=300\nCONFIG_DEFAULT_HOSTNAME=\"x\"\n";
    assert_eq!(
        err("CONFIG_BPF_SYSCALL=y\nCONFIG_DEFAULT_HOSTNAME=\"x\"\n"),
        "extern `CONFIG_HZ`: the kernel configuration does not set it"
    );
    assert_eq!(
        err(&full.replace("SYSCALL=y", "SYSCALL=m")),
        "extern `CONFIG_BPF_SYSCALL`: value `m` implies a tristate or char type"
    );
    assert_eq!(
        err(&full.replace("HZ=300", "HZ=0x100000000")),
        "extern `CONFIG_HZ`: value `0x100000000` does not fit in 4 bytes"
    );
    assert_eq!(
        err(&full.replace("HZ=300", "HZ=\"300\"")),
        "extern `CONFIG_HZ`: value `\"300\"` implies a char array type"
    );
    assert_eq!(
        err(&full.replace("HZ=300", "HZ=3x")),
        "extern `CONFIG_HZ`: value `3x` is not a valid integer"
    );
    assert!(KernelConfig::parse("CONFIG_X=\n")
        .unwrap_err()
        .contains("line 1"));
    let c = KernelConfig::parse(
        "LINUX_KERNEL_VERSION=6.18.44\nLINUX_HAS_BPF_COOKIE=y\nLINUX_HAS_SYSCALL_WRAPPER=n\n",
    )
    .unwrap();
    assert_eq!(c.kernel_version, 0x06122c);
    assert!(c.has_bpf_cookie && !c.has_syscall_wrapper);
    assert_eq!(
        KernelConfig::parse("LINUX_KERNEL_VERSION=0x10\n")
            .unwrap()
            .kernel_version,
        0x10
    );
    assert!(KernelConfig::parse("LINUX_HAS_BPF_COOKIE=1\n")
        .unwrap_err()
        .contains("expected y or n"));
    assert_eq!(KernelConfig::version_code("6.1"), Some(0x060100));
    assert_eq!(KernelConfig::version_code("5.10.300-x"), Some(0x050aff));
}

/// Against the running kernel's BTF when it can be read (any BTF with the functions would
/// do; the symbol table is given).
#[test]
fn ksyms_resolve_against_a_btf_and_a_symbol_table() {
    let Ok(vmlinux) = obj::core::kernel_btf() else {
        println!("skipped: no readable /sys/kernel/btf/vmlinux");
        return;
    };
    let mut o = open();
    let lookup = |n: &str| (n == "bpf_prog_active").then_some(0xffff_ffff_8123_4567u64);
    o.resolve_ksyms(&vmlinux, &lookup).unwrap();
    let p = o.program("ksym_values").unwrap();
    p.loadable().unwrap();
    let lock = vmlinux.find(kind::FUNC, "bpf_rcu_read_lock").unwrap();
    let calls: Vec<_> = p
        .insns
        .iter()
        .filter(|i| i.code == asm::isa::op::CALL)
        .collect();
    assert_eq!(calls[0].src, 2, "BPF_PSEUDO_KFUNC_CALL");
    assert_eq!(calls[0].imm, lock as i64);
    let addr = p
        .extern_refs
        .iter()
        .find(|(_, n)| n == "bpf_prog_active")
        .unwrap()
        .0;
    assert_eq!(p.insns[addr].imm, 0xffff_ffff_8123_4567u64 as i64);
    assert_eq!(p.insns[addr].src, 0, "a typeless ksym is a constant");
    // Not found and not weak: an error naming it.
    let mut o = open();
    let e = o.resolve_ksyms(&vmlinux, &|_| None).unwrap_err();
    assert_eq!(e.name, "bpf_prog_active");
}

#[test]
fn btf_for_load_has_libbpfs_fixups() {
    let o = open();
    let raw = o.btf_for_load.clone().unwrap().unwrap();
    let btf = Btf::parse(&raw).unwrap();
    let sec = |name: &str| {
        btf.get(btf.find(kind::DATASEC, name).unwrap())
            .unwrap()
            .clone()
    };
    let entries = |t: &obj::core::Type| match &t.detail {
        Detail::Raw(w) => w.chunks(3).map(|c| (c[0], c[1], c[2])).collect::<Vec<_>>(),
        other => panic!("{other:?}"),
    };
    let linkage = |id: u32| match &btf.get(id).unwrap().detail {
        Detail::Raw(w) => w[0],
        other => panic!("{other:?}"),
    };
    // .kconfig: the map's size, each variable at its slot, allocated.
    let k = sec(".kconfig");
    assert_eq!(k.size_or_type, 25);
    let ke = entries(&k);
    assert!(ke.windows(2).all(|w| w[0].1 <= w[1].1), "sorted by offset");
    assert!(ke.iter().all(|e| linkage(e.0) == 1));
    // .ksyms: 4-byte ints; functions replaced by one dummy_ksym variable.
    let s = sec(".ksyms");
    assert_eq!(s.size_or_type, 12);
    let names: Vec<_> = entries(&s)
        .iter()
        .map(|e| (btf.get(e.0).unwrap().name.clone(), e.1, e.2))
        .collect();
    assert_eq!(
        names,
        [
            ("dummy_ksym".to_string(), 0, 4),
            ("dummy_ksym".to_string(), 4, 4),
            ("bpf_prog_active".to_string(), 8, 4)
        ]
    );
    // .data: size from the ELF section; a hidden variable is static.
    let d = sec(".data");
    assert_eq!(d.size_or_type, 4);
    assert_eq!(linkage(entries(&d)[0].0), 0, "hidden_counter is static");
    // Data maps name their DATASEC as value type.
    let data = &o.maps[o.map_index(".data").unwrap()];
    assert_eq!(
        data.btf_type_ids,
        (0, btf.find(kind::DATASEC, ".data").unwrap())
    );
}
