//! Seccomp filters in the kernel, without root and without running the system calls.
//!
//! [`run`] forks a child that sets `no_new_privs`, installs a *guard* filter and then the
//! filters under test with `seccomp(SECCOMP_SET_MODE_FILTER)`, makes the raw system call and
//! reports through shared memory what happened: the returned value or errno, a `SIGSYS`
//! trap with its data, or death by `SIGSYS`.
//!
//! The guard makes this safe for any system call (the child is root on CI machines): it is
//! installed first (oldest) and returns `ERRNO(4095)` for everything except the child's own
//! `seccomp(2)` and `exit_group(2)` call sites. Since the lowest action wins, every outcome
//! the filters under test can produce is still visible — kill, trap, errno — while
//! `ALLOW`, `LOG`, `TRACE` and `USER_NOTIF` (which rank above `ERRNO`) all show up as
//! `ERRNO(4095)` instead of running the call. [`expected`] applies the same guard to the
//! emulator's answer, so the two are compared like for like. x86-64 only.
//!
//! Stacking: every `seccomp(2)` call that installs the next filter passes through the
//! filters already installed, as in any real program; a filter that refuses `seccomp(2)`
//! makes the next installation fail ([`Observed::Refused`] with that filter's errno).
//!
//! The kernel runs no filter at all for x86-64's `uretprobe` (335) and `uprobe` (336)
//! (`seccomp_uprobe_exception()`): they are never probed here (they would really run).

use asm::cbpf::seccomp::{combine, Action};
use asm::cbpf::{code_of, Form, JmpOp, Size, SockFilter, Src};
use std::io;
use std::sync::atomic::{AtomicPtr, AtomicU32, Ordering};

/// The errno the guard filter returns for everything.
pub const GUARD_ERRNO: u16 = 4095;
/// `MAX_ERRNO`: the kernel caps `ERRNO(n)` data at this.
pub const MAX_ERRNO: u32 = 4095;

const NR_SECCOMP: u64 = 317;
const NR_EXIT_GROUP: u64 = 231;
const NR_GETPID: u64 = 39;

/// What the kernel did with the system call.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub enum Observed {
    /// The call returned this non-negative value.
    Returned(i64),
    /// The call failed with this errno.
    Errno(u32),
    /// The thread got `SIGSYS` from `SECCOMP_RET_TRAP` with this `si_errno`.
    Trapped(u16),
    /// The process was killed by `SIGSYS` (`KILL_PROCESS`, `KILL_THREAD`, unknown action).
    Killed,
    /// Installing filter `filter` failed with `errno` (the kernel refused it).
    Refused {
        /// Index of the filter (installation order).
        filter: usize,
        /// The errno (`EINVAL` for a program the checker rejects).
        errno: i32,
    },
}

impl std::fmt::Display for Observed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Observed::Returned(v) => write!(f, "returned {v}"),
            Observed::Errno(e) if *e == GUARD_ERRNO as u32 => {
                write!(f, "errno {e} (ALLOW, LOG, TRACE or USER_NOTIF)")
            }
            Observed::Errno(e) => write!(f, "errno {e}"),
            Observed::Trapped(d) => write!(f, "SIGSYS trap, data {d}"),
            Observed::Killed => f.write_str("killed by SIGSYS"),
            Observed::Refused { filter, errno } => {
                write!(f, "filter {filter} refused (errno {errno})")
            }
        }
    }
}

/// What the kernel would show for a stack whose filters (newest first) returned `rets`,
/// with the guard filter underneath.
pub fn expected(rets_newest_first: &[u32]) -> Observed {
    let mut rets = rets_newest_first.to_vec();
    rets.push(Action::Errno(GUARD_ERRNO).to_ret());
    let w = combine(&rets).expect("the guard is always there");
    match Action::from_ret(rets[w]) {
        Action::KillProcess | Action::KillThread | Action::Unknown(_) => Observed::Killed,
        Action::Trap(d) => Observed::Trapped(d),
        Action::Errno(0) => Observed::Returned(0),
        Action::Errno(d) => Observed::Errno((d as u32).min(MAX_ERRNO)),
        // Unreachable with the guard below them, but spelled out: no tracer, no listener.
        Action::Trace(_) | Action::UserNotif => Observed::Errno(libc::ENOSYS as u32),
        Action::Allow | Action::Log => Observed::Errno(GUARD_ERRNO as u32),
    }
}

#[repr(C)]
struct Report {
    state: AtomicU32,
    filter: u32,
    errno: i32,
    trap_data: u32,
    ret: i64,
}

const ST_REFUSED: u32 = 1;
const ST_RETURNED: u32 = 2;
const ST_TRAPPED: u32 = 3;

