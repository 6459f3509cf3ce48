//! CO-RE (compile once, run everywhere) relocations, applied as libbpf's `relo_core.c`
//! applies them: each `.BTF.ext` record names an instruction, a local type and an
//! access string; the matching target type is found by essential name
//! ([`spec`]: `bpf_core_parse_spec`, `bpf_core_find_cands`, `bpf_core_spec_match`), the
//! value is computed for the local and the target side ([`relo`]:
//! `bpf_core_calc_relo_insn`, `bpf_core_calc_field_relo`), and the instruction is
//! patched or poisoned (`bpf_core_patch_insn`, `bpf_core_poison_insn`).
//!
//! ```
//! let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../testdata/elf/");
//! let mut o = obj::Object::parse(&std::fs::read(format!("{dir}core_read.bpf.o")).unwrap()).unwrap();
//! let target = obj::core::Btf::from_file_bytes(&std::fs::read(format!("{dir}core_target.bpf.o")).unwrap()).unwrap();
//! let results = o.relocate_core(&target);
//! assert!(results.iter().all(|r| !r.outcome.is_failed()));
//! ```

pub(crate) mod btf;
pub mod relo;
pub mod spec;

pub use btf::{kind, Btf, BtfParseError, Detail, Enumerator, Member, Type, INT_SIGNED};

use crate::Object;
use std::fmt;

/// Where the running kernel publishes its BTF.
pub const VMLINUX_BTF: &str = "/sys/kernel/btf/vmlinux";

/// `enum bpf_core_relo_kind`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CoreKind {
    /// `BPF_CORE_FIELD_BYTE_OFFSET` (0).
    FieldByteOffset,
    /// `BPF_CORE_FIELD_BYTE_SIZE` (1).
    FieldByteSize,
    /// `BPF_CORE_FIELD_EXISTS` (2).
    FieldExists,
    /// `BPF_CORE_FIELD_SIGNED` (3).
    FieldSigned,
    /// `BPF_CORE_FIELD_LSHIFT_U64` (4).
    FieldLshiftU64,
    /// `BPF_CORE_FIELD_RSHIFT_U64` (5).
    FieldRshiftU64,
    /// `BPF_CORE_TYPE_ID_LOCAL` (6).
    TypeIdLocal,
    /// `BPF_CORE_TYPE_ID_TARGET` (7).
    TypeIdTarget,
    /// `BPF_CORE_TYPE_EXISTS` (8).
    TypeExists,
    /// `BPF_CORE_TYPE_SIZE` (9).
    TypeSize,
    /// `BPF_CORE_ENUMVAL_EXISTS` (10).
    EnumvalExists,
    /// `BPF_CORE_ENUMVAL_VALUE` (11).
    EnumvalValue,
    /// `BPF_CORE_TYPE_MATCHES` (12).
    TypeMatches,
}

impl CoreKind {
    const ALL: [CoreKind; 13] = [
        CoreKind::FieldByteOffset,
        CoreKind::FieldByteSize,
        CoreKind::FieldExists,
        CoreKind::FieldSigned,
        CoreKind::FieldLshiftU64,
        CoreKind::FieldRshiftU64,
        CoreKind::TypeIdLocal,
        CoreKind::TypeIdTarget,
        CoreKind::TypeExists,
        CoreKind::TypeSize,
        CoreKind::EnumvalExists,
        CoreKind::EnumvalValue,
        CoreKind::TypeMatches,
    ];

    /// From the record's `kind` field.
    pub fn from_u32(v: u32) -> Option<CoreKind> {
        CoreKind::ALL.get(v as usize).copied()
    }

    /// `core_relo_kind_str`: libbpf's name (`byte_off`, `field_exists` ...).
    pub fn name(self) -> &'static str {
        match self {
            CoreKind::FieldByteOffset => "byte_off",
            CoreKind::FieldByteSize => "byte_sz",
            CoreKind::FieldExists => "field_exists",
            CoreKind::FieldSigned => "signed",
            CoreKind::FieldLshiftU64 => "lshift_u64",
            CoreKind::FieldRshiftU64 => "rshift_u64",
            CoreKind::TypeIdLocal => "local_type_id",
            CoreKind::TypeIdTarget => "target_type_id",
            CoreKind::TypeExists => "type_exists",
            CoreKind::TypeSize => "type_size",
            CoreKind::EnumvalExists => "enumval_exists",
            CoreKind::EnumvalValue => "enumval_value",
            CoreKind::TypeMatches => "type_matches",
        }
    }

    /// `core_relo_is_field_based`.
    pub fn is_field_based(self) -> bool {
        (self as u32) <= CoreKind::FieldRshiftU64 as u32
    }

    /// `core_relo_is_type_based`.
    pub fn is_type_based(self) -> bool {
        matches!(
            self,
            CoreKind::TypeIdLocal
                | CoreKind::TypeIdTarget
                | CoreKind::TypeExists
                | CoreKind::TypeSize
                | CoreKind::TypeMatches
        )
    }

    /// `core_relo_is_enumval_based`.
    pub fn is_enumval_based(self) -> bool {
        matches!(self, CoreKind::EnumvalExists | CoreKind::EnumvalValue)
    }
}

impl fmt::Display for CoreKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// What happened to one relocation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// The instruction now holds the target value.
    Patched,
    /// No target matched (or the access cannot be adjusted): the instruction is now
    /// `call 0xbad2310` (both slots of an `lddw`), which the verifier rejects only if it
    /// is reachable.
    Poisoned(String),
    /// The relocation cannot be applied at all; libbpf fails the load.
    Failed(String),
}

