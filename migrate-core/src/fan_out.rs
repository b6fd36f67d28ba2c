//! One migrator over many databases: `jobs` workers, each opening one target at a time,
//! running the work on it (its own lock, its own history, one transaction per migration)
//! and closing it before taking the next; what happens comes back to the calling thread
//! as [`Event`]s.
//!
//! Memory is bounded by the number of workers: the targets are taken from the iterator
//! as workers free up, a target's database is closed before the next is opened, and a
//! target that succeeded leaves only a count behind; a failed one is kept, with its
//! error, for the [`Summary`].

use core::time::Duration;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError, mpsc};
use std::time::Instant;

use crate::error::Error;
use crate::manager::Migrator;
use crate::report::StepReport;

/// Runs a [`Migrator`] over many databases at once; see [`Migrator::fan_out`].
#[derive(Clone, Debug)]
#[must_use = "a fan-out does nothing until `run` is called"]
pub struct FanOut<'m> {
    migrator: &'m Migrator,
    jobs: usize,
    fail_fast: bool,
    stop: Option<&'m AtomicBool>,
}

/// What a fan-out reports while it runs, on the thread that called
/// [`FanOut::run`].
#[derive(Debug)]
#[non_exhaustive]
pub enum Event<'a, T, R> {
    /// A worker took this target and is opening it.
    Started(&'a T),
    /// A target is done, successfully or not; its database is closed.
    Finished(&'a Outcome<T, R>),
}

/// How one target ended.
#[derive(Debug)]
#[non_exhaustive]
pub struct Outcome<T, R> {
    /// The target, as the iterator gave it.
    pub target: T,
    /// What the work returned, or why the target failed: it could not be opened, a
    /// migration failed (rolled back), the run was refused, the lock was not granted in
    /// time. Each migration is its own transaction, so a failed target keeps the
    /// migrations committed before the failure, and no other target is affected.
    pub result: Result<R, Error>,
    /// The migrations committed on this target, in order, also when a later one failed.
    pub committed: Vec<StepReport>,
    /// How long the target took, opening included.
    pub elapsed: Duration,
}

/// A target that failed, as [`Summary::failed`] lists it.
#[derive(Debug)]
#[non_exhaustive]
pub struct Failed<T> {
    /// The target.
    pub target: T,
    /// Why it failed.
    pub error: Error,
    /// The migrations committed on it before the failure.
    pub committed: Vec<StepReport>,
}

/// What a fan-out did, once every worker has finished.
#[derive(Debug)]
#[non_exhaustive]
pub struct Summary<T> {
    /// The targets whose work succeeded.
    pub succeeded: usize,
    /// The targets that failed, in the order they finished.
    pub failed: Vec<Failed<T>>,
    /// The targets never started: after a failure with
    /// [`fail_fast`](FanOut::fail_fast), or once the stop flag was set.
    pub not_started: usize,
    /// Whether the stop flag ([`FanOut::stop_when`]) ended the run early.
    pub stopped: bool,
}

impl<T> Summary<T> {
    /// Whether every target was started and succeeded.
    pub fn is_success(&self) -> bool {
        self.failed.is_empty() && self.not_started == 0 && !self.stopped
    }
}

impl Migrator {
    /// Runs this migrator over many databases at once, each with its own lock and
    /// history: a slow or failing target never blocks or rolls back another.
    ///
    /// ```rust,standalone_crate
    /// use migrate_core::{migration, BoxError, Db, Migration, Migrator};
    /// use migrate_sqlite::Sqlite;
    ///
    /// #[migration(version = 1, description = "Create notes", irreversible)]
    /// pub struct CreateNotes;
    /// impl Migration for CreateNotes {
    ///     fn up(&self, db: &mut dyn Db) -> Result<(), BoxError> {
    ///         db.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)")
    ///     }
    /// }
    ///
    /// fn main() -> Result<(), migrate_core::Error> {
    ///     let dir = tempfile::tempdir().unwrap();
    ///     let tenants: Vec<_> = (1..=20).map(|i| dir.path().join(format!("tenant{i}.db"))).collect();
    ///     let migrator = Migrator::discovered()?;
    ///     let summary = migrator.fan_out().jobs(4).run(
    ///         tenants,
    ///         |path| Sqlite::open(path),
    ///         |migrator, db| migrator.to_latest(db),
    ///         |_event| {},
    ///     );
    ///     assert_eq!(summary.succeeded, 20);
    ///     assert!(summary.is_success());
    ///     Ok(())
    /// }
    /// ```
    pub fn fan_out(&self) -> FanOut<'_> {
        FanOut {
            migrator: self,
            jobs: std::thread::available_parallelism().map_or(1, usize::from),
            fail_fast: false,
            stop: None,
        }
    }
}

