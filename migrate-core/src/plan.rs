//! The planner: a pure function from the known migrations, the applied history and a
//! target to the ordered steps that reach it, or to a refusal. No I/O here.

pub use crate::direction::Direction;
use crate::error::{Error, MigrationRef, Result};
use crate::history::HistoryRow;
use crate::registry::RegisteredMigration;

/// Where a run should leave the database.
///
/// New targets may be added (a count of steps, a tag), so a `match` on it outside
/// migrate-core needs a `_` arm.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Target {
    /// Every known migration applied.
    Latest,
    /// Exactly the known migrations up to and including this version applied; `0`
    /// reverts everything.
    Version(u64),
}

/// Choices that change what the planner accepts ([`planner::plan`](crate::planner::plan)).
///
/// Start from `PlanOptions::default()` (refuse everything it can refuse) and loosen it with
/// the builder methods; read the fields. New choices may be added, so it cannot be built
/// with a struct expression outside migrate-core:
///
/// ```
/// use migrate_core::Direction;
/// use migrate_core::planner::PlanOptions;
///
/// let options = PlanOptions::default()
///     .allow_out_of_order(true)
///     .only(Some(Direction::Up));
/// assert!(options.allow_out_of_order);
/// assert!(!options.allow_modified);
/// assert_eq!(options.only, Some(Direction::Up));
/// ```
///
/// ```compile_fail,E0639
/// let options = migrate_core::planner::PlanOptions {
///     allow_out_of_order: true,
///     allow_modified: false,
///     only: None,
/// };
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct PlanOptions {
    /// Apply a pending migration whose version is below the highest applied one,
    /// instead of refusing.
    ///
    /// Without it, such a migration is still applied when that is safe by what the
    /// migrations declare: every migration it needs is applied (or applied before it in
    /// the same run), and no applied migration needs it. A migration needs what its
    /// `after = [..]` lists, or every earlier migration of its set when it has no
    /// `after`; so a late migration is applied only when the applied ones after it
    /// declare dependencies that leave it out ([`Error::OutOfOrder`] otherwise, naming the
    /// applied migration that needs it).
    pub allow_out_of_order: bool,
    /// Go on when an applied migration's source changed since it was applied, instead of
    /// refusing.
    pub allow_modified: bool,
    /// Refuse a plan with a step in the other direction ([`Error::WrongDirection`]):
    /// `Some(Direction::Up)` never reverts, `Some(Direction::Down)` never applies.
    pub only: Option<Direction>,
}

impl PlanOptions {
    /// Sets [`allow_out_of_order`](PlanOptions#structfield.allow_out_of_order): apply a
    /// pending migration below the highest applied one instead of refusing.
    pub const fn allow_out_of_order(mut self, allow: bool) -> Self {
        self.allow_out_of_order = allow;
        self
    }

    /// Sets [`allow_modified`](PlanOptions#structfield.allow_modified): go on when an
    /// applied migration's source changed.
    pub const fn allow_modified(mut self, allow: bool) -> Self {
        self.allow_modified = allow;
        self
    }

    /// Sets [`only`](PlanOptions#structfield.only): refuse a plan with a step in the other
    /// direction than `Some(direction)`; `None` allows both.
    pub const fn only(mut self, direction: Option<Direction>) -> Self {
        self.only = direction;
        self
    }
}

/// One step of a plan: a migration and the direction to run it in.
///
/// Read its fields; new ones may be added, so it cannot be built with a struct expression
/// outside this crate:
///
/// ```compile_fail,E0639
/// use migrate_core::{Direction, RegisteredMigration, Step};
///
/// fn step(migration: &'static RegisteredMigration) -> Step {
///     Step { migration, direction: Direction::Up }
/// }
/// ```
#[derive(Clone, Copy, Debug)]
#[non_exhaustive]
pub struct Step {
    /// The migration to run.
    pub migration: &'static RegisteredMigration,
    /// Apply or revert.
    pub direction: Direction,
}

