//! The same invalid input gives the same exit status in every subcommand that reads a
//! program: 1 (input rejected), with the reason on stderr.

use std::process::Command;

fn status(args: &[&str], file: &std::path::Path) -> (Option<i32>, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_bpfx"))
        .args(args)
        .arg(file)
        .output()
        .unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn invalid_elf_and_empty_file_are_rejected_alike() {
    let dir = std::env::temp_dir().join(format!("bpfx-exit-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let bad_elf = dir.join("bad.o");
    std::fs::write(&bad_elf, b"\x7fELF this is not an object").unwrap();
    let empty = dir.join("empty.bin");
    std::fs::write(&empty, b"").unwrap();
    let subcommands: [&[&str]; 5] = [
        &["disasm"],
        &["run"],
        &["verify"],
        &["kernel", "run"],
        &["cross-check"],
    ];
    for (file, why) in [(&bad_elf, "not a valid ELF object"), (&empty, "is empty")] {
        for args in subcommands {
            let (code, err) = status(args, file);
            assert_eq!(
                code,
                Some(1),
                "bpfx {} {}: {err}",
                args.join(" "),
                file.display()
            );
            assert!(err.contains(why), "bpfx {}: {err}", args.join(" "));
        }
    }
    // A file that cannot be read is an I/O error everywhere.
    for args in subcommands {
        let (code, err) = status(args, &dir.join("missing.o"));
        assert_eq!(code, Some(2), "bpfx {}: {err}", args.join(" "));
    }
}

#[test]
fn assembly_errors_are_rejected_alike() {
    let dir = std::env::temp_dir().join(format!("bpfx-exit-asm-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let bad = dir.join("bad.s");
    std::fs::write(&bad, "r0 = 1\nbogus\nexit\n").unwrap();
    let subcommands: [&[&str]; 4] = [&["run"], &["verify"], &["kernel", "run"], &["cross-check"]];
    for args in subcommands {
        let (code, err) = status(args, &bad);
        assert_eq!(code, Some(1), "bpfx {}: {err}", args.join(" "));
        // Rendered once, with the source line.
        assert_eq!(
            err.matches("2 │ bogus").count(),
            1,
            "bpfx {}: {err}",
            args.join(" ")
        );
        assert!(err.ends_with("bad.s: 1 error found\n"), "{err}");
    }
}