/// What a worker sends back to the calling thread.
enum Message<T, R> {
    Started(T),
    Finished(Outcome<T, R>),
}

impl<'m> FanOut<'m> {
    /// How many targets are worked on at once (at least 1) [default: the number of
    /// CPUs]. SQLite targets wait on the disk more than on the CPU, so more workers than
    /// CPUs can still help; each PostgreSQL worker holds one connection.
    pub fn jobs(mut self, jobs: usize) -> Self {
        self.jobs = jobs.max(1);
        self
    }

    /// Stop taking new targets once one has failed; those being worked on finish (each
    /// migration is its own transaction, so none is left half-migrated).
    pub fn fail_fast(mut self, on: bool) -> Self {
        self.fail_fast = on;
        self
    }

    /// Stop taking new targets once `flag` is set (from a Ctrl-C handler, say); those
    /// being worked on finish. [`Summary::stopped`] then says so.
    pub fn stop_when(mut self, flag: &'m AtomicBool) -> Self {
        self.stop = Some(flag);
        self
    }

    /// Takes each target from `targets` as a worker frees up, opens it with `open`, runs
    /// `work` on it with the migrator and closes it; calls `on_event` on this thread as
    /// targets start and finish; returns once every worker has finished.
    ///
    /// A panic in `open` or `work` fails that target only (a migration's own panic is
    /// already a [`Error::MigrationPanicked`]).
    pub fn run<T, I, B, R>(
        &self,
        targets: I,
        open: impl Fn(&T) -> Result<B, Error> + Sync,
        work: impl Fn(&Migrator, &mut B) -> Result<R, Error> + Sync,
        mut on_event: impl FnMut(Event<'_, T, R>),
    ) -> Summary<T>
    where
        I: IntoIterator<Item = T>,
        I::IntoIter: Send,
        T: Clone + Send,
        R: Send,
    {
        let queue = Mutex::new(targets.into_iter());
        let halt = AtomicBool::new(false);
        let mut summary = Summary {
            succeeded: 0,
            failed: Vec::new(),
            not_started: 0,
            stopped: false,
        };
        std::thread::scope(|scope| {
            let (sender, receiver) = mpsc::sync_channel::<Message<T, R>>(self.jobs);
            for _ in 0..self.jobs {
                let sender = sender.clone();
                let (queue, halt, open, work) = (&queue, &halt, &open, &work);
                scope.spawn(move || self.worker(queue, halt, open, work, &sender));
            }
            drop(sender);
            for message in receiver {
                match message {
                    Message::Started(target) => on_event(Event::Started(&target)),
                    Message::Finished(outcome) => {
                        on_event(Event::Finished(&outcome));
                        match outcome.result {
                            Ok(_) => summary.succeeded += 1,
                            Err(error) => summary.failed.push(Failed {
                                target: outcome.target,
                                error,
                                committed: outcome.committed,
                            }),
                        }
                    }
                }
            }
        });
        summary.stopped = self.stop.is_some_and(|flag| flag.load(Ordering::SeqCst));
        if summary.stopped || halt.load(Ordering::SeqCst) {
            let rest = queue.into_inner().unwrap_or_else(PoisonError::into_inner);
            summary.not_started = rest.count();
        }
        summary
    }

    /// One worker: takes targets until none is left or the run is halted.
    fn worker<T, B, R>(
        &self,
        queue: &Mutex<impl Iterator<Item = T>>,
        halt: &AtomicBool,
        open: &(impl Fn(&T) -> Result<B, Error> + Sync),
        work: &(impl Fn(&Migrator, &mut B) -> Result<R, Error> + Sync),
        sender: &mpsc::SyncSender<Message<T, R>>,
    ) where
        T: Clone,
    {
        // The steps each target commits, gathered through the progress callback (which
        // still calls the migrator's own, if it has one).
        let committed = Arc::new(Mutex::new(Vec::new()));
        let migrator = {
            let gathered = Arc::clone(&committed);
            let own = self.migrator.progress();
            self.migrator.clone().on_progress(move |step| {
                lock(&gathered).push(step.clone());
                if let Some(own) = &own {
                    own(step);
                }
            })
        };
        loop {
            let stopped = self.stop.is_some_and(|flag| flag.load(Ordering::SeqCst));
            if stopped || halt.load(Ordering::SeqCst) {
                return;
            }
            let Some(target) = lock(queue).next() else {
                return;
            };
            if sender.send(Message::Started(target.clone())).is_err() {
                return;
            }
            let start = Instant::now();
            let result = catch_unwind(AssertUnwindSafe(|| {
                let mut db = open(&target)?;
                work(&migrator, &mut db)
            }))
            .unwrap_or_else(|panic| Err(panicked(&*panic)));
            if result.is_err() && self.fail_fast {
                halt.store(true, Ordering::SeqCst);
            }
            let outcome = Outcome {
                target,
                result,
                committed: std::mem::take(&mut *lock(&committed)),
                elapsed: start.elapsed(),
            };
            if sender.send(Message::Finished(outcome)).is_err() {
                return;
            }
        }
    }
}

/// A mutex's guard, also after a panic elsewhere (what it guards stays usable: a queue
/// of targets, a list of steps).
fn lock<V>(mutex: &Mutex<V>) -> std::sync::MutexGuard<'_, V> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// A panic in `open` or `work` as the target's error.
fn panicked(panic: &(dyn std::any::Any + Send)) -> Error {
    let message = panic
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic without a message".to_owned());
    Error::database(
        "work on this target, which panicked",
        format!("panicked: {message}").into(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn open_fails_on_odd(target: &u32) -> Result<u32, Error> {
        if target % 2 == 1 {
            Err(Error::database(
                "open",
                format!("target {target} is odd").into(),
            ))
        } else {
            Ok(*target)
        }
    }

    #[test]
    fn every_target_is_worked_on_once_and_failures_are_kept() {
        let migrator = Migrator::new();
        let seen = Mutex::new(Vec::new());
        let mut started = 0;
        let summary = migrator.fan_out().jobs(3).run(
            0..40u32,
            open_fails_on_odd,
            |_, db| {
                lock(&seen).push(*db);
                Ok(*db)
            },
            |event| {
                if let Event::Started(_) = event {
                    started += 1;
                }
            },
        );
        assert_eq!(started, 40);
        assert_eq!(summary.succeeded, 20);
        let mut failed: Vec<u32> = summary.failed.iter().map(|f| f.target).collect();
        failed.sort_unstable();
        assert_eq!(failed, (0..40).filter(|t| t % 2 == 1).collect::<Vec<_>>());
        let mut seen = seen.into_inner().unwrap();
        seen.sort_unstable();
        assert_eq!(seen, (0..40).step_by(2).collect::<Vec<_>>());
        assert_eq!(summary.not_started, 0);
        assert!(!summary.is_success());
    }

    #[test]
    fn fail_fast_stops_taking_targets_and_counts_the_rest() {
        let migrator = Migrator::new();
        let summary = migrator.fan_out().jobs(1).fail_fast(true).run(
            0..10u32,
            |t| {
                if *t == 3 {
                    Err(Error::database("open", "no".into()))
                } else {
                    Ok(*t)
                }
            },
            |_, db| Ok(*db),
            |_| {},
        );
        assert_eq!(summary.succeeded, 3);
        assert_eq!(summary.failed.len(), 1);
        assert_eq!(summary.not_started, 6);
    }

    #[test]
    fn a_set_stop_flag_starts_nothing() {
        let migrator = Migrator::new();
        let stop = AtomicBool::new(true);
        let summary = migrator.fan_out().stop_when(&stop).run(
            0..5u32,
            |t| Ok(*t),
            |_, db| Ok(*db),
            |_| panic!("nothing starts"),
        );
        assert!(summary.stopped);
        assert_eq!((summary.succeeded, summary.not_started), (0, 5));
    }

    #[test]
    fn a_panic_fails_its_target_only() {
        let migrator = Migrator::new();
        let summary = migrator.fan_out().jobs(2).run(
            0..6u32,
            |t| Ok(*t),
            |_, db| {
                assert!(*db != 4, "target four");
                Ok(())
            },
            |_| {},
        );
        assert_eq!(summary.succeeded, 5);
        let message = summary.failed[0].error.to_string();
        let cause = std::error::Error::source(&summary.failed[0].error).unwrap();
        assert_eq!(summary.failed[0].target, 4);
        assert!(message.contains("panicked"), "{message}");
        assert!(cause.to_string().contains("target four"), "{cause}");
    }
}
