//! The manager: holds the known migrations, asks the planner what to do and drives a
//! [`Backend`] through it, one transaction per migration.

use std::sync::Arc;

use crate::backend::Backend;
use crate::discover;
use crate::error::{Error, MigrationRef, Result};
use crate::history::{HistoryRow, RowState};
use crate::migration::{BoxError, Db};
use crate::plan::{self, Direction, Plan, Step, Target};
use crate::registry::RegisteredMigration;
use crate::report::{Report, StepReport};
use crate::settings::Settings;
use crate::status::{MigrationStatus, State};
use crate::{maintain, run};

/// Applies and reverts a set of migrations on a database.
///
/// Build it from the discovered migrations ([`Migrator::discovered`]) or from a list
/// ([`Migrator::register_migrations`]), then call [`to_latest`](Self::to_latest),
/// [`to_version`](Self::to_version), [`status`](Self::status) or
/// [`pending`](Self::pending) with a backend such as `migrate_sqlite::Sqlite`.
#[derive(Clone, Default)]
pub struct Migrator {
    settings: Settings,
}

impl core::fmt::Debug for Migrator {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let s = &self.settings;
        f.debug_struct("Migrator")
            .field("set", &s.set)
            .field("migrations", &s.migrations)
            .field("options", &s.options)
            .field("all_or_nothing", &s.all_or_nothing)
            .field("parallel", &s.parallel)
            .field("before_each", &s.before.is_some())
            .field("after_each", &s.after.is_some())
            .field("on_progress", &s.progress.is_some())
            .finish()
    }
}

impl Migrator {
    /// A manager with no migrations; add some with
    /// [`register_migrations`](Self::register_migrations) (a program that discovers its
    /// migrations writes [`Migrator::discovered`] instead).
    pub fn new() -> Self {
        Self::default()
    }

    /// A manager for every migration registered with `#[migration]` in this program: what
    /// a program writes (and [`discovered_set`](Self::discovered_set) for a named set).
    /// It is `Migrator::new().load_migrations_from_versions()`.
    ///
    /// A migration is in the program only if the module or crate that defines it is
    /// compiled and linked into it (a `mod` line, or `use my_lib as _;` for a library:
    /// see docs/discovery.md), so finding none is an error, never an empty manager that
    /// silently does nothing. A program with no migrations yet uses [`Migrator::new`], or
    /// links its migrations folder with [`include_migrations!`](crate::include_migrations)
    /// (which every backend re-exports) while the folder is still empty.
    ///
    /// # Errors
    ///
    /// [`Error::NoMigrations`] when the program contains no migration of the default
    /// set, unless the migrations folders it links are all empty; [`Error::DuplicateVersion`] when two registered migrations share a version.
    ///
    /// ```rust,standalone_crate
    /// # use migrate_core::{migration, BoxError, Db, Migration};
    /// # #[migration(version = 1, description = "Create users", irreversible)]
    /// # pub struct CreateUsers;
    /// # impl Migration for CreateUsers {
    /// #     fn up(&self, db: &mut dyn Db) -> Result<(), BoxError> {
    /// #         db.execute("CREATE TABLE users (id INTEGER PRIMARY KEY)")
    /// #     }
    /// # }
    /// let migrator = migrate_core::Migrator::discovered()?;
    /// assert!(migrator.migrations().windows(2).all(|w| w[0].version() < w[1].version()));
    /// # Ok::<(), migrate_core::Error>(())
    /// ```
    pub fn discovered() -> Result<Self> {
        Self::new().load_migrations_from_versions()
    }

    /// A manager with no migrations for the named set: migrations whose attribute says
    /// `set = "<name>"`. Versions are unique per set, and each set keeps its own history.
    pub fn for_set(name: &str) -> Self {
        let mut migrator = Self::default();
        migrator.settings.set = name.to_owned();
        migrator
    }

    /// A manager for every discovered migration of the named set.
    ///
    /// # Errors
    ///
    /// [`Error::NoMigrations`] when the program contains no migration of the set (its
    /// message lists the sets it does contain); [`Error::DuplicateVersion`] when two
    /// registered migrations of the set share a version.
    pub fn discovered_set(name: &str) -> Result<Self> {
        Self::for_set(name).load_migrations_from_versions()
    }

    /// The set this manager works on; `""` for the default set.
    pub fn set(&self) -> &str {
        &self.settings.set
    }

