//! The interpreter's kernel semantics, one behaviour per test.

use asm::cbpf::bpf_asm::assemble;
use asm::cbpf::seccomp::Action;
use asm::cbpf::SockFilter;
use vm::classic::{
    exempt, run_seccomp, run_seccomp_stack, run_socket, RunError, SeccompData, SkbContext,
};

fn sock(src: &str, pkt: &[u8]) -> u32 {
    run_socket(&assemble(src).unwrap(), pkt, &SkbContext::default())
        .unwrap()
        .ret
}

#[test]
fn packet_loads_are_big_endian() {
    let pkt = [0x12, 0x34, 0x56, 0x78, 0x9a];
    assert_eq!(sock("ld [0]\nret a\n", &pkt), 0x1234_5678);
    assert_eq!(sock("ldh [1]\nret a\n", &pkt), 0x3456);
    assert_eq!(sock("ldb [4]\nret a\n", &pkt), 0x9a);
    assert_eq!(sock("ldx #1\nldh [x + 2]\nret a\n", &pkt), 0x789a);
}

#[test]
fn out_of_bounds_load_returns_zero() {
    assert_eq!(sock("ld #7\nld [2]\nret #99\n", &[1, 2, 3, 4, 5]), 0);
    assert_eq!(sock("ldx #4\nldb [x + 1]\nret #99\n", &[1, 2, 3, 4, 5]), 0);
    assert_eq!(sock("ldxb 4*([9]&0xf)\nret #99\n", &[1, 2, 3]), 0);
}

#[test]
fn msh_is_ipv4_header_length() {
    assert_eq!(sock("ldxb 4*([0]&0xf)\ntxa\nret a\n", &[0x45]), 20);
}

#[test]
fn division_by_x_zero_returns_zero() {
    assert_eq!(sock("ld #10\nldx #0\ndiv x\nret #5\n", &[]), 0);
    assert_eq!(sock("ld #10\nldx #0\nmod x\nret #5\n", &[]), 0);
    assert_eq!(sock("ld #10\nldx #3\nmod x\nret a\n", &[]), 1);
}

#[test]
fn shifts_by_x_use_the_low_five_bits() {
    assert_eq!(sock("ld #1\nldx #33\nlsh x\nret a\n", &[]), 2);
    assert_eq!(sock("ld #8\nldx #35\nrsh x\nret a\n", &[]), 1);
}

#[test]
fn alu_wraps_at_32_bits_and_compares_unsigned() {
    assert_eq!(sock("ld #0xffffffff\nadd #2\nret a\n", &[]), 1);
    assert_eq!(sock("ld #1\nneg\nret a\n", &[]), 0xffff_ffff);
    assert_eq!(
        sock("ld #0xffffffff\njgt #1, big\nret #0\nbig: ret #1\n", &[]),
        1
    );
}

#[test]
fn scratch_memory_and_registers() {
    assert_eq!(
        sock("ld #5\nst M[3]\nld #0\nldx M[3]\ntxa\nadd x\nret a\n", &[]),
        10
    );
    assert_eq!(sock("ld #len\nret a\n", &[0; 13]), 13);
}

#[test]
fn ancillary_loads_read_the_context() {
    let ctx = SkbContext {
        protocol: 0x0800,
        mark: 7,
        ifindex: 3,
        ..SkbContext::default()
    };
    let run =
        |src: &str, ctx: &SkbContext| run_socket(&assemble(src).unwrap(), &[], ctx).unwrap().ret;
    assert_eq!(run("ld #proto\nret a\n", &ctx), 0x0800);
    assert_eq!(run("ldh #mark\nret a\n", &ctx), 7);
    assert_eq!(run("ld #ifidx\nret a\n", &ctx), 3);
    assert_eq!(run("ld #5\nldx #6\nld #xor_x\nret a\n", &ctx), 3);
    // Without a device (AF_UNIX), #ifidx ends the program returning A.
    assert_eq!(run("ld #42\nld #ifidx\nret #0\n", &SkbContext::unix()), 42);
}

#[test]
fn netlink_attribute_search() {
    // Two attributes: type 1 (len 8) then type 5 (len 4), host-endian headers.
    let mut pkt = Vec::new();
    for (len, ty) in [(8u16, 1u16), (4, 5)] {
        pkt.extend(len.to_ne_bytes());
        pkt.extend(ty.to_ne_bytes());
        pkt.resize(pkt.len() + len as usize - 4, 0);
    }
    assert_eq!(sock("ld #0\nldx #5\nld #nla\nret a\n", &pkt), 8);
    assert_eq!(sock("ld #0\nldx #9\nld #nla\nret a\n", &pkt), 0);
}

#[test]
fn seccomp_data_is_host_endian() {
    let p = assemble("ld [28]\nret a\n").unwrap(); // args_hi[1]
    let d = SeccompData {
        args: [0, 0x1122_3344_5566_7788, 0, 0, 0, 0],
        ..Default::default()
    };
    assert_eq!(run_seccomp(&p, &d).unwrap().ret, 0x1122_3344);
    let o = run_seccomp(&assemble("ld #len\nret a\n").unwrap(), &d).unwrap();
    assert_eq!((o.ret, o.read_args), (64, false));
    assert!(run_seccomp(&p, &d).unwrap().read_args);
    let half = assemble("ldh [0]\nret a\n").unwrap();
    assert_eq!(
        run_seccomp(&half, &d),
        Err(RunError::NotSeccomp { index: 0 })
    );
}