impl Outcome {
    /// libbpf would refuse to load the program.
    pub fn is_failed(&self) -> bool {
        matches!(self, Outcome::Failed(_))
    }
}

/// The result of one relocation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CoreRelocResult {
    /// Index of the program in [`Object::programs`].
    pub program: usize,
    /// Instruction (slot) index in the program.
    pub insn: usize,
    /// Kind.
    pub kind: CoreKind,
    /// The local root type, as libbpf names it (`struct task_struct`).
    pub local_type: String,
    /// Access string (`0:1:2`).
    pub access: String,
    /// The field path the access string names (`y`, `in.b`, `arr[2]`), or the
    /// enumerator's name.
    pub access_path: String,
    /// The value the compiler put there (for the local type).
    pub local_value: u64,
    /// The value for the target (when not failed or poisoned).
    pub target_value: Option<u64>,
    /// The target type id the relocation resolved to.
    pub target_type: Option<u32>,
    /// What happened.
    pub outcome: Outcome,
}

/// The relocation a [`CoreError`] is about.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RelocSite {
    /// Program name.
    pub program: String,
    /// Instruction (slot) index.
    pub insn: usize,
    /// Kind.
    pub kind: CoreKind,
    /// Local type.
    pub local_type: String,
    /// Access string.
    pub access: String,
    /// The field path (may be empty).
    pub access_path: String,
}

impl fmt::Display for RelocSite {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "program `{}` has a CO-RE relocation ({} of {}, access {}) at insn {}",
            self.program, self.kind, self.local_type, self.access, self.insn
        )
    }
}

/// Why an object's CO-RE relocations cannot be applied (libbpf refuses the load).
#[derive(Debug, thiserror::Error)]
pub enum CoreError {
    /// A relocation libbpf would fail on (ambiguous candidates, an access that does not
    /// fit the instruction ...).
    #[error("{0}, which cannot be applied: {1}")]
    Failed(Box<RelocSite>, String),
    /// No target BTF can be read.
    #[error("{0}, and no target BTF is available: {1}; pass one with --btf FILE")]
    NoTarget(Box<RelocSite>, String),
}

/// Reads the running kernel's BTF ([`VMLINUX_BTF`]).
pub fn kernel_btf() -> Result<Btf, String> {
    let bytes =
        std::fs::read(VMLINUX_BTF).map_err(|e| format!("cannot read {VMLINUX_BTF}: {e}"))?;
    Btf::parse(&bytes).map_err(|e| format!("{VMLINUX_BTF}: {e}"))
}

impl Object {
    /// Whether any program has CO-RE relocations.
    pub fn has_core_relos(&self) -> bool {
        self.programs.iter().any(|p| !p.ext.core_relos.is_empty())
    }

    /// Applies every program's CO-RE relocations against `target`, patching the
    /// programs' instructions as libbpf does before loading, and says what became of
    /// each. The records stay, so applying again against the same target changes
    /// nothing more only if the values are unchanged; relocate a fresh parse instead.
    pub fn relocate_core(&mut self, target: &Btf) -> Vec<CoreRelocResult> {
        let mut out = Vec::new();
        for (pi, prog) in self.programs.iter_mut().enumerate() {
            relo::relocate_program(pi, prog, target, &mut out);
        }
        out
    }

    /// What a loader does: [`Object::relocate_core`] against `target`, or the running
    /// kernel's BTF when `None`, when the object has CO-RE relocations (nothing to do
    /// otherwise). Fails, naming the relocation, when no target BTF can be read or when a
    /// relocation cannot be applied (poisoned instructions are not failures: the
    /// verifier rejects them only if they are reachable).
    pub fn relocate_core_for_load(
        &mut self,
        target: Option<&Btf>,
    ) -> Result<Vec<CoreRelocResult>, CoreError> {
        if !self.has_core_relos() {
            return Ok(Vec::new());
        }
        let kernel;
        let target = match target {
            Some(t) => t,
            None => {
                kernel = kernel_btf().map_err(|reason| self.no_target(reason))?;
                &kernel
            }
        };
        let results = self.relocate_core(target);
        if let Some(r) = results.iter().find(|r| r.outcome.is_failed()) {
            let Outcome::Failed(reason) = &r.outcome else {
                unreachable!("found by is_failed")
            };
            return Err(CoreError::Failed(
                Box::new(RelocSite {
                    program: self.programs[r.program].name.clone(),
                    insn: r.insn,
                    kind: r.kind,
                    local_type: r.local_type.clone(),
                    access: r.access.clone(),
                    access_path: r.access_path.clone(),
                }),
                reason.clone(),
            ));
        }
        Ok(results)
    }

    /// The error for a missing target, naming the first relocation.
    pub fn no_target(&self, reason: String) -> CoreError {
        let (p, r) = self
            .programs
            .iter()
            .find_map(|p| p.ext.core_relos.first().map(|r| (p, r)))
            .expect("no_target is for objects with CO-RE relocations");
        let local_type = p
            .ext
            .btf
            .as_ref()
            .map_or_else(|| format!("type {}", r.type_id), |b| b.describe(r.type_id));
        CoreError::NoTarget(
            Box::new(RelocSite {
                program: p.name.clone(),
                insn: r.insn,
                kind: r.kind,
                local_type,
                access: r.access.clone(),
                access_path: String::new(),
            }),
            reason,
        )
    }
}
