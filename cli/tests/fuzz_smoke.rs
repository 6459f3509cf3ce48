//! The fuzz targets' bodies (`fuzz/src/targets.rs`) as a regular test: each runs over its
//! seeds from `testdata/` and a few thousand deterministic mutations of them (bit flips,
//! byte runs, truncation, duplication, splices), so the no-panic and bounded-output
//! properties are checked on every `cargo test`, nightly toolchain or not.
//! `BPFX_FUZZ_SMOKE=N` runs N mutations per target (default 2,000).

#[path = "../../fuzz/src/targets.rs"]
#[allow(dead_code)]
mod targets;

use std::path::{Path, PathBuf};

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

fn mutate(rng: &mut Rng, seeds: &[Vec<u8>], text: bool) -> Vec<u8> {
    let mut b = seeds[rng.below(seeds.len())].clone();
    for _ in 0..1 + rng.below(4) {
        let len = b.len();
        match rng.below(7) {
            0 if len > 0 => {
                let i = rng.below(len);
                b[i] ^= 1 << rng.below(8);
            }
            1 if len > 0 => {
                let i = rng.below(len);
                const ALPHA: &[u8] = b"()[]{}@#;:,.+-*/%<>=!&|^~ \n0123456789abcxyzr";
                b[i] = if text {
                    ALPHA[rng.below(ALPHA.len())]
                } else {
                    rng.next() as u8
                };
            }
            2 => b.truncate(rng.below(len + 1)),
            3 => {
                let c = if text { b'(' } else { rng.next() as u8 };
                let at = rng.below(len + 1);
                let n = 1 + rng.below(2000);
                b.splice(at..at, std::iter::repeat(c).take(n));
            }
            4 if len > 0 => {
                let (s, n) = (rng.below(len), rng.below(64));
                let chunk = b[s..(s + n).min(len)].to_vec();
                let at = rng.below(len + 1);
                b.splice(at..at, chunk);
            }
            5 => {
                let other = &seeds[rng.below(seeds.len())];
                let cut = rng.below(other.len() + 1);
                let at = rng.below(len + 1);
                b.truncate(at);
                b.extend_from_slice(&other[cut..]);
            }
            _ if len >= 8 => {
                // One whole 8-byte slot of random bytes (bytecode seeds).
                let at = rng.below(len / 8) * 8;
                let r = rng.next().to_le_bytes();
                b[at..at + 8].copy_from_slice(&r);
            }
            _ => {}
        }
    }
    b
}

fn testdata() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../testdata")
}

fn files(exts: &[&str]) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let mut stack = vec![
        testdata(),
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples"),
    ];
    while let Some(d) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&d) else {
            continue;
        };
        let mut entries: Vec<_> = rd.flatten().map(|e| e.path()).collect();
        entries.sort();
        for p in entries {
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|e| exts.iter().any(|x| e == *x)) {
                out.push(std::fs::read(&p).unwrap());
            }
        }
    }
    assert!(!out.is_empty(), "no seeds with extensions {exts:?}");
    out
}

fn runs() -> usize {
    std::env::var("BPFX_FUZZ_SMOKE")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2000)
}

fn smoke(name: &str, seed: u64, seeds: Vec<Vec<u8>>, text: bool, target: impl Fn(&[u8])) {
    for s in &seeds {
        target(s);
    }
    let mut rng = Rng(seed);
    for i in 0..runs() {
        let input = mutate(&mut rng, &seeds, text);
        let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| target(&input)));
        if r.is_err() {
            let path = std::env::temp_dir().join(format!("bpfx-fuzz-{name}-{i}"));
            std::fs::write(&path, &input).unwrap();
            panic!("{name}: input {i} failed; saved to {}", path.display());
        }
    }
}

fn bytecode_seeds() -> Vec<Vec<u8>> {
    let mut seeds = files(&["bin"]);
    // Programs assembled from the text seeds.
    for src in files(&["s"]) {
        if let Ok(a) = asm::text::assemble(&String::from_utf8_lossy(&src), asm::Dialect::Llvm) {
            seeds.push(asm::encode(&a.insns));
        }
    }
    seeds
}

#[test]
fn asm_llvm() {
    smoke("asm_llvm", 1, files(&["s"]), true, targets::asm_llvm);
}

#[test]
fn asm_ubpf() {
    smoke(
        "asm_ubpf",
        2,
        files(&["ubpf", "asm"]),
        true,
        targets::asm_ubpf,
    );
}

#[test]
fn asm_bpf_asm() {
    smoke(
        "asm_bpf_asm",
        3,
        files(&["txt", "bpf_asm"]),
        true,
        targets::asm_bpf_asm,
    );
}

#[test]
fn asm_seccomp() {
    smoke(
        "asm_seccomp",
        4,
        files(&["seccomp"]),
        true,
        targets::asm_seccomp,
    );
}

#[test]
fn decode() {
    smoke("decode", 5, bytecode_seeds(), false, targets::decode);
}

#[test]
fn cbpf_decode() {
    let mut seeds = Vec::new();
    for src in files(&["seccomp"]) {
        if let Ok(p) = asm::cbpf::seccomp::assemble(&String::from_utf8_lossy(&src)) {
            seeds.push(asm::cbpf::encode(&p));
        }
    }
    smoke("cbpf_decode", 6, seeds, false, targets::cbpf_decode);
}

#[test]
fn object() {
    smoke("object", 7, files(&["o"]), false, targets::object);
}

#[test]
fn btf() {
    let hello = std::fs::read(testdata().join("elf/hello.bpf.o")).unwrap();
    let mut seeds = Vec::new();
    for o in files(&["o"]) {
        if let Some(s) = targets::section(&o, ".BTF") {
            seeds.push(s.to_vec());
        }
    }
    smoke("btf", 8, seeds, false, |d| targets::btf(&hello, d));
}

#[test]
fn test_file() {
    smoke("test_file", 9, files(&["toml"]), true, targets::test_file);
}

#[test]
fn verify_then_run() {
    let seeds = bytecode_seeds()
        .into_iter()
        .map(|b| [&[0u8][..], &b].concat())
        .collect();
    smoke(
        "verify_then_run",
        10,
        seeds,
        false,
        targets::verify_then_run,
    );
}
