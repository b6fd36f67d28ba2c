//! What to do about an [`Error`](crate::Error), as data: core words it for the API
//! (method names), a front end such as the `migrate` command words the same remedy for
//! its commands and flags.

use crate::direction::Direction;

/// The way out of an [`Error`](crate::Error), as [`Error::remedy`](crate::Error::remedy)
/// gives it. `Display` words it for the API (`Migrator::accept_changes`, ...); a front
/// end words it for what its user can type. Every variant carries what its wording needs.
///
/// ```
/// use migrate_core::{Error, MigrationRef, Remedy};
///
/// let error = Error::Modified {
///     migration: MigrationRef::new(2, "Add email", "src/m2.rs"),
///     recorded: "0f".into(),
///     current: "1e".into(),
/// };
/// assert_eq!(error.remedy(), Remedy::AcceptChanges);
/// assert!(error.remedy().to_string().contains("`Migrator::accept_changes`"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Remedy {
    /// Compile and link the module or crate that defines the migrations (no migration
    /// was found), or build an empty manager when there is none yet.
    LinkMigrations,
    /// Give one of two migrations that share a version another version.
    ChangeVersion,
    /// Correct a version in `after = [..]`, or link the crate that defines it.
    FixDependency {
        /// The version `after` names.
        dependency: u64,
    },
    /// Remove a version that is not earlier from `after = [..]`, or renumber.
    DropLaterDependency {
        /// The version `after` names.
        dependency: u64,
    },
    /// Name the environment of the database the run is for.
    NameEnvironment {
        /// One of the environments the migrations are limited to, as an example.
        example: &'static str,
    },
    /// Fix the migration's condition (`when = ..`).
    FixCondition,
    /// Run the build that applied a migration this program lacks, or link its crate.
    RunTheBuildThatApplied,
    /// Choose 0 or a version the program contains.
    ChooseKnownTarget {
        /// The latest version the program contains, 0 when there is none.
        latest: u64,
    },
    /// Go down no further than the irreversible migration, or restore a backup.
    DownNoFurtherThan {
        /// The irreversible migration's version.
        version: u64,
    },
    /// Renumber the pending migration, declare what the applied one needs, or allow
    /// out-of-order migrations.
    AllowOutOfOrder {
        /// The highest version applied: a new version goes above it.
        highest_applied: u64,
        /// The applied migration that needs the pending one, when it declares no
        /// `after = [..]` (and could declare what it needs instead); `None` when it does.
        could_declare: Option<u64>,
    },
    /// Restore the applied source, or accept the change into the history.
    AcceptChanges,
    /// Check the database by hand, then clear the incomplete mark.
    ClearIncomplete {
        /// The migration's version.
        version: u64,
        /// The direction it was migrating in: what clearing makes of it.
        direction: Direction,
        /// Whether another process may be running it now (the mark was found, not left
        /// by this run).
        or_wait: bool,
    },
    /// Use a manager for the migration's set.
    UseSet {
        /// The migration's set.
        set: &'static str,
    },
    /// Apply what comes before a migration that runs outside a transaction, then run it
    /// on its own.
    RunOnItsOwn,
    /// Apply the pending migrations instead of a baseline.
    ApplyPending,
    /// Go the other way on purpose: without the restriction to one direction.
    OtherDirection {
        /// The direction the plan would run the migration in.
        direction: Direction,
        /// The run's target version.
        target: u64,
    },
    /// Fix the migration (it was rolled back) and run again.
    FixMigration,
    /// Fix a migration that failed partway outside a transaction, by hand, then clear
    /// its mark.
    RepairByHand {
        /// The migration's version.
        version: u64,
        /// The direction it was migrating in.
        direction: Direction,
    },
    /// Check that the path names the right database file.
    CheckPath,
    /// Keep the history in another table.
    OtherHistoryTable,
    /// Correct or delete a history row by hand.
    RepairHistoryRow,
    /// Let the lock's holder finish, or wait longer.
    WaitForLock {
        /// How to wait longer in the API, as the backend says it (a method).
        advice: &'static str,
    },
    /// Run without running independent migrations at once.
    RunSequentially,
    /// What to check for a connection that failed, as the backend says it.
    CheckConnection {
        /// The backend's advice for this failure.
        advice: &'static str,
    },
    /// Check that the database is reachable, writable and not locked for too long.
    CheckDatabase,
}