static REPORT: AtomicPtr<Report> = AtomicPtr::new(std::ptr::null_mut());
static PROBE: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// The system call under test, at its own call site; returns (rax, address after
/// `syscall`), the latter being what the kernel puts in `seccomp_data.instruction_pointer`.
#[cfg(target_arch = "x86_64")]
#[inline(never)]
fn syscall_test(nr: u64, a: [u64; 6]) -> (i64, u64) {
    let ret: i64;
    let ip: u64;
    // SAFETY: a raw system call; in the child it is stopped by the guard filter unless it
    // fails, traps or kills, and in the parent it is only ever getpid.
    unsafe {
        std::arch::asm!(
            "lea {ip}, [rip + 2f]",
            "syscall",
            "2:",
            ip = out(reg) ip,
            inlateout("rax") nr as i64 => ret,
            in("rdi") a[0], in("rsi") a[1], in("rdx") a[2], in("r10") a[3], in("r8") a[4], in("r9") a[5],
            out("rcx") _, out("r11") _,
            options(nostack),
        );
    }
    (ret, ip)
}

/// The i386 system call under test (`int $0x80` from this 64-bit process, which the
/// kernel runs as a compat call: `seccomp_data.arch` is `AUDIT_ARCH_I386`). Arguments are
/// 32-bit; returns (eax sign-extended, address after `int $0x80`).
#[cfg(target_arch = "x86_64")]
#[inline(never)]
fn syscall_test_i386(nr: u64, a: [u64; 6]) -> (i64, u64) {
    let ret: u64;
    let ip: u64;
    // SAFETY: as for `syscall_test`. rbx and rbp cannot be asm operands, so they are saved
    // on the stack (below the red zone, which the block skips) and loaded from r13/r14;
    // r8-r11 are declared clobbered in case the compat entry does not preserve them.
    unsafe {
        std::arch::asm!(
            "sub rsp, 128",
            "push rbx",
            "push rbp",
            "mov ebx, r13d",
            "mov ebp, r14d",
            "lea r12, [rip + 2f]",
            "int 0x80",
            "2:",
            "pop rbp",
            "pop rbx",
            "add rsp, 128",
            inlateout("rax") nr => ret,
            in("rcx") a[1] as u32 as u64, in("rdx") a[2] as u32 as u64, in("rsi") a[3] as u32 as u64,
            in("rdi") a[4] as u32 as u64, in("r13") a[0] as u32 as u64, in("r14") a[5] as u32 as u64,
            out("r12") ip,
            out("r8") _, out("r9") _, out("r10") _, out("r11") _,
        );
    }
    (ret as u32 as i32 as i64, ip)
}

/// Which system call entry the probe uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Abi {
    /// `syscall`: `AUDIT_ARCH_X86_64` (numbers with `__X32_SYSCALL_BIT` are x32 calls).
    X86_64,
    /// `int $0x80`: `AUDIT_ARCH_I386`, 32-bit arguments.
    I386,
}

impl Abi {
    /// The `seccomp_data.arch` the filters see.
    pub fn audit(self) -> u32 {
        match self {
            Abi::X86_64 => 0xc000_003e,
            Abi::I386 => 0x4000_0003,
        }
    }

    /// The arguments as the filters see them (i386 arguments are 32-bit).
    pub fn args(self, args: [u64; 6]) -> [u64; 6] {
        match self {
            Abi::X86_64 => args,
            Abi::I386 => args.map(|a| a & 0xffff_ffff),
        }
    }
}

/// The child's own `seccomp(2)` / `exit_group(2)` call site, which the guard lets through.
#[cfg(target_arch = "x86_64")]
#[inline(never)]
fn syscall_aux(nr: u64, a0: u64, a1: u64, a2: u64) -> (i64, u64) {
    let ret: i64;
    let ip: u64;
    // SAFETY: a raw system call with caller-checked arguments (see the callers).
    unsafe {
        std::arch::asm!(
            "lea {ip}, [rip + 2f]",
            "syscall",
            "2:",
            ip = out(reg) ip,
            inlateout("rax") nr as i64 => ret,
            in("rdi") a0, in("rsi") a1, in("rdx") a2,
            out("rcx") _, out("r11") _,
            options(nostack),
        );
    }
    (ret, ip)
}

/// The `instruction_pointer` the filters see for the call under test.
#[cfg(target_arch = "x86_64")]
pub fn test_site_ip() -> u64 {
    syscall_test(NR_GETPID, [0; 6]).1
}

/// [`test_site_ip`] for an ABI.
#[cfg(target_arch = "x86_64")]
pub fn test_site_ip_abi(abi: Abi) -> u64 {
    match abi {
        Abi::X86_64 => test_site_ip(),
        // getpid is 20 on i386.
        Abi::I386 => syscall_test_i386(20, [0; 6]).1,
    }
}

