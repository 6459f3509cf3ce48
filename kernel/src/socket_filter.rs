//! Socket filters in the kernel: `SO_ATTACH_FILTER` on one end of an `AF_UNIX` datagram
//! socket pair, a packet sent from the other end, and what arrives (AF_UNIX filters see the
//! payload only; the filter's return value is how many bytes are kept, 0 drops).

use asm::cbpf::SockFilter;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

/// What the receiving socket saw.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub enum Delivery {
    /// The packet arrived with this many bytes.
    Kept(usize),
    /// The filter dropped it.
    Dropped,
}

/// What arrives when a filter returns `ret` for a packet of `len` bytes: the socket layer
/// (`sk_filter_trim_cap()` with cap 1) drops on 0 and otherwise trims to
/// `max(1, ret)` bytes.
pub fn expected(ret: u32, len: usize) -> Delivery {
    if ret == 0 {
        Delivery::Dropped
    } else {
        Delivery::Kept(len.min(ret.max(1) as usize))
    }
}

fn pair() -> io::Result<(OwnedFd, OwnedFd)> {
    let mut fds = [0i32; 2];
    // SAFETY: `fds` is a valid array of two ints for socketpair to fill.
    let r = unsafe {
        libc::socketpair(
            libc::AF_UNIX,
            libc::SOCK_DGRAM | libc::SOCK_CLOEXEC,
            0,
            fds.as_mut_ptr(),
        )
    };
    if r != 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: socketpair succeeded, so both descriptors are open and owned by nobody else.
    Ok(unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) })
}

fn attach(fd: &OwnedFd, prog: &[SockFilter]) -> io::Result<Result<(), i32>> {
    let mut insns: Vec<libc::sock_filter> = prog
        .iter()
        .map(|f| libc::sock_filter {
            code: f.code,
            jt: f.jt,
            jf: f.jf,
            k: f.k,
        })
        .collect();
    let len = u16::try_from(insns.len()).map_err(|_| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            "program longer than 65535 instructions",
        )
    })?;
    let fprog = libc::sock_fprog {
        len,
        filter: insns.as_mut_ptr(),
    };
    // SAFETY: `fprog` points at `insns`, which outlives the call; the kernel copies it.
    let r = unsafe {
        libc::setsockopt(
            fd.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_ATTACH_FILTER,
            (&fprog as *const libc::sock_fprog).cast(),
            std::mem::size_of::<libc::sock_fprog>() as libc::socklen_t,
        )
    };
    if r == 0 {
        Ok(Ok(()))
    } else {
        let e = io::Error::last_os_error();
        match e.raw_os_error() {
            Some(libc::EINVAL) | Some(libc::ENOMEM) => Ok(Err(e.raw_os_error().unwrap_or(0))),
            _ => Err(e),
        }
    }
}

/// Whether the kernel accepts `prog` as a socket filter: `Ok(Ok(()))`, or `Ok(Err(errno))`
/// when it refuses it (`EINVAL`). `Err` means the probe itself failed.
pub fn check(prog: &[SockFilter]) -> io::Result<Result<(), i32>> {
    let (a, _b) = pair()?;
    attach(&a, prog)
}

/// Attaches `prog` to a fresh socket, sends `packet` to it and reports what arrived;
/// `Ok(Err(errno))` when the kernel refuses the program.
pub fn run(prog: &[SockFilter], packet: &[u8]) -> io::Result<Result<Delivery, i32>> {
    let (rx, tx) = pair()?;
    if let Err(e) = attach(&rx, prog)? {
        return Ok(Err(e));
    }
    // SAFETY: `packet` is a valid buffer of `packet.len()` bytes.
    let sent = unsafe { libc::send(tx.as_raw_fd(), packet.as_ptr().cast(), packet.len(), 0) };
    if sent < 0 {
        return Err(io::Error::last_os_error());
    }
    let mut buf = vec![0u8; packet.len() + 1];
    // SAFETY: `buf` is writable for `buf.len()` bytes.
    let got = unsafe {
        libc::recv(
            rx.as_raw_fd(),
            buf.as_mut_ptr().cast(),
            buf.len(),
            libc::MSG_DONTWAIT | libc::MSG_TRUNC,
        )
    };
    if got < 0 {
        let e = io::Error::last_os_error();
        if e.raw_os_error() == Some(libc::EAGAIN) {
            return Ok(Ok(Delivery::Dropped));
        }
        return Err(e);
    }
    Ok(Ok(Delivery::Kept(got as usize)))
}
