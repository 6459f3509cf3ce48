//! Hostile input to the binary: bounded diagnostics (at most 50 rendered, one per line, long
//! lines cut around the error), the 64 MiB input limit, and exit status 1 for corrupt ELF
//! objects in every subcommand that reads one.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn bpfx(args: &[&str], file: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_bpfx"))
        .args(["--color", "never"])
        .args(args)
        .arg(file)
        .output()
        .unwrap()
}

fn tmp(name: &str, bytes: &[u8]) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("bpfx-hostile-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join(name);
    std::fs::write(&p, bytes).unwrap();
    p
}

#[test]
fn a_megabyte_line_of_parens_gives_bounded_output_in_every_dialect() {
    let line = "(".repeat(1 << 20);
    let f = tmp("paren.s", line.as_bytes());
    for dialect in ["llvm", "ubpf", "bpf_asm", "seccomp"] {
        let out = bpfx(&["asm", "--dialect", dialect, "-o", "/dev/null"], &f);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{dialect}: {err}");
        assert!(
            err.len() < 4 << 10,
            "{dialect}: {} bytes of stderr",
            err.len()
        );
        // The echoed line is cut around the error.
        assert!(
            err.lines().all(|l| l.chars().count() < 400),
            "{dialect}: {err}"
        );
        assert!(err.contains("paren.s:1:"), "{dialect}: {err}");
    }
}

#[test]
fn many_bad_lines_stop_after_the_cap() {
    let text: String = (0..500)
        .map(|i| format!("{}\n", "@".repeat(1 + i % 300)))
        .collect();
    let f = tmp("many.s", text.as_bytes());
    for dialect in ["llvm", "ubpf"] {
        let out = bpfx(&["asm", "--dialect", dialect, "-o", "/dev/null"], &f);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1));
        assert!(
            err.contains("error: too many errors (50 shown, 450 more)"),
            "{dialect}: {err}"
        );
        assert!(err.len() < 64 << 10, "{dialect}: {} bytes", err.len());
    }
}

#[test]
fn long_lines_are_cut_around_the_error_column() {
    let mut line = "r0 = 1; ".repeat(200);
    line.push_str("@@@");
    line.push_str(&"; r0 = 1".repeat(200));
    let f = tmp("long.s", format!("exit\n{line}\n").as_bytes());
    let out = bpfx(&["asm", "-o", "/dev/null"], &f);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains(&format!("long.s:2:{}", 8 * 200 + 1)), "{err}");
    assert!(err.contains('…') && err.contains("@@@"), "{err}");
    assert!(err.lines().all(|l| l.chars().count() < 200), "{err}");
}

#[test]
fn disasm_of_random_bytes_reports_a_bounded_number_of_errors() {
    // xorshift: reproducible garbage.
    let mut x = 0x2545_f491_4f6c_dd1du64;
    let bytes: Vec<u8> = (0..1 << 20)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect();
    let f = tmp("random.bin", &bytes);
    let out = bpfx(&["disasm", "--input", "raw"], &f);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1));
    assert!(err.contains("error: too many errors (50 shown,"), "{err}");
    assert!(err.len() < 64 << 10, "{} bytes", err.len());
}