    /// Adds every migration of this manager's set registered with `#[migration]` in this
    /// program (see [`discovered_migrations`](crate::discovered_migrations)).
    ///
    /// Use [`Migrator::discovered`] or [`Migrator::discovered_set`], which are this on a
    /// new manager; this builder form is for adding the discovered migrations to a
    /// manager that already holds some registered by hand
    /// ([`register_migrations`](Self::register_migrations)).
    ///
    /// # Errors
    ///
    /// [`Error::NoMigrations`] when discovery finds no migration of the set, whatever was
    /// registered before; [`Error::DuplicateVersion`] when two migrations share a version.
    pub fn load_migrations_from_versions(mut self) -> Result<Self> {
        let discovered = discover::discovered_migrations()?;
        let set = self.settings.set.clone();
        let of_set = discovered
            .iter()
            .copied()
            .filter(|m| discover::same_set(m.set(), &set));
        if of_set.clone().next().is_none() && !discover::only_empty_folders_linked() {
            return Err(Error::no_migrations(&set));
        }
        if self.settings.migrations.is_empty() {
            // Already sorted and validated, and one set of it is too: no second sort.
            self.settings.migrations = of_set.collect();
            return Ok(self);
        }
        self.register_migrations(of_set)
    }

    /// Adds migrations by hand, for tests and plugins: pass `get_migration()` of each.
    ///
    /// # Errors
    ///
    /// [`Error::DuplicateVersion`] when two different migrations share a version,
    /// [`Error::WrongSet`] for a migration of another set. Registering the same migration
    /// twice is harmless.
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
        for m in migrations {
            if !discover::same_set(m.set(), &self.settings.set) {
                return Err(Error::WrongSet {
                    migration: MigrationRef::of(m),
                    set: m.set(),
                    expected: self.settings.set,
                });
            }
            self.settings.migrations.push(m);
        }
        self.settings.migrations = discover::validate(self.settings.migrations)?;
        Ok(self)
    }

    /// Go on when an applied migration's source changed after it was applied, instead of
    /// refusing with [`Error::Modified`]. To record the new checksums once the change is
    /// known to be harmless, use [`accept_changes`](Self::accept_changes).
    pub fn allow_modified(mut self, allow: bool) -> Self {
        self.settings.options.allow_modified = allow;
        self
    }

    /// Run every pending migration of a run in one transaction: all of them are applied,
    /// or none. The default is one transaction per migration, where a failure keeps the
    /// migrations before it.
    pub fn all_or_nothing(mut self, on: bool) -> Self {
        self.settings.all_or_nothing = on;
        self
    }

    /// Runs `hook` before every migration's `up` or `down`, inside its transaction (for a
    /// migration with `transaction = false`: with no transaction open, like its code).
    ///
    /// ```rust,standalone_crate
    /// use std::sync::{Arc, Mutex};
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
    /// fn main() -> Result<(), migrate_core::Error> {
    ///     let seen = Arc::new(Mutex::new(Vec::new()));
    ///     let log = Arc::clone(&seen);
    ///     let migrator = Migrator::discovered()?
    ///         .before_each(move |step, _db| {
    ///             log.lock().unwrap().push(step.migration.version());
    ///             Ok(())
    ///         })
    ///         .after_each(|_step, db| db.execute("PRAGMA optimize"));
    ///     migrator.to_latest(&mut migrate_sqlite::Sqlite::open_in_memory()?)?;
    ///     assert_eq!(*seen.lock().unwrap(), [1]);
    ///     Ok(())
    /// }
    /// ```
    pub fn before_each(
        mut self,
        hook: impl Fn(&Step, &mut dyn Db) -> Result<(), BoxError> + Send + Sync + 'static,
    ) -> Self {
        self.settings.before = Some(Arc::new(hook));
        self
    }

    /// Calls `report` with each migration as soon as it is committed, with its duration:
    /// for progress output during long runs. It runs outside the migration's transaction
    /// and cannot fail it.
    pub fn on_progress(mut self, report: impl Fn(&StepReport) + Send + Sync + 'static) -> Self {
        self.settings.progress = Some(Arc::new(report));
        self
    }

    /// Runs `hook` after every migration's `up` or `down`, inside its transaction, before
    /// the history records it (for a migration with `transaction = false`: with no
    /// transaction open, like its code).
    pub fn after_each(
        mut self,
        hook: impl Fn(&Step, &mut dyn Db) -> Result<(), BoxError> + Send + Sync + 'static,
    ) -> Self {
        self.settings.after = Some(Arc::new(hook));
        self
    }

    /// Lets a run apply up to `sessions` independent migrations at once, each on a
    /// database session of its own: migrations that do not depend on each other (their
    /// `after = [..]`, see [`RegisteredMigration::dependencies`]) start as soon as what
    /// they depend on is committed. A migration that declares no `after` depends on
    /// every earlier one, so without declarations a run is one at a time as before.
    ///
    /// Each migration keeps its own transaction and history row (`transaction = false`
    /// ones their incomplete mark); the history records each one's end time and
    /// duration. After a failure no new migration starts, those running finish, and the
    /// finished ones stay applied; the run returns the first failure. Only up runs are
    /// parallel; a run that reverts, a dry run and a plan with nothing independent run
    /// one at a time. `0` and `1`: one at a time (the default).
    ///
    /// For a backend that holds its migration lock across a run and can open more
    /// sessions (PostgreSQL). SQLite has one writer, so a SQLite run with this option is
    /// refused, as is an [`all_or_nothing`](Self::all_or_nothing) run (one transaction):
    /// [`Error::ParallelUnsupported`], nothing written.
    ///
    /// ```rust,standalone_crate
    /// use migrate_core::{migration, BoxError, Db, Error, Migration, Migrator};
    ///
    /// #[migration(version = 1, description = "Create users", irreversible)]
    /// pub struct CreateUsers;
    /// impl Migration for CreateUsers {
    ///     fn up(&self, db: &mut dyn Db) -> Result<(), BoxError> {
    ///         db.execute("CREATE TABLE users (id INTEGER PRIMARY KEY)")
    ///     }
    /// }
    ///
    /// fn main() -> Result<(), Error> {
    ///     let mut db = migrate_sqlite::Sqlite::open_in_memory()?;
    ///     let refused = Migrator::discovered()?.parallel(4).to_latest(&mut db).unwrap_err();
    ///     assert!(matches!(refused, Error::ParallelUnsupported { .. }));
    ///     Ok(())
    /// }
    /// ```
    pub fn parallel(mut self, sessions: usize) -> Self {
        self.settings.parallel = sessions;
        self
    }

    /// Restricts runs to one direction, decided under the write lock on the history read
    /// there: with `Direction::Up` a run never reverts, with `Direction::Down` it never
    /// applies; a plan that would is refused with [`Error::WrongDirection`] and nothing is
    /// written. The command line's `up` and `down` use it, so that `up --to 2` racing
    /// another process's `up` can never revert what that process applied.
    ///
    /// ```rust,standalone_crate
    /// use migrate_core::{migration, BoxError, Db, Direction, Error, Migration, Migrator, Reversible};
    ///
    /// #[migration(version = 1, description = "Create users")]
    /// pub struct CreateUsers;
    /// impl Migration for CreateUsers {
    ///     fn up(&self, db: &mut dyn Db) -> Result<(), BoxError> {
    ///         db.execute("CREATE TABLE users (id INTEGER PRIMARY KEY)")
    ///     }
    /// }
    /// impl Reversible for CreateUsers {
    ///     fn down(&self, db: &mut dyn Db) -> Result<(), BoxError> {
    ///         db.execute("DROP TABLE users")
    ///     }
    /// }
    ///
    /// fn main() -> Result<(), Error> {
    ///     let mut db = migrate_sqlite::Sqlite::open_in_memory()?;
    ///     let migrator = Migrator::discovered()?;
    ///     migrator.to_latest(&mut db)?;
    ///     let up_only = migrator.clone().only_direction(Direction::Up);
    ///     let refused = up_only.to_version(&mut db, 0).unwrap_err();
    ///     assert!(matches!(refused, Error::WrongDirection { migration: migrate_core::MigrationRef { version: 1, .. }, .. }));
    ///     assert_eq!(migrator.pending(&mut db)?.len(), 0); // nothing was reverted
    ///     Ok(())
    /// }
    /// ```
    pub fn only_direction(mut self, direction: Direction) -> Self {
        self.settings.options.only = Some(direction);
        self
    }

    /// Apply a pending migration whose version is below the highest applied one
    /// (a branch merged late) instead of refusing with [`Error::OutOfOrder`].
    pub fn allow_out_of_order(mut self, allow: bool) -> Self {
        self.settings.options.allow_out_of_order = allow;
        self
    }

    /// The environment this application runs in (`"dev"`, `"staging"`, `"production"`):
    /// what a migration's `environments = [..]` is matched against and what its `when`
    /// predicate reads ([`PlanContext::environment`](crate::PlanContext::environment)).
    ///
    /// A migration limited to environments runs only when the environment is one of
    /// them, and is recorded as skipped otherwise. Without an environment, a run that
    /// would apply such a migration is refused ([`Error::EnvironmentRequired`], naming
    /// them), rather than running them or skipping them all.
    ///
    /// ```rust,standalone_crate
    /// let migrator = migrate_core::Migrator::new().environment("dev");
    /// # let _ = migrator;
    /// ```
    pub fn environment(mut self, name: impl Into<String>) -> Self {
        self.settings.environment = Some(name.into());
        self
    }

    /// The progress callback, if one was set (a fan-out calls it from its own).
    pub(crate) fn progress(&self) -> Option<crate::settings::Progress> {
        self.settings.progress.clone()
    }

    /// The known migrations, sorted by version.
    pub fn migrations(&self) -> &[&'static RegisteredMigration] {
        &self.settings.migrations
    }

    /// Applies every pending migration: each in its own transaction by default, all in one
    /// with [`all_or_nothing`](Self::all_or_nothing), and one with `transaction = false`
    /// outside any (its incomplete mark committed first, its record after).
    ///
    /// # Errors
    ///
    /// A refusal from the planner (nothing written), or the first migration that fails
    /// (rolled back; the ones before it stay applied). See [`Error`].
    pub fn to_latest(&self, backend: &mut dyn Backend) -> Result<Report> {
        ending(backend, |backend| {
            run::to_target(&self.settings, backend, Target::Latest, run::Mode::Commit)
        })
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
        ending(backend, |backend| {
            run::to_target(
                &self.settings,
                backend,
                Target::Version(version),
                run::Mode::Commit,
            )
        })
    }

    /// A rehearsal: runs what a run to `target` would, on the real database, in one
    /// transaction that is then rolled back, and reports each step or the first failure.
    /// Nothing is kept, whatever happens.
    ///
    /// # Errors
    ///
    /// What the real run would meet: a refusal, or the migration that fails (named as in
    /// a real run). [`Error::NotTransactional`] for a migration that runs outside a
    /// transaction, which cannot be rehearsed.
    pub fn dry_run(&self, backend: &mut dyn Backend, target: Target) -> Result<Report> {
        ending(backend, |backend| {
            run::to_target(&self.settings, backend, target, run::Mode::Rehearse)
        })
    }

    /// Adopts an existing database that migrate has not migrated (its tables made by
    /// hand or by another tool): records every known migration up to `version` as applied
    /// without running it, in one transaction, and returns them.
    ///
    /// A database that already has a history of this set is refused: recording
    /// migrations as applied on top of it would hide whether they ran. Asking again for
    /// the baseline a database already has exactly (the same migrations, unchanged)
    /// records nothing and returns an empty list.
    ///
    /// # Errors
    ///
    /// [`Error::BaselineWithHistory`] when the history holds anything else,
    /// [`Error::UnknownTarget`] when `version` is not a known version.
    pub fn baseline(
        &self,
        backend: &mut dyn Backend,
        version: u64,
    ) -> Result<Vec<&'static RegisteredMigration>> {
        ending(backend, |backend| {
            maintain::baseline(&self.settings, backend, version)
        })
    }

    /// Records the current checksum of every applied migration whose source changed since
    /// it was applied, once you know the change does not alter what it did (a comment
    /// fixed, code moved); returns them. One transaction.
    ///
    /// # Errors
    ///
    /// [`Error::Database`] when the history cannot be read or written.
    pub fn accept_changes(
        &self,
        backend: &mut dyn Backend,
    ) -> Result<Vec<&'static RegisteredMigration>> {
        ending(backend, |backend| {
            maintain::accept_changes(&self.settings, backend)
        })
    }

    /// Reverts the highest applied migration and applies it again, both in one
    /// transaction: a redo that is interrupted (killed, or its `up` fails) leaves the
    /// database as it was, and running it again does what the uninterrupted one would.
    /// Which migration is the highest is decided under the write lock.
    ///
    /// # Errors
    ///
    /// The planner's refusals for the current state (unknown, incomplete or modified
    /// migrations), [`Error::Irreversible`] when the highest applied migration has no
    /// `down`, [`Error::NotTransactional`] when it runs outside a transaction, or the
    /// failure of its `down` or `up` (rolled back whole).
    pub fn redo(&self, backend: &mut dyn Backend) -> Result<Report> {
        ending(backend, |backend| run::redo(&self.settings, backend))
    }

    /// Forgets that migration `version` started outside a transaction and did not finish
    /// ([`Error::Incomplete`]), once you have checked the database by hand, so that the
    /// next run runs it again: after an interrupted `up` the migration is pending again
    /// (returns `Some(Direction::Up)`); after an interrupted `down` it is applied again,
    /// as before the down, and the next run down to below it runs the down again
    /// (`Some(Direction::Down)`). `None` when there was no such mark. Only an incomplete
    /// mark is touched: whether there is one is decided again under the write lock, so a
    /// row that another process has just finished stays.
    ///
    /// # Errors
    ///
    /// [`Error::Modified`] when an interrupted down's migration changed since it was
    /// applied, [`Error::Database`] when the history cannot be read or written.
    pub fn clear_incomplete(
        &self,
        backend: &mut dyn Backend,
        version: u64,
    ) -> Result<Option<Direction>> {
        ending(backend, |backend| {
            maintain::clear_incomplete(&self.settings, backend, version)
        })
    }

    /// What a run to `target` would do now, without doing it. It reads the history only:
    /// conditions (`when`, `environments`) are not evaluated, so a step up may end as
    /// skipped, and a skipped migration whose condition has turned true is not in the
    /// plan; [`dry_run`](Self::dry_run) evaluates them.
    ///
    /// # Errors
    ///
    /// The refusal the run would meet, or [`Error::Database`] when the history cannot
    /// be read.
    pub fn plan(&self, backend: &mut dyn Backend, target: Target) -> Result<Plan> {
        let history = self.settings.read_for_plan(backend)?;
        plan::plan(
            &self.settings.migrations,
            &history,
            target,
            self.settings.options,
        )
        .map_err(|refusal| run::reword_with_full_history(&self.settings, backend, target, refusal))
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
        let history = self.settings.read_full(backend)?;
        let mut rows = Vec::with_capacity(self.settings.migrations.len() + history.len());
        let mut applied = history.into_iter().peekable();
        for m in &self.settings.migrations {
            while let Some(row) = applied.next_if(|row| row.version < m.version()) {
                rows.push(unknown_status(row));
            }
            let state = match applied.next_if(|row| row.version == m.version()) {
                Some(row) if !row.is_complete() => State::Incomplete {
                    started_at: row.applied_at,
                },
                Some(row) if row.checksum != m.checksum() => State::Modified {
                    applied_at: row.applied_at,
                    duration: row.duration,
                },
                Some(HistoryRow {
                    state: RowState::Skipped { reason },
                    applied_at,
                    ..
                }) => State::Skipped {
                    reason,
                    skipped_at: applied_at,
                },
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

    /// The known migrations the database has neither applied nor skipped, in the order
    /// they would run.
    ///
    /// # Errors
    ///
    /// [`Error::Database`] when the history cannot be read.
    pub fn pending(&self, backend: &mut dyn Backend) -> Result<Vec<&'static RegisteredMigration>> {
        let history = self.settings.read_for_plan(backend)?;
        let mut applied = history.iter().map(|row| row.version).peekable();
        let mut pending = Vec::new();
        for m in &self.settings.migrations {
            while applied.next_if(|&v| v < m.version()).is_some() {}
            if applied.next_if_eq(&m.version()).is_none() {
                pending.push(*m);
            }
        }
        Ok(pending)
    }
}

fn unknown_status(row: HistoryRow) -> MigrationStatus {
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

/// Runs `run`, then lets the backend release what it held across the run's steps
/// ([`Backend::end_run`]), whatever the outcome.
fn ending<T>(
    backend: &mut dyn Backend,
    run: impl FnOnce(&mut dyn Backend) -> Result<T>,
) -> Result<T> {
    let outcome = run(backend);
    if let Err(error) = backend.end_run() {
        // The lock goes with the connection at the latest; the run's outcome stands.
        log::warn!("could not release the migration lock: {error}");
    }
    outcome
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_manager_of_discovered_migrations_refuses_to_be_empty() {
        for error in [
            Migrator::discovered().unwrap_err(),
            Migrator::discovered_set("analytics").unwrap_err(),
        ] {
            assert!(
                matches!(&error, Error::NoMigrations { sets, .. } if sets.is_empty()),
                "{error:#?}"
            );
            let text = error.to_string();
            for expected in [
                "no migrations found in this program",
                "compiled and linked",
                "`mod migrations;`",
                "`use my_lib as _;`",
                "`Migrator::new()`",
            ] {
                assert!(text.contains(expected), "no {expected:?} in: {text}");
            }
        }
        let error = Migrator::discovered_set("analytics").unwrap_err();
        assert!(
            error.to_string().contains("in set \"analytics\""),
            "{error}"
        );
        // Explicitly empty stays allowed: a new project has no migrations yet.
        assert!(Migrator::new().migrations().is_empty());
    }
}
