//! The SQLite backend: bad input, crashes, the fast start, foreign keys, the lock taken
//! at open, the work a run does, and the start-up read.
//!
//! One test binary, so one registry: the modules register their migrations explicitly
//! and each uses a version range of its own (1-3 start, 301-330 work_counts, 501-530
//! crash, 701-705 bad_input, 900-907 foreign_keys, 951-960 fast_start), which the
//! duplicate-version guard keeps apart at compile time; lock_at_open's 901 is in a set
//! named after the module.

mod bad_input;
mod crash;
mod fast_start;
mod foreign_keys;
mod lock_at_open;
mod start;
mod work_counts;
