//! The manager: holds the known migrations, asks the planner what to do and drives a
//! [`Backend`] through it, one transaction per migration.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::time::Instant;

use core::time::Duration;

use crate::backend::{Backend, Freshness};
use crate::discover;
use crate::error::{Error, Result};
use crate::history::AppliedMigration;
use crate::plan::{self, Direction, Plan, PlanOptions, Step, Target};
use crate::registry::RegisteredMigration;
use crate::status::{MigrationStatus, State};

/// Applies and reverts a set of migrations on a database.
///
/// Build it from the discovered migrations ([`Migrator::discovered`]) or from a list
/// ([`Migrator::register_migrations`]), then call [`to_latest`](Self::to_latest),
/// [`to_version`](Self::to_version), [`status`](Self::status) or
/// [`pending`](Self::pending) with a backend such as `migrate_sqlite::Sqlite`.
#[derive(Clone, Debug, Default)]
pub struct Migrator {
    migrations: Vec<&'static RegisteredMigration>,
    options: PlanOptions,
}

/// What a run did: one entry per migration applied or reverted, in order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Report {
    /// The steps that ran and committed.
    pub steps: Vec<StepReport>,
}

impl Report {
    /// Whether the run found nothing to do.
    pub fn is_empty(&self) -> bool {
        self.steps.is_empty()
    }
}

/// One migration applied or reverted by a run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StepReport {
    /// The migration's version.
    pub version: u64,
    /// Its description.
    pub description: &'static str,
    /// Applied or reverted.
    pub direction: Direction,
    /// How long its `up` or `down` took.
    pub duration: Duration,
}

impl Migrator {
    /// A manager with no migrations; add some with
    /// [`load_migrations_from_versions`](Self::load_migrations_from_versions) or
    /// [`register_migrations`](Self::register_migrations).
    pub fn new() -> Self {
        Self::default()
    }

    /// A manager for every migration registered with `#[migration]` in this program.
    ///
    /// # Errors
    ///
    /// [`Error::DuplicateVersion`] when two registered migrations share a version.
    ///
    /// ```rust,standalone_crate
    /// let migrator = migrate_core::Migrator::discovered()?;
    /// assert!(migrator.migrations().windows(2).all(|w| w[0].version() < w[1].version()));
    /// # Ok::<(), migrate_core::Error>(())
    /// ```
    pub fn discovered() -> Result<Self> {
        Self::new().load_migrations_from_versions()
    }

    /// Adds every migration registered with `#[migration]` in this program (the
    /// discovered set, see [`discovered_migrations`](crate::discovered_migrations)).
    ///
    /// # Errors
    ///
    /// [`Error::DuplicateVersion`] when two migrations share a version.
    pub fn load_migrations_from_versions(self) -> Result<Self> {
        let discovered = discover::discovered_migrations()?;
        self.register_migrations(discovered.iter().copied())
    }

    /// Adds migrations by hand, for tests and plugins: pass `get_migration()` of each.
    ///
    /// # Errors
    ///
    /// [`Error::DuplicateVersion`] when two different migrations share a version.
    /// Registering the same migration twice is harmless.
    ///
    /// ```rust,standalone_crate
    /// use migrate_core::{migration, BoxError, Db, Migration, Migrator};
    ///
    /// #[migration(version = 1, description = "Create users", irreversible)]
    /// pub struct CreateUsers;
    /// impl Migration for CreateUsers {
    ///     fn up(&self, db: &mut dyn Db) -> Result<(), BoxError> {
    ///         db.execute("CREATE TABLE users (id INTEGER PRIMARY KEY)")
    ///     }
    /// }
    ///
    /// #[migration(version = 2, description = "Create audit log", irreversible)]
    /// pub struct CreateAuditLog;
    /// impl Migration for CreateAuditLog {
    ///     fn up(&self, db: &mut dyn Db) -> Result<(), BoxError> {
    ///         db.execute("CREATE TABLE audit_log (id INTEGER PRIMARY KEY)")
    ///     }
    /// }
    ///
    /// fn main() -> Result<(), migrate_core::Error> {
    ///     // Only the first one, whatever else the program registers.
    ///     let migrator = Migrator::new().register_migrations([CreateUsers::get_migration()])?;
    ///     let mut db = migrate_sqlite::Sqlite::open_in_memory()?;
    ///     assert_eq!(migrator.to_latest(&mut db)?.steps.len(), 1);
    ///     Ok(())
    /// }
    /// ```
    pub fn register_migrations(
        mut self,
        migrations: impl IntoIterator<Item = &'static RegisteredMigration>,
    ) -> Result<Self> {
        self.migrations.extend(migrations);
        self.migrations = discover::validate(self.migrations)?;
        Ok(self)
    }

