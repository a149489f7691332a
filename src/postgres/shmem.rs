//! Raw shared-memory regions sized by postmaster settings (pgrx's `PgLwLock<T>` needs a
//! size known at compile time; `autoassign.stats_max` and `autoassign.event_queue_size`
//! are read in `_PG_init`, as `pg_stat_statements.max` is).
//!
//! Each region gets its own named LWLock tranche with one lock. `register` is called from
//! `_PG_init` under shared_preload_libraries; the hooks request the space and attach it in
//! the postmaster, and forked backends inherit the pointers.

use pgrx::pg_sys;
use std::ffi::CStr;
use std::sync::Mutex;

/// One region: `init` runs once, in the postmaster, on zeroed memory.
#[derive(Clone, Copy)]
pub struct Region {
    pub name: &'static CStr,
    pub size: usize,
    pub init: unsafe fn(*mut u8),
    /// Filled by the startup hook.
    pub attach: unsafe fn(*mut u8, *mut pg_sys::LWLock),
}

static REGIONS: Mutex<Vec<Region>> = Mutex::new(Vec::new());
static mut PREV_REQUEST: pg_sys::shmem_request_hook_type = None;
static mut PREV_STARTUP: pg_sys::shmem_startup_hook_type = None;
static mut HOOKED: bool = false;

/// Adds a region; call only from `_PG_init` while preloading.
pub fn register(region: Region) {
    REGIONS
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .push(region);
    // SAFETY: _PG_init runs single-threaded in the postmaster.
    unsafe {
        if !HOOKED {
            HOOKED = true;
            PREV_REQUEST = pg_sys::shmem_request_hook;
            pg_sys::shmem_request_hook = Some(on_request);
            PREV_STARTUP = pg_sys::shmem_startup_hook;
            pg_sys::shmem_startup_hook = Some(on_startup);
        }
    }
}

fn regions() -> Vec<Region> {
    REGIONS.lock().unwrap_or_else(|e| e.into_inner()).clone()
}

#[pgrx::pg_guard]
unsafe extern "C-unwind" fn on_request() {
    unsafe {
        if let Some(prev) = PREV_REQUEST {
            prev();
        }
        for r in regions() {
            pg_sys::RequestAddinShmemSpace(r.size);
            pg_sys::RequestNamedLWLockTranche(r.name.as_ptr(), 1);
        }
    }
}

#[pgrx::pg_guard]
unsafe extern "C-unwind" fn on_startup() {
    unsafe {
        if let Some(prev) = PREV_STARTUP {
            prev();
        }
        let init_lock = &raw mut (*pg_sys::MainLWLockArray.add(21)).lock;
        pg_sys::LWLockAcquire(init_lock, pg_sys::LWLockMode::LW_EXCLUSIVE);
        for r in regions() {
            let mut found = false;
            let ptr = pg_sys::ShmemInitStruct(r.name.as_ptr(), r.size, &mut found).cast::<u8>();
            if !found {
                std::ptr::write_bytes(ptr, 0, r.size);
                (r.init)(ptr);
            }
            let lock = &raw mut (*pg_sys::GetNamedLWLockTranche(r.name.as_ptr())).lock;
            (r.attach)(ptr, lock);
        }
        pg_sys::LWLockRelease(init_lock);
    }
}

/// An exclusive (or shared) hold of a region's lock, released on drop, also on unwind.
pub struct Held(*mut pg_sys::LWLock);

impl Held {
    /// # Safety
    /// `lock` is a lock attached by `on_startup`.
    pub unsafe fn exclusive(lock: *mut pg_sys::LWLock) -> Held {
        unsafe { pg_sys::LWLockAcquire(lock, pg_sys::LWLockMode::LW_EXCLUSIVE) };
        Held(lock)
    }

    /// # Safety
    /// `lock` is a lock attached by `on_startup`.
    pub unsafe fn shared(lock: *mut pg_sys::LWLock) -> Held {
        unsafe { pg_sys::LWLockAcquire(lock, pg_sys::LWLockMode::LW_SHARED) };
        Held(lock)
    }
}

impl Drop for Held {
    fn drop(&mut self) {
        // SAFETY: acquired in the constructor. After an ERROR, PostgreSQL's abort
        // processing releases all LWLocks first; release only if still held.
        unsafe {
            if pg_sys::LWLockHeldByMe(self.0) {
                pg_sys::LWLockRelease(self.0);
            }
        }
    }
}
