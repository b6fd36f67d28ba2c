//! Property tests of the pure planner ([`migrate_core::planner::plan`]) over random known sets,
//! histories, targets and options: successful plans are ordered, never re-apply, never
//! revert what is not applied and never skip; every refusal happens exactly when its
//! condition holds, with the precedence the planner implements; planning again from the
//! reached state is a no-op; and the generators provably hit every refusal. Known
//! migrations carry random dependency graphs (`after = [..]` or none): a late migration is
//! applied without `allow_out_of_order` exactly when no applied migration needs it.
//! History rows may be skipped (their condition was false: `skipped:` in the checksum
//! column): in the history but not applied, not pending, not counted as applied for the
//! out-of-order rule, removed by a down step when the target is below them (even when the
//! migration is irreversible), and compared by the checksum they recorded.
//!
//! `PROPTEST_CASES` overrides the number of cases (1024 by default). Failures are not
//! persisted to a regression file: the counterexample is in the failure message.

use std::collections::{BTreeSet, HashMap};
use std::sync::{Mutex, OnceLock};

use migrate_core::planner::{PlanOptions, plan};
use migrate_core::{
    BoxError, Db, Direction, Error, HistoryRow, Migration, MigrationRef, Plan, RegisteredMigration,
    Reversible, Step, Target,
};
use proptest::prelude::*;
use proptest::sample::Index;
use proptest::strategy::ValueTree;
use proptest::test_runner::{Config, TestRunner};

/// Versions (known and unknown) are drawn from `1..=MAX_V`.
const MAX_V: u64 = 24;
/// At most this many known migrations.
const MAX_KNOWN: usize = 10;
const FILE: &str = "plan_properties.rs";
const DEFAULT_CASES: u32 = 1024;

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

fn current_checksum(version: u64) -> String {
    format!("sum-{version}")
}

fn old_checksum(version: u64) -> String {
    format!("old-{version}")
}

fn skip_reason(version: u64) -> String {
    format!("`checks::not_{version}` returned false: see {version}:{version}")
}

/// The registered migration for a version, reversible or not, with its dependencies
/// (`None`: no `after`); each combination leaked once and shared by every case.
fn registered(
    version: u64,
    reversible: bool,
    after: &Option<Vec<u64>>,
) -> &'static RegisteredMigration {
    type Key = (u64, bool, Option<Vec<u64>>);
    static POOL: OnceLock<Mutex<HashMap<Key, &'static RegisteredMigration>>> = OnceLock::new();
    let mut pool = POOL.get_or_init(Mutex::default).lock().unwrap();
    pool.entry((version, reversible, after.clone()))
        .or_insert_with(|| {
            let description: &'static str =
                Box::leak(format!("migration {version}").into_boxed_str());
            let checksum: &'static str = Box::leak(current_checksum(version).into_boxed_str());
            let line = u32::try_from(version).unwrap();
            let down: Option<&'static dyn Reversible> = if reversible { Some(&Noop) } else { None };
            let after: Option<&'static [u64]> = after
                .clone()
                .map(|list| &*Box::leak(list.into_boxed_slice()));
            Box::leak(Box::new(migrate_core::__private::with_metadata(
                migrate_core::__private::registered_migration(
                    version,
                    description,
                    "Noop",
                    FILE,
                    line,
                    &Noop,
                    down,
                    "",
                    true,
                    None,
                    checksum,
                ),
                migrate_core::__private::Metadata::new(&[], None, after),
            )))
        })
}

/// One history row, before it becomes an [`HistoryRow`].
#[derive(Clone, Debug)]
struct Row {
    version: u64,
    /// Recorded with a checksum other than the migration's current one.
    modified: bool,
    complete: bool,
    /// Recorded as skipped: its condition was false, its code never ran.
    skipped: bool,
}

impl Row {
    fn applied(&self) -> HistoryRow {
        let v = self.version;
        let mut checksum = if self.modified {
            old_checksum(v)
        } else {
            current_checksum(v)
        };
        if self.skipped {
            // The reason may hold `:` too; only the first one ends the checksum.
            checksum = format!("skipped:{checksum}:{}", skip_reason(v));
        }
        HistoryRow::new("", v, checksum, self.complete).with_details(
            format!("applied {v}"),
            "Old",
            format!("2026-01-01T00:00:{v:02}.000Z"),
            core::time::Duration::ZERO,
        )
    }
}

