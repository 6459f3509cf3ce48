//! Dev-only helpers shared by the tests and benches of every bpfx crate (never a dependency of
//! a library): where the shared corpora live, the visible skip when the kernel or a corpus is
//! missing, and the bless switch for expectation files.
//!
//! A test that cannot run prints one `skipped: <reason>` line and returns; it never passes
//! silently. `cargo test -- --nocapture 2>&1 | grep skipped:` lists every skip of a run.
//!
//! Instruction builders live in `asm` (`asm::Insn::mov64_imm`, ...); tests use those rather
//! than a local byte helper.
#![deny(missing_docs)]

use std::path::{Path, PathBuf};

/// The workspace root (the folder holding `Cargo.toml` with `[workspace]`).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("test-support sits one folder below the workspace root")
        .to_path_buf()
}

/// The shared corpora: `$BPFX_SHARED`, or `../shared` beside the checkout.
pub fn shared_dir() -> PathBuf {
    std::env::var_os("BPFX_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join("../shared"))
}

/// A corpus folder: `$env_var` when set, otherwise `rel` inside [`shared_dir`]. `None` (after
/// printing `skipped: ...` naming the path and the variable) when it is not a folder.
pub fn corpus_dir(env_var: &str, rel: &str) -> Option<PathBuf> {
    let dir = std::env::var_os(env_var)
        .map(PathBuf::from)
        .unwrap_or_else(|| shared_dir().join(rel));
    if dir.is_dir() {
        Some(dir)
    } else {
        println!(
            "skipped: corpus {} not found (set ${env_var} or $BPFX_SHARED)",
            dir.display()
        );
        None
    }
}

/// A corpus file: `$env_var` when set, otherwise `rel` inside [`shared_dir`]; `None` with a
/// printed skip when it does not exist.
pub fn corpus_file(env_var: &str, rel: &str) -> Option<PathBuf> {
    let file = std::env::var_os(env_var)
        .map(PathBuf::from)
        .unwrap_or_else(|| shared_dir().join(rel));
    if file.is_file() {
        Some(file)
    } else {
        println!(
            "skipped: corpus file {} not found (set ${env_var} or $BPFX_SHARED)",
            file.display()
        );
        None
    }
}

/// Every file below `dir` (recursively) whose name ends in `.{ext}`, sorted by path.
///
/// # Panics
/// When a folder cannot be read: a corpus that exists but cannot be listed is a broken test
/// setup, not a skip.
pub fn files_with_ext(dir: &Path, ext: &str) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let entries =
            std::fs::read_dir(&d).unwrap_or_else(|e| panic!("cannot list {}: {e}", d.display()));
        for entry in entries {
            let path = entry
                .unwrap_or_else(|e| panic!("cannot list {}: {e}", d.display()))
                .path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|x| x == ext) {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

/// The files directly in `dir` (not below it) whose name ends in `.{ext}`, sorted.
///
/// # Panics
/// When `dir` cannot be listed.
pub fn files_in_dir(dir: &Path, ext: &str) -> Vec<PathBuf> {
    let entries =
        std::fs::read_dir(dir).unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()));
    let mut out: Vec<PathBuf> = entries
        .map(|e| {
            e.unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()))
                .path()
        })
        .filter(|p| p.is_file() && p.extension().is_some_and(|x| x == ext))
        .collect();
    out.sort();
    out
}

/// Bytes from hex text (`"b7 00 00 00 2a 00 00 00"`, white space ignored).
///
/// # Panics
/// On an odd number of digits or a non-hex character: test data is written by hand.
pub fn hex(text: &str) -> Vec<u8> {
    let digits: Vec<u8> = text.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
    assert!(
        digits.len() % 2 == 0,
        "odd number of hex digits in {text:?}"
    );
    digits
        .chunks(2)
        .map(|pair| {
            let pair = std::str::from_utf8(pair).expect("hex digits are ASCII");
            u8::from_str_radix(pair, 16).unwrap_or_else(|_| panic!("`{pair}` is not hex"))
        })
        .collect()
}

/// A small deterministic generator (xorshift64*), for tests and benches whose inputs must
/// be the same on every run so a failure reproduces.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator from a seed (0, which xorshift would never leave, is taken as 1).
    pub fn new(seed: u64) -> Rng {
        Rng(if seed == 0 { 1 } else { seed })
    }

    /// The next value.
    #[allow(clippy::should_implement_trait)]
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// A value below `n` (`n` > 0).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// True when bpf(2) can be used here; otherwise prints `skipped: kernel unavailable (...)
/// [test]` and returns false.
pub fn kernel_available(test: &str) -> bool {
    match kernel::probe::availability() {
        Ok(()) => true,
        Err(reason) => {
            println!("skipped: kernel unavailable ({reason}) [{test}]");
            false
        }
    }
}

/// `message` with each run of digits replaced by `N`, so that the same cause in different
/// programs (offsets, instruction indexes, sizes) reads the same in corpus reports.
pub fn blank_numbers(message: &str) -> String {
    let mut out = String::with_capacity(message.len());
    let mut prev_digit = false;
    for c in message.chars() {
        if c.is_ascii_digit() {
            if !prev_digit {
                out.push('N');
            }
            prev_digit = true;
        } else {
            out.push(c);
            prev_digit = false;
        }
    }
    out
}

/// Whether expectation files should be rewritten from the actual results (`BPFX_BLESS=1`).
pub fn bless() -> bool {
    std::env::var_os("BPFX_BLESS").is_some_and(|v| v == "1")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blank_numbers_folds_each_run_of_digits() {
        assert_eq!(
            blank_numbers("R3 off=-12 size=8 at 1024"),
            "RN off=-N size=N at N"
        );
    }

    #[test]
    fn finds_files_by_extension_sorted() {
        let dir = std::env::temp_dir().join(format!("bpfx-ts-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("sub")).unwrap();
        for f in ["b.bpf", "a.bpf", "sub/c.bpf", "x.txt"] {
            std::fs::write(dir.join(f), b"").unwrap();
        }
        let found = files_with_ext(&dir, "bpf");
        let names: Vec<_> = found
            .iter()
            .map(|p| p.strip_prefix(&dir).unwrap().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names, ["a.bpf", "b.bpf", "sub/c.bpf"]);
        assert_eq!(
            files_in_dir(&dir, "bpf"),
            [dir.join("a.bpf"), dir.join("b.bpf")]
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn rng_is_deterministic_and_never_stuck() {
        let (mut a, mut b) = (Rng::new(7), Rng::new(7));
        let xs: Vec<u64> = (0..4).map(|_| a.next()).collect();
        assert_eq!(xs, (0..4).map(|_| b.next()).collect::<Vec<_>>());
        assert_ne!(xs[0], xs[1]);
        assert_ne!(Rng::new(0).next(), 0);
        assert!(Rng::new(3).below(10) < 10);
    }

    #[test]
    fn hex_ignores_white_space() {
        assert_eq!(hex("c3 00\n0a"), [0xc3, 0, 0x0a]);
    }

    #[test]
    fn a_missing_corpus_is_none() {
        assert_eq!(
            corpus_dir("BPFX_TEST_SUPPORT_UNSET_VAR", "no/such/corpus"),
            None
        );
        assert!(workspace_root().join("Cargo.toml").is_file());
    }
}
