//! The event-loop bridge: slow pure-Rust work (key generation) runs on a
//! thread of Janet's event loop while the calling fiber waits and every
//! other fiber keeps running.
//!
//! A cfunction body returns a [`Deferred`]: the work (a `Send` closure over
//! plain Rust data) and how to finish (a closure that runs back on the
//! interpreter's thread with the work's output and makes the Janet value the
//! call returns). The edge ([`super::edge`]) then hands the work to
//! `janet_ev_threaded_call` and suspends the fiber with `janet_await`, as
//! Janet's own `janet_ev_threaded_await` does; when the work is done, the
//! event loop calls [`done`] on the interpreter's thread, which finishes and
//! resumes the fiber with the value, or with the error raised at the call.
//!
//! What crosses threads: [`Crossing`], checked `Send` by the compiler. No
//! Janet value, no borrowed CA, nothing of the interpreter's goes with it;
//! what the finishing step needs ([`Home`]: Janet values, the waiting fiber)
//! stays behind, reachable only through a pointer the pool thread moves but
//! never follows.
//!
//! Janet creates a thread per call (detached; Janet 1.36 to 1.41 alike), and
//! keeps the event loop (and the process) alive until the work is back.
//! The Janet API used here is the same in the headers of 1.36.0, 1.37.1 and
//! 1.41.2 (`JanetEVGenericMessage`, `janet_ev_threaded_call`, `janet_await`,
//! `janet_schedule_signal`, `JanetFiber::sched_id`): no gate in build.rs.

use std::any::Any;
use std::panic::{catch_unwind, AssertUnwindSafe};

use janetrs::lowlevel as raw;
use janetrs::Janet;

use crate::core::error::{CaError, CaResult};

use super::values::janet_string;

/// Janet's private `JANET_FIBER_FLAG_ROOT` (a bit of `JanetFiber.gc.flags`):
/// set on every fiber the event loop schedules, i.e. its tasks. 0x40000 in
/// the sources of Janet 1.36.0, 1.37.1 and 1.41.2.
const FIBER_FLAG_ROOT: i32 = 0x40000;

/// The work's output, as it travels back.
type Output = Box<dyn Any + Send>;

/// What a cfunction hands the edge to run on the event loop's thread.
pub struct Deferred {
    crossing: Box<Crossing>,
}

/// What the pool thread gets: pure Rust.
struct Crossing {
    work: Option<Box<dyn FnOnce() -> Output + Send>>,
    /// Written by the pool thread: the output, or the panic it caught.
    output: Option<std::thread::Result<Output>>,
    home: HomePtr,
}

/// The interpreter's side of a job, behind a pointer that only the
/// interpreter's thread dereferences.
struct HomePtr(*mut Home);

// SAFETY: the pool thread only carries the pointer back (in `Crossing`); it is
// dereferenced on the interpreter's thread alone, in `settle`.
unsafe impl Send for HomePtr {}

const _: () = {
    const fn crosses_threads<T: Send>() {}
    crosses_threads::<Crossing>();
};

/// What stays on the interpreter's thread.
struct Home {
    finish: Box<dyn FnOnce(Output) -> CaResult<Janet>>,
    waiter: Waiter,
    /// Janet values the finishing step uses (the CA), GC roots until then.
    anchors: Vec<raw::Janet>,
}

/// The fiber a call suspends: the event-loop task at the root of the chain of
/// fibers the call runs in, and the fiber that made the call.
#[derive(Clone, Copy)]
struct Waiter {
    root: *mut raw::JanetFiber,
    caller: *mut raw::JanetFiber,
    /// `root`'s schedule count when it started waiting: the event loop bumps
    /// it whenever the task is resumed, so a change means it no longer waits
    /// for this job (cancelled with ev/cancel, or the wait was refused).
    sched_id: u32,
}

