//! Verifier speed: the kernel selftest corpus (`../shared/verifier/cases*.jsonl`, or
//! `BPFX_VERIFIER_CASES`) and a generated 100,000-instruction program.
//!
//! `cargo bench -p bpfx-benches --bench verifier`. The kernel's own verification time for
//! the same programs comes from the kernel backend (BPF_PROG_LOAD with log level 4 reports
//! "verification time"); it is not measured here.

use asm::types::ProgType;
use asm::Insn;
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use serde_json::Value;
use std::path::PathBuf;
use std::time::Duration;

#[path = "../../verifier/tests/common/cases.rs"]
mod cases;

fn corpus() -> Option<Vec<(Vec<u8>, verifier::Options)>> {
    let dir = std::env::var("BPFX_VERIFIER_CASES")
        .map(PathBuf::from)
        .unwrap_or_else(|_| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/verifier")
        });
    let mut out = Vec::new();
    for e in std::fs::read_dir(&dir).ok()? {
        let p = e.ok()?.path();
        let name = p.file_name()?.to_str()?.to_string();
        if !(name.starts_with("cases") && name.ends_with(".jsonl")) {
            continue;
        }
        for line in std::fs::read_to_string(&p).ok()?.lines() {
            let Ok(c) = serde_json::from_str::<Value>(line) else {
                continue;
            };
            if c["kernel_6_18"]["verdict"].is_null() {
                continue;
            }
            if let Ok(x) = cases::prepare(&c) {
                out.push(x);
            }
        }
    }
    Some(out)
}

fn i(code: u8, dst: u8, src: u8, off: i16, imm: i64) -> Insn {
    Insn {
        code,
        dst,
        src,
        off,
        imm,
    }
}

/// About `n` instructions of blocks that each write a variable stack offset and branch;
/// the fallthrough arm exits at once, so pending branches never pile up (the kernel allows
/// 8192) and exploration stays linear.
fn generated(n: usize) -> Vec<Insn> {
    let mut p = vec![
        i(0x85, 0, 0, 0, 7),   // call bpf_get_prandom_u32
        i(0xbf, 6, 0, 0, 0),   // r6 = r0
        i(0x7b, 10, 6, -8, 0), // *(u64 *)(r10 - 8) = r6
    ];
    while p.len() + 12 < n {
        p.extend([
            i(0x79, 1, 10, -8, 0),  // r1 = *(u64 *)(r10 - 8)
            i(0x57, 1, 0, 0, 0xff), // r1 &= 0xff
            i(0xbf, 2, 10, 0, 0),   // r2 = r10
            i(0x07, 2, 0, 0, -264), // r2 += -264
            i(0x0f, 2, 1, 0, 0),    // r2 += r1
            i(0x73, 2, 1, 0, 0),    // *(u8 *)(r2 + 0) = r1
            i(0xb5, 1, 0, 2, 100),  // if r1 <= 100 goto +2
            i(0xb7, 0, 0, 0, 0),    // r0 = 0
            i(0x95, 0, 0, 0, 0),    // exit
            i(0xb7, 1, 0, 0, 0),    // r1 = 0
        ]);
    }
    p.push(i(0xb7, 0, 0, 0, 0));
    p.push(i(0x95, 0, 0, 0, 0));
    p
}

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("verifier");
    g.measurement_time(Duration::from_secs(10));
    g.sample_size(10);
    match corpus() {
        Some(cs) if !cs.is_empty() => {
            let insns: usize = cs.iter().map(|(b, _)| b.len() / 8).sum();
            g.throughput(Throughput::Elements(cs.len() as u64));
            println!(
                "selftest corpus: {} programs, {insns} instructions",
                cs.len()
            );
            g.bench_function("selftest_corpus", |b| {
                b.iter(|| {
                    let mut accepted = 0;
                    for (bytes, opts) in &cs {
                        accepted += verifier::verify_bytes(bytes, opts).is_ok() as usize;
                    }
                    accepted
                })
            });
        }
        _ => println!("skipped: selftest corpus (no ../shared/verifier/cases*.jsonl)"),
    }
    let prog = generated(100_000);
    let opts = verifier::Options::new(ProgType::SocketFilter);
    let stats = match verifier::verify(&prog, &opts) {
        Ok(s) => s,
        Err(e) => panic!(
            "the generated program must verify: {} at {}",
            e.message, e.insn
        ),
    };
    println!(
        "generated program: {} instructions, {} processed, {} states",
        prog.len(),
        stats.processed,
        stats.total_states
    );
    g.throughput(Throughput::Elements(prog.len() as u64));
    g.bench_function("generated_100k", |b| {
        b.iter(|| verifier::verify(&prog, &opts).map(|a| a.processed))
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
