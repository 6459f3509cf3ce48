//! The real kernel as an oracle: load the same bytecode the emulator runs and observe what
//! the kernel does with it. This is the only crate with `unsafe` code; every block says why
//! it is sound.
//!
//! ```
//! use asm::cbpf::bpf_asm;
//! // Whether the kernel accepts a socket filter (SO_ATTACH_FILTER on an AF_UNIX socket).
//! let prog = bpf_asm::assemble("ret #0\n").unwrap();
//! if let Ok(verdict) = kernel::socket_filter::check(&prog) {
//!     assert!(verdict.is_ok());
//! }
//! ```
#![deny(missing_docs)]
#![allow(unsafe_code)]

pub mod seccomp;
pub mod socket_filter;