/// One input of the planner.
#[derive(Clone, Debug)]
struct Scenario {
    /// `(version, reversible)`, sorted by version, unique.
    known: Vec<(u64, bool)>,
    /// The dependencies of each known migration (`None`: it declares none, so it needs
    /// every earlier one), earlier versions only, as discovery guarantees.
    after: Vec<Option<Vec<u64>>>,
    /// In the order given to the planner (shuffled).
    history: Vec<Row>,
    target: Target,
    options: PlanOptions,
}

impl Scenario {
    fn known(&self) -> Vec<&'static RegisteredMigration> {
        self.known
            .iter()
            .zip(&self.after)
            .map(|(&(v, r), after)| registered(v, r, after))
            .collect()
    }

    fn applied(&self) -> Vec<HistoryRow> {
        self.history.iter().map(Row::applied).collect()
    }

    fn plan(&self) -> Result<Plan, Error> {
        plan(&self.known(), &self.applied(), self.target, self.options)
    }
}

#[derive(Clone, Debug)]
enum AppliedSpec {
    /// The first `index(n + 1)` known migrations: a realistic, gap-free history.
    Prefix(Index),
    /// Known migration `i` is applied iff `mask[i]`: gaps, hence out-of-order cases.
    Mask(Vec<bool>),
}

/// Which history rows are skipped: for the known migrations the applied ones leave out,
/// by position (`known[i]`), and for the unknown rows. Skipped rows are added to the
/// applied ones, so the applied patterns keep their refusals.
#[derive(Clone, Debug)]
struct SkipSpec {
    known: Vec<bool>,
    unknown: bool,
}

#[derive(Clone, Debug)]
enum TargetSpec {
    Latest,
    Known(Index),
    /// `Target::Version` of this; 0, known by chance, unknown, or `u64::MAX`.
    Raw(u64),
}

type Parts = (
    std::collections::BTreeMap<u64, bool>,
    AppliedSpec,
    BTreeSet<u64>,
    Vec<Index>,
    Vec<Index>,
    TargetSpec,
    u64,
    PlanOptions,
    Vec<Option<u16>>,
    SkipSpec,
);

fn scenario() -> impl Strategy<Value = Scenario> {
    let known = prop::collection::btree_map(1..=MAX_V, prop::bool::weighted(0.75), 0..=MAX_KNOWN);
    let applied = prop_oneof![
        any::<Index>().prop_map(AppliedSpec::Prefix),
        prop::collection::vec(prop::bool::weighted(0.6), MAX_KNOWN).prop_map(AppliedSpec::Mask),
    ];
    let unknown = prop_oneof![
        6 => Just(BTreeSet::new()),
        1 => prop::collection::btree_set(1..=MAX_V, 1..=3),
    ];
    let modified = prop_oneof![
        4 => Just(Vec::new()),
        1 => prop::collection::vec(any::<Index>(), 1..=2),
    ];
    let incomplete = prop_oneof![
        7 => Just(Vec::new()),
        1 => prop::collection::vec(any::<Index>(), 1..=2),
    ];
    let target = prop_oneof![
        3 => Just(TargetSpec::Latest),
        1 => Just(TargetSpec::Raw(0)),
        5 => any::<Index>().prop_map(TargetSpec::Known),
        1 => (1..=MAX_V + 2).prop_map(TargetSpec::Raw),
        1 => Just(TargetSpec::Raw(u64::MAX)),
    ];
    let options = (any::<bool>(), any::<bool>()).prop_map(|(ooo, modified)| {
        PlanOptions::default()
            .allow_out_of_order(ooo)
            .allow_modified(modified)
    });
    // Per known migration: no `after` (needs every earlier one), or a random subset of the
    // earlier ones as bits.
    let after = prop::collection::vec(
        prop_oneof![2 => Just(None), 3 => any::<u16>().prop_map(Some)],
        MAX_KNOWN,
    );
    // Per known migration that is not applied: no row, or a skipped one. Half of the
    // scenarios have no skipped row.
    let skipped = prop_oneof![
        1 => Just(SkipSpec { known: vec![false; MAX_KNOWN], unknown: false }),
        1 => (prop::collection::vec(prop::bool::weighted(0.5), MAX_KNOWN), any::<bool>())
            .prop_map(|(known, unknown)| SkipSpec { known, unknown }),
    ];
    (
        known,
        applied,
        unknown,
        modified,
        incomplete,
        target,
        any::<u64>(),
        options,
        after,
        skipped,
    )
        .prop_map(build)
}