/// What clearing a mark left while migrating `direction` makes of the migration.
pub(crate) fn after_clear(direction: Direction) -> &'static str {
    match direction {
        Direction::Up => "it is then pending, and the next run applies it again",
        Direction::Down => "it is then applied, and the next run down reverts it again",
    }
}

impl core::fmt::Display for Remedy {
    /// The remedy in the API's words: one line, naming methods and attributes.
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Remedy::LinkMigrations => f.write_str(
                "add `mod migrations;` or `use my_lib as _;` to main.rs, or \
                 `link_migration_crates!();`, or use `Migrator::new()` while there is none \
                 (see docs/errors.md)",
            ),
            Remedy::ChangeVersion => {
                f.write_str("give one of them a version no other migration has")
            }
            Remedy::FixDependency { dependency } => write!(
                f,
                "correct the version in `after`, or link the crate that defines migration \
                 {dependency} into this program (see docs/discovery.md)"
            ),
            Remedy::DropLaterDependency { dependency } => write!(
                f,
                "remove {dependency} from `after = [..]`, or give the migration a version \
                 above {dependency}"
            ),
            Remedy::NameEnvironment { example } => write!(
                f,
                "name the environment with `Migrator::environment({example:?})` and run again"
            ),
            Remedy::FixCondition => f.write_str("fix the condition and run again"),
            Remedy::RunTheBuildThatApplied => f.write_str(
                "run the build that applied it, or link the crate that defines it into this \
                 program (see docs/discovery.md)",
            ),
            Remedy::ChooseKnownTarget { latest } => write!(
                f,
                "choose 0 (before the first migration) or a version this program contains \
                 (the latest is {latest})"
            ),
            Remedy::DownNoFurtherThan { version } => write!(
                f,
                "choose a target of {version} or above (`Migrator::to_version({version})`), \
                 or restore from a backup"
            ),
            Remedy::AllowOutOfOrder {
                highest_applied,
                could_declare,
            } => {
                write!(f, "give it a version above {highest_applied}, ")?;
                if let Some(needed_by) = could_declare {
                    write!(
                        f,
                        "list what migration {needed_by} needs with `after = [..]` if not \
                         this one, "
                    )?;
                }
                f.write_str("or allow it with `Migrator::allow_out_of_order(true)`")
            }
            Remedy::AcceptChanges => f.write_str(
                "restore its applied version and write the change as a new migration, or, if \
                 it does not alter what it does, accept it with `Migrator::accept_changes`",
            ),
            Remedy::ClearIncomplete {
                version,
                direction,
                or_wait,
            } => {
                write!(
                    f,
                    "check by hand and finish or undo its changes, then \
                     `Migrator::clear_incomplete({version})` ({})",
                    after_clear(*direction)
                )?;
                if *or_wait {
                    f.write_str(", or wait if another process is running it now")?;
                }
                Ok(())
            }
            Remedy::UseSet { set } => write!(f, "use `Migrator::for_set({set:?})` for it"),
            Remedy::RunOnItsOwn => {
                f.write_str("apply the migrations before it, then run it on its own")
            }
            Remedy::ApplyPending => {
                f.write_str("apply the pending migrations instead (`Migrator::to_latest`)")
            }
            Remedy::OtherDirection { direction, target } => write!(
                f,
                "leave out `Migrator::only_direction` to {} to {target} on purpose",
                match direction {
                    Direction::Up => "apply",
                    Direction::Down => "revert",
                }
            ),
            Remedy::FixMigration => f.write_str("fix it and run again"),
            Remedy::RepairByHand { version, direction } => write!(
                f,
                "check the database by hand, finish or undo its changes, then \
                 `Migrator::clear_incomplete({version})` ({}) and run again",
                after_clear(*direction)
            ),
            Remedy::CheckPath => f.write_str("check that the path names the right file"),
            Remedy::OtherHistoryTable => {
                f.write_str("keep the history in another table (the backend's `history_table(..)`)")
            }
            Remedy::RepairHistoryRow => f.write_str("correct or delete it by hand, then run again"),
            Remedy::WaitForLock { advice } => write!(
                f,
                "let it finish (or end that session), or wait longer ({advice}), then run \
                 again"
            ),
            Remedy::RunSequentially => {
                f.write_str("run without the parallel option (`Migrator::parallel`)")
            }
            Remedy::CheckConnection { advice } => f.write_str(advice),
            Remedy::CheckDatabase => f.write_str(
                "check that the database is reachable and writable and that no other process \
                 holds its write lock for too long, then run again",
            ),
        }
    }
}

