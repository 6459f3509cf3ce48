//! CO-RE relocations in the CLI: the target BTF (`--btf FILE`, else the running
//! kernel's), applying them before an object's program runs or is verified (`run`,
//! `verify`, `kernel run`, `cross-check`), and the `disasm --relocs` table.

use crate::exit::Rejected;
use anyhow::Result;
use obj::core::{Btf, CoreRelocResult, Outcome};
use obj::Object;
use std::fmt::Write as _;
use std::path::Path;

/// The target BTF: a raw BTF file or an ELF object's `.BTF` given with `--btf`, else
/// `/sys/kernel/btf/vmlinux`.
pub fn target(btf: Option<&Path>) -> Result<Btf, String> {
    match btf {
        Some(p) => {
            let bytes = std::fs::read(p).map_err(|e| format!("--btf {}: {e}", p.display()))?;
            Btf::from_file_bytes(&bytes).map_err(|e| format!("--btf {}: {e}", p.display()))
        }
        None => obj::core::kernel_btf(),
    }
}

/// Applies the object's CO-RE relocations (nothing to do without any). No target BTF,
/// or a relocation libbpf would refuse, rejects the object, naming the relocation.
pub fn apply(obj: &mut Object, btf: Option<&Path>, name: &str) -> Result<()> {
    if !obj.has_core_relos() {
        return Ok(());
    }
    let target = match btf {
        Some(_) => {
            Some(target(btf).map_err(|e| Rejected(format!("{name}: {}", obj.no_target(e))))?)
        }
        None => None,
    };
    obj.relocate_core_for_load(target.as_ref())
        .map_err(|e| Rejected(format!("{name}: {e}")))?;
    Ok(())
}

/// One line of the table.
fn line(out: &mut String, obj: &Object, r: &CoreRelocResult) {
    let prog = &obj.programs[r.program].name;
    let field = if r.access_path.is_empty() {
        String::new()
    } else {
        format!("::{}", r.access_path)
    };
    let result = match &r.outcome {
        Outcome::Patched => format!(
            "{} -> {}",
            r.local_value,
            r.target_value.unwrap_or_default()
        ),
        Outcome::Poisoned(why) => format!("{} -> poisoned ({why})", r.local_value),
        Outcome::Failed(why) => format!("{} -> error: {why}", r.local_value),
    };
    let _ = writeln!(
        out,
        "{prog:<16} {:>5}  {:<15} {}{field} ({})  {result}",
        r.insn,
        r.kind.name(),
        r.local_type,
        r.access
    );
}

/// `bpfx disasm --relocs`: every CO-RE relocation with what it resolves to against the
/// target BTF (or, without one, the compiler's values and why there is no target).
pub fn listing(obj: &Object, btf: Option<&Path>) -> String {
    let mut out = String::new();
    if !obj.has_core_relos() {
        out.push_str("no CO-RE relocations\n");
        return out;
    }
    let target = target(btf);
    let _ = writeln!(
        out,
        "CO-RE relocations against {}:",
        match (&target, btf) {
            (Err(e), _) => format!("no target BTF ({e}); compile-time values"),
            (Ok(_), Some(p)) => p.display().to_string(),
            (Ok(_), None) => obj::core::VMLINUX_BTF.to_owned(),
        }
    );
    let _ = writeln!(
        out,
        "{:<16} {:>5}  {:<15} type::field (access)  local -> target",
        "program", "insn", "kind"
    );
    match target {
        Ok(t) => {
            let mut copy = obj.clone();
            for r in copy.relocate_core(&t) {
                line(&mut out, obj, &r);
            }
        }
        Err(_) => {
            for p in &obj.programs {
                let btf = p.ext.btf.as_deref();
                for r in &p.ext.core_relos {
                    let ty = btf
                        .map_or_else(|| format!("type {}", r.type_id), |b| b.describe(r.type_id));
                    let _ = writeln!(
                        out,
                        "{:<16} {:>5}  {:<15} {ty} ({})",
                        p.name,
                        r.insn,
                        r.kind.name(),
                        r.access
                    );
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    fn elf(name: &str) -> PathBuf {
        PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../testdata/elf")).join(name)
    }

    #[test]
    fn listing_against_a_btf_file() {
        let o = Object::parse(&std::fs::read(elf("core_read.bpf.o")).unwrap()).unwrap();
        let t = elf("core_target.bpf.o");
        let s = listing(&o, Some(&t));
        assert!(
            s.contains("read_all             1  byte_off        struct sample::y (0:1)  8 -> 36"),
            "{s}"
        );
        assert!(
            s.contains("struct sample::gone (0:7)  48 -> poisoned (no matching target)"),
            "{s}"
        );
        assert!(
            s.contains("enumval_value   enum color::BLUE (2)  2 -> 20"),
            "{s}"
        );
    }

    #[test]
    fn apply_rejects_a_missing_target_naming_the_relocation() {
        let mut o = Object::parse(&std::fs::read(elf("core_read.bpf.o")).unwrap()).unwrap();
        let e = apply(
            &mut o,
            Some(Path::new("/nonexistent.btf")),
            "core_read.bpf.o",
        )
        .unwrap_err();
        let e = e.to_string();
        assert!(e.contains("program `read_all` has a CO-RE relocation (byte_off of struct sample, access 0:1) at insn 1"), "{e}");
        assert!(e.contains("--btf /nonexistent.btf"), "{e}");
        let mut o = Object::parse(&std::fs::read(elf("core_read.bpf.o")).unwrap()).unwrap();
        apply(&mut o, Some(&elf("core_target.bpf.o")), "core_read.bpf.o").unwrap();
    }
}