fn build(parts: Parts) -> Scenario {
    let (known, applied, unknown, modified, incomplete, target, seed, options, after, skipped) =
        parts;
    let known: Vec<(u64, bool)> = known.into_iter().collect();
    let n = known.len();
    let after: Vec<Option<Vec<u64>>> = (0..n)
        .map(|i| {
            after[i].map(|bits| {
                (0..i)
                    .filter(|&j| bits & (1 << j) != 0)
                    .map(|j| known[j].0)
                    .collect()
            })
        })
        .collect();
    let is_applied = |i: usize| match &applied {
        AppliedSpec::Prefix(len) => i < len.index(n + 1),
        AppliedSpec::Mask(mask) => mask[i],
    };
    let mut history: Vec<Row> = (0..n)
        .filter(|&i| is_applied(i) || skipped.known[i])
        .map(|i| Row {
            version: known[i].0,
            modified: false,
            complete: true,
            skipped: !is_applied(i),
        })
        .collect();
    let known_rows = history.len();
    if known_rows > 0 {
        for index in &modified {
            history[index.index(known_rows)].modified = true;
        }
    }
    history.extend(
        unknown
            .into_iter()
            .filter(|v| !known.iter().any(|&(k, _)| k == *v))
            .map(|version| Row {
                version,
                modified: false,
                complete: true,
                skipped: skipped.unknown,
            }),
    );
    if !history.is_empty() {
        let len = history.len();
        for index in &incomplete {
            history[index.index(len)].complete = false;
        }
    }
    // The planner takes the history in any order.
    history.sort_by_key(|row| {
        row.version
            .wrapping_add(seed)
            .wrapping_mul(0x9E37_79B9_7F4A_7C15)
    });
    let target = match target {
        TargetSpec::Latest => Target::Latest,
        TargetSpec::Known(_) if n == 0 => Target::Version(0),
        TargetSpec::Known(i) => Target::Version(known[i.index(n)].0),
        TargetSpec::Raw(v) => Target::Version(v),
    };
    Scenario {
        known,
        after,
        history,
        target,
        options,
    }
}

/// The refusals the planner can produce, in the order of precedence it implements.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    UnknownApplied,
    Incomplete,
    Modified,
    UnknownTarget,
    Irreversible,
    OutOfOrder,
}

const KINDS: [Kind; 6] = [
    Kind::UnknownApplied,
    Kind::Incomplete,
    Kind::Modified,
    Kind::UnknownTarget,
    Kind::Irreversible,
    Kind::OutOfOrder,
];

/// What a refusal says: its kind, the version it names, one more number (others, latest,
/// target, highest applied) and one text (description, start time or checksums).
#[derive(Clone, Debug, PartialEq, Eq)]
struct Refusal {
    kind: Kind,
    version: u64,
    number: u64,
    text: String,
}

fn refusal(error: &Error) -> Refusal {
    let (kind, version, number, text) = match error {
        Error::UnknownApplied {
            migration, others, ..
        } => (
            Kind::UnknownApplied,
            migration.version,
            *others as u64,
            migration.description.to_string(),
        ),
        Error::Incomplete {
            migration,
            started_at,
            ..
        } => (
            Kind::Incomplete,
            migration.version,
            0,
            format!("{started_at} {}", migration.file),
        ),
        Error::Modified {
            migration,
            recorded,
            current,
        } => (
            Kind::Modified,
            migration.version,
            0,
            format!("{recorded} -> {current}"),
        ),
        Error::UnknownTarget { version, latest } => {
            (Kind::UnknownTarget, *version, *latest, String::new())
        }
        Error::Irreversible { migration, target } => (
            Kind::Irreversible,
            migration.version,
            *target,
            migration.description.to_string(),
        ),
        Error::OutOfOrder {
            migration,
            highest_applied,
            needed_by,
            needed_by_declares,
        } => (
            Kind::OutOfOrder,
            migration.version,
            *highest_applied,
            format!(
                "{} needed by {needed_by} ({needed_by_declares})",
                migration.description
            ),
        ),
        other => panic!("the planner returned a non-planning error: {other:?}"),
    };
    Refusal {
        kind,
        version,
        number,
        text,
    }
}

