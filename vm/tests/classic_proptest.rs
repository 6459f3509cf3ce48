//! Random classic programs: the checker's verdict and the emulator's result against the
//! kernel, as socket filters (SO_ATTACH_FILTER on AF_UNIX) and as seccomp filters.

use asm::cbpf::check::{check, Mode};
use asm::cbpf::{table, SockFilter, SKF_AD_OFF};
use kernel::seccomp as ks;
use kernel::socket_filter as kf;
use proptest::prelude::*;
use proptest::test_runner::TestRunner;
use std::sync::atomic::{AtomicUsize, Ordering};
use vm::classic::{run_seccomp, run_socket, SeccompData, SkbContext};

/// Ancillary loads whose value on an AF_UNIX skb is fixed (not the CPU, random or payload
/// offset).
const ANC: [u32; 13] = [0, 4, 8, 12, 16, 20, 24, 28, 32, 40, 44, 48, 60];

fn k_strategy() -> impl Strategy<Value = u32> {
    prop_oneof![
        4 => 0u32..80,
        1 => (0usize..ANC.len()).prop_map(|i| (SKF_AD_OFF + ANC[i] as i32) as u32),
        1 => any::<u32>(),
        1 => prop::sample::select(vec![0x7fff_0000u32, 0x0005_0001, 0x0003_0002, 0x8000_0000, 0x7ff0_0000, 31, 32, 0xffff_ffff]),
    ]
}

fn insn_strategy() -> impl Strategy<Value = SockFilter> {
    let codes: Vec<u16> = table().iter().map(|d| d.code).collect();
    (
        prop_oneof![9 => prop::sample::select(codes), 1 => any::<u16>()],
        prop_oneof![3 => 0u8..4, 1 => any::<u8>()],
        prop_oneof![3 => 0u8..4, 1 => any::<u8>()],
        k_strategy(),
    )
        .prop_map(|(code, jt, jf, k)| SockFilter { code, jt, jf, k })
}

