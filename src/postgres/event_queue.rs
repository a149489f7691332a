//! The shared-memory event queue (issue 12): planner events (`auto_assign.quote`,
//! `auto_assign.timeout`) leave the caller's transaction as fixed-size records, so they
//! survive a rollback or a cancel, and cost the caller a memcpy under one LWLock instead
//! of an INSERT.
//!
//! Layout: a pool of `autoassign.event_queue_size` slots and one FIFO list per database
//! (a *lane*, at most `MAX_DBS`). `push` never waits for the writer: with no free slot
//! the record is counted as dropped. The writer (`event_writer`) takes a lane's records
//! in batches; what it took but had not committed when it died is counted as lost.

use super::shmem::{self, Held};
use super::stats::{self, Key, REASON_LEN, SOURCE_LEN};
use pgrx::pg_sys;
use std::sync::atomic::{AtomicBool, Ordering};

/// Databases with a lane; a further database's events are written synchronously.
pub const MAX_DBS: usize = 64;
/// Bytes of JSON text per record: the strategy's text, then the payload's.
pub const JSON_LEN: usize = 1200;
const NIL: u32 = u32::MAX;

pub const KIND_QUOTE: u8 = 1;
pub const KIND_TIMEOUT: u8 = 2;

/// One event, fixed size (about 1.3 KiB).
#[derive(Clone, Copy)]
#[repr(C)]
pub struct Record {
    /// When it happened (PostgreSQL microseconds since 2000-01-01), becomes events.at.
    pub at: i64,
    pub duration_us: i64,
    pub restaurant: [u8; 16],
    pub booking: [u8; 16],
    /// bit 0 restaurant, bit 1 booking, bit 2 duration
    pub present: u8,
    /// 0 NULL, 1 false, 2 true
    pub success: u8,
    pub kind: u8,
    pub source: [u8; SOURCE_LEN],
    pub reason: [u8; REASON_LEN],
    /// The reason of the stats key the event is counted on.
    pub stats_reason: [u8; REASON_LEN],
    /// `json[..strategy_len]` is the strategy, the next `payload_len` bytes the
    /// payload; 0 bytes means NULL.
    pub strategy_len: u16,
    pub payload_len: u16,
    pub json: [u8; JSON_LEN],
}

impl Default for Record {
    fn default() -> Self {
        Record {
            at: 0,
            duration_us: 0,
            restaurant: [0; 16],
            booking: [0; 16],
            present: 0,
            success: 0,
            kind: 0,
            source: [0; SOURCE_LEN],
            reason: [0; REASON_LEN],
            stats_reason: [0; REASON_LEN],
            strategy_len: 0,
            payload_len: 0,
            json: [0; JSON_LEN],
        }
    }
}

impl Record {
    /// The strategy and payload JSON texts (None for NULL).
    pub fn json_texts(&self) -> (Option<&str>, Option<&str>) {
        let s = (self.strategy_len as usize).min(JSON_LEN);
        let p = (self.payload_len as usize).min(JSON_LEN - s);
        fn text(b: &[u8]) -> Option<&str> {
            (!b.is_empty()).then(|| std::str::from_utf8(b).unwrap_or("null"))
        }
        (text(&self.json[..s]), text(&self.json[s..s + p]))
    }

    pub fn stats_key(&self, db: u32) -> Key {
        Key {
            db,
            restaurant: self.restaurant,
            source: self.source,
            reason: self.stats_reason,
        }
    }
}

#[repr(C)]
struct Slot {
    next: u32,
    rec: Record,
}

/// Counters of one database, as the stats view shows them.
#[derive(Clone, Copy, Default, Debug)]
#[repr(C)]
pub struct Lane {
    pub db: u32,
    head: u32,
    tail: u32,
    /// records waiting in the queue
    pub len: u32,
    /// last push (ms since the epoch): an idle lane unused the longest is recycled
    last_push_ms: i64,
    /// records taken by the writer, not yet committed
    pub in_flight: u32,
    pub writer_pid: i32,
    writer_latch: usize,
    /// when the launcher last started a writer (ms since the epoch)
    pub starting_ms: i64,
    /// writers started in a row that never claimed the lane (database dropped?)
    start_failures: u32,
    pub enqueued: u64,
    pub written: u64,
    pub dropped: u64,
    pub lost: u64,
    pub standby: u64,
    pub written_sync: u64,
    pub log_lines: u64,
    pub log_suppressed: u64,
}