/// An independent model of the planner: each refusal condition evaluated on its own, from
/// sets rather than the planner's merge walk.
#[derive(Debug)]
struct Model {
    /// The refusal conditions that hold, in precedence order.
    holds: Vec<Kind>,
    /// The refusal the first condition that holds must produce, if any.
    refusal: Option<Refusal>,
    /// The known versions recorded as applied in the history.
    applied: BTreeSet<u64>,
    /// The known versions recorded as skipped.
    skipped: BTreeSet<u64>,
    /// The resolved target, when it resolves.
    target: Option<u64>,
    /// The known versions up to the target but the skipped ones: the applied versions a
    /// plan must reach.
    goal: BTreeSet<u64>,
}

/// Whether known migration `a` needs version `v`: its `after` lists it, or it has no
/// `after` and `v` is earlier.
fn needs(s: &Scenario, a: u64, v: u64) -> bool {
    let i = s.known.iter().position(|&(k, _)| k == a).unwrap();
    match &s.after[i] {
        Some(after) => after.contains(&v),
        None => v < a,
    }
}

fn model(s: &Scenario) -> Model {
    let known: BTreeSet<u64> = s.known.iter().map(|&(v, _)| v).collect();
    let reversible = |v: u64| s.known.iter().any(|&(k, r)| k == v && r);
    let rows = |keep: &dyn Fn(&Row) -> bool| -> BTreeSet<u64> {
        s.history
            .iter()
            .filter(|r| keep(r))
            .map(|r| r.version)
            .collect()
    };
    let unknown = rows(&|r| !known.contains(&r.version));
    let incomplete = rows(&|r| !r.complete);
    // A skipped row is compared by the checksum it recorded, like an applied one.
    let modified = rows(&|r| known.contains(&r.version) && r.modified);
    let applied = rows(&|r| known.contains(&r.version) && !r.skipped);
    let skipped = rows(&|r| known.contains(&r.version) && r.skipped);
    let latest = known.last().copied().unwrap_or(0);
    let target = match s.target {
        Target::Latest => Some(latest),
        Target::Version(0) => Some(0),
        Target::Version(v) => known.contains(&v).then_some(v),
        // `Target` is `#[non_exhaustive]`; the strategies above build only these two.
        other => unreachable!("no model of {other:?}"),
    };
    let t = target.unwrap_or(0);
    let irreversible_above: BTreeSet<u64> = applied
        .iter()
        .copied()
        .filter(|&v| target.is_some() && v > t && !reversible(v))
        .collect();
    let highest_remaining = applied.range(..=t).next_back().copied().unwrap_or(0);
    // Pending (neither applied nor skipped), below the highest applied version, and needed
    // by an applied migration up to the target: with each, the lowest applied version that
    // needs it. Skipped rows count neither as the highest nor as a migration that needs one.
    let behind: Vec<(u64, u64)> = known
        .range(..=t)
        .copied()
        .filter(|v| {
            target.is_some()
                && !applied.contains(v)
                && !skipped.contains(v)
                && *v < highest_remaining
        })
        .filter_map(|v| {
            applied
                .range(v + 1..=t)
                .copied()
                .find(|&a| needs(s, a, v))
                .map(|a| (v, a))
        })
        .collect();
    let goal: BTreeSet<u64> = if target.is_some() {
        known
            .range(..=t)
            .copied()
            .filter(|v| !skipped.contains(v))
            .collect()
    } else {
        BTreeSet::new()
    };

    let holds: Vec<Kind> = KINDS
        .into_iter()
        .filter(|kind| match kind {
            Kind::UnknownApplied => !unknown.is_empty(),
            Kind::Incomplete => !incomplete.is_empty(),
            Kind::Modified => !s.options.allow_modified && !modified.is_empty(),
            Kind::UnknownTarget => target.is_none(),
            Kind::Irreversible => !irreversible_above.is_empty(),
            Kind::OutOfOrder => !s.options.allow_out_of_order && !behind.is_empty(),
        })
        .collect();
    let refusal = holds.first().map(|&kind| {
        let (version, number, text) = match kind {
            Kind::UnknownApplied => {
                let v = *unknown.first().unwrap();
                (v, unknown.len() as u64 - 1, format!("applied {v}"))
            }
            Kind::Incomplete => {
                let v = *incomplete.first().unwrap();
                (v, 0, format!("2026-01-01T00:00:{v:02}.000Z {FILE}"))
            }
            Kind::Modified => {
                let v = *modified.first().unwrap();
                // The checksum recorded, without a skipped row's mark and reason.
                (
                    v,
                    0,
                    format!("{} -> {}", old_checksum(v), current_checksum(v)),
                )
            }
            Kind::UnknownTarget => {
                let Target::Version(v) = s.target else {
                    unreachable!()
                };
                (v, latest, String::new())
            }
            Kind::Irreversible => {
                let v = *irreversible_above.last().unwrap();
                (v, t, format!("migration {v}"))
            }
            Kind::OutOfOrder => {
                let (v, a) = *behind.first().unwrap();
                let declares =
                    s.after[s.known.iter().position(|&(k, _)| k == a).unwrap()].is_some();
                (
                    v,
                    highest_remaining,
                    format!("migration {v} needed by {a} ({declares})"),
                )
            }
        };
        Refusal {
            kind,
            version,
            number,
            text,
        }
    });
    Model {
        holds,
        refusal,
        applied,
        skipped,
        target,
        goal,
    }
}

