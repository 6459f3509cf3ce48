//! The eBPF instruction set and its forms: one opcode table ([`isa`]), the binary encoding
//! ([`insn`]), and text dialects ([`text`]) with diagnostics as data ([`diag`]).
//!
//! ```
//! use asm::insn::{decode, encode, Insn};
//!
//! // `r0 = 1; exit` in its binary form.
//! let bytes = [0xb7, 0, 0, 0, 1, 0, 0, 0, 0x95, 0, 0, 0, 0, 0, 0, 0];
//! let insns = decode(&bytes).unwrap();
//! assert_eq!(insns[0].def.name, "mov");
//! assert_eq!(insns[0].insn.imm, 1);
//! let round: Vec<_> = insns.iter().map(|d| d.insn).collect();
//! assert_eq!(encode(&round), bytes);
//! // The same program from the typed builders.
//! assert_eq!(encode(&[Insn::mov64_imm(0, 1), Insn::exit()]), bytes);
//! ```
#![deny(missing_docs)]

pub mod cbpf;
pub mod diag;
pub mod insn;
pub mod isa;
pub mod text;
pub mod types;

pub use diag::{Diagnostic, Span};
pub use insn::{decode, encode, DecodeError, Insn};
pub use text::{Assembled, Dialect};