#[repr(C)]
struct Header {
    capacity: u32,
    free_head: u32,
    launcher_pid: i32,
    launcher_latch: usize,
    batch_size: u32,
    /// events of databases beyond MAX_DBS, written synchronously
    no_lane: u64,
    lanes: [Lane; MAX_DBS],
}

static ENABLED: AtomicBool = AtomicBool::new(false);
static mut BASE: *mut u8 = std::ptr::null_mut();
static mut LOCK: *mut pg_sys::LWLock = std::ptr::null_mut();
static mut CAPACITY: usize = 0;
static mut BATCH: u32 = 0;

fn slots_at() -> usize {
    std::mem::size_of::<Header>().next_multiple_of(64)
}

fn region_size(capacity: usize) -> usize {
    slots_at() + capacity * std::mem::size_of::<Slot>()
}

unsafe fn init_region(ptr: *mut u8) {
    unsafe {
        let header = &mut *ptr.cast::<Header>();
        header.capacity = CAPACITY as u32;
        header.batch_size = BATCH;
        header.free_head = if CAPACITY > 0 { 0 } else { NIL };
        let slots = ptr.add(slots_at()).cast::<Slot>();
        for i in 0..CAPACITY {
            (*slots.add(i)).next = if i + 1 < CAPACITY { i as u32 + 1 } else { NIL };
        }
        for lane in header.lanes.iter_mut() {
            lane.head = NIL;
            lane.tail = NIL;
        }
    }
}

unsafe fn attach_region(ptr: *mut u8, lock: *mut pg_sys::LWLock) {
    unsafe {
        BASE = ptr;
        LOCK = lock;
    }
    ENABLED.store(true, Ordering::Relaxed);
}

/// Called from `_PG_init` while preloading: `capacity` records, writer woken at `batch`.
pub fn init_shared_memory(capacity: usize, batch: u32) {
    // SAFETY: _PG_init, single-threaded.
    unsafe {
        CAPACITY = capacity;
        BATCH = batch;
    }
    shmem::register(shmem::Region {
        name: c"pg_autoassign_events",
        size: region_size(capacity),
        init: init_region,
        attach: attach_region,
    });
}

/// True when the library was preloaded: the queue exists.
pub fn enabled() -> bool {
    ENABLED.load(Ordering::Relaxed)
}

struct Queue {
    header: &'static mut Header,
    slots: *mut Slot,
    _held: Held,
}

fn lock(exclusive: bool) -> Queue {
    // SAFETY: callers check enabled(); the region was laid out by init_region.
    unsafe {
        let held = if exclusive {
            Held::exclusive(LOCK)
        } else {
            Held::shared(LOCK)
        };
        Queue {
            header: &mut *BASE.cast::<Header>(),
            slots: BASE.add(slots_at()).cast::<Slot>(),
            _held: held,
        }
    }
}

impl Queue {
    fn slot(&mut self, i: u32) -> &mut Slot {
        debug_assert!(i < self.header.capacity);
        // SAFETY: i < capacity; the lock is held.
        unsafe { &mut *self.slots.add(i as usize) }
    }

    fn lane(&mut self, db: u32, create: bool) -> Option<usize> {
        if let Some(i) = self.header.lanes.iter().position(|l| l.db == db) {
            return Some(i);
        }
        if !create {
            return None;
        }
        // a free lane, else the idle one unused the longest (a dropped database's, most
        // likely; its counters go with it)
        let i = self
            .header
            .lanes
            .iter()
            .position(|l| l.db == 0)
            .or_else(|| {
                self.header
                    .lanes
                    .iter()
                    .enumerate()
                    .filter(|(_, l)| l.len == 0 && l.in_flight == 0 && l.writer_pid == 0)
                    .min_by_key(|(_, l)| l.last_push_ms)
                    .map(|(i, _)| i)
            })?;
        self.header.lanes[i] = Lane {
            db,
            head: NIL,
            tail: NIL,
            ..Lane::default()
        };
        Some(i)
    }
}

fn set_latch(latch: usize) {
    if latch != 0 {
        // SAFETY: a latch inside a PGPROC, which lives in shared memory for the
        // postmaster's lifetime; setting a stale one only causes a spurious wake-up.
        unsafe { pg_sys::SetLatch(latch as *mut pg_sys::Latch) };
    }
}

/// What `push` did with a record.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Pushed {
    Queued,
    /// No free slot: counted as dropped.
    Full,
    /// More than MAX_DBS databases: write it synchronously.
    NoLane,
}