/// The ordered steps that take the database to a target: reverts first (highest version
/// first), then applies (lowest first).
///
/// Read its fields; new ones may be added, so it cannot be built with a struct expression
/// outside this crate (`Plan::default()` is the empty plan):
///
/// ```compile_fail,E0639
/// let plan = migrate_core::Plan { steps: Vec::new() };
/// ```
#[derive(Clone, Debug, Default)]
#[non_exhaustive]
pub struct Plan {
    /// The steps, in the order they run.
    pub steps: Vec<Step>,
}

impl Plan {
    /// Whether there is nothing to do.
    pub fn is_empty(&self) -> bool {
        self.steps.is_empty()
    }
}

/// Plans the steps from `applied` to `target`.
///
/// `known` must be sorted by version without duplicates (as discovery returns it), all
/// of one set; `applied` holds the history rows of that set, in any order.
///
/// # Errors
///
/// Refuses with [`Error::UnknownApplied`] when the history holds a version `known`
/// lacks, [`Error::Incomplete`] when a migration outside a transaction did not finish,
/// [`Error::Modified`] when an applied migration changed since (unless `options` allow
/// it), [`Error::UnknownTarget`] for a target that is neither 0 nor known,
/// [`Error::Irreversible`] when a revert would cross a migration without `down`,
/// [`Error::OutOfOrder`] when a pending migration is older than an applied one that needs
/// it and `options` do not allow it (see [`PlanOptions::allow_out_of_order`]), and
/// [`Error::WrongDirection`] when a step would go the other way than `options.only`.
pub fn plan(
    known: &[&'static RegisteredMigration],
    applied: &[HistoryRow],
    target: Target,
    options: PlanOptions,
) -> Result<Plan> {
    let mut rows: Vec<&HistoryRow> = applied.iter().collect();
    rows.sort_unstable_by_key(|row| row.version);
    rows.dedup_by_key(|row| row.version);

    // One merge walk over both sorted lists: which known migrations are applied, and
    // which applied versions are unknown.
    let mut row_of: Vec<Option<&HistoryRow>> = vec![None; known.len()];
    let mut unknown: Vec<&HistoryRow> = Vec::new();
    let mut k = 0;
    for &row in &rows {
        while k < known.len() && known[k].version() < row.version {
            k += 1;
        }
        if k < known.len() && known[k].version() == row.version {
            row_of[k] = Some(row);
        } else {
            unknown.push(row);
        }
    }
    if let Some(row) = unknown.first() {
        return Err(Error::UnknownApplied {
            migration: MigrationRef::new(row.version, row.description.clone(), ""),
            type_name: row.type_name.clone(),
            others: unknown.len() - 1,
        });
    }
    if let Some(row) = rows.iter().find(|row| !row.is_complete()) {
        let file = known
            .iter()
            .find(|m| m.version() == row.version)
            .map_or("", |m| m.file());
        return Err(Error::Incomplete {
            migration: MigrationRef::new(row.version, row.description.clone(), file),
            started_at: row.applied_at.clone(),
            direction: row.interrupted_direction().unwrap_or(Direction::Up),
        });
    }
    if !options.allow_modified {
        for (m, row) in known.iter().zip(&row_of) {
            if let Some(row) = row.filter(|row| row.checksum != m.checksum()) {
                return Err(Error::Modified {
                    migration: MigrationRef::of(m),
                    recorded: row.checksum.clone(),
                    current: m.checksum().to_owned(),
                });
            }
        }
    }
    // A skipped row (its condition was false) is in the history but not applied: it is
    // not pending, it does not count as applied for the out-of-order rule, and going
    // below it removes the row without running any code.
    let is_applied: Vec<bool> = row_of
        .iter()
        .map(|row| row.is_some_and(HistoryRow::is_applied))
        .collect();
    let is_skipped: Vec<bool> = row_of
        .iter()
        .map(|row| row.is_some_and(|row| row.skipped().is_some()))
        .collect();

    let latest = known.last().map_or(0, |m| m.version());
    let target = match target {
        Target::Latest => latest,
        Target::Version(0) => 0,
        Target::Version(v) if known.binary_search_by_key(&v, |m| m.version()).is_ok() => v,
        Target::Version(version) => return Err(Error::UnknownTarget { version, latest }),
    };

    let mut steps = Vec::new();
    for (i, m) in known.iter().enumerate().rev() {
        if (is_applied[i] || is_skipped[i]) && m.version() > target {
            if is_applied[i] && !m.is_reversible() {
                return Err(Error::Irreversible {
                    migration: MigrationRef::of(m),
                    target,
                });
            }
            steps.push(Step {
                migration: m,
                direction: Direction::Down,
            });
        }
    }

    let highest_remaining = known
        .iter()
        .zip(&is_applied)
        .filter(|(m, applied)| **applied && m.version() <= target)
        .map(|(m, _)| m.version())
        .next_back()
        .unwrap_or(0);
    for (i, m) in known.iter().enumerate() {
        if m.version() > target {
            break;
        }
        if is_applied[i] || is_skipped[i] {
            continue;
        }
        if m.version() < highest_remaining && !options.allow_out_of_order {
            // Everything it needs is earlier, so applied or applied before it in this
            // run; what remains to ask is whether an applied migration needs it.
            let needed_by = known[i + 1..]
                .iter()
                .zip(&is_applied[i + 1..])
                .take_while(|(later, _)| later.version() <= target)
                .find(|(later, applied)| **applied && later.depends_on(m.version()));
            if let Some((needed_by, _)) = needed_by {
                return Err(Error::OutOfOrder {
                    migration: MigrationRef::of(m),
                    highest_applied: highest_remaining,
                    needed_by: needed_by.version(),
                    needed_by_declares: needed_by.dependencies().is_some(),
                });
            }
        }
        steps.push(Step {
            migration: m,
            direction: Direction::Up,
        });
    }
    if let Some(only) = options.only
        && let Some(wrong) = steps.iter().find(|step| step.direction != only)
    {
        let m = wrong.migration;
        return Err(Error::WrongDirection {
            migration: MigrationRef::of(m),
            direction: wrong.direction,
            target,
        });
    }
    Ok(Plan { steps })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::migration::{BoxError, Db, Migration, Reversible};

    struct Noop;
    impl Migration for Noop {
        fn up(&self, _: &mut dyn Db) -> Result<(), BoxError> {
            Ok(())
        }
    }
    impl Reversible for Noop {
        fn down(&self, _: &mut dyn Db) -> Result<(), BoxError> {
            Ok(())
        }
    }

    fn reversible(version: u64) -> &'static RegisteredMigration {
        Box::leak(Box::new(crate::registry::registered_migration(
            version,
            "reversible",
            "Noop",
            "plan.rs",
            1,
            &Noop,
            Some(&Noop),
            "",
            true,
            None,
            "checksum",
        )))
    }

    fn irreversible(version: u64) -> &'static RegisteredMigration {
        Box::leak(Box::new(crate::registry::registered_migration(
            version,
            "irreversible",
            "Noop",
            "plan.rs",
            1,
            &Noop,
            None,
            "",
            true,
            None,
            "checksum",
        )))
    }

    fn applied(versions: &[u64]) -> Vec<HistoryRow> {
        versions
            .iter()
            .map(|&version| {
                HistoryRow::new("", version, "checksum", true).with_details(
                    format!("applied {version}"),
                    "Old",
                    "2026-01-01T00:00:00.000Z",
                    core::time::Duration::ZERO,
                )
            })
            .collect()
    }

    fn steps(plan: &Plan) -> Vec<(u64, Direction)> {
        plan.steps
            .iter()
            .map(|s| (s.migration.version(), s.direction))
            .collect()
    }

    fn known(versions: &[u64]) -> Vec<&'static RegisteredMigration> {
        versions.iter().map(|&v| reversible(v)).collect()
    }

    const OPTIONS: PlanOptions = PlanOptions {
        allow_out_of_order: false,
        allow_modified: false,
        only: None,
    };

    #[test]
    fn the_builder_sets_each_choice_and_the_default_refuses_all() {
        assert_eq!(PlanOptions::default(), OPTIONS);
        let loose = PlanOptions::default()
            .allow_out_of_order(true)
            .allow_modified(true)
            .only(Some(Direction::Down));
        assert!(loose.allow_out_of_order && loose.allow_modified);
        assert_eq!(loose.only, Some(Direction::Down));
        assert_eq!(loose.only(None).only, None);
    }

    #[test]
    fn latest_applies_every_pending_migration_in_version_order() {
        let plan = plan(&known(&[1, 2, 10]), &applied(&[1]), Target::Latest, OPTIONS).unwrap();
        assert_eq!(steps(&plan), [(2, Direction::Up), (10, Direction::Up)]);
    }

    #[test]
    fn nothing_to_do_when_everything_is_applied() {
        let plan = plan(&known(&[1, 2]), &applied(&[2, 1]), Target::Latest, OPTIONS).unwrap();
        assert!(plan.is_empty());
        let plan = plan_for(&[], &[], Target::Latest);
        assert!(plan.is_empty());
    }

    fn plan_for(known_versions: &[u64], applied_versions: &[u64], target: Target) -> Plan {
        plan(
            &known(known_versions),
            &applied(applied_versions),
            target,
            OPTIONS,
        )
        .unwrap()
    }

    #[test]
    fn a_lower_target_reverts_from_the_highest_down() {
        let plan = plan_for(&[1, 2, 3], &[1, 2, 3], Target::Version(1));
        assert_eq!(steps(&plan), [(3, Direction::Down), (2, Direction::Down)]);
        let plan = plan_for(&[1, 2, 3], &[1, 2, 3], Target::Version(0));
        assert_eq!(
            steps(&plan),
            [
                (3, Direction::Down),
                (2, Direction::Down),
                (1, Direction::Down)
            ]
        );
    }

    #[test]
    fn a_higher_target_applies_up_to_it_and_no_further() {
        let plan = plan_for(&[1, 2, 3], &[], Target::Version(2));
        assert_eq!(steps(&plan), [(1, Direction::Up), (2, Direction::Up)]);
    }

    #[test]
    fn reverting_across_an_irreversible_migration_is_refused_up_front() {
        let known = vec![reversible(1), irreversible(2), reversible(3)];
        let error = plan(&known, &applied(&[1, 2, 3]), Target::Version(1), OPTIONS).unwrap_err();
        assert!(
            matches!(
                error,
                Error::Irreversible {
                    migration: MigrationRef { version: 2, .. },
                    target: 1,
                    ..
                }
            ),
            "{error:?}"
        );
        // Stopping above it is fine.
        let plan = plan(&known, &applied(&[1, 2, 3]), Target::Version(2), OPTIONS).unwrap();
        assert_eq!(steps(&plan), [(3, Direction::Down)]);
    }

    #[test]
    fn an_irreversible_migration_that_is_not_applied_does_not_block() {
        let known = vec![reversible(1), irreversible(2)];
        let plan = plan(&known, &applied(&[1]), Target::Version(0), OPTIONS).unwrap();
        assert_eq!(steps(&plan), [(1, Direction::Down)]);
    }

    #[test]
    fn unknown_applied_versions_are_refused_naming_the_lowest() {
        let error = plan(
            &known(&[1, 2]),
            &applied(&[1, 7, 9]),
            Target::Latest,
            OPTIONS,
        )
        .unwrap_err();
        match error {
            Error::UnknownApplied {
                migration, others, ..
            } => {
                assert_eq!(
                    (migration.version, &*migration.description, others),
                    (7, "applied 7", 1)
                );
            }
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn an_unknown_target_is_refused() {
        let error = plan(&known(&[1, 3]), &[], Target::Version(2), OPTIONS).unwrap_err();
        assert!(
            matches!(
                error,
                Error::UnknownTarget {
                    version: 2,
                    latest: 3
                }
            ),
            "{error:?}"
        );
    }

    fn declaring(version: u64, after: &'static [u64]) -> &'static RegisteredMigration {
        Box::leak(Box::new(crate::registry::with_metadata(
            crate::registry::registered_migration(
                version,
                "declaring",
                "Noop",
                "plan.rs",
                1,
                &Noop,
                None,
                "",
                true,
                None,
                "checksum",
            ),
            crate::metadata::Metadata::new(&[], None, Some(after)),
        )))
    }

    /// 2 arrives after 3 was applied; 3 declares it needs 1 only, so 2 is applied without
    /// `allow_out_of_order`. Had 3 named 2, or declared nothing, 2 would be refused, naming 3.
    #[test]
    fn a_late_migration_that_no_applied_one_needs_is_applied() {
        let known = [reversible(1), irreversible(2), declaring(3, &[1])];
        let planned = plan(&known, &applied(&[1, 3]), Target::Latest, OPTIONS).unwrap();
        assert_eq!(steps(&planned), [(2, Direction::Up)]);

        let known = [reversible(1), irreversible(2), declaring(3, &[2])];
        let error = plan(&known, &applied(&[1, 3]), Target::Latest, OPTIONS).unwrap_err();
        assert!(
            matches!(
                error,
                Error::OutOfOrder {
                    migration: MigrationRef { version: 2, .. },
                    needed_by: 3,
                    needed_by_declares: true,
                    ..
                }
            ),
            "{error:?}"
        );
        assert!(
            error
                .to_string()
                .contains("applied migration 3 needs it (its `after = [..]` names 2)"),
            "{error}"
        );

        let known = [reversible(1), irreversible(2), reversible(3)];
        let error = plan(&known, &applied(&[1, 3]), Target::Latest, OPTIONS).unwrap_err();
        assert_eq!(
            error.to_string(),
            "migration 2 \"irreversible\" (plan.rs) is pending but the database already has \
             migration 3 applied, and applied migration 3 needs it (migration 3 declares no \
             `after = [..]`, so it needs every earlier migration); nothing was written; give \
             it a version above 3, list what migration 3 needs with `after = [..]` if not \
             this one, or allow it with `Migrator::allow_out_of_order(true)`"
        );
    }

    #[test]
    fn out_of_order_is_refused_unless_allowed() {
        let error = plan(
            &known(&[1, 2, 3]),
            &applied(&[1, 3]),
            Target::Latest,
            OPTIONS,
        )
        .unwrap_err();
        assert!(
            matches!(
                error,
                Error::OutOfOrder {
                    migration: MigrationRef { version: 2, .. },
                    highest_applied: 3,
                    ..
                }
            ),
            "{error:?}"
        );
        let allowed = PlanOptions {
            allow_out_of_order: true,
            ..OPTIONS
        };
        let plan = plan(
            &known(&[1, 2, 3]),
            &applied(&[1, 3]),
            Target::Latest,
            allowed,
        )
        .unwrap();
        assert_eq!(steps(&plan), [(2, Direction::Up)]);
    }

    #[test]
    fn going_down_below_a_gap_is_not_out_of_order() {
        // 3 is applied, 2 is pending: down to 1 reverts 3 and leaves 2 pending.
        let plan = plan_for(&[1, 2, 3], &[1, 3], Target::Version(1));
        assert_eq!(steps(&plan), [(3, Direction::Down)]);
    }

    #[test]
    fn a_changed_applied_migration_is_refused_unless_allowed() {
        let mut history = applied(&[1, 2]);
        history[1].checksum = "old".to_owned();
        let error = plan(&known(&[1, 2, 3]), &history, Target::Latest, OPTIONS).unwrap_err();
        assert!(
            matches!(&error, Error::Modified { migration: MigrationRef { version: 2, .. }, recorded, current, .. } if recorded == "old" && current == "checksum"),
            "{error:?}"
        );
        let allowed = PlanOptions {
            allow_modified: true,
            ..OPTIONS
        };
        let plan = plan(&known(&[1, 2, 3]), &history, Target::Latest, allowed).unwrap();
        assert_eq!(steps(&plan), [(3, Direction::Up)]);
    }

    #[test]
    fn an_incomplete_migration_blocks_every_run() {
        let mut history = applied(&[1, 2]);
        history[1].state = crate::history::RowState::Incomplete {
            direction: Direction::Up,
        };
        for target in [Target::Latest, Target::Version(0), Target::Version(2)] {
            let error = plan(&known(&[1, 2, 3]), &history, target, OPTIONS).unwrap_err();
            assert!(
                matches!(
                    error,
                    Error::Incomplete {
                        migration: MigrationRef { version: 2, .. },
                        ..
                    }
                ),
                "{error:?}"
            );
        }
    }
}