impl Deferred {
    /// Work for a thread of the event loop, and how to finish once it is back.
    ///
    /// `work` runs on another thread: it gets only what it captures (plain
    /// Rust data, `Send`). `finish` runs on the interpreter's thread with the
    /// output, before the waiting fiber resumes, and only if it still waits;
    /// `anchors` (e.g. the CA argument it will use) stay alive until then.
    ///
    /// Errors ([CA:CONFIG]) when the calling fiber cannot wait on the event
    /// loop; then nothing has run.
    pub fn new<T: Send + 'static>(
        what: &str,
        work: impl FnOnce() -> T + Send + 'static,
        finish: impl FnOnce(T) -> CaResult<Janet> + 'static,
        anchors: &[&Janet],
    ) -> CaResult<Deferred> {
        let waiter = Waiter::current(what)?;
        let finish = move |output: Output| match output.downcast::<T>() {
            Ok(t) => finish(*t),
            Err(_) => Err(internal_error()),
        };
        let home = Box::new(Home {
            finish: Box::new(finish),
            waiter,
            anchors: anchors.iter().map(|a| a.raw_data()).collect(),
        });
        let crossing = Crossing {
            work: Some(Box::new(move || Box::new(work()) as Output)),
            output: None,
            home: HomePtr(Box::into_raw(home)),
        };
        Ok(Deferred { crossing: Box::new(crossing) })
    }

    /// Gives the job up to a raw pointer for [`start`]: no value with a
    /// destructor is left behind.
    pub(super) fn into_raw(self) -> *mut std::ffi::c_void {
        Box::into_raw(self.crossing) as *mut std::ffi::c_void
    }
}

impl Drop for Crossing {
    fn drop(&mut self) {
        if !self.home.0.is_null() {
            // SAFETY: `home` came from Box::into_raw in `Deferred::new` and is
            // taken (set to NULL) by `settle`; otherwise it is freed here, once.
            drop(unsafe { Box::from_raw(self.home.0) });
        }
    }
}

impl Waiter {
    /// The calling fiber, if an await from here reaches the event loop and
    /// comes back: the root fiber is an event-loop task, and every fiber from
    /// it down to the caller passes the await signal up (none catches it).
    fn current(what: &str) -> CaResult<Waiter> {
        // SAFETY: plain reads of the interpreter's current state, on its thread.
        let (root, caller) = unsafe { (raw::janet_root_fiber(), raw::janet_current_fiber()) };
        if root.is_null() || caller.is_null() {
            return Err(CaError::config(format!("{what} must be called from a fiber")));
        }
        // SAFETY: both are live fibers (the one running this call and its root).
        unsafe {
            if (*root).gc.flags & FIBER_FLAG_ROOT == 0 {
                return Err(CaError::config(format!(
                    "{what} waits on the event loop, but runs in a fiber no event loop schedules \
                     (a host that runs Janet code without ev); call it from an event-loop task, or use the \
                     synchronous form"
                )));
            }
            let mut fiber = root;
            while fiber != caller {
                let child = (*fiber).child;
                if child.is_null() {
                    return Err(CaError::config(format!(
                        "{what} cannot wait on the event loop from Janet code that C code calls \
                         (such as an OCSP status function); use the synchronous form there"
                    )));
                }
                if (*child).flags & (1 << raw::JanetSignal_JANET_SIGNAL_EVENT) != 0 {
                    return Err(CaError::config(format!(
                        "{what} cannot wait on the event loop inside a fiber that catches its await \
                         signal (fiber/new with :a, :u or :w); use the synchronous form there"
                    )));
                }
                fiber = child;
            }
            Ok(Waiter { root, caller, sched_id: (*root).sched_id })
        }
    }

    /// Whether the task still waits for this job: not resumed since, still
    /// resumable, and the calling fiber still at the end of its chain.
    ///
    /// # Safety
    /// On the interpreter's thread; `root` and `caller` are GC roots.
    unsafe fn still_waiting(&self) -> bool {
        // SAFETY: the caller's contract: both fibers are alive.
        unsafe {
            if (*self.root).sched_id != self.sched_id
                || (*self.root).gc.flags & FIBER_FLAG_ROOT == 0
                || raw::janet_fiber_can_resume(self.root) == 0
            {
                return false;
            }
            let mut fiber = self.root;
            while !(*fiber).child.is_null() {
                fiber = (*fiber).child;
            }
            fiber == self.caller
        }
    }
}

fn internal_error() -> CaError {
    CaError::resource("internal error in jsec/ca (a bug: please report it); the CA is unchanged")
}