    /// Apply a pending migration whose version is below the highest applied one
    /// (a branch merged late) instead of refusing with [`Error::OutOfOrder`].
    pub fn allow_out_of_order(mut self, allow: bool) -> Self {
        self.options.allow_out_of_order = allow;
        self
    }

    /// The known migrations, sorted by version.
    pub fn migrations(&self) -> &[&'static RegisteredMigration] {
        &self.migrations
    }

    /// Applies every pending migration, each in its own transaction.
    ///
    /// # Errors
    ///
    /// A refusal from the planner (nothing written), or the first migration that fails
    /// (rolled back; the ones before it stay applied). See [`Error`].
    pub fn to_latest(&self, backend: &mut dyn Backend) -> Result<Report> {
        self.run(backend, Target::Latest)
    }

    /// Applies or reverts migrations until exactly those up to `version` are applied;
    /// `0` reverts every migration.
    ///
    /// # Errors
    ///
    /// As [`to_latest`](Self::to_latest), and [`Error::UnknownTarget`] or
    /// [`Error::Irreversible`] before anything is written.
    ///
    /// ```rust,standalone_crate
    /// use migrate_core::{migration, BoxError, Db, Migration, Migrator, Reversible};
    ///
    /// #[migration(version = 1, description = "Create chat_users")]
    /// pub struct CreateChatUsers;
    ///
    /// impl Migration for CreateChatUsers {
    ///     fn up(&self, db: &mut dyn Db) -> Result<(), BoxError> {
    ///         db.execute("CREATE TABLE chat_users (id INTEGER PRIMARY KEY)")
    ///     }
    /// }
    ///
    /// impl Reversible for CreateChatUsers {
    ///     fn down(&self, db: &mut dyn Db) -> Result<(), BoxError> {
    ///         db.execute("DROP TABLE chat_users")
    ///     }
    /// }
    ///
    /// fn main() -> Result<(), migrate_core::Error> {
    ///     let mut db = migrate_sqlite::Sqlite::open_in_memory()?;
    ///     let migrator = Migrator::discovered()?;
    ///     migrator.to_version(&mut db, 1)?; // up to 1
    ///     let report = migrator.to_version(&mut db, 0)?; // and back down
    ///     assert_eq!(report.steps[0].direction, migrate_core::Direction::Down);
    ///     assert_eq!(migrator.pending(&mut db)?.len(), 1);
    ///     Ok(())
    /// }
    /// ```
    pub fn to_version(&self, backend: &mut dyn Backend, version: u64) -> Result<Report> {
        self.run(backend, Target::Version(version))
    }

    /// What a run to `target` would do now, without doing it.
    ///
    /// # Errors
    ///
    /// The refusal the run would meet, or [`Error::Database`] when the history cannot
    /// be read.
    pub fn plan(&self, backend: &mut dyn Backend, target: Target) -> Result<Plan> {
        let history = read_history(backend)?;
        plan::plan(&self.migrations, &history, target, self.options)
    }

    /// Every migration, known or only recorded in the database, with its state, sorted by
    /// version.
    ///
    /// ```rust,standalone_crate
    /// use migrate_core::{migration, BoxError, Db, Migration, Migrator, State};
    ///
    /// #[migration(version = 1, description = "Create users", irreversible)]
    /// pub struct CreateUsers;
    /// impl Migration for CreateUsers {
    ///     fn up(&self, db: &mut dyn Db) -> Result<(), BoxError> {
    ///         db.execute("CREATE TABLE users (id INTEGER PRIMARY KEY)")
    ///     }
    /// }
    ///
    /// fn main() -> Result<(), migrate_core::Error> {
    ///     let migrator = Migrator::discovered()?;
    ///     let mut db = migrate_sqlite::Sqlite::open_in_memory()?;
    ///     assert_eq!(migrator.status(&mut db)?[0].state, State::Pending);
    ///     migrator.to_latest(&mut db)?;
    ///     let status = migrator.status(&mut db)?;
    ///     assert!(matches!(status[0].state, State::Applied { .. }));
    ///     Ok(())
    /// }
    /// ```
    ///
    /// # Errors
    ///
    /// [`Error::Database`] when the history cannot be read.
    pub fn status(&self, backend: &mut dyn Backend) -> Result<Vec<MigrationStatus>> {
        let history = read_history(backend)?;
        let mut rows = Vec::with_capacity(self.migrations.len() + history.len());
        let mut applied = history.into_iter().peekable();
        for m in &self.migrations {
            while let Some(row) = applied.next_if(|row| row.version < m.version()) {
                rows.push(unknown_status(row));
            }
            let state = match applied.next_if(|row| row.version == m.version()) {
                Some(row) => State::Applied {
                    applied_at: row.applied_at,
                    duration: row.duration,
                },
                None => State::Pending,
            };
            rows.push(MigrationStatus {
                version: m.version(),
                description: m.description().to_owned(),
                file: Some(m.file()),
                reversible: m.is_reversible(),
                state,
            });
        }
        rows.extend(applied.map(unknown_status));
        Ok(rows)
    }