/// One of each remedy, with sample fields: for a front end's test that it words all of
/// them (see [`crate::testing::remedies`]).
pub(crate) fn one_of_each() -> Vec<Remedy> {
    let all = vec![
        Remedy::LinkMigrations,
        Remedy::ChangeVersion,
        Remedy::FixDependency { dependency: 2 },
        Remedy::DropLaterDependency { dependency: 4 },
        Remedy::NameEnvironment { example: "dev" },
        Remedy::FixCondition,
        Remedy::RunTheBuildThatApplied,
        Remedy::ChooseKnownTarget { latest: 3 },
        Remedy::DownNoFurtherThan { version: 2 },
        Remedy::AllowOutOfOrder {
            highest_applied: 3,
            could_declare: Some(3),
        },
        Remedy::AcceptChanges,
        Remedy::ClearIncomplete {
            version: 2,
            direction: Direction::Up,
            or_wait: true,
        },
        Remedy::UseSet { set: "analytics" },
        Remedy::RunOnItsOwn,
        Remedy::ApplyPending,
        Remedy::OtherDirection {
            direction: Direction::Down,
            target: 1,
        },
        Remedy::FixMigration,
        Remedy::RepairByHand {
            version: 2,
            direction: Direction::Down,
        },
        Remedy::CheckPath,
        Remedy::OtherHistoryTable,
        Remedy::RepairHistoryRow,
        Remedy::WaitForLock {
            advice: "Postgres::lock_wait",
        },
        Remedy::RunSequentially,
        Remedy::CheckConnection {
            advice: "check that the server runs",
        },
        Remedy::CheckDatabase,
    ];
    // A new variant fails to compile here until it is listed above.
    for remedy in &all {
        match remedy {
            Remedy::LinkMigrations
            | Remedy::ChangeVersion
            | Remedy::FixDependency { .. }
            | Remedy::DropLaterDependency { .. }
            | Remedy::NameEnvironment { .. }
            | Remedy::FixCondition
            | Remedy::RunTheBuildThatApplied
            | Remedy::ChooseKnownTarget { .. }
            | Remedy::DownNoFurtherThan { .. }
            | Remedy::AllowOutOfOrder { .. }
            | Remedy::AcceptChanges
            | Remedy::ClearIncomplete { .. }
            | Remedy::UseSet { .. }
            | Remedy::RunOnItsOwn
            | Remedy::ApplyPending
            | Remedy::OtherDirection { .. }
            | Remedy::FixMigration
            | Remedy::RepairByHand { .. }
            | Remedy::CheckPath
            | Remedy::OtherHistoryTable
            | Remedy::RepairHistoryRow
            | Remedy::WaitForLock { .. }
            | Remedy::RunSequentially
            | Remedy::CheckConnection { .. }
            | Remedy::CheckDatabase => {}
        }
    }
    all
}

#[cfg(test)]
mod tests {
    use super::*;

    fn api(remedy: Remedy) -> String {
        remedy.to_string()
    }

    fn has(remedy: Remedy, parts: &[&str]) {
        let text = api(remedy);
        for part in parts {
            assert!(text.contains(part), "{part:?} not in {text:?}");
        }
        assert!(!text.contains('\n'), "one line: {text:?}");
    }

    #[test]
    fn link_migrations() {
        has(
            Remedy::LinkMigrations,
            &[
                "`mod migrations;`",
                "`use my_lib as _;`",
                "`Migrator::new()`",
            ],
        );
    }

    #[test]
    fn change_version() {
        has(Remedy::ChangeVersion, &["a version no other migration has"]);
    }

    #[test]
    fn fix_dependency() {
        has(
            Remedy::FixDependency { dependency: 2 },
            &["`after`", "migration 2"],
        );
    }

    #[test]
    fn drop_later_dependency() {
        has(
            Remedy::DropLaterDependency { dependency: 4 },
            &["remove 4 from `after = [..]`", "above 4"],
        );
    }

