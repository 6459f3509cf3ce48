//! The emulator against the running kernel: every seccomp filter of ../shared/seccomp,
//! every x86_64 system call number (plus x32 and out-of-table numbers) with zero and
//! randomised arguments; checker verdicts for every filter, as seccomp and socket filter.

use asm::cbpf::check::{check, Mode};
use asm::cbpf::seccomp::Arch;
use asm::cbpf::{self, SockFilter};
use kernel::seccomp as ks;
use std::path::PathBuf;
use vm::classic::{run_seccomp, SeccompData};

fn corpus() -> Option<Vec<PathBuf>> {
    let dir = test_support::corpus_dir("BPFX_SECCOMP_CORPUS", "seccomp")?;
    Some(test_support::files_with_ext(&dir, "bpf"))
}

use test_support::Rng;

/// A system call argument: small, 32-bit, any, or a single bit.
fn arg(rng: &mut Rng) -> u64 {
    match rng.next() % 4 {
        0 => rng.next() % 8,
        1 => rng.next() & 0xffff_ffff,
        2 => rng.next(),
        _ => 1 << (rng.next() % 64),
    }
}

fn numbers() -> Vec<u32> {
    // uretprobe (335) and uprobe (336) bypass seccomp and would really run: not probed.
    let mut nrs: Vec<u32> = (0..=470).filter(|n| !matches!(n, 335 | 336)).collect();
    nrs.extend(Arch::X32.syscalls().iter().map(|s| s.1).step_by(7));
    nrs.extend([512, 547, 1000, 0x3fff_ffff, 0xffff_ffff]);
    nrs
}

#[test]
fn corpus_filters_agree_with_the_kernel() {
    let Some(files) = corpus() else { return };
    if let Err(why) = ks::available() {
        println!("skipped: seccomp unusable: {why}");
        return;
    }
    let ip = ks::test_site_ip();
    let mut rng = Rng::new(0x5eed_cbf0_0000_0001);
    let (mut compared, mut filters, mut refused) = (0usize, 0usize, 0usize);
    let mut diffs = Vec::new();
    for p in &files {
        let prog = cbpf::decode_lenient(&std::fs::read(p).unwrap()).unwrap();
        let ours = check(&prog, Mode::Seccomp);
        let theirs = ks::check(&prog).unwrap();
        assert_eq!(
            ours.is_ok(),
            theirs.is_ok(),
            "{}: checker says {ours:?}, kernel says {theirs:?}",
            p.display()
        );
        let sock = kernel::socket_filter::check(&prog).unwrap();
        assert_eq!(
            check(&prog, Mode::Socket).is_ok(),
            sock.is_ok(),
            "{}: socket filter verdict",
            p.display()
        );
        if ours.is_err() {
            refused += 1;
            continue;
        }
        filters += 1;
        for nr in numbers() {
            for round in 0..4 {
                let args: [u64; 6] = if round == 0 {
                    [0; 6]
                } else {
                    std::array::from_fn(|_| arg(&mut rng))
                };
                let data = SeccompData {
                    nr,
                    arch: Arch::X86_64.audit(),
                    instruction_pointer: ip,
                    args,
                };
                let emu = run_seccomp(&prog, &data).unwrap();
                let want = ks::expected(&[emu.ret]);
                let got = ks::run(std::slice::from_ref(&prog), nr, args)
                    .unwrap_or_else(|e| panic!("{} nr {nr}: {e}", p.display()));
                compared += 1;
                if want != got {
                    diffs.push(format!(
                        "{} nr {nr} args {args:x?}: emulator {want}, kernel {got}",
                        p.display()
                    ));
                }
                if round == 0 && !emu.read_args {
                    break; // the answer cannot depend on the arguments
                }
            }
        }
    }
    println!("{filters} filters accepted, {refused} refused, {compared} (filter, syscall, args) cases compared, {} differences", diffs.len());
    assert!(diffs.is_empty(), "{}", diffs.join("\n"));
}

#[test]
fn stacked_filters_combine_like_the_kernel() {
    if let Err(why) = ks::available() {
        println!("skipped: seccomp unusable: {why}");
        return;
    }
    // Each filter lets the probe's own seccomp(2) and exit_group(2) through, so it can be
    // stacked; everything else gets `k`.
    let ret = |k: u32| {
        vec![
            SockFilter::new(0x20, 0, 0, 0),
            SockFilter::new(0x15, 2, 0, 317),
            SockFilter::new(0x15, 1, 0, 231),
            SockFilter::new(0x06, 0, 0, k),
            SockFilter::new(0x06, 0, 0, 0x7fff_0000),
        ]
    };
    // (older, newer) pairs exercising priority and ties.
    let cases = [
        (0x0005_0001, 0x0005_0002), // ERRNO tie: newest wins
        (0x0003_0007, 0x0005_0002), // TRAP beats ERRNO
        (0x7fff_0000, 0x0003_0009), // TRAP beats ALLOW
        (0x8000_0000, 0x0005_0001), // KILL_PROCESS beats all
        (0x0005_0003, 0x7ff0_0001), // ERRNO beats TRACE
        (0x0001_0000, 0x0005_0001), // unknown action sits between KILL_THREAD and TRAP
    ];
    for (old, new) in cases {
        let want = ks::expected(&[new, old]);
        let got = ks::run(&[ret(old), ret(new)], 39, [0; 6]).unwrap();
        assert_eq!(want, got, "older {old:#x}, newer {new:#x}");
    }
}