fn steps(plan: &Plan) -> Vec<(u64, Direction)> {
    plan.steps
        .iter()
        .map(|s| (s.migration.version(), s.direction))
        .collect()
}

fn config() -> Config {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(DEFAULT_CASES);
    Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    }
}

proptest! {
    #![proptest_config(config())]

    /// Property 1: a successful plan is ordered (downs first, descending; then ups,
    /// ascending), touches each version at most once, reverts only what is applied or
    /// skipped and above the target (a skipped row also when its migration is
    /// irreversible), applies only what is pending (never a skipped migration) and up to
    /// the target, and reaches exactly the known versions up to the target but the
    /// skipped ones, with every skipped row above the target removed.
    #[test]
    fn a_plan_reaches_the_target_in_order_without_reapplying_or_skipping(s in scenario()) {
        let Ok(plan) = s.plan() else {
            return Ok(());
        };
        let m = model(&s);
        let known = s.known();
        let target = m.target.expect("a plan for an unresolvable target");
        prop_assert!(m.holds.is_empty(), "planned despite {:?}", m.holds);
        let mut state = m.applied.clone();
        let mut skipped = m.skipped.clone();
        let mut seen = BTreeSet::new();
        let mut ups_started = false;
        let (mut last_down, mut last_up) = (u64::MAX, 0);
        for step in &plan.steps {
            let v = step.migration.version();
            prop_assert!(
                known.iter().any(|k| std::ptr::eq(*k, step.migration)),
                "step {v} is not one of the known migrations"
            );
            prop_assert!(seen.insert(v), "version {v} appears twice");
            match step.direction {
                Direction::Down => {
                    prop_assert!(!ups_started, "down {v} after an up");
                    prop_assert!(v < last_down, "downs not descending at {v}");
                    prop_assert!(v > target, "reverts {v}, not above target {target}");
                    if !skipped.remove(&v) {
                        prop_assert!(step.migration.is_reversible(), "reverts irreversible {v}");
                        prop_assert!(state.remove(&v), "reverts {v}, which is not applied");
                    }
                    last_down = v;
                }
                Direction::Up => {
                    ups_started = true;
                    prop_assert!(v > last_up, "ups not ascending at {v}");
                    prop_assert!(v <= target, "applies {v}, above target {target}");
                    prop_assert!(!skipped.contains(&v), "applies {v}, which is recorded as skipped");
                    for &needed in &known.iter().copied().filter(|k| step.migration.depends_on(k.version())).map(|k| k.version()).collect::<Vec<_>>() {
                        // A skipped migration is settled: what needs it runs without it.
                        prop_assert!(state.contains(&needed) || skipped.contains(&needed), "applies {v} before {needed}, which it needs");
                    }
                    if !s.options.allow_out_of_order {
                        let needer = state.range(v + 1..).copied().find(|&a| needs(&s, a, v));
                        prop_assert!(needer.is_none(), "applies {v} after {needer:?}, which needs it");
                    }
                    prop_assert!(state.insert(v), "re-applies {v}");
                    last_up = v;
                }
            }
        }
        prop_assert_eq!(state, m.goal, "the plan does not reach the target state");
        let skipped_above: Vec<u64> = skipped.range(target + 1..).copied().collect();
        prop_assert!(skipped_above.is_empty(), "keeps skipped rows {skipped_above:?} above target {target}");
    }

    /// Property 2: the planner refuses exactly when one of the refusal conditions holds,
    /// with the first of them in the order UnknownApplied, Incomplete, Modified,
    /// UnknownTarget, Irreversible, OutOfOrder, and the refusal names the lowest unknown,
    /// incomplete, modified or out-of-order version, or the highest irreversible one.
    #[test]
    fn refusals_happen_exactly_when_their_condition_holds(s in scenario()) {
        let m = model(&s);
        match (s.plan(), &m.refusal) {
            (Ok(_), None) => {}
            (Ok(plan), Some(expected)) => {
                prop_assert!(false, "expected {expected:?} (all holding: {:?}), got plan {:?}",
                    m.holds, steps(&plan));
            }
            (Err(error), expected) => {
                prop_assert_eq!(Some(refusal(&error)), expected.clone(),
                    "holding: {:?}; error: {}", m.holds, error);
            }
        }
    }

    /// Property 3: planning again, with the same target and options, from the history a
    /// successful plan leaves (kept rows as they were, applied ones recorded afresh) gives
    /// an empty plan.
    #[test]
    fn planning_again_from_the_reached_state_is_a_no_op(s in scenario()) {
        let Ok(plan) = s.plan() else {
            return Ok(());
        };
        let mut history: Vec<Row> = s.history.clone();
        for step in &plan.steps {
            let v = step.migration.version();
            match step.direction {
                Direction::Down => history.retain(|row| row.version != v),
                Direction::Up => history.push(Row { version: v, modified: false, complete: true, skipped: false }),
            }
        }
        let again = Scenario { history, ..s.clone() };
        match again.plan() {
            Ok(plan) => prop_assert!(plan.is_empty(), "second plan {:?}", steps(&plan)),
            Err(error) => prop_assert!(false, "second plan refused: {error}"),
        }
    }

    /// The order of the history rows does not matter, and a successful plan stays the same
    /// under looser options.
    #[test]
    fn history_order_and_looser_options_do_not_change_the_outcome(s in scenario()) {
        let result = s.plan();
        let mut reversed = s.clone();
        reversed.history.reverse();
        match (&result, reversed.plan()) {
            (Ok(a), Ok(b)) => prop_assert_eq!(steps(a), steps(&b)),
            (Err(a), Err(b)) => prop_assert_eq!(refusal(a), refusal(&b)),
            (a, b) => prop_assert!(false, "{a:?} vs {b:?}"),
        }
        if let Ok(plan) = result {
            for (ooo, modified) in [(true, false), (false, true), (true, true)] {
                let options = PlanOptions::default()
                    .allow_out_of_order(s.options.allow_out_of_order || ooo)
                    .allow_modified(s.options.allow_modified || modified);
                let looser = Scenario { options, ..s.clone() };
                match looser.plan() {
                    Ok(other) => prop_assert_eq!(steps(&plan), steps(&other)),
                    Err(error) => prop_assert!(false, "looser options refuse: {error}"),
                }
            }
        }
    }
}