    #[test]
    fn name_environment() {
        has(
            Remedy::NameEnvironment { example: "dev" },
            &["`Migrator::environment(\"dev\")`"],
        );
    }

    #[test]
    fn fix_condition() {
        has(Remedy::FixCondition, &["fix the condition"]);
    }

    #[test]
    fn run_the_build_that_applied() {
        has(
            Remedy::RunTheBuildThatApplied,
            &["run the build", "link the crate"],
        );
    }

    #[test]
    fn choose_known_target() {
        has(
            Remedy::ChooseKnownTarget { latest: 3 },
            &["choose 0", "the latest is 3"],
        );
    }

    #[test]
    fn down_no_further_than() {
        has(
            Remedy::DownNoFurtherThan { version: 2 },
            &["`Migrator::to_version(2)`", "backup"],
        );
    }

    #[test]
    fn allow_out_of_order() {
        has(
            Remedy::AllowOutOfOrder {
                highest_applied: 3,
                could_declare: Some(4),
            },
            &[
                "above 3",
                "migration 4 needs with `after = [..]`",
                "`Migrator::allow_out_of_order(true)`",
            ],
        );
        let declared = api(Remedy::AllowOutOfOrder {
            highest_applied: 3,
            could_declare: None,
        });
        assert!(!declared.contains("after"), "{declared}");
    }

    #[test]
    fn accept_changes() {
        has(Remedy::AcceptChanges, &["`Migrator::accept_changes`"]);
    }

    #[test]
    fn clear_incomplete() {
        has(
            Remedy::ClearIncomplete {
                version: 2,
                direction: Direction::Up,
                or_wait: true,
            },
            &["`Migrator::clear_incomplete(2)`", "pending", "or wait"],
        );
        let down = api(Remedy::ClearIncomplete {
            version: 2,
            direction: Direction::Down,
            or_wait: false,
        });
        assert!(down.contains("applied") && !down.contains("wait"), "{down}");
    }

    #[test]
    fn use_set() {
        has(
            Remedy::UseSet { set: "analytics" },
            &["`Migrator::for_set(\"analytics\")`"],
        );
    }

    #[test]
    fn run_on_its_own() {
        has(Remedy::RunOnItsOwn, &["on its own"]);
    }

    #[test]
    fn apply_pending() {
        has(Remedy::ApplyPending, &["`Migrator::to_latest`"]);
    }

    #[test]
    fn other_direction() {
        has(
            Remedy::OtherDirection {
                direction: Direction::Down,
                target: 1,
            },
            &["`Migrator::only_direction`", "revert to 1"],
        );
    }

    #[test]
    fn fix_migration() {
        has(Remedy::FixMigration, &["fix it and run again"]);
    }

    #[test]
    fn repair_by_hand() {
        has(
            Remedy::RepairByHand {
                version: 2,
                direction: Direction::Up,
            },
            &["by hand", "`Migrator::clear_incomplete(2)`"],
        );
    }

    #[test]
    fn check_path() {
        has(Remedy::CheckPath, &["the path"]);
    }

    #[test]
    fn other_history_table() {
        has(Remedy::OtherHistoryTable, &["`history_table(..)`"]);
    }

    #[test]
    fn repair_history_row() {
        has(Remedy::RepairHistoryRow, &["correct or delete it by hand"]);
    }

    #[test]
    fn wait_for_lock() {
        has(
            Remedy::WaitForLock {
                advice: "Postgres::lock_wait",
            },
            &["wait longer (Postgres::lock_wait)"],
        );
    }

    #[test]
    fn run_sequentially() {
        has(Remedy::RunSequentially, &["`Migrator::parallel`"]);
    }

    #[test]
    fn check_connection() {
        assert_eq!(
            api(Remedy::CheckConnection {
                advice: "check that the server runs"
            }),
            "check that the server runs"
        );
    }

    #[test]
    fn check_database() {
        has(Remedy::CheckDatabase, &["reachable and writable"]);
    }

    #[test]
    fn every_remedy_is_listed_once() {
        let all = one_of_each();
        let names: std::collections::BTreeSet<String> = all
            .iter()
            .map(|r| {
                format!("{r:?}")
                    .split([' ', '{'])
                    .next()
                    .unwrap()
                    .to_owned()
            })
            .collect();
        assert_eq!(names.len(), all.len());
    }
}
