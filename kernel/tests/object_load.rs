//! Objects loaded as libbpf loads them (`kernel::object::Loader`): BTF with func info (a
//! `bpf_loop` callback, which the kernel refuses without it), `__kconfig` values from a
//! given configuration and `__ksym`s from the kernel's BTF and a given symbol table, run
//! in the kernel and, for kconfig, in the VM with the same result; attach BTF ids for
//! fentry/fexit/tp_btf. Skips, printing why, without bpf(2).

use asm::types::ProgType;
use kernel::object::Loader;
use kernel::TestRun;
use obj::externs::KernelConfig;
use obj::Object;
use test_support::kernel_available;

fn open(name: &str) -> Object {
    let p = format!("{}/../testdata/elf/{name}", env!("CARGO_MANIFEST_DIR"));
    Object::parse(&std::fs::read(p).unwrap()).unwrap()
}

fn xdp_run(l: &Loader, o: &Object, name: &str) -> u32 {
    let p = o.program(name).unwrap();
    let prog = l
        .load(o, p, ProgType::Xdp)
        .unwrap_or_else(|e| panic!("{name}: {e}\n{}", e.verifier_log().unwrap_or("")));
    prog.test_run(&TestRun {
        data: &[0u8; 64],
        ..TestRun::default()
    })
    .unwrap()
    .retval
}

#[test]
fn a_callback_needs_the_objects_btf() {
    if !kernel_available("a_callback_needs_the_objects_btf") {
        return;
    }
    let o = open("callbacks.bpf.o");
    let p = o.program("use_callbacks").unwrap();
    // Without BTF the kernel refuses the bpf_loop callback ...
    let maps = kernel::object::create_maps(&o).unwrap();
    let e = kernel::object::load_program(&o, p, ProgType::Xdp, &maps).unwrap_err();
    assert!(
        e.verifier_log()
            .unwrap_or("")
            .contains("missing btf func_info"),
        "{e}"
    );
    // ... and with it loads and runs: 0+1+2+3 doubled is 12, XDP_PASS.
    let l = Loader::new(&o).unwrap();
    assert!(l.btf.is_some(), "{:?}", l.btf_error);
    assert_eq!(xdp_run(&l, &o, "use_callbacks"), 2);
}

#[test]
fn kconfig_and_ksym_externs_resolve_for_the_kernel() {
    if !kernel_available("kconfig_and_ksym_externs_resolve_for_the_kernel") {
        return;
    }
    let vmlinux = match obj::core::kernel_btf() {
        Ok(b) => b,
        Err(e) => {
            println!("skipped: {e}");
            return;
        }
    };
    let mut config = KernelConfig::parse(
        "CONFIG_BPF_SYSCALL=y\nCONFIG_XFS_FS=m\nCONFIG_HZ=300\nCONFIG_DEFAULT_HOSTNAME=\"bpfx\"\n",
    )
    .unwrap();
    config.kernel_version = KernelConfig::version_code("6.18.44").unwrap();
    let mut o = open("extern_values.bpf.o");
    let addr = 0xffff_ffff_8123_4567u64;
    kernel::object::resolve_externs(&mut o, &config, &vmlinux, &|n| {
        (n == "bpf_prog_active").then_some(addr)
    })
    .unwrap();
    let l = Loader::new(&o).unwrap();
    assert!(
        l.btf.is_some(),
        "the kernel refused the BTF: {:?}",
        l.btf_error
    );
    // 300 + 'b' + 6, from the configuration given.
    assert_eq!(xdp_run(&l, &o, "kconfig_values"), 404);
    // The VM reads the same .kconfig map.
    let mut t = vm::testing::Test::from_object(&o).unwrap();
    t.select("kconfig_values").unwrap();
    assert_eq!(t.run_packet(&[0u8; 64]).unwrap().ret, 404);
    // kfunc calls by vmlinux BTF id, the typeless ksym's address as a constant.
    assert_eq!(xdp_run(&l, &o, "ksym_values"), addr as u32);
}

#[test]
fn tracing_programs_get_their_attach_btf_id() {
    if !kernel_available("tracing_programs_get_their_attach_btf_id") {
        return;
    }
    let o = open("attach_btf.bpf.o");
    let l = Loader::new(&o).unwrap();
    let Ok(vmlinux) = l.vmlinux() else {
        println!("skipped: no kernel BTF");
        return;
    };
    for (name, target, k) in [
        ("on_entry", "bpf_fentry_test1", obj::core::kind::FUNC),
        ("on_exit", "bpf_fentry_test1", obj::core::kind::FUNC),
        (
            "on_switch",
            "btf_trace_sched_switch",
            obj::core::kind::TYPEDEF,
        ),
    ] {
        let p = o.program(name).unwrap();
        let t = p.type_or(None).unwrap();
        assert_eq!(t, ProgType::Tracing);
        let opts = l.options(&o, p, t).unwrap();
        assert_eq!(Some(opts.attach_btf_id), vmlinux.find(k, target), "{name}");
        match l.load(&o, p, t) {
            Ok(_) => {}
            // Kernels without BPF trampolines for this machine refuse fentry/fexit with
            // EPERM after the attach target was found (libbpf gets the same here);
            // without the id the verifier says "Tracing programs must provide btf_id".
            Err(e) if name != "on_switch" && e.errno().map(|e| e.0) == Some(libc::EPERM) => {
                println!("note: {name}: {e} (this kernel has no trampolines for it)")
            }
            Err(e) => panic!("{name}: {e}\n{}", e.verifier_log().unwrap_or("")),
        }
    }
    let p = o.program("nowhere").unwrap();
    let e = l.load(&o, p, ProgType::Tracing).unwrap_err();
    assert_eq!(
        e.to_string(),
        "program `nowhere`: attach target `bpfx_no_such_function`: not in the kernel's BTF"
    );
}

#[test]
fn struct_ops_programs_name_their_member() {
    if !kernel_available("struct_ops_programs_name_their_member") {
        return;
    }
    let o = open("struct_ops.bpf.o");
    let l = Loader::new(&o).unwrap();
    let Ok(vmlinux) = l.vmlinux() else {
        println!("skipped: no kernel BTF");
        return;
    };
    let st = vmlinux
        .find(obj::core::kind::STRUCT, "tcp_congestion_ops")
        .unwrap();
    for (name, member) in [("bpfx_init", "init"), ("bpfx_ssthresh", "ssthresh")] {
        let p = o.program(name).unwrap();
        assert_eq!(p.struct_ops.as_ref().unwrap().member, member);
        let opts = l.options(&o, p, ProgType::StructOps).unwrap();
        assert_eq!(opts.attach_btf_id, st);
        let index = vmlinux
            .ty(st)
            .members()
            .iter()
            .position(|m| m.name == member)
            .unwrap();
        assert_eq!(opts.struct_ops_member, Some(index as u32));
        l.load(&o, p, ProgType::StructOps)
            .unwrap_or_else(|e| panic!("{name}: {e}\n{}", e.verifier_log().unwrap_or("")));
    }
}
