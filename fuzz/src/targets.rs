//! The bodies of the fuzz targets, one function per parser or loader. Each must not panic
//! and must keep its output bounded by its input. `fuzz/fuzz_targets/*.rs` call them under
//! libFuzzer (`cargo fuzz run NAME`, nightly); `cli/tests/fuzz_smoke.rs` includes this file
//! and runs each over a few thousand mutated seeds from `testdata/` in the normal test
//! suite, where no nightly toolchain is needed.

use asm::Diagnostic;

/// At most this many diagnostics per line of input (plus a few for the whole file).
const DIAGS_PER_LINE: usize = 4;

fn bounded_diags(name: &str, src: &str, diags: &[Diagnostic]) {
    let lines = src.lines().count() + 1;
    assert!(
        diags.len() <= DIAGS_PER_LINE * lines + 4,
        "{name}: {} diagnostics for {lines} lines",
        diags.len()
    );
    let bytes: usize = diags
        .iter()
        .map(|d| d.message.len() + d.expected.iter().map(String::len).sum::<usize>())
        .sum();
    assert!(
        bytes <= 4096 * (diags.len() + 1),
        "{name}: {bytes} bytes of diagnostics"
    );
    for d in diags {
        assert!(
            d.span.start <= d.span.end && d.span.start <= src.len() + 1,
            "{name}: span {:?} outside {} bytes",
            d.span,
            src.len()
        );
    }
}

fn text(data: &[u8]) -> Option<&str> {
    std::str::from_utf8(data).ok()
}

/// LLVM dialect (and verifier-log spellings).
pub fn asm_llvm(data: &[u8]) {
    if let Some(src) = text(data) {
        if let Err(d) = asm::text::assemble(src, asm::Dialect::Llvm) {
            bounded_diags("llvm", src, &d);
        }
    }
}

/// ubpf dialect.
pub fn asm_ubpf(data: &[u8]) {
    if let Some(src) = text(data) {
        if let Err(d) = asm::text::assemble(src, asm::Dialect::Ubpf) {
            bounded_diags("ubpf", src, &d);
        }
    }
}

/// Classic BPF, bpf_asm dialect.
pub fn asm_bpf_asm(data: &[u8]) {
    if let Some(src) = text(data) {
        if let Err(d) = asm::cbpf::bpf_asm::assemble(src) {
            bounded_diags("bpf_asm", src, &d);
        }
    }
}

/// Classic BPF, seccomp dialect.
pub fn asm_seccomp(data: &[u8]) {
    if let Some(src) = text(data) {
        if let Err(d) = asm::cbpf::seccomp::assemble(src) {
            bounded_diags("seccomp", src, &d);
        }
    }
}

/// eBPF decoding, strict (with every error) and as the kernel reads it; a valid program
/// prints and reassembles to the same bytes.
pub fn decode(data: &[u8]) {
    let (ok, errors) = asm::insn::decode_all(data);
    let slots = data.len() / 8;
    assert!(ok.len() + errors.len() <= slots + 1);
    if let Ok(items) = asm::insn::decode_lenient(data) {
        assert!(items.len() <= slots);
        assert!(items.len() >= ok.len());
    }
    if errors.is_empty() && !ok.is_empty() {
        let insns: Vec<asm::Insn> = ok.iter().map(|d| d.insn).collect();
        let text = asm::text::disassemble(&insns, asm::Dialect::Llvm);
        let again = asm::text::assemble(&text, asm::Dialect::Llvm)
            .unwrap_or_else(|e| panic!("disassembly does not reassemble: {e:?}\n{text}"));
        assert_eq!(asm::encode(&again.insns), data, "{text}");
    }
}

/// Classic BPF decoding and the kernel's load-time checks.
pub fn cbpf_decode(data: &[u8]) {
    if let Ok(prog) = asm::cbpf::decode(data) {
        assert_eq!(prog.len(), data.len() / 8);
        let _ = asm::cbpf::check::check(&prog, asm::cbpf::check::Mode::Socket);
        let _ = asm::cbpf::check::check(&prog, asm::cbpf::check::Mode::Seccomp);
    }
}