fn guard(aux_ip: u64) -> Vec<SockFilter> {
    let allow = Action::Allow.to_ret();
    let deny = Action::Errno(GUARD_ERRNO).to_ret();
    let ld = code_of(Form::LdAbs(Size::W));
    let jeq = code_of(Form::Jmp(JmpOp::Jeq, Src::K));
    let ret = code_of(Form::RetK);
    vec![
        SockFilter::new(ld, 0, 0, 0),                      // ld [0] (nr)
        SockFilter::new(jeq, 1, 0, NR_SECCOMP as u32),     // jeq #seccomp, ip
        SockFilter::new(jeq, 0, 4, NR_EXIT_GROUP as u32),  // jeq #exit_group, ip, deny
        SockFilter::new(ld, 0, 0, 8),                      // ip: ld [8]
        SockFilter::new(jeq, 0, 2, aux_ip as u32),         // jeq #ip_lo, hi, deny
        SockFilter::new(ld, 0, 0, 12),                     // hi: ld [12]
        SockFilter::new(jeq, 1, 0, (aux_ip >> 32) as u32), // jeq #ip_hi, allow, deny
        SockFilter::new(ret, 0, 0, deny),                  // deny
        SockFilter::new(ret, 0, 0, allow),                 // allow
    ]
}

#[cfg(target_arch = "x86_64")]
extern "C" fn on_sigsys(_sig: libc::c_int, info: *mut libc::siginfo_t, _ctx: *mut libc::c_void) {
    let r = REPORT.load(Ordering::SeqCst);
    // SAFETY: the kernel passes a valid siginfo; `r` points at the shared mapping set up
    // before the fork and never unmapped in the child.
    unsafe {
        // The first report wins. The filters under test also see the child's own
        // `exit_group(2)` in `die()` after the call under test (or a refused installation)
        // has been reported, and may trap *that*: it must not overwrite the result (it did,
        // turning a correct `ERRNO(4095)` into `Trapped(data of the exit_group trap)`).
        if (*r).state.load(Ordering::SeqCst) == 0 {
            (*r).trap_data = (*info).si_errno as u32;
            (*r).state.store(ST_TRAPPED, Ordering::SeqCst);
        }
    }
    die();
}

/// Ends the child once it has reported: `exit_group(2)`, and if a filter under test
/// refuses even that, an illegal instruction (the parent reads the report first). A filter
/// under test that traps `exit_group(2)` re-enters [`on_sigsys`], which leaves the report
/// alone, and the second trap (SIGSYS blocked in the handler) kills the child.
#[cfg(target_arch = "x86_64")]
fn die() -> ! {
    syscall_aux(NR_EXIT_GROUP, 0, 0, 0);
    // SAFETY: `ud2` raises SIGILL, whose default action ends the process.
    unsafe { std::arch::asm!("ud2", options(noreturn)) }
}

/// Installs `filters` (oldest first) in a child and makes system call `nr` with `args`.
#[cfg(target_arch = "x86_64")]
pub fn run(filters: &[Vec<SockFilter>], nr: u32, args: [u64; 6]) -> io::Result<Observed> {
    run_abi(filters, Abi::X86_64, nr, args)
}