/// Appends a record to the current database's lane. Never waits for the writer; wakes
/// it when a batch is ready, or the launcher when the database has no writer.
pub fn push(rec: &Record) -> Pushed {
    let db = stats::current_db();
    let (pushed, wake) = {
        let mut q = lock(true);
        let Some(li) = q.lane(db, true) else {
            q.header.no_lane += 1;
            return Pushed::NoLane;
        };
        let free = q.header.free_head;
        if free == NIL {
            q.header.lanes[li].dropped += 1;
            return Pushed::Full;
        }
        let next_free = q.slot(free).next;
        q.header.free_head = next_free;
        let slot = q.slot(free);
        slot.next = NIL;
        slot.rec = *rec;
        let tail = q.header.lanes[li].tail;
        if tail == NIL {
            q.header.lanes[li].head = free;
        } else {
            q.slot(tail).next = free;
        }
        let batch = q.header.batch_size;
        let launcher = q.header.launcher_latch;
        let lane = &mut q.header.lanes[li];
        lane.tail = free;
        lane.len += 1;
        lane.enqueued += 1;
        lane.last_push_ms = rec.at / 1000;
        let wake = if lane.writer_pid == 0 {
            launcher
        } else if lane.len >= batch {
            lane.writer_latch
        } else {
            0
        };
        (Pushed::Queued, wake)
    };
    set_latch(wake);
    pushed
}

/// Moves up to `max` records of `db` into `out` and marks them in flight.
pub fn take(db: u32, max: usize, out: &mut Vec<Record>) -> usize {
    out.clear();
    let mut q = lock(true);
    let Some(li) = q.lane(db, false) else {
        return 0;
    };
    while out.len() < max {
        let head = q.header.lanes[li].head;
        if head == NIL {
            break;
        }
        let free_head = q.header.free_head;
        let slot = q.slot(head);
        out.push(slot.rec);
        let next = slot.next;
        slot.next = free_head;
        q.header.free_head = head;
        let lane = &mut q.header.lanes[li];
        lane.head = next;
        if next == NIL {
            lane.tail = NIL;
        }
        lane.len -= 1;
    }
    q.header.lanes[li].in_flight = out.len() as u32;
    out.len()
}

/// The batch taken last was committed (`written = true`) or died with its transaction.
pub fn batch_done(db: u32, n: usize, written: bool) {
    let mut q = lock(true);
    if let Some(li) = q.lane(db, false) {
        let lane = &mut q.header.lanes[li];
        lane.in_flight = 0;
        if written {
            lane.written += n as u64;
        } else {
            lane.lost += n as u64;
        }
    }
}

/// Registers the calling process as `db`'s writer. False if another one is alive.
pub fn claim_writer(db: u32) -> bool {
    // SAFETY: plain reads of this process's globals.
    let (pid, latch) = unsafe { (pg_sys::MyProcPid, &raw mut (*pg_sys::MyProc).procLatch) };
    let mut q = lock(true);
    let Some(li) = q.lane(db, true) else {
        return false;
    };
    let lane = &mut q.header.lanes[li];
    if lane.writer_pid != 0 && lane.writer_pid != pid && process_alive(lane.writer_pid) {
        return false;
    }
    // a batch a dead writer had taken is gone
    lane.lost += u64::from(lane.in_flight);
    lane.in_flight = 0;
    lane.writer_pid = pid;
    lane.writer_latch = latch as usize;
    lane.starting_ms = 0;
    lane.start_failures = 0;
    true
}

/// The writer leaves; an uncommitted batch is counted lost. Returns false (and stays)
/// if records arrived meanwhile, unless `force`.
pub fn release_writer(db: u32, force: bool) -> bool {
    // SAFETY: plain global read.
    let pid = unsafe { pg_sys::MyProcPid };
    let mut q = lock(true);
    if let Some(li) = q.lane(db, false) {
        let lane = &mut q.header.lanes[li];
        if lane.writer_pid == pid {
            if lane.len > 0 && !force {
                return false;
            }
            lane.lost += u64::from(lane.in_flight);
            lane.in_flight = 0;
            lane.writer_pid = 0;
            lane.writer_latch = 0;
        }
    }
    true
}

fn process_alive(pid: i32) -> bool {
    // SAFETY: kill with signal 0 only checks that the process exists.
    pid > 0 && unsafe { libc_kill(pid, 0) } == 0
}

extern "C" {
    #[link_name = "kill"]
    fn libc_kill(pid: i32, sig: i32) -> i32;
}