/// The ELF object loader (programs, maps, BTF, relocations).
pub fn object(data: &[u8]) {
    if let Ok(o) = obj::Object::parse(data) {
        let insns: usize = o.programs.iter().map(|p| p.insns.len()).sum();
        assert!(insns <= data.len() / 8 * (o.programs.len() + 1));
    }
}

/// BTF: `data` becomes the `.BTF` section of a real object (the first one given).
pub fn btf(seed_object: &[u8], data: &[u8]) {
    if let Some(elf) = with_section(seed_object, ".BTF", data) {
        let _ = obj::Object::parse(&elf);
    }
}

/// The test-file schema.
pub fn test_file(data: &[u8]) {
    if let Some(src) = text(data) {
        let _ = harness::TestFile::parse(src);
    }
}

/// The verifier, then the VM: every program the verifier accepts loads and runs without a
/// fault (the budget may stop it). First byte: the program type.
pub fn verify_then_run(data: &[u8]) {
    verify_then_run_with_budget(data, 100_000)
}

/// [`verify_then_run`] with an instruction budget.
pub fn verify_then_run_with_budget(data: &[u8], budget: u64) {
    use asm::types::ProgType;
    let Some((&sel, code)) = data.split_first() else {
        return;
    };
    let pt = match sel % 3 {
        0 => ProgType::SocketFilter,
        1 => ProgType::Xdp,
        _ => ProgType::SchedCls,
    };
    if verifier::verify_bytes(code, &verifier::Options::new(pt)).is_err() {
        return;
    }
    let mut v = vm::Vm::new();
    v.set_budget(budget);
    v.set_packet(vec![0x5a; 64]);
    let id = v
        .load(code, pt)
        .expect("the VM loads every program the verifier accepts");
    if let Err(e) = v.run(id) {
        assert!(
            matches!(e.kind, vm::ErrorKind::Budget { .. }),
            "accepted program faulted: {e}"
        );
    }
}

/// The section header offset and the contents' range of section `name` of a 64-bit
/// little-endian ELF file.
fn find_section(elf: &[u8], name: &str) -> Option<(usize, std::ops::Range<usize>)> {
    let u16_at = |o: usize| Some(u16::from_le_bytes(elf.get(o..o + 2)?.try_into().ok()?) as usize);
    let u32_at = |o: usize| Some(u32::from_le_bytes(elf.get(o..o + 4)?.try_into().ok()?) as usize);
    let u64_at = |o: usize| Some(u64::from_le_bytes(elf.get(o..o + 8)?.try_into().ok()?) as usize);
    let shoff = u64_at(0x28)?;
    let (entsize, shnum, strndx) = (u16_at(0x3a)?, u16_at(0x3c)?, u16_at(0x3e)?);
    let sh = |i: usize| shoff + i * entsize;
    let strtab = u64_at(sh(strndx) + 24)?;
    let want = [name.as_bytes(), &[0]].concat();
    let i = (1..shnum).find(|&i| {
        u32_at(sh(i)).and_then(|n| elf.get(strtab + n..strtab + n + want.len())) == Some(&want[..])
    })?;
    let (off, size) = (u64_at(sh(i) + 24)?, u64_at(sh(i) + 32)?);
    Some((sh(i), off..off.checked_add(size)?))
}

/// The contents of section `name` of a 64-bit little-endian ELF file.
pub fn section<'a>(elf: &'a [u8], name: &str) -> Option<&'a [u8]> {
    elf.get(find_section(elf, name)?.1)
}

/// `elf` with section `name`'s contents replaced by `data` (appended at the end of the
/// file, the section header pointed at it). `None` if `elf` has no such section.
pub fn with_section(elf: &[u8], name: &str, data: &[u8]) -> Option<Vec<u8>> {
    let (sh, _) = find_section(elf, name)?;
    let mut out = elf.to_vec();
    let at = out.len() as u64;
    out.extend_from_slice(data);
    out[sh + 24..sh + 32].copy_from_slice(&at.to_le_bytes());
    out[sh + 32..sh + 40].copy_from_slice(&(data.len() as u64).to_le_bytes());
    Some(out)
}
