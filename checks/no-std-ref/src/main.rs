//! Proof that `zlayer-secrets-ref`, with its `serde` feature, needs only `core` and `alloc`.
//!
//! This program has no standard library: it brings its own panic handler, allocator and
//! entry point. If any dependency links `std`, the build fails with
//! "duplicate lang item in crate `std`: `panic_impl`" (std has a panic handler too).
//!
//! It also runs: it parses and displays a reference of every form, and exits with status 0
//! if all round-trip (1 otherwise, 101 on a panic). Entry point and exit are written for
//! x86-64 Linux, the machine CI runs on.
//!
//! `unsafe` is needed for the global allocator, the entry point and the exit system call;
//! that is why this crate lives outside the workspace, whose lints forbid `unsafe`.
#![no_std]
#![no_main]

#[cfg(not(all(target_arch = "x86_64", target_os = "linux")))]
compile_error!("the no_std proof is written for x86-64 Linux");

extern crate alloc;

use alloc::string::ToString;
use core::alloc::{GlobalAlloc, Layout};
use core::cell::UnsafeCell;
use core::panic::PanicInfo;
use core::ptr;
use core::sync::atomic::{AtomicUsize, Ordering};

use zlayer_secrets_ref::{ParseErrorKind, Part, SecretRef};

/// Size of the heap, in bytes.
const ARENA_SIZE: usize = 64 * 1024;
/// Alignment of the heap's start; larger alignments are refused.
const ARENA_ALIGN: usize = 4096;

#[repr(C, align(4096))]
struct Arena([u8; ARENA_SIZE]);

/// A bump allocator over a static array: memory is never reused, which is fine for a
/// program that parses a handful of references and exits.
struct Bump {
    arena: UnsafeCell<Arena>,
    next: AtomicUsize,
}

// SAFETY: `next` is only ever advanced with a compare-and-swap, so every allocation owns a
// range of `arena` that no other allocation overlaps.
unsafe impl Sync for Bump {}

// SAFETY: `alloc` returns either null or a pointer to `layout.size()` bytes inside `arena`,
// aligned to `layout.align()` (the arena's start is aligned to `ARENA_ALIGN`, and larger
// alignments are refused), that no other live allocation uses.
unsafe impl GlobalAlloc for Bump {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if layout.align() > ARENA_ALIGN {
            return ptr::null_mut();
        }
        let mut current = self.next.load(Ordering::Relaxed);
        loop {
            let start = current.next_multiple_of(layout.align());
            let end = match start.checked_add(layout.size()) {
                Some(end) if end <= ARENA_SIZE => end,
                _ => return ptr::null_mut(),
            };
            match self.next.compare_exchange_weak(
                current,
                end,
                Ordering::Relaxed,
                Ordering::Relaxed,
            ) {
                // SAFETY: `start + size <= ARENA_SIZE`, so the pointer stays inside `arena`.
                Ok(_) => return unsafe { self.arena.get().cast::<u8>().add(start) },
                Err(seen) => current = seen,
            }
        }
    }

    unsafe fn dealloc(&self, _ptr: *mut u8, _layout: Layout) {}
}

#[global_allocator]
static HEAP: Bump = Bump {
    arena: UnsafeCell::new(Arena([0; ARENA_SIZE])),
    next: AtomicUsize::new(0),
};

#[panic_handler]
fn panic(_info: &PanicInfo<'_>) -> ! {
    exit(101)
}

/// Ends the process with `code` (the `exit_group` system call).
fn exit(code: i32) -> ! {
    // SAFETY: `exit_group` takes one integer argument, touches no memory of ours and does
    // not return.
    unsafe {
        core::arch::asm!("syscall", in("rax") 231, in("rdi") code, options(noreturn, nostack));
    }
}

// The process entry point. The kernel starts `_start` with a 16-byte aligned stack and no
// return address, whereas a function expects one pushed by `call`: align the stack, clear
// the frame pointer (end of the backtrace) and call into Rust, which never returns.
core::arch::global_asm!(
    ".globl _start",
    "_start:",
    "xor ebp, ebp",
    "and rsp, -16",
    "call {entry}",
    "ud2",
    entry = sym entry,
);

/// The precompiled `alloc` of the stable toolchain is built for unwinding and names the
/// personality routine; with `panic = "abort"` nothing ever calls it. (Defining the
/// `eh_personality` lang item instead needs a nightly compiler.)
#[unsafe(no_mangle)]
extern "C" fn rust_eh_personality() {}

extern "C" fn entry() -> ! {
    exit(if round_trips() { 0 } else { 1 })
}

/// Parses a reference of every form and checks that it displays as itself, and that a
/// malformed one is refused with the right offset.
fn round_trips() -> bool {
    const FORMS: [&str; 8] = [
        "$S:db",
        "$S:db/password",
        "$S:@api/db",
        "$S:@api/db/password",
        "$S::prod/db",
        "$S:shop:prod/db/password",
        "$secret://prod/API_KEY",
        "$secret://prod/API_KEY/token",
    ];
    let forms_ok = FORMS
        .iter()
        .all(|text| SecretRef::parse(text).is_some_and(|r| r.to_string() == *text));
    let error_ok = SecretRef::try_parse("$S:@api/")
        .is_err_and(|e| e.offset() == 8 && e.kind() == ParseErrorKind::Empty(Part::Name));
    forms_ok && error_ok
}