#[test]
fn inputs_over_64_mib_are_rejected() {
    let dir = std::env::temp_dir().join(format!("bpfx-hostile-big-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let big = dir.join("big.bin");
    // Sparse: no disk used.
    std::fs::File::create(&big)
        .unwrap()
        .set_len((64 << 20) + 1)
        .unwrap();
    let subcommands: [&[&str]; 8] = [
        &["asm"],
        &["disasm"],
        &["run"],
        &["verify"],
        &["kernel", "run"],
        &["cross-check"],
        &["cbpf", "disasm"],
        &["seccomp", "check"],
    ];
    for sub in subcommands {
        let out = bpfx(sub, &big);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{sub:?}: {err}");
        assert!(err.contains("input larger than 64 MiB"), "{sub:?}: {err}");
    }
    // `/dev/zero` stops at the limit instead of filling memory.
    let out = bpfx(&["disasm"], Path::new("/dev/zero"));
    assert_eq!(out.status.code(), Some(1));
    std::fs::remove_file(&big).unwrap();
}

/// An ELF object with one section header pointing past the end of the file, one with a BTF
/// type of unknown kind, one with no program section.
fn corrupt_objects() -> Vec<(&'static str, PathBuf)> {
    let src =
        std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("../testdata/elf/hello.bpf.o"))
            .unwrap();
    let u16_at = |b: &[u8], o: usize| u16::from_le_bytes([b[o], b[o + 1]]) as usize;
    let u32_at = |b: &[u8], o: usize| u32::from_le_bytes(b[o..o + 4].try_into().unwrap()) as usize;
    let u64_at = |b: &[u8], o: usize| u64::from_le_bytes(b[o..o + 8].try_into().unwrap()) as usize;
    let shoff = u64_at(&src, 0x28);
    let (shentsize, shnum, shstrndx) = (u16_at(&src, 0x3a), u16_at(&src, 0x3c), u16_at(&src, 0x3e));
    let sh = |i: usize| shoff + i * shentsize;
    let strtab = u64_at(&src, sh(shstrndx) + 24);
    let name = |i: usize| {
        let at = strtab + u32_at(&src, sh(i));
        let end = at + src[at..].iter().position(|&c| c == 0).unwrap();
        String::from_utf8_lossy(&src[at..end]).into_owned()
    };
    let mut out = Vec::new();
    // A PROGBITS section's offset past the end.
    let mut b = src.clone();
    let i = (1..shnum).find(|&i| u32_at(&src, sh(i) + 4) == 1).unwrap();
    b[sh(i) + 24..sh(i) + 32].copy_from_slice(&(src.len() as u64 + 4096).to_le_bytes());
    out.push(("bad section header", tmp("bad_sh.o", &b)));
    // BTF type 1 of kind 31.
    let mut b = src.clone();
    let i = (1..shnum).find(|&i| name(i) == ".BTF").unwrap();
    let off = u64_at(&src, sh(i) + 24);
    let t = off + u32_at(&src, off + 4) + u32_at(&src, off + 8);
    let info = u32_at(&src, t + 4) as u32 & !(0x1f << 24) | 31 << 24;
    b[t + 4..t + 8].copy_from_slice(&info.to_le_bytes());
    out.push(("unknown BTF kind", tmp("bad_btf.o", &b)));
    // No executable section at all (SHF_EXECINSTR cleared everywhere): no programs, for
    // libbpf as for bpfx.
    let mut b = src.clone();
    for i in 1..shnum {
        let flags = u64_at(&src, sh(i) + 8) as u64;
        b[sh(i) + 8..sh(i) + 16].copy_from_slice(&(flags & !0x4).to_le_bytes());
    }
    out.push(("no program section", tmp("no_prog.o", &b)));
    out
}

#[test]
fn corrupt_objects_exit_1_in_every_subcommand() {
    for (what, file) in corrupt_objects() {
        let subcommands: [&[&str]; 4] =
            [&["run"], &["verify"], &["kernel", "run"], &["cross-check"]];
        for sub in subcommands {
            let out = bpfx(sub, &file);
            let err = String::from_utf8_lossy(&out.stderr);
            assert_eq!(out.status.code(), Some(1), "{what}: {sub:?}: {err}");
            assert!(err.starts_with("error: "), "{what}: {sub:?}: {err}");
        }
        if what != "no program section" {
            let out = bpfx(&["disasm"], &file);
            assert_eq!(out.status.code(), Some(1), "{what}: disasm");
        }
        // A test file naming the object.
        let toml = file.with_extension("toml");
        std::fs::write(
            &toml,
            format!(
                "object = \"{}\"\n[[case]]\nname = \"c\"\nprogram = \"p\"\n",
                file.file_name().unwrap().to_string_lossy()
            ),
        )
        .unwrap();
        let out = bpfx(&["test"], &toml);
        assert_eq!(out.status.code(), Some(1), "{what}: test");
    }
}
