//! Which steps of a plan may run at the same time ([`Migrator::parallel`]): a step waits
//! for every earlier step of the plan it depends on (its `after = [..]`, or every
//! earlier one when it declares none); steps that do not depend on each other may run
//! at once. After a failure, no step starts.
//!
//! [`Migrator::parallel`]: crate::Migrator::parallel

use crate::plan::{Direction, Step};

/// Where a step of the schedule is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Status {
    Waiting,
    Running,
    Done,
    Failed,
}

/// The steps of an up plan, handed out as they become ready.
#[derive(Debug)]
pub(crate) struct Schedule {
    /// For each step, the earlier steps it waits for.
    waits: Vec<Vec<usize>>,
    status: Vec<Status>,
    failed: bool,
}

impl Schedule {
    /// The schedule of `steps` (all up, in version order, as the planner makes them).
    pub(crate) fn new(steps: &[Step]) -> Self {
        let waits = steps
            .iter()
            .enumerate()
            .map(|(j, step)| {
                (0..j)
                    .filter(|&i| step.migration.depends_on(steps[i].migration.version()))
                    .collect()
            })
            .collect();
        Schedule {
            waits,
            status: vec![Status::Waiting; steps.len()],
            failed: false,
        }
    }

    /// Whether any two steps of `steps` could run at once: only then is a parallel run
    /// worth its extra sessions. A plan that reverts is never run in parallel.
    pub(crate) fn has_parallelism(steps: &[Step]) -> bool {
        if steps.iter().any(|s| s.direction != Direction::Up) {
            return false;
        }
        // Each step waiting for the one just before it makes a chain: one at a time.
        Schedule::new(steps)
            .waits
            .iter()
            .enumerate()
            .skip(1)
            .any(|(j, waits)| !waits.contains(&(j - 1)))
    }

    /// A step whose waits are all done, now marked running; `None` when none is ready,
    /// or a step failed (nothing new starts after a failure).
    pub(crate) fn next(&mut self) -> Option<usize> {
        if self.failed {
            return None;
        }
        let ready = (0..self.status.len()).find(|&j| {
            self.status[j] == Status::Waiting
                && self.waits[j]
                    .iter()
                    .all(|&i| self.status[i] == Status::Done)
        })?;
        self.status[ready] = Status::Running;
        Some(ready)
    }

    /// Step `index` finished: committed (`ok`) or failed.
    pub(crate) fn finish(&mut self, index: usize, ok: bool) {
        self.status[index] = if ok { Status::Done } else { Status::Failed };
        self.failed |= !ok;
    }

    /// Whether nothing runs and nothing more can start: the run is over.
    pub(crate) fn is_over(&self) -> bool {
        let running = self.status.contains(&Status::Running);
        let startable = !self.failed
            && self.status.iter().enumerate().any(|(j, &status)| {
                status == Status::Waiting
                    && self.waits[j]
                        .iter()
                        .all(|&i| matches!(self.status[i], Status::Done | Status::Running))
            });
        !running && !startable
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::migration::{BoxError, Db, Migration};
    use crate::registry::RegisteredMigration;

    struct Noop;
    impl Migration for Noop {
        fn up(&self, _db: &mut dyn Db) -> Result<(), BoxError> {
            Ok(())
        }
    }

    fn up(migration: &'static RegisteredMigration) -> Step {
        Step {
            migration,
            direction: Direction::Up,
        }
    }

    /// Migrations 1..=n where migration `j` declares `after` = the earlier versions
    /// `deps[j]` picks, or nothing (needs every earlier one) when `deps[j]` is `None`.
    fn migrations(deps: &[Option<Vec<u64>>]) -> Vec<&'static RegisteredMigration> {
        deps.iter()
            .enumerate()
            .map(|(i, after)| {
                let version = i as u64 + 1;
                let after: Option<&'static [u64]> = after
                    .as_ref()
                    .map(|a| &*Box::leak(a.clone().into_boxed_slice()));
                let m = crate::registry::registered_migration(
                    version,
                    "m",
                    "Noop",
                    "schedule.rs",
                    1,
                    &Noop,
                    None,
                    "",
                    true,
                    None,
                    "c",
                );
                let metadata = crate::metadata::Metadata::new(&[], None, after);
                &*Box::leak(Box::new(crate::registry::with_metadata(m, metadata)))
            })
            .collect()
    }

