//! What a new user meets first (issue 10, part 8): `--repeat` counts, readable classic BPF
//! results, no raw bytes on a terminal, `--help` everywhere.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn bpfx(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_bpfx"))
        .args(args)
        .output()
        .expect("bpfx runs")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn tmp(name: &str, content: &[u8]) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("bpfx-first-use-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join(name);
    std::fs::write(&p, content).unwrap();
    p
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn repeat_runs_the_program_exactly_n_times() {
    // Adds 1 to the u64 at index 0 of an array map on every run.
    let src = "stw [%r10-4], 0\nlddw map_fd %r1, 0\nmov %r2, %r10\nadd %r2, -4\ncall 1\n\
               jeq %r0, 0, out\nldxdw %r1, [%r0]\nadd %r1, 1\nstxdw [%r0], %r1\nout:\nmov %r0, 0\nexit\n";
    let p = tmp("count.asm", src.as_bytes());
    for (n, value) in [("1", "0100000000000000"), ("5", "0500000000000000")] {
        let out = bpfx(&["run", "--map", "array:4:8:1", "--repeat", n, s(&p)]);
        assert!(out.status.success(), "{}{}", stdout(&out), stderr(&out));
        let want = format!("map 0 (array): 1 entries\n  00000000 => {value}\n");
        assert!(
            stdout(&out).contains(&want),
            "--repeat {n}:\n{}",
            stdout(&out)
        );
    }
}
