//! Every filter of ../shared/seccomp: decodes, disassembles in both dialects, reassembles to
//! identical bytes, and its `.bpfasm.txt` twin parses to the same program.

use asm::cbpf::{self, bpf_asm, formats, seccomp};
use std::path::PathBuf;

fn corpus() -> Option<Vec<PathBuf>> {
    let dir = test_support::corpus_dir("BPFX_SECCOMP_CORPUS", "seccomp")?;
    Some(test_support::files_with_ext(&dir, "bpf"))
}

#[test]
fn bpf_asm_round_trip() {
    let Some(files) = corpus() else { return };
    assert!(files.len() >= 20, "corpus has {} filters", files.len());
    for p in &files {
        let bytes = std::fs::read(p).unwrap();
        let prog = cbpf::decode_lenient(&bytes).unwrap();
        let text = bpf_asm::disassemble(&prog);
        let back =
            bpf_asm::assemble(&text).unwrap_or_else(|e| panic!("{}: {e:?}\n{text}", p.display()));
        assert_eq!(cbpf::encode(&back), bytes, "{}", p.display());
    }
}

#[test]
fn seccomp_round_trip() {
    let Some(files) = corpus() else { return };
    for p in &files {
        let bytes = std::fs::read(p).unwrap();
        let prog = cbpf::decode_lenient(&bytes).unwrap();
        let text = seccomp::disassemble(&prog, seccomp::Arch::X86_64);
        let back =
            seccomp::assemble(&text).unwrap_or_else(|e| panic!("{}: {e:?}\n{text}", p.display()));
        assert_eq!(cbpf::encode(&back), bytes, "{}\n{text}", p.display());
    }
}

#[test]
fn bpfasm_text_twins() {
    let Some(files) = corpus() else { return };
    let mut n = 0;
    for p in &files {
        let twin = p.with_extension("bpfasm.txt");
        if !twin.exists() {
            continue;
        }
        let text = std::fs::read_to_string(&twin).unwrap();
        assert_eq!(formats::detect(&text), formats::TextKind::Bpfasm);
        let prog = formats::parse_bpfasm(&text).unwrap();
        assert_eq!(
            cbpf::encode(&prog),
            std::fs::read(p).unwrap(),
            "{}",
            twin.display()
        );
        assert_eq!(
            formats::write(&prog, formats::Format::Bpfasm).trim_end(),
            text.trim_end()
        );
        let c = formats::write(&prog, formats::Format::C);
        assert_eq!(formats::parse_c(&c).unwrap(), prog);
        n += 1;
    }
    assert!(n >= 7, "only {n} .bpfasm.txt twins");
}

#[test]
fn seccomp_tools_sources_assemble_to_their_binaries() {
    let Some(files) = corpus() else { return };
    let dir = files[0].parent().unwrap().to_path_buf();
    let st = dir.join("thirdparty/seccomp-tools");
    let mut n = 0;
    for name in ["libseccomp", "mixed_arch"] {
        let src = std::fs::read_to_string(st.join(format!("{name}.asm"))).unwrap();
        let prog = seccomp::assemble(&format!(".arch x86_64\n{src}"))
            .unwrap_or_else(|e| panic!("{name}: {e:?}"));
        assert_eq!(
            cbpf::encode(&prog),
            std::fs::read(st.join(format!("{name}.bpf"))).unwrap(),
            "{name}"
        );
        n += 1;
    }
    // The others have no binary twin; they must at least assemble.
    for name in ["complex", "operator_precedence"] {
        let src = std::fs::read_to_string(st.join(format!("{name}.asm"))).unwrap();
        seccomp::assemble(&format!(".arch x86_64\n{src}"))
            .unwrap_or_else(|e| panic!("{name}: {e:?}"));
        n += 1;
    }
    assert_eq!(n, 4);
}

#[test]
fn big_endian_filters_decode_with_their_byte_order() {
    let Some(files) = corpus() else { return };
    let dir = files[0].parent().unwrap().to_path_buf();
    let bytes = std::fs::read(dir.join("thirdparty/ceccomp/big_endian_cases/s390x.bpf")).unwrap();
    // Read in this (little-endian) host's order the opcodes are nonsense...
    assert!(cbpf::decode(&bytes).is_err());
    // ...in big-endian order it is ceccomp's s390x example: arch check, mlock -> KILL.
    let prog = cbpf::decode_endian(&bytes, cbpf::Endian::Big).unwrap();
    assert_eq!(prog[0], cbpf::SockFilter::new(0x20, 0, 0, 4));
    assert_eq!(prog[1].k, 0x8000_0016); // AUDIT_ARCH_S390X
    assert!(cbpf::check::check(&prog, cbpf::check::Mode::Seccomp).is_ok());
    let text = seccomp::disassemble(&prog, seccomp::Arch::X86_64);
    assert!(text.contains("ARCH_S390X"), "{text}");
    // No s390x table: its syscall numbers stay numbers (150 is mlock there, munlock on x86_64).
    assert!(text.contains("if (A == 0x96)"), "{text}");
    assert_eq!(cbpf::encode_endian(&prog, cbpf::Endian::Big), bytes);
}