/// Starts the job on a thread of the event loop and suspends the calling
/// fiber until [`done`] resumes it.
///
/// # Safety
/// Called by the edge from the cfunction's outermost frame, on the
/// interpreter's thread, with a pointer from [`Deferred::into_raw`] made in
/// this very call: no value with a destructor is alive in the frames the
/// await jumps over.
pub(super) unsafe fn start(job: *mut std::ffi::c_void) -> ! {
    // SAFETY: `job` is a Crossing (Deferred::into_raw); its home is alive until `done`.
    let waiter = unsafe { (*(*(job as *mut Crossing)).home.0).waiter };
    let message = raw::JanetEVGenericMessage {
        tag: 0,
        argi: 0,
        argp: job,
        argj: Janet::nil().raw_data(),
        fiber: waiter.root,
    };
    // SAFETY: `work` runs on the new thread and touches only the Crossing; `done`
    // runs later on this thread, from the event loop. If the thread cannot be
    // created Janet raises an error here, before any root is taken (the job's
    // memory, holding no key yet, is then lost).
    unsafe {
        raw::janet_ev_threaded_call(Some(work), message, Some(done));
        raw::janet_gcroot(raw::janet_wrap_fiber(waiter.root));
        raw::janet_gcroot(raw::janet_wrap_fiber(waiter.caller));
        for anchor in &(*(*(job as *mut Crossing)).home.0).anchors {
            raw::janet_gcroot(*anchor);
        }
        raw::janet_await()
    }
}

/// The pool thread: runs the work, keeps its output (or its panic).
unsafe extern "C-unwind" fn work(message: raw::JanetEVGenericMessage) -> raw::JanetEVGenericMessage {
    let crossing = message.argp as *mut Crossing;
    // SAFETY: the Crossing `start` handed over; the interpreter's thread does not
    // touch it until this function has returned and `done` runs.
    let crossing = unsafe { &mut *crossing };
    if let Some(work) = crossing.work.take() {
        crossing.output = Some(catch_unwind(AssertUnwindSafe(work)));
    }
    message
}

/// Back on the interpreter's thread (the event loop calls it): finishes the
/// job and resumes the waiting fiber with the value, or the error to raise.
/// Raises no Janet error and lets no panic out: this runs outside any fiber.
unsafe extern "C-unwind" fn done(message: raw::JanetEVGenericMessage) {
    let settled = catch_unwind(AssertUnwindSafe(|| {
        // SAFETY: the Crossing `start` handed over, back from the pool thread.
        unsafe { settle(message.argp as *mut Crossing) }
    }));
    // Every Rust value of the job is dropped by now.
    if let Ok(Some((root, outcome))) = settled {
        // SAFETY: `root` is a task fiber that waits for this job (checked in
        // `settle`); scheduling it raises no error.
        unsafe {
            match outcome {
                Ok(value) => raw::janet_schedule(root, value),
                Err(error) => raw::janet_schedule_signal(root, error, raw::JanetSignal_JANET_SIGNAL_ERROR),
            }
        }
    }
}

/// Frees the job and, if its fiber still waits, finishes it: the fiber and
/// its value (or error message).
///
/// # Safety
/// `crossing` is the job `start` handed to the event loop, back from `work`.
unsafe fn settle(crossing: *mut Crossing) -> Option<(*mut raw::JanetFiber, Result<raw::Janet, raw::Janet>)> {
    // SAFETY: from Box::into_raw in `Deferred::into_raw`; freed here, once.
    let mut crossing = unsafe { Box::from_raw(crossing) };
    // SAFETY: from Box::into_raw in `Deferred::new`; taken once (NULL stops Crossing's drop).
    let home = unsafe { Box::from_raw(std::mem::replace(&mut crossing.home.0, std::ptr::null_mut())) };
    let Home { finish, waiter, anchors } = *home;
    // SAFETY: the roots `start` took, given back once each.
    unsafe {
        for anchor in &anchors {
            raw::janet_gcunroot(*anchor);
        }
        raw::janet_gcunroot(raw::janet_wrap_fiber(waiter.caller));
        raw::janet_gcunroot(raw::janet_wrap_fiber(waiter.root));
    }
    // Janet collects garbage only when Janet code runs, not in between: the
    // fibers and anchors stay valid until this callback returns.
    // SAFETY: on the interpreter's thread; the fibers are alive (see above).
    if !unsafe { waiter.still_waiting() } {
        // Nobody waits (cancelled): nothing is finished; the output is dropped.
        return None;
    }
    let outcome = catch_unwind(AssertUnwindSafe(|| match crossing.output.take() {
        Some(Ok(output)) => finish(output),
        _ => Err(internal_error()),
    }));
    let outcome = match outcome {
        Ok(Ok(value)) => Ok(value.raw_data()),
        Ok(Err(err)) => Err(janet_string(&err.to_string())),
        Err(_) => Err(janet_string(&internal_error().to_string())),
    };
    Some((waiter.root, outcome))
}