    /// The known migrations the database has not applied, in the order they would run.
    ///
    /// # Errors
    ///
    /// [`Error::Database`] when the history cannot be read.
    pub fn pending(&self, backend: &mut dyn Backend) -> Result<Vec<&'static RegisteredMigration>> {
        let history = read_history(backend)?;
        let mut applied = history.iter().map(|row| row.version).peekable();
        let mut pending = Vec::new();
        for m in &self.migrations {
            while applied.next_if(|&v| v < m.version()).is_some() {}
            if applied.next_if_eq(&m.version()).is_none() {
                pending.push(*m);
            }
        }
        Ok(pending)
    }

    fn run(&self, backend: &mut dyn Backend, target: Target) -> Result<Report> {
        let mut report = Report::default();
        'plan: loop {
            let history = read_history(backend)?;
            let plan = plan::plan(&self.migrations, &history, target, self.options)?;
            for step in plan.steps {
                let freshness = backend.begin().map_err(|source| Error::Database {
                    action: format!(
                        "start the transaction of migration {} (take the write lock)",
                        step.migration
                    ),
                    source,
                })?;
                if freshness == Freshness::Stale {
                    // Another process migrated meanwhile: plan again from what it did.
                    log::debug!("history changed by another connection; planning again");
                    rollback(backend, &step);
                    continue 'plan;
                }
                report.steps.push(run_step(backend, step)?);
            }
            return Ok(report);
        }
    }
}

fn read_history(backend: &mut dyn Backend) -> Result<Vec<AppliedMigration>> {
    backend.read_history().map_err(|source| Error::Database {
        action: "read the migration history".to_owned(),
        source,
    })
}

fn unknown_status(row: AppliedMigration) -> MigrationStatus {
    MigrationStatus {
        version: row.version,
        description: row.description,
        file: None,
        reversible: false,
        state: State::Unknown {
            applied_at: row.applied_at,
        },
    }
}

/// Runs one step in the transaction `begin` opened, and commits it with its history
/// change, or rolls all of it back.
fn run_step(backend: &mut dyn Backend, step: Step) -> Result<StepReport> {
    let m = step.migration;
    let start = Instant::now();
    let outcome = catch_unwind(AssertUnwindSafe(|| match step.direction {
        Direction::Up => m.run_up(backend.db()),
        Direction::Down => m.run_down(backend.db()),
    }));
    let duration = start.elapsed();
    let result = match outcome {
        Ok(Ok(())) => match step.direction {
            Direction::Up => backend.record_applied(m, duration),
            Direction::Down => backend.remove_applied(m.version()),
        }
        .and_then(|()| backend.commit())
        .map_err(|source| failed(step, source)),
        Ok(Err(source)) => Err(failed(step, source)),
        Err(panic) => Err(Error::MigrationPanicked {
            version: m.version(),
            description: m.description(),
            file: m.file(),
            direction: step.direction,
            message: panic_message(&*panic),
        }),
    };
    if let Err(error) = result {
        rollback(backend, &step);
        return Err(error);
    }
    let verb = match step.direction {
        Direction::Up => "applied",
        Direction::Down => "reverted",
    };
    log::info!("{verb} migration {m} in {duration:?}");
    Ok(StepReport {
        version: m.version(),
        description: m.description(),
        direction: step.direction,
        duration,
    })
}

fn failed(step: Step, source: crate::BoxError) -> Error {
    let m = step.migration;
    Error::MigrationFailed {
        version: m.version(),
        description: m.description(),
        file: m.file(),
        direction: step.direction,
        source,
    }
}

fn rollback(backend: &mut dyn Backend, step: &Step) {
    if let Err(error) = backend.rollback() {
        // The transaction is gone either way; the database discards what it did not commit.
        log::warn!("rolling back migration {} failed: {error}", step.migration);
    }
}

fn panic_message(panic: &(dyn core::any::Any + Send)) -> String {
    if let Some(s) = panic.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = panic.downcast_ref::<String>() {
        s.clone()
    } else {
        "a panic with a non-text payload".to_owned()
    }
}