#[test]
fn stacked_corpus_filters_agree_with_the_kernel() {
    let Some(files) = corpus() else { return };
    if let Err(why) = ks::available() {
        println!("skipped: seccomp unusable: {why}");
        return;
    }
    let load = |name: &str| {
        let p = files
            .iter()
            .find(|p| p.file_name().is_some_and(|f| f == name))
            .unwrap();
        cbpf::decode(&std::fs::read(p).unwrap()).unwrap()
    };
    let ip = ks::test_site_ip();
    let mut rng = Rng::new(0x5eed_cbf0_0000_0002);
    let (mut stacks, mut compared) = (0, 0);
    // Oldest first. The older filters must let seccomp(2) through for the next to install.
    for names in [
        &["args-denylist.bpf", "docker-default-amd64.bpf"][..],
        &["docker-default-amd64-btree.bpf", "args-denylist.bpf"],
        &["args-denylist.bpf", "multiarch-x86_64-x86-x32.bpf"],
        &[
            "args-denylist.bpf",
            "docker-default-amd64.bpf",
            "tiny-allowlist.bpf",
        ],
    ] {
        let progs: Vec<_> = names.iter().map(|n| load(n)).collect();
        match ks::run(&progs, 39, [0; 6]).unwrap() {
            ks::Observed::Refused { filter, errno } => {
                panic!("{names:?}: filter {filter} refused (errno {errno})")
            }
            _ => stacks += 1,
        }
        for nr in numbers() {
            let args: [u64; 6] = std::array::from_fn(|_| arg(&mut rng));
            let data = SeccompData {
                nr,
                arch: Arch::X86_64.audit(),
                instruction_pointer: ip,
                args,
            };
            let rets: Vec<u32> = progs
                .iter()
                .rev()
                .map(|p| run_seccomp(p, &data).unwrap().ret)
                .collect();
            let want = ks::expected(&rets);
            let got = ks::run(&progs, nr, args).unwrap();
            assert_eq!(want, got, "{names:?} nr {nr} args {args:x?}");
            compared += 1;
        }
    }
    println!("{stacks} stacks, {compared} (stack, syscall, args) cases compared, 0 differences");
}

#[test]
fn corpus_filters_agree_with_the_kernel_for_i386_calls() {
    let Some(files) = corpus() else { return };
    if let Err(why) = ks::available() {
        println!("skipped: seccomp unusable: {why}");
        return;
    }
    let abi = ks::Abi::I386;
    let ip = ks::test_site_ip_abi(abi);
    // Is the compat entry there at all? (CONFIG_IA32_EMULATION)
    if ks::run_abi(
        &[vec![SockFilter::new(0x06, 0, 0, 0x0005_0007)]],
        abi,
        20,
        [0; 6],
    )
    .unwrap()
        != ks::Observed::Errno(7)
    {
        println!("skipped: no int $0x80 compat entry");
        return;
    }
    let mut rng = Rng::new(0x5eed_cbf0_0000_0003);
    let (mut filters, mut compared) = (0, 0);
    for p in &files {
        let prog = cbpf::decode_lenient(&std::fs::read(p).unwrap()).unwrap();
        if check(&prog, Mode::Seccomp).is_err() {
            continue;
        }
        filters += 1;
        for nr in 0..=460u32 {
            for round in 0..3 {
                let args = abi.args(if round == 0 {
                    [0; 6]
                } else {
                    std::array::from_fn(|_| arg(&mut rng))
                });
                let data = SeccompData {
                    nr,
                    arch: abi.audit(),
                    instruction_pointer: ip,
                    args,
                };
                let emu = run_seccomp(&prog, &data).unwrap();
                let want = ks::expected(&[emu.ret]);
                let got = ks::run_abi(std::slice::from_ref(&prog), abi, nr, args).unwrap();
                assert_eq!(want, got, "{} i386 nr {nr} args {args:x?}", p.display());
                compared += 1;
                if !emu.read_args {
                    break;
                }
            }
        }
    }
    println!(
        "i386: {filters} filters, {compared} (filter, syscall, args) cases compared, 0 differences"
    );
}