#[test]
fn runtime_errors_name_the_instruction() {
    let p = vec![
        SockFilter::new(0x05, 0, 0, 5),
        SockFilter::new(0x06, 0, 0, 0),
    ];
    assert_eq!(
        run_socket(&p, &[], &SkbContext::default()),
        Err(RunError::OutOfProgram { index: 0 })
    );
    let p = vec![SockFilter::new(0xffff, 0, 0, 0)];
    assert_eq!(
        run_socket(&p, &[], &SkbContext::default()),
        Err(RunError::UnknownOpcode {
            index: 0,
            code: 0xffff
        })
    );
    let p = vec![SockFilter::new(0x00, 0, 0, 0)];
    assert_eq!(
        run_socket(&p, &[], &SkbContext::default()),
        Err(RunError::FellOff)
    );
}

#[test]
fn stacked_filters_lowest_action_wins_ties_to_newest() {
    let ret = |k: u32| vec![SockFilter::new(0x06, 0, 0, k)];
    let d = SeccompData::default();
    let o = run_seccomp_stack(&[ret(0x0005_0001), ret(0x0005_0002)], &d).unwrap();
    assert_eq!((Action::from_ret(o.ret), o.filter), (Action::Errno(2), 1));
    let o = run_seccomp_stack(&[ret(0x0003_0001), ret(0x7fff_0000)], &d).unwrap();
    assert_eq!((Action::from_ret(o.ret), o.filter), (Action::Trap(1), 0));
    let o = run_seccomp_stack(&[ret(0x8000_0000), ret(0)], &d).unwrap();
    assert_eq!(Action::from_ret(o.ret), Action::KillProcess);
}

#[test]
fn uprobe_calls_bypass_filters() {
    let d = SeccompData {
        nr: 335,
        arch: 0xc000_003e,
        ..Default::default()
    };
    assert!(exempt(&d));
    let o = run_seccomp_stack(&[vec![SockFilter::new(0x06, 0, 0, 0)]], &d).unwrap();
    assert_eq!((Action::from_ret(o.ret), o.exempt), (Action::Allow, true));
    assert!(!exempt(&SeccompData {
        nr: 335,
        arch: 0x4000_0003,
        ..Default::default()
    }));
}

#[test]
fn possible_returns_cover_every_concrete_run() {
    use vm::classic::possible_returns;
    let Some(dir) = test_support::corpus_dir("BPFX_SECCOMP_CORPUS", "seccomp") else {
        return;
    };
    let mut seed = 0x9e37_79b9_7f4a_7c15u64;
    let mut rnd = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        match seed % 3 {
            0 => seed % 16,
            1 => seed & 0xffff_ffff,
            _ => seed,
        }
    };
    let mut checked = 0;
    for e in std::fs::read_dir(&dir).unwrap() {
        let p = e.unwrap().path();
        if p.extension().map_or(true, |x| x != "bpf") {
            continue;
        }
        let prog = asm::cbpf::decode(&std::fs::read(&p).unwrap()).unwrap();
        for nr in 0..460u32 {
            let poss = possible_returns(&prog, nr, 0xc000_003e).unwrap();
            assert!(!poss.truncated && !poss.computed, "{}", p.display());
            for round in 0..8 {
                let args = if round == 0 {
                    [0; 6]
                } else {
                    std::array::from_fn(|_| rnd())
                };
                let d = SeccompData {
                    nr,
                    arch: 0xc000_003e,
                    instruction_pointer: rnd(),
                    args,
                };
                let o = run_seccomp(&prog, &d).unwrap();
                assert!(
                    poss.rets.contains(&o.ret),
                    "{} nr {nr}: {:#x} not in {:x?}",
                    p.display(),
                    o.ret,
                    poss.rets
                );
                if !o.read_args {
                    assert_eq!(
                        poss.rets.len(),
                        1,
                        "{} nr {nr}: no argument read, one answer",
                        p.display()
                    );
                    break;
                }
                checked += 1;
            }
        }
    }
    assert!(checked > 100, "{checked}");
}

#[test]
fn possible_returns_of_an_argument_test() {
    let p = assemble("ld [16]\njeq #2, a\nret #0x50001\na: ret #0x7fff0000\n").unwrap();
    let poss = vm::classic::possible_returns(&p, 41, 0).unwrap();
    assert_eq!(
        poss.rets.into_iter().collect::<Vec<_>>(),
        [0x50001, 0x7fff_0000]
    );
    // Division by an argument may be by zero: 0 is possible.
    let p = assemble("ld [16]\ntax\nld #8\ndiv x\nret #0x7fff0000\n").unwrap();
    assert_eq!(
        vm::classic::possible_returns(&p, 0, 0)
            .unwrap()
            .rets
            .into_iter()
            .collect::<Vec<_>>(),
        [0, 0x7fff_0000]
    );
    // Stacked: ERRNO(1) or ALLOW under a filter that traps: TRAP wins either way.
    let trap = vec![SockFilter::new(0x06, 0, 0, 0x0003_0005)];
    let p = assemble("ld [16]\njeq #2, a\nret #0x50001\na: ret #0x7fff0000\n").unwrap();
    let s = vm::classic::possible_stack(&[trap, p], 41, 0)
        .unwrap()
        .unwrap();
    assert_eq!(s.into_iter().collect::<Vec<_>>(), [0x0003_0005]);
}
