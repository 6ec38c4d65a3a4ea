//! A per-input time limit, so that a hang fails the run instead of hanging CI.
//!
//! The fuzzing thread marks the start and end of each input (a counter that
//! is odd while an input runs) and keeps a copy of the input; a watchdog
//! thread polls. An input that has used more than `CPU_LIMIT` of the fuzzing
//! thread's CPU time, or that has been running for `WALL_LIMIT` (a call
//! blocked without using the CPU), is printed in hex and the process exits
//! with status 3. CPU time rather than wall time keeps the limit meaningful
//! on a loaded machine: a busy neighbour slows an input down, it does not
//! make it use more CPU.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

pub const CPU_LIMIT: Duration = Duration::from_secs(2);
pub const WALL_LIMIT: Duration = Duration::from_secs(30);
const POLL: Duration = Duration::from_millis(100);

/// Odd while an input runs; +1 at each start and each end.
static GENERATION: AtomicU64 = AtomicU64::new(0);
static INPUT: Mutex<(&'static str, Vec<u8>)> = Mutex::new(("", Vec::new()));

/// CPU time (user + system) the fuzzing thread has used, from /proc.
/// The fuzzing thread is the main thread, whose thread id is the process id.
fn fuzzing_thread_cpu() -> Option<Duration> {
    let stat = std::fs::read_to_string(format!("/proc/self/task/{}/stat", std::process::id())).ok()?;
    // The fields after the parenthesised command name; utime and stime are fields 14 and 15.
    let rest = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks: u64 = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    // USER_HZ is 100 on every Linux ABI this runs on.
    Some(Duration::from_millis(ticks * 10))
}

/// Starts the watchdog thread (once, before fuzzing).
pub fn start() {
    std::thread::spawn(|| {
        let mut seen = 0u64;
        let mut since = (Instant::now(), fuzzing_thread_cpu());
        loop {
            std::thread::sleep(POLL);
            let g = GENERATION.load(Ordering::Acquire);
            if g.is_multiple_of(2) || g != seen {
                // Idle, or a new input since the last look: start measuring it now.
                seen = g;
                since = (Instant::now(), fuzzing_thread_cpu());
                continue;
            }
            let wall = since.0.elapsed();
            let cpu = match (since.1, fuzzing_thread_cpu()) {
                (Some(a), Some(b)) => b.saturating_sub(a),
                _ => wall,
            };
            if cpu > CPU_LIMIT || wall > WALL_LIMIT {
                let input = INPUT.lock().unwrap_or_else(|p| p.into_inner());
                println!(
                    "fuzz FAILED {}: one input ran for over {:.1} s of CPU ({:.1} s wall); the limit is {} s. Input (hex):\n{}",
                    input.0,
                    cpu.as_secs_f64(),
                    wall.as_secs_f64(),
                    CPU_LIMIT.as_secs(),
                    crate::hex(&input.1)
                );
                std::process::exit(3);
            }
        }
    });
}

/// Runs `f` on `input` under the time limit.
pub fn timed<T>(target: &'static str, input: &[u8], f: impl FnOnce() -> T) -> T {
    {
        let mut slot = INPUT.lock().unwrap_or_else(|p| p.into_inner());
        slot.0 = target;
        slot.1.clear();
        slot.1.extend_from_slice(input);
    }
    GENERATION.fetch_add(1, Ordering::AcqRel);
    let out = f();
    GENERATION.fetch_add(1, Ordering::AcqRel);
    out
}