proptest! {
    #![proptest_config(config())]

    /// Property 5: a run restricted to one direction plans exactly what the unrestricted
    /// run plans when every step goes that way, refuses as the unrestricted run refuses,
    /// and otherwise refuses with `WrongDirection` naming the first step that goes the
    /// other way (and the resolved target).
    #[test]
    fn a_direction_restriction_refuses_exactly_the_plans_that_go_the_other_way(
        s in scenario(),
        up in any::<bool>(),
    ) {
        let only = if up { Direction::Up } else { Direction::Down };
        let restricted = Scenario {
            options: s.options.only(Some(only)),
            ..s.clone()
        };
        match (s.plan(), restricted.plan()) {
            (Err(a), Err(b)) => prop_assert_eq!(refusal(&a), refusal(&b)),
            (Ok(plan), result) => match plan.steps.iter().find(|step| step.direction != only) {
                None => prop_assert_eq!(steps(&plan), steps(&result.unwrap())),
                Some(wrong) => match result {
                    Err(Error::WrongDirection { migration, direction, .. }) => {
                        prop_assert_eq!(migration.version, wrong.migration.version());
                        prop_assert_eq!(direction, wrong.direction);
                    }
                    other => prop_assert!(false, "expected WrongDirection, got {other:?}"),
                },
            },
            (Err(a), Ok(b)) => prop_assert!(false, "restriction made {a} pass: {b:?}"),
        }
    }
}

