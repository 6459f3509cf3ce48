//! C source lines in `bpfx verify` and `bpfx run` errors for objects with line info:
//! `testdata/elf/lines/source_lines.bpf.c` is compiled with clang-19 (skipped, visibly,
//! without it) and its rejection and its VM fault must name line 11 and its text.

use std::path::PathBuf;
use std::process::{Command, Output};

/// Compiles the test source into a fresh directory; `None` (after printing the skip)
/// without clang-19.
fn object(test: &str) -> Option<PathBuf> {
    let src = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../testdata/elf/lines/source_lines.bpf.c"
    );
    let dir = std::env::temp_dir().join(format!("bpfx-lines-{test}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let out = dir.join("source_lines.bpf.o");
    match Command::new("clang-19")
        .args(["-O2", "-g", "-target", "bpf", "-mcpu=v3", "-c", src, "-o"])
        .arg(&out)
        .output()
    {
        Ok(o) if o.status.success() => Some(out),
        Ok(o) => panic!("clang-19 failed: {}", String::from_utf8_lossy(&o.stderr)),
        Err(e) => {
            println!("skipped: clang-19 is not available ({e}) [{test}]");
            None
        }
    }
}

fn bpfx(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_bpfx"))
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .expect("bpfx runs")
}

const LINE: &str = "source_lines.bpf.c:11:9: return data[64]; /* no bounds check */";

#[test]
fn verify_names_the_c_line_of_the_rejected_instruction() {
    let Some(o) = object("verify") else { return };
    let out = bpfx(&["verify", "--program", "read_past_end", o.to_str().unwrap()]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("instruction 1: (71) r0 = *(u8 *)(r1 +64)\n"),
        "{stderr}"
    );
    assert!(stderr.contains(&format!("  --> {LINE}\n")), "{stderr}");
    let out = bpfx(&[
        "verify",
        "--json",
        "--program",
        "read_past_end",
        o.to_str().unwrap(),
    ]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["source_line"], LINE);
}

#[test]
fn run_names_the_c_line_of_the_fault() {
    let Some(o) = object("run") else { return };
    let packet = o.with_file_name("packet.bin");
    std::fs::write(&packet, [0u8; 14]).unwrap();
    let out = bpfx(&[
        "run",
        "--no-verify",
        "--packet",
        packet.to_str().unwrap(),
        "--program",
        "read_past_end",
        o.to_str().unwrap(),
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("offset 64 is out of bounds of packet (14 bytes)"),
        "{stderr}"
    );
    assert!(stderr.contains(&format!("  --> {LINE}\n")), "{stderr}");
    // Verified first (the default), the rejection names it too.
    let out = bpfx(&[
        "run",
        "--packet",
        packet.to_str().unwrap(),
        "--program",
        "read_past_end",
        o.to_str().unwrap(),
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains(&format!("  --> {LINE}\n")), "{stderr}");
}