/// [`run`] through a given system call entry.
#[cfg(target_arch = "x86_64")]
pub fn run_abi(
    filters: &[Vec<SockFilter>],
    abi: Abi,
    nr: u32,
    args: [u64; 6],
) -> io::Result<Observed> {
    // Everything the child needs is prepared here: after fork it only makes raw system
    // calls and writes to the shared page.
    let aux_ip = syscall_aux(NR_GETPID, 0, 0, 0).1;
    let mut progs: Vec<Vec<libc::sock_filter>> = std::iter::once(guard(aux_ip))
        .chain(filters.iter().cloned())
        .map(|p| {
            p.iter()
                .map(|f| libc::sock_filter {
                    code: f.code,
                    jt: f.jt,
                    jf: f.jf,
                    k: f.k,
                })
                .collect()
        })
        .collect();
    let mut fprogs = Vec::new();
    for p in progs.iter_mut() {
        let len = u16::try_from(p.len()).map_err(|_| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                "filter longer than 65535 instructions",
            )
        })?;
        fprogs.push(libc::sock_fprog {
            len,
            filter: p.as_mut_ptr(),
        });
    }
    // SAFETY: an anonymous shared mapping of one page; checked for MAP_FAILED below.
    let page = unsafe {
        libc::mmap(
            std::ptr::null_mut(),
            4096,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_SHARED | libc::MAP_ANONYMOUS,
            -1,
            0,
        )
    };
    if page == libc::MAP_FAILED {
        return Err(io::Error::last_os_error());
    }
    let report = page.cast::<Report>();
    // One probe at a time: the SIGSYS handler finds the report page through a global.
    let _one = PROBE.lock().unwrap_or_else(|p| p.into_inner());
    REPORT.store(report, Ordering::SeqCst);
    // SAFETY: fork in a possibly multi-threaded process; the child only calls
    // async-signal-safe raw system calls and writes memory prepared before the fork.
    let pid = unsafe { libc::fork() };
    if pid < 0 {
        let e = io::Error::last_os_error();
        // SAFETY: unmapping the page mapped above.
        unsafe { libc::munmap(page, 4096) };
        return Err(e);
    }
    if pid == 0 {
        child(report, &fprogs, abi, nr, args);
    }
    let mut status = 0;
    // SAFETY: waiting for our own child.
    let w = unsafe { libc::waitpid(pid, &mut status, 0) };
    // SAFETY: the child is gone; the page is ours to read and unmap.
    let (state, filter, errno, data, ret) = unsafe {
        (
            (*report).state.load(Ordering::SeqCst),
            (*report).filter,
            (*report).errno,
            (*report).trap_data,
            (*report).ret,
        )
    };
    // SAFETY: unmapping the page mapped above; nothing refers to it any more.
    unsafe { libc::munmap(page, 4096) };
    if w < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(match state {
        ST_REFUSED if filter == 0 => {
            return Err(io::Error::other(format!(
                "seccomp is unusable here: the guard filter was refused (errno {errno})"
            )))
        }
        ST_REFUSED => Observed::Refused {
            filter: filter as usize - 1,
            errno,
        },
        ST_TRAPPED => Observed::Trapped(data as u16),
        ST_RETURNED if ret < 0 => Observed::Errno((-ret) as u32),
        ST_RETURNED => Observed::Returned(ret),
        _ if libc::WIFSIGNALED(status) && libc::WTERMSIG(status) == libc::SIGSYS => {
            Observed::Killed
        }
        _ => {
            return Err(io::Error::other(format!(
                "the probe child ended unexpectedly (wait status {status:#x})"
            )))
        }
    })
}

#[cfg(target_arch = "x86_64")]
fn child(report: *mut Report, fprogs: &[libc::sock_fprog], abi: Abi, nr: u32, args: [u64; 6]) -> ! {
    // SAFETY: raw prctl/sigaction calls with valid arguments; `report` is the shared page.
    unsafe {
        let mut sa: libc::sigaction = std::mem::zeroed();
        sa.sa_sigaction = on_sigsys as *const () as usize;
        sa.sa_flags = libc::SA_SIGINFO;
        libc::sigaction(libc::SIGSYS, &sa, std::ptr::null_mut());
        libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
        for (i, fp) in fprogs.iter().enumerate() {
            let (r, _) = syscall_aux(
                NR_SECCOMP,
                1, /* SECCOMP_SET_MODE_FILTER */
                0,
                fp as *const _ as u64,
            );
            if r < 0 {
                (*report).filter = i as u32;
                (*report).errno = (-r) as i32;
                (*report).state.store(ST_REFUSED, Ordering::SeqCst);
                die();
            }
        }
        let (r, _) = match abi {
            Abi::X86_64 => syscall_test(nr as u64, args),
            Abi::I386 => syscall_test_i386(nr as u64, args),
        };
        (*report).ret = r;
        (*report).state.store(ST_RETURNED, Ordering::SeqCst);
    }
    die()
}

/// Whether the kernel accepts `prog` as a seccomp filter (`Ok(Err(errno))` if refused).
#[cfg(target_arch = "x86_64")]
pub fn check(prog: &[SockFilter]) -> io::Result<Result<(), i32>> {
    match run(
        std::slice::from_ref(&prog.to_vec()),
        NR_GETPID as u32,
        [0; 6],
    )? {
        Observed::Refused { errno, .. } => Ok(Err(errno)),
        _ => Ok(Ok(())),
    }
}

/// Whether seccomp filters can be installed here (a trivial filter in a child).
#[cfg(target_arch = "x86_64")]
pub fn available() -> Result<(), String> {
    let allow = vec![SockFilter::new(
        code_of(Form::RetK),
        0,
        0,
        Action::Allow.to_ret(),
    )];
    match run(&[allow], NR_GETPID as u32, [0; 6]) {
        Ok(Observed::Errno(e)) if e == GUARD_ERRNO as u32 => Ok(()),
        Ok(o) => Err(format!("a trivial filter gave an unexpected result: {o}")),
        Err(e) => Err(e.to_string()),
    }
}

/// Seccomp probing needs x86-64 here.
#[cfg(not(target_arch = "x86_64"))]
pub fn available() -> Result<(), String> {
    Err("kernel seccomp probing is implemented for x86-64 only".into())
}