/// Property 4: the generator hits every refusal variant (also with skipped rows in the
/// history), every precedence that can be contested, and plans of every shape, skipped
/// rows reverted (irreversible ones too) and kept among them. Deterministic (fixed seed) over as many draws as
/// one property run has cases, so a generator change that makes a case rare fails here.
#[test]
fn the_generator_hits_every_refusal_and_every_plan_shape() {
    const DRAWS: usize = DEFAULT_CASES as usize;
    /// Each refusal must win in at least this many of the draws...
    const MIN_HITS: usize = 10;
    /// ...and each shape of plan must come out at least this many times.
    const MIN_SHAPES: usize = 5;
    let mut runner = TestRunner::deterministic();
    let strategy = scenario();
    let mut wins = [0usize; KINDS.len()];
    // contested[w][l]: `w` won while `l` held too.
    let mut contested = [[0usize; KINDS.len()]; KINDS.len()];
    let (mut empty, mut only_ups, mut only_downs, mut downs_and_ups) = (0, 0, 0, 0);
    // Late migrations applied without `allow_out_of_order` (their dependencies allowed
    // it), and refusals naming a needer that declares its dependencies.
    let (mut late_by_declaration, mut refused_by_declaration) = (0, 0);
    // Plans that revert a skipped row, one of an irreversible migration, and that apply,
    // without `allow_out_of_order`, a migration that a skipped row up to the target would
    // need were it applied: above the highest applied version (a skipped row is not the
    // highest) or below it (a skipped row needs nothing).
    let (mut skipped_reverted, mut skipped_irreversible_reverted) = (0, 0);
    let (mut below_skipped, mut late_below_skipped) = (0, 0);
    // Refusals of each kind with a skipped row in the history.
    let mut wins_with_skipped = [0usize; KINDS.len()];
    for _ in 0..DRAWS {
        let s = strategy.new_tree(&mut runner).unwrap().current();
        let m = model(&s);
        let has_skipped = s.history.iter().any(|row| row.skipped);
        match s.plan() {
            Ok(plan) => {
                let reverted: Vec<&Step> = plan
                    .steps
                    .iter()
                    .filter(|step| {
                        step.direction == Direction::Down
                            && m.skipped.contains(&step.migration.version())
                    })
                    .collect();
                if !reverted.is_empty() {
                    skipped_reverted += 1;
                }
                if reverted.iter().any(|step| !step.migration.is_reversible()) {
                    skipped_irreversible_reverted += 1;
                }
                let target = m.target.unwrap_or(0);
                let highest = m.applied.range(..=target).next_back().copied().unwrap_or(0);
                let needed_by_skipped = |step: &&Step| {
                    let v = step.migration.version();
                    step.direction == Direction::Up
                        && m.skipped
                            .iter()
                            .any(|&a| v < a && a <= target && needs(&s, a, v))
                };
                if !s.options.allow_out_of_order {
                    let versions: Vec<u64> = plan
                        .steps
                        .iter()
                        .filter(needed_by_skipped)
                        .map(|step| step.migration.version())
                        .collect();
                    if versions.iter().any(|&v| v > highest) {
                        below_skipped += 1;
                    }
                    if versions.iter().any(|&v| v < highest) {
                        late_below_skipped += 1;
                    }
                }
                let downs = plan
                    .steps
                    .iter()
                    .filter(|s| s.direction == Direction::Down)
                    .count();
                let ups = plan.steps.len() - downs;
                let highest = m.applied.last().copied().unwrap_or(0);
                if !s.options.allow_out_of_order
                    && plan.steps.iter().any(|step| {
                        step.direction == Direction::Up && step.migration.version() < highest
                    })
                {
                    late_by_declaration += 1;
                }
                match (downs > 0, ups > 0) {
                    (false, false) => empty += 1,
                    (false, true) => only_ups += 1,
                    (true, false) => only_downs += 1,
                    (true, true) => downs_and_ups += 1,
                }
            }
            Err(error) => {
                if matches!(
                    error,
                    Error::OutOfOrder {
                        needed_by_declares: true,
                        ..
                    }
                ) {
                    refused_by_declaration += 1;
                }
                let kind = refusal(&error).kind;
                wins[kind as usize] += 1;
                if has_skipped {
                    wins_with_skipped[kind as usize] += 1;
                }
                for &lost in m.holds.iter().filter(|&&k| k != kind) {
                    contested[kind as usize][lost as usize] += 1;
                }
            }
        }
    }
    println!(
        "{DRAWS} draws: ok empty {empty}, only ups {only_ups}, only downs {only_downs}, downs and ups {downs_and_ups}"
    );
    for kind in KINDS {
        println!(
            "{kind:?}: {} ({} with skipped rows; won over: {:?})",
            wins[kind as usize], wins_with_skipped[kind as usize], contested[kind as usize]
        );
    }
    for kind in KINDS {
        assert!(
            wins[kind as usize] >= MIN_HITS,
            "{kind:?} refused only {} times in {DRAWS} draws",
            wins[kind as usize]
        );
        assert!(
            wins_with_skipped[kind as usize] >= MIN_SHAPES,
            "{kind:?} refused only {} times with skipped rows in {DRAWS} draws",
            wins_with_skipped[kind as usize]
        );
    }
    // Every refusal but the last must be seen winning over a later one (UnknownTarget
    // leaves no target to judge Irreversible and OutOfOrder by, so it wins over none).
    for kind in [
        Kind::UnknownApplied,
        Kind::Incomplete,
        Kind::Modified,
        Kind::Irreversible,
    ] {
        assert!(
            contested[kind as usize].iter().sum::<usize>() > 0,
            "{kind:?} never won over another refusal"
        );
    }
    assert!(
        contested[Kind::Irreversible as usize][Kind::OutOfOrder as usize] > 0,
        "Irreversible never won over OutOfOrder"
    );
    println!(
        "late migrations applied by declaration: {late_by_declaration}; refused by a declared need: {refused_by_declaration}"
    );
    println!(
        "skipped rows reverted: {skipped_reverted} ({skipped_irreversible_reverted} irreversible); applied below a skipped row that would need it: {below_skipped} above the highest applied, {late_below_skipped} below it"
    );
    // Rare by construction (a gap, applied migrations above it that declare they do not
    // need it, a skipped one that would): seen at least once here, and pinned by
    // `a_skipped_row_needs_nothing_and_is_not_the_highest_applied`.
    assert!(
        late_below_skipped > 0,
        "no late migration applied below a skipped row that would need it in {DRAWS} draws"
    );
    for (shape, count) in [
        ("skipped rows reverted", skipped_reverted),
        (
            "irreversible skipped rows reverted",
            skipped_irreversible_reverted,
        ),
        ("applied below a skipped row", below_skipped),
        ("late by declaration", late_by_declaration),
        ("refused by a declared need", refused_by_declaration),
        ("empty", empty),
        ("only ups", only_ups),
        ("only downs", only_downs),
        ("downs and ups", downs_and_ups),
    ] {
        assert!(
            count >= MIN_SHAPES,
            "only {count} {shape} plans in {DRAWS} draws"
        );
    }
}