fn prog_strategy(seccomp: bool) -> impl Strategy<Value = Vec<SockFilter>> {
    (
        prop::collection::vec(insn_strategy(), 0..16),
        k_strategy(),
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(move |(mut p, k, ret_a, tidy)| {
            // Usually end in a return so that more programs get past the checker.
            if k % 4 != 0 {
                p.push(SockFilter::new(if ret_a { 0x16 } else { 0x06 }, 0, 0, k));
            }
            if tidy {
                // Half the programs keep their jumps inside the program and use opcodes the
                // kernel knows, so the run-time semantics get exercised, not only the checker.
                let n = p.len();
                for (i, f) in p.iter_mut().enumerate() {
                    if asm::cbpf::lookup(f.code).map_or(true, |d| !d.kernel) {
                        f.code = 0x06;
                    }
                    if seccomp {
                        // Loads seccomp allows: aligned words of seccomp_data; no mod.
                        match f.code {
                            0x20 | 0x28 | 0x30 | 0x40 | 0x48 | 0x50 => {
                                f.code = 0x20;
                                f.k = (f.k % 16) * 4;
                            }
                            0xb1 => f.code = 0x01,
                            0x94 | 0x9c => f.code = 0x54,
                            _ => {}
                        }
                    }
                    let room = (n - i - 1) as u32;
                    if room > 0 {
                        f.jt = (f.jt as u32 % room.min(256)) as u8;
                        f.jf = (f.jf as u32 % room.min(256)) as u8;
                        if f.code == 0x05 {
                            f.k %= room;
                        }
                    }
                }
            }
            p
        })
}

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: 768,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

#[test]
fn socket_filters_match_the_kernel() {
    if kf::check(&[SockFilter::new(0x06, 0, 0, 0)]).is_err() {
        println!("skipped: AF_UNIX socket pair unavailable");
        return;
    }
    let (accepted, refused) = (AtomicUsize::new(0), AtomicUsize::new(0));
    let mut runner = TestRunner::new(config());
    let strategy = (
        prog_strategy(false),
        prop::collection::vec(any::<u8>(), 0..72),
    );
    runner
        .run(&strategy, |(prog, packet)| {
            let kernel = kf::run(&prog, &packet).unwrap();
            let ours = check(&prog, Mode::Socket);
            prop_assert_eq!(
                ours.is_ok(),
                kernel.is_ok(),
                "checker {:?} vs kernel {:?}",
                ours,
                kernel
            );
            if let Ok(delivery) = kernel {
                let o = run_socket(&prog, &packet, &SkbContext::unix()).unwrap();
                prop_assert_eq!(
                    kf::expected(o.ret, packet.len()),
                    delivery,
                    "return value {:#x}",
                    o.ret
                );
                accepted.fetch_add(1, Ordering::Relaxed);
            } else {
                refused.fetch_add(1, Ordering::Relaxed);
            }
            Ok(())
        })
        .unwrap();
    let (a, r) = (accepted.into_inner(), refused.into_inner());
    println!("socket filters: {a} accepted and run, {r} refused by both");
    assert!(a >= 100, "too few accepted programs ({a}) to mean anything");
}

#[test]
fn seccomp_filters_match_the_kernel() {
    if let Err(why) = ks::available() {
        println!("skipped: seccomp unusable: {why}");
        return;
    }
    let ip = ks::test_site_ip();
    let (accepted, refused) = (AtomicUsize::new(0), AtomicUsize::new(0));
    let mut runner = TestRunner::new(config());
    // seccomp(2) and exit_group(2) are the probe's own calls; uretprobe/uprobe bypass.
    let nr = prop_oneof![0u32..460, any::<u32>()]
        .prop_filter("probe's own calls", |n| !matches!(n, 231 | 317 | 335 | 336));
    let strategy = (prog_strategy(true), nr, any::<[u64; 6]>());
    runner
        .run(&strategy, |(prog, nr, args)| {
            let ours = check(&prog, Mode::Seccomp);
            let kernel = ks::check(&prog).unwrap();
            prop_assert_eq!(
                ours.is_ok(),
                kernel.is_ok(),
                "checker {:?} vs kernel {:?}",
                ours,
                kernel
            );
            if kernel.is_ok() {
                let data = SeccompData {
                    nr,
                    arch: 0xc000_003e,
                    instruction_pointer: ip,
                    args,
                };
                let o = run_seccomp(&prog, &data).unwrap();
                let got = ks::run(std::slice::from_ref(&prog), nr, args).unwrap();
                prop_assert_eq!(ks::expected(&[o.ret]), got, "return value {:#x}", o.ret);
                accepted.fetch_add(1, Ordering::Relaxed);
            } else {
                refused.fetch_add(1, Ordering::Relaxed);
            }
            Ok(())
        })
        .unwrap();
    let (a, r) = (accepted.into_inner(), refused.into_inner());
    println!("seccomp filters: {a} accepted and run, {r} refused by both");
    assert!(a >= 100, "too few accepted programs ({a}) to mean anything");
}

#[test]
fn random_stacks_combine_like_the_kernel() {
    if let Err(why) = ks::available() {
        println!("skipped: seccomp unusable: {why}");
        return;
    }
    // Each filter lets the probe's own seccomp(2) and exit_group(2) through (so the next can
    // be installed) and returns its value for everything else.
    let filter = |k: u32| {
        vec![
            SockFilter::new(0x20, 0, 0, 0),
            SockFilter::new(0x15, 2, 0, 317),
            SockFilter::new(0x15, 1, 0, 231),
            SockFilter::new(0x06, 0, 0, k),
            SockFilter::new(0x06, 0, 0, 0x7fff_0000),
        ]
    };
    let action = prop_oneof![
        Just(0x8000_0000u32),
        Just(0),
        (0u32..0x10000).prop_map(|d| 0x0003_0000 | d),
        (0u32..0x10000).prop_map(|d| 0x0005_0000 | d),
        Just(0x7fc0_0000),
        (0u32..0x10000).prop_map(|d| 0x7ff0_0000 | d),
        Just(0x7ffc_0000),
        Just(0x7fff_0000),
        any::<u32>(),
    ];
    let mut runner = TestRunner::new(ProptestConfig {
        cases: 200,
        failure_persistence: None,
        ..ProptestConfig::default()
    });
    runner
        .run(&prop::collection::vec(action, 1..4), |rets_oldest_first| {
            let filters: Vec<_> = rets_oldest_first.iter().map(|&k| filter(k)).collect();
            let data = SeccompData {
                nr: 39,
                arch: 0xc000_003e,
                ..Default::default()
            };
            let o = vm::classic::run_seccomp_stack(&filters, &data).unwrap();
            let newest_first: Vec<u32> = rets_oldest_first.iter().rev().copied().collect();
            // The emulator's winner is the kernel's.
            prop_assert_eq!(ks::expected(&newest_first), ks::expected(&[o.ret]));
            let got = ks::run(&filters, 39, [0; 6]).unwrap();
            prop_assert_eq!(
                ks::expected(&[o.ret]),
                got,
                "stack {:x?}",
                rets_oldest_first
            );
            Ok(())
        })
        .unwrap();
}
