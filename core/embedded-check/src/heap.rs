//! A counting heap: a bump allocator over a static arena that starts over whenever nothing is
//! live, and counts what is asked of it (live bytes, their peak, calls, bytes requested).
//!
//! The counts are the measurement: "peak" is the most bytes live at once, the heap a device
//! must set aside for the code between two [`mark`]s (alignment padding excluded). Freed space
//! is reused only once everything is freed (a compact decode or a test case frees all it
//! allocated), which is all these images need.

use core::alloc::{GlobalAlloc, Layout};
use core::cell::UnsafeCell;
use core::ptr;
use core::sync::atomic::{AtomicUsize, Ordering::Relaxed};

/// Size of the arena.
pub(crate) const ARENA: usize = 2 * 1024 * 1024;

#[repr(C, align(8))]
struct Arena(UnsafeCell<[u8; ARENA]>);

#[allow(
    unsafe_code,
    reason = "the arena is handed out only through the allocator below; the image is single-threaded"
)]
// SAFETY: one core, no allocation from interrupt handlers, so no concurrent access.
unsafe impl Sync for Arena {}

static MEMORY: Arena = Arena(UnsafeCell::new([0; ARENA]));

/// The allocator. Install it with `#[global_allocator]`.
#[derive(Debug)]
pub(crate) struct Counting {
    next: AtomicUsize,
    live_blocks: AtomicUsize,
    live: AtomicUsize,
    peak: AtomicUsize,
    calls: AtomicUsize,
    requested: AtomicUsize,
}

impl Counting {
    /// An empty heap.
    pub(crate) const fn new() -> Self {
        Self {
            next: AtomicUsize::new(0),
            live_blocks: AtomicUsize::new(0),
            live: AtomicUsize::new(0),
            peak: AtomicUsize::new(0),
            calls: AtomicUsize::new(0),
            requested: AtomicUsize::new(0),
        }
    }

    fn grew(&self, by: usize) {
        let live = self.live.fetch_add(by, Relaxed) + by;
        self.peak.fetch_max(live, Relaxed);
    }
}

/// What the heap saw since a [`mark`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Usage {
    /// Allocation calls (`alloc` and `realloc`).
    pub(crate) calls: usize,
    /// Bytes requested by those calls.
    pub(crate) requested: usize,
    /// Most bytes live at once.
    pub(crate) peak: usize,
    /// Bytes live now.
    pub(crate) live: usize,
}

/// Starts a measurement: the peak restarts from what is live now, the counters from zero.
pub(crate) fn mark(heap: &Counting) {
    heap.peak.store(heap.live.load(Relaxed), Relaxed);
    heap.calls.store(0, Relaxed);
    heap.requested.store(0, Relaxed);
}

/// What happened since the last [`mark`].
pub(crate) fn usage(heap: &Counting) -> Usage {
    Usage {
        calls: heap.calls.load(Relaxed),
        requested: heap.requested.load(Relaxed),
        peak: heap.peak.load(Relaxed),
        live: heap.live.load(Relaxed),
    }
}

#[allow(
    unsafe_code,
    reason = "a global allocator is an unsafe trait; the arena is a static"
)]
// SAFETY: blocks are disjoint ranges of the arena, aligned as asked; a block is reused only
// after every block has been freed.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        self.calls.fetch_add(1, Relaxed);
        self.requested.fetch_add(layout.size(), Relaxed);
        let base = MEMORY.0.get().cast::<u8>();
        let next = self.next.load(Relaxed);
        let addr = base as usize + next;
        let start = addr.next_multiple_of(layout.align()) - base as usize;
        let Some(end) = start.checked_add(layout.size()).filter(|&e| e <= ARENA) else {
            return ptr::null_mut();
        };
        self.next.store(end, Relaxed);
        self.live_blocks.fetch_add(1, Relaxed);
        self.grew(layout.size());
        base.wrapping_add(start)
    }

    unsafe fn dealloc(&self, _ptr: *mut u8, layout: Layout) {
        self.live.fetch_sub(layout.size(), Relaxed);
        if self.live_blocks.fetch_sub(1, Relaxed) == 1 {
            self.next.store(0, Relaxed);
        }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let base = MEMORY.0.get().cast::<u8>() as usize;
        let old = layout.size();
        let start = ptr as usize - base;
        // the last block grows or shrinks in place
        if start + old == self.next.load(Relaxed) && start + new_size <= ARENA {
            self.calls.fetch_add(1, Relaxed);
            self.requested.fetch_add(new_size, Relaxed);
            self.next.store(start + new_size, Relaxed);
            if new_size >= old {
                self.grew(new_size - old);
            } else {
                self.live.fetch_sub(old - new_size, Relaxed);
            }
            return ptr;
        }
        let Ok(new_layout) = Layout::from_size_align(new_size, layout.align()) else {
            return ptr::null_mut();
        };
        // SAFETY: as GlobalAlloc::realloc's contract: `ptr` is live with `layout`.
        unsafe {
            let new = self.alloc(new_layout);
            if !new.is_null() {
                ptr::copy_nonoverlapping(ptr, new, old.min(new_size));
                self.dealloc(ptr, layout);
            }
            new
        }
    }
}