/// The launcher announces itself so pushes can wake it.
pub fn set_launcher(present: bool) {
    // SAFETY: plain reads of this process's globals.
    let (pid, latch) = unsafe { (pg_sys::MyProcPid, &raw mut (*pg_sys::MyProc).procLatch) };
    let q = lock(true);
    if present {
        q.header.launcher_pid = pid;
        q.header.launcher_latch = latch as usize;
    } else if q.header.launcher_pid == pid {
        q.header.launcher_pid = 0;
        q.header.launcher_latch = 0;
    }
}

/// Databases whose records wait with no live writer and no writer starting in the last
/// `grace_ms`; marks them as starting. A dead writer's in-flight batch is counted lost.
pub fn databases_needing_writer(now_ms: i64, grace_ms: i64) -> Vec<u32> {
    let mut q = lock(true);
    let mut out = Vec::new();
    for lane in q.header.lanes.iter_mut().filter(|l| l.db != 0) {
        if lane.writer_pid != 0 && !process_alive(lane.writer_pid) {
            lane.lost += u64::from(lane.in_flight);
            lane.in_flight = 0;
            lane.writer_pid = 0;
            lane.writer_latch = 0;
        }
        if lane.len > 0 && lane.writer_pid == 0 && now_ms - lane.starting_ms > grace_ms {
            if lane.starting_ms != 0 {
                lane.start_failures += 1;
            }
            lane.starting_ms = now_ms;
            out.push(lane.db);
        }
    }
    // a database whose writers keep failing to start (dropped, or not accepting
    // connections): its records are discarded and counted as lost
    let failing: Vec<usize> = (0..MAX_DBS)
        .filter(|&i| q.header.lanes[i].start_failures >= 3)
        .collect();
    for li in failing {
        let db = q.header.lanes[li].db;
        out.retain(|&d| d != db);
        while q.header.lanes[li].head != NIL {
            let head = q.header.lanes[li].head;
            let free_head = q.header.free_head;
            let slot = q.slot(head);
            let next = slot.next;
            slot.next = free_head;
            q.header.free_head = head;
            q.header.lanes[li].head = next;
        }
        let lane = &mut q.header.lanes[li];
        lane.tail = NIL;
        lane.lost += u64::from(lane.len);
        lane.len = 0;
        lane.start_failures = 0;
        lane.starting_ms = 0;
    }
    out
}

/// The launcher could not register a writer for `db` (no free background-worker slot):
/// not a failed start of the database, so it is simply tried again at the next tick.
pub fn writer_not_registered(db: u32) {
    let mut q = lock(true);
    if let Some(li) = q.lane(db, false) {
        q.header.lanes[li].starting_ms = 0;
    }
}

/// Wakes `db`'s writer (or the launcher) now, whatever the batch size.
pub fn wake(db: u32) {
    let latch = {
        let mut q = lock(false);
        let launcher = q.header.launcher_latch;
        match q.lane(db, false) {
            Some(li) if q.header.lanes[li].writer_latch != 0 => q.header.lanes[li].writer_latch,
            _ => launcher,
        }
    };
    set_latch(latch);
}

/// The current database's counters (zeros if it never queued).
pub fn lane_snapshot(db: u32) -> Lane {
    if !enabled() {
        return Lane::default();
    }
    let mut q = lock(false);
    q.lane(db, false)
        .map(|li| q.header.lanes[li])
        .unwrap_or_default()
}

/// Bumps one of the current database's counters, creating its lane if needed.
pub fn count(what: fn(&mut Lane)) {
    let db = stats::current_db();
    // db 0: the launcher (connected to no database); 0 also marks a free lane
    if !enabled() || db == 0 {
        return;
    }
    let mut q = lock(true);
    if let Some(li) = q.lane(db, true) {
        what(&mut q.header.lanes[li]);
    }
}

/// The launcher's pid, if it runs.
pub fn launcher_pid() -> Option<i32> {
    if !enabled() {
        return None;
    }
    let q = lock(false);
    (q.header.launcher_pid != 0).then_some(q.header.launcher_pid)
}

/// Queue-wide figures: (capacity, free slots, records of databases without a lane).
pub fn totals() -> (i64, i64, i64) {
    if !enabled() {
        return (0, 0, 0);
    }
    let q = lock(false);
    let used: u64 = q.header.lanes.iter().map(|l| u64::from(l.len)).sum();
    (
        i64::from(q.header.capacity),
        i64::from(q.header.capacity) - used as i64,
        q.header.no_lane as i64,
    )
}