    /// A random dependency graph: each migration declares none (`None`), or a random
    /// subset of the earlier ones.
    fn graphs() -> impl Strategy<Value = Vec<Option<Vec<u64>>>> {
        (1usize..9).prop_flat_map(|n| {
            (0..n)
                .map(|j| {
                    prop_oneof![
                        Just(None),
                        proptest::collection::vec(any::<bool>(), j).prop_map(|pick| {
                            Some(
                                pick.iter()
                                    .enumerate()
                                    .filter(|(_, p)| **p)
                                    .map(|(i, _)| i as u64 + 1)
                                    .collect(),
                            )
                        }),
                    ]
                })
                .collect::<Vec<_>>()
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        /// Whatever order running steps finish in, a step starts only once every step
        /// it depends on is done; without failures every step runs once; after a failure
        /// nothing starts.
        #[test]
        fn a_step_starts_only_after_what_it_depends_on(
            graph in graphs(),
            picks in proptest::collection::vec(any::<prop::sample::Index>(), 64),
            fail_at in proptest::option::of(any::<prop::sample::Index>()),
        ) {
            let known = migrations(&graph);
            let steps: Vec<Step> = known.iter().map(|m| up(m)).collect();
            let fail_at = fail_at.map(|i| i.index(steps.len()));
            let mut schedule = Schedule::new(&steps);
            let mut running: Vec<usize> = Vec::new();
            let mut done: Vec<usize> = Vec::new();
            let mut started = 0;
            let mut failed = false;
            let mut picks = picks.into_iter().cycle();
            loop {
                while let Some(j) = schedule.next() {
                    prop_assert!(!failed, "step {j} started after a failure");
                    for i in 0..j {
                        if steps[j].migration.depends_on(steps[i].migration.version()) {
                            prop_assert!(done.contains(&i), "step {j} started before {i}");
                        }
                    }
                    running.push(j);
                    started += 1;
                }
                if running.is_empty() {
                    prop_assert!(schedule.is_over());
                    break;
                }
                prop_assert!(!schedule.is_over());
                let k = picks.next().unwrap().index(running.len());
                let j = running.swap_remove(k);
                let ok = fail_at != Some(j);
                schedule.finish(j, ok);
                if ok { done.push(j); } else { failed = true; }
            }
            if fail_at.is_none() {
                prop_assert_eq!(started, steps.len());
            }
        }
    }

    #[test]
    fn a_chain_has_no_parallelism_and_declared_independence_has() {
        let chain = migrations(&[None, None, None]);
        let steps: Vec<Step> = chain.iter().map(|m| up(m)).collect();
        assert!(!Schedule::has_parallelism(&steps));
        let fan = migrations(&[None, Some(vec![1]), Some(vec![1]), None]);
        let steps: Vec<Step> = fan.iter().map(|m| up(m)).collect();
        assert!(Schedule::has_parallelism(&steps));
        let mut schedule = Schedule::new(&steps);
        assert_eq!(schedule.next(), Some(0));
        assert_eq!(schedule.next(), None);
        schedule.finish(0, true);
        assert_eq!((schedule.next(), schedule.next()), (Some(1), Some(2)));
        // 4 declares nothing: it waits for every earlier step.
        assert_eq!(schedule.next(), None);
        schedule.finish(2, true);
        assert_eq!(schedule.next(), None);
        schedule.finish(1, true);
        assert_eq!(schedule.next(), Some(3));
    }
}
