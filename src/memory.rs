//! Large allocations straight from the kernel, grown in place.
//!
//! A long range builds a few vectors with an entry per commit (the walk's nodes,
//! the commits, their drafts and changes), growing by doubling as the walk goes. A
//! general allocator grows a block by allocating a bigger one and copying, so each
//! vector touches about twice its final size in fresh pages, and on the machines
//! relplan is measured on a fresh page costs about a millisecond a megabyte to fault
//! in (BENCHMARKS.md). Here blocks of a megabyte or more are their own mappings, and
//! growing one is `mremap`: the kernel moves the page tables, nothing is copied and
//! pages already touched stay touched. Everything smaller goes to the inner
//! allocator. Linux only; elsewhere the inner allocator takes everything.

use std::alloc::{GlobalAlloc, Layout};

/// Blocks of this size and up are mapped on their own.
#[cfg(target_os = "linux")]
const LARGE: usize = 1 << 20;

/// `inner` for small blocks, the kernel for large ones (see the module comment).
pub struct GrowInPlace<A>(pub A);

#[cfg(target_os = "linux")]
mod kernel {
    use super::LARGE;
    use std::alloc::Layout;
    use std::ptr;

    const PAGE: usize = 4096;

    pub fn is_large(layout: &Layout) -> bool {
        layout.size() >= LARGE && layout.align() <= PAGE
    }

    fn pages(size: usize) -> usize {
        size.div_ceil(PAGE) * PAGE
    }

    /// A fresh mapping: zeroed by the kernel.
    pub unsafe fn map(size: usize) -> *mut u8 {
        let p = libc::mmap(
            ptr::null_mut(),
            pages(size),
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
            -1,
            0,
        );
        if p == libc::MAP_FAILED {
            ptr::null_mut()
        } else {
            p.cast()
        }
    }

    pub unsafe fn unmap(p: *mut u8, size: usize) {
        libc::munmap(p.cast(), pages(size));
    }

    pub unsafe fn remap(p: *mut u8, old: usize, new: usize) -> *mut u8 {
        let q = libc::mremap(p.cast(), pages(old), pages(new), libc::MREMAP_MAYMOVE);
        if q == libc::MAP_FAILED {
            ptr::null_mut()
        } else {
            q.cast()
        }
    }
}

#[cfg(target_os = "linux")]
unsafe impl<A: GlobalAlloc> GlobalAlloc for GrowInPlace<A> {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if kernel::is_large(&layout) {
            kernel::map(layout.size())
        } else {
            self.0.alloc(layout)
        }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        if kernel::is_large(&layout) {
            kernel::map(layout.size())
        } else {
            self.0.alloc_zeroed(layout)
        }
    }

    unsafe fn dealloc(&self, p: *mut u8, layout: Layout) {
        // The layout is the one the block was last allocated or reallocated with,
        // so it says which side the block came from.
        if kernel::is_large(&layout) {
            kernel::unmap(p, layout.size())
        } else {
            self.0.dealloc(p, layout)
        }
    }

    unsafe fn realloc(&self, p: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let new_layout = Layout::from_size_align_unchecked(new_size, layout.align());
        match (kernel::is_large(&layout), kernel::is_large(&new_layout)) {
            (true, true) => kernel::remap(p, layout.size(), new_size),
            (false, false) => self.0.realloc(p, layout, new_size),
            _ => {
                let q = self.alloc(new_layout);
                if !q.is_null() {
                    std::ptr::copy_nonoverlapping(p, q, layout.size().min(new_size));
                    self.dealloc(p, layout);
                }
                q
            }
        }
    }
}

#[cfg(not(target_os = "linux"))]
unsafe impl<A: GlobalAlloc> GlobalAlloc for GrowInPlace<A> {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        self.0.alloc(layout)
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        self.0.alloc_zeroed(layout)
    }

    unsafe fn dealloc(&self, p: *mut u8, layout: Layout) {
        self.0.dealloc(p, layout)
    }

    unsafe fn realloc(&self, p: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        self.0.realloc(p, layout, new_size)
    }
}

/// Turns transparent huge pages off for this process and its helper processes.
///
/// mimalloc asks for huge pages on its arenas, and the kernel then zeroes 2 MiB on
/// the first touch of each, even where relplan only ever uses a few small blocks:
/// half of a one-commit `scope` (30 of 60 ms) and a tenth of a 100,000-commit one
/// went to zeroing pages. With small pages, `scope` at 100k used a third less system
/// time and 15 MB less memory, its wall time 2–7% less (within this machine's
/// noise), and `plan` took the same (BENCHMARKS.md). Best effort: an older kernel
/// says no.
pub fn prefer_small_pages() {
    #[cfg(target_os = "linux")]
    // SAFETY: a process attribute; no memory is touched.
    unsafe {
        libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::alloc::System;

    /// Blocks cross the threshold both ways, grow and shrink in place, and keep
    /// their contents throughout.
    #[test]
    fn blocks_keep_their_contents_across_every_kind_of_resize() {
        let a = GrowInPlace(System);
        unsafe {
            let mut layout = Layout::from_size_align(1000, 8).unwrap();
            let mut p = a.alloc(layout);
            for i in 0..1000 {
                *p.add(i) = (i % 251) as u8;
            }
            // small -> large -> larger -> large (shrunk) -> small
            for size in [3 << 20, 9 << 20, (1 << 20) + 5, 700] {
                p = a.realloc(p, layout, size);
                assert!(!p.is_null());
                layout = Layout::from_size_align(size, 8).unwrap();
                for i in 0..700 {
                    assert_eq!(*p.add(i), (i % 251) as u8, "byte {i} at size {size}");
                }
            }
            a.dealloc(p, layout);

            let zeroed = Layout::from_size_align(2 << 20, 64).unwrap();
            let z = a.alloc_zeroed(zeroed);
            assert!((0..2 << 20).step_by(4093).all(|i| *z.add(i) == 0));
            a.dealloc(z, zeroed);
        }
    }

    #[test]
    fn vectors_grow_through_the_threshold() {
        #[derive(Clone, PartialEq, Debug)]
        struct Entry([u64; 5]);
        let a = GrowInPlace(System);
        // Exercise the allocator the way a Vec does, with its own layouts.
        let entry = Layout::new::<Entry>();
        let mut cap = 4usize;
        let mut p = unsafe { a.alloc(Layout::array::<Entry>(cap).unwrap()) } as *mut Entry;
        let n = 100_000;
        for i in 0..n {
            if i == cap {
                let old = Layout::array::<Entry>(cap).unwrap();
                cap *= 2;
                p = unsafe { a.realloc(p.cast(), old, cap * entry.size()) }.cast();
                assert!(!p.is_null());
            }
            unsafe { p.add(i).write(Entry([i as u64; 5])) };
        }
        for i in (0..n).step_by(997) {
            assert_eq!(unsafe { &*p.add(i) }, &Entry([i as u64; 5]));
        }
        unsafe { a.dealloc(p.cast(), Layout::array::<Entry>(cap).unwrap()) };
    }
}