/// A skipped row is neither the highest applied migration nor one that needs anything:
/// 2 is applied without `allow_out_of_order` below skipped 3 (which declares no `after`, so
/// it would need 2 were it applied) and below applied 4 (which needs 1 only); 5, skipped
/// and irreversible, is removed by a down step, not refused as irreversible.
#[test]
fn a_skipped_row_needs_nothing_and_is_not_the_highest_applied() {
    let s = Scenario {
        known: vec![(1, true), (2, true), (3, true), (4, true), (5, false)],
        after: vec![None, None, None, Some(vec![1]), None],
        history: [(1, false), (3, true), (4, false), (5, true)]
            .into_iter()
            .map(|(version, skipped)| Row {
                version,
                modified: false,
                complete: true,
                skipped,
            })
            .collect(),
        target: Target::Version(4),
        options: PlanOptions::default(),
    };
    let plan = s.plan().unwrap();
    assert_eq!(steps(&plan), [(5, Direction::Down), (2, Direction::Up)]);
    // Applied, 3 would need 2: refused, naming 3.
    let mut applied = s.clone();
    applied.history[1].skipped = false;
    assert!(
        matches!(
            applied.plan(),
            Err(Error::OutOfOrder {
                migration: MigrationRef { version: 2, .. },
                needed_by: 3,
                ..
            })
        ),
        "{:?}",
        applied.plan()
    );
}
