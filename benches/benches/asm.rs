//! Assembler and disassembler throughput on a generated 1,000,000-instruction file, side by
//! side with llvm-mc and llvm-objdump when they are installed.
//!
//! `cargo bench -p bpfx-benches --bench asm` (BPFX_BENCH_LINES overrides the size).

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

fn lines() -> usize {
    std::env::var("BPFX_BENCH_LINES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000)
}

fn find_tool(names: &[&str]) -> Option<String> {
    names
        .iter()
        .find(|n| {
            Command::new(n)
                .arg("--version")
                .output()
                .is_ok_and(|o| o.status.success())
        })
        .map(|s| s.to_string())
}

fn work_dir() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("bpfx-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

fn run_tool(cmd: &mut Command) -> Duration {
    let start = Instant::now();
    let out = cmd.output().expect("tool runs");
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    start.elapsed()
}

fn bench(c: &mut Criterion) {
    let n = lines();
    let text = bpfx_benches::llvm_program(n, 0x5eed);
    let dir = work_dir();
    let src = dir.join("gen.s");
    std::fs::write(&src, &text).expect("write source");
    let assembled =
        asm::text::assemble(&text, asm::Dialect::Llvm).expect("generated program assembles");
    let insns = assembled.insns.clone();
    let bytes = assembled.bytes();

    let mut g = c.benchmark_group("assemble");
    g.sample_size(10)
        .measurement_time(Duration::from_secs(20))
        .throughput(Throughput::Elements(n as u64));
    g.bench_function("bpfx", |b| {
        b.iter(|| asm::text::assemble(&text, asm::Dialect::Llvm).map(|a| a.insns.len()))
    });
    let llvm_mc = find_tool(&["llvm-mc-19", "llvm-mc"]);
    if let Some(mc) = &llvm_mc {
        let obj = dir.join("gen.o");
        g.bench_function(mc.as_str(), |b| {
            b.iter_custom(|iters| {
                (0..iters)
                    .map(|_| {
                        run_tool(
                            Command::new(mc)
                                .args(["-triple", "bpfel", "-mcpu=v4", "-filetype=obj", "-o"])
                                .arg(&obj)
                                .arg(&src),
                        )
                    })
                    .sum()
            })
        });
    } else {
        eprintln!("skipped: llvm-mc not found, no assembler peer");
    }
    g.finish();

    let mut g = c.benchmark_group("disassemble");
    g.sample_size(10)
        .measurement_time(Duration::from_secs(20))
        .throughput(Throughput::Elements(insns.len() as u64));
    g.bench_function("bpfx/decode+print", |b| {
        b.iter(|| {
            let decoded = asm::insn::decode(&bytes).expect("decodes");
            let v: Vec<_> = decoded.iter().map(|d| d.insn).collect();
            asm::text::disassemble(&v, asm::Dialect::Llvm).len()
        })
    });
    let objdump = find_tool(&["llvm-objdump-19", "llvm-objdump"]);
    match (&llvm_mc, &objdump) {
        (Some(mc), Some(od)) => {
            let obj = dir.join("gen-dis.o");
            run_tool(
                Command::new(mc)
                    .args(["-triple", "bpfel", "-mcpu=v4", "-filetype=obj", "-o"])
                    .arg(&obj)
                    .arg(&src),
            );
            g.bench_function(od.as_str(), |b| {
                b.iter_custom(|iters| {
                    (0..iters)
                        .map(|_| {
                            run_tool(
                                Command::new(od)
                                    .args(["-d", "--mcpu=v4"])
                                    .arg(&obj)
                                    .stdout(std::process::Stdio::null()),
                            )
                        })
                        .sum()
                })
            });
        }
        _ => eprintln!("skipped: llvm-objdump not found, no disassembler peer"),
    }
    g.finish();
    let _ = std::fs::remove_dir_all(Path::new(&dir));
}

criterion_group!(benches, bench);
criterion_main!(benches);
