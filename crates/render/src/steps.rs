//! Where a migration is cut into steps (`-- retort:step`): a change that cannot run in a
//! transaction gets a step of its own, and enum labels that later changes use are committed by
//! the step before them. Down mirrors up's steps, so an interrupted run can be taken back.

use crate::PlannedStatement;
use retort_schema::Change;

/// The step (0-based) of each change, from the statements planned for them.
pub(crate) fn of_changes(changes: &[Change], statements: &[PlannedStatement]) -> Vec<usize> {
    let outside = |i: usize| statements.iter().any(|s| s.change == i && !s.transactional);
    let labels: Vec<Vec<String>> = changes.iter().map(added_labels).collect();
    // A change adding labels that a later change's statements use: the step ends after it.
    let commit_after = |i: usize| {
        !labels[i].is_empty()
            && statements.iter().any(|s| {
                s.change > i
                    && labels[s.change].is_empty()
                    && labels[i].iter().any(|l| s.sql.contains(l.as_str()))
            })
    };
    let mut steps = Vec::with_capacity(changes.len());
    let mut step = 0;
    for i in 0..changes.len() {
        if i > 0 && (outside(i) || outside(i - 1) || commit_after(i - 1)) {
            step += 1;
        }
        steps.push(step);
    }
    steps
}

/// The steps of the inverse changes (`inverse(changes)`, the reversed list) that mirror `up`
/// (the step of each up change, of `count` steps): down's step k takes back up's step n+1-k.
pub(crate) fn mirrored(up: &[usize], count: usize) -> Vec<usize> {
    let last = count.max(1) - 1;
    up.iter().rev().map(|s| last - s.min(&last)).collect()
}

/// The labels (as SQL literals) a pure addition of enum values adds; empty for other changes.
fn added_labels(change: &Change) -> Vec<String> {
    let Change::AlterEnum { from, to, .. } = change else {
        return Vec::new();
    };
    let kept: Vec<&String> = to.iter().filter(|v| from.contains(v)).collect();
    let pure_addition = kept.len() == from.len() && kept.iter().zip(from).all(|(a, b)| *a == b);
    if !pure_addition {
        return Vec::new();
    }
    to.iter()
        .filter(|v| !from.contains(v))
        .map(|v| retort_schema::quote_literal(v))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn down_steps_mirror_up_steps() {
        assert_eq!(mirrored(&[0, 0, 1, 2, 2], 3), [0, 0, 1, 2, 2]);
        assert_eq!(mirrored(&[0, 1, 1], 2), [0, 0, 1]);
        // Up's last step only validates: down's first step mirrors it and stays empty.
        assert_eq!(mirrored(&[0, 0], 2), [1, 1]);
        assert_eq!(mirrored(&[], 1), Vec::<usize>::new());
    }
}
