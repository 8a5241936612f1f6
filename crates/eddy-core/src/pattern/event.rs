//! Matching compiled branches against a message or event.
//!
//! Like ruler, the event is flattened to dotted paths (so `"a.b"` in a
//! pattern matches `{"a": {"b": …}}` and `{"a.b": …}` alike) and arrays
//! are "crushed": every element sits at its array's path and matches on
//! its own. Ruler's JSON matching adds one rule, kept here: two fields
//! cannot be matched from objects in different elements of the same
//! array. Each leaf therefore carries its trail of (array, index) pairs.

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};

use serde_json::Value;

use super::compile::{Branch, Field};
use super::matcher::{comparable, Scalar};
use super::Dialect;

/// Upper bound on array-consistency search steps per branch. Past it the
/// branch is accepted without the consistency rule, trading exactness on
/// pathological events for bounded time.
const SEARCH_BUDGET: usize = 100_000;

pub(super) type Trail = Vec<(u32, u32)>;

#[derive(Debug)]
pub(super) struct Leaf<'a> {
    pub value: Scalar<'a>,
    pub trail: Trail,
}

/// The paths a pattern can look at, to skip the rest of an event.
#[derive(Debug, Default)]
pub(super) struct Paths {
    fields: HashSet<String>,
    /// Every dotted prefix of every field path, the paths themselves too.
    prefixes: HashSet<String>,
}

impl Paths {
    pub(super) fn of(branches: &[Branch]) -> Paths {
        let mut paths = Paths::default();
        for field in branches.iter().flatten() {
            paths.insert(&field.path);
        }
        paths
    }

    /// The paths of a pattern with a single field.
    pub(super) fn single(path: &str) -> Paths {
        let mut paths = Paths::default();
        paths.insert(path);
        paths
    }

    fn insert(&mut self, path: &str) {
        self.fields.insert(path.to_string());
        for (i, _) in path.match_indices('.') {
            self.prefixes.insert(path[..i].to_string());
        }
        self.prefixes.insert(path.to_string());
    }

    pub(super) fn wants(&self, path: &str) -> bool {
        self.prefixes.contains(path)
    }
}

/// The leaves of one event, by path.
#[derive(Debug, Default)]
pub(super) struct Leaves<'a> {
    by_path: HashMap<String, Vec<Leaf<'a>>>,
    arrays: u32,
}

impl<'a> Leaves<'a> {
    pub(super) fn push(&mut self, path: String, value: Scalar<'a>, trail: Trail) {
        self.by_path.entry(path).or_default().push(Leaf { value, trail });
    }

    /// The string leaves at `path`.
    pub(super) fn into_strings(mut self, path: &str) -> Vec<Cow<'a, str>> {
        let leaves = self.by_path.remove(path).unwrap_or_default();
        leaves
            .into_iter()
            .filter_map(|l| match l.value {
                Scalar::Str(s) => Some(s),
                _ => None,
            })
            .collect()
    }

    fn get(&self, path: &str) -> &[Leaf<'a>] {
        self.by_path.get(path).map_or(&[], Vec::as_slice)
    }

    /// Adds the leaves of `value` found at or below `path`, following only
    /// paths the pattern uses. Iterative, so event depth cannot overflow
    /// the stack.
    pub(super) fn add(&mut self, value: &'a Value, path: String, trail: Trail, paths: &Paths, d: Dialect) {
        let mut stack = vec![(value, path, trail)];
        while let Some((value, path, trail)) = stack.pop() {
            match value {
                Value::Object(map) => {
                    for (key, child) in map {
                        let child_path = if path.is_empty() { key.clone() } else { format!("{path}.{key}") };
                        if paths.wants(&child_path) {
                            stack.push((child, child_path, trail.clone()));
                        }
                    }
                }
                Value::Array(items) => {
                    let id = self.arrays;
                    self.arrays += 1;
                    for (i, item) in items.iter().enumerate() {
                        let mut t = trail.clone();
                        t.push((id, i as u32));
                        stack.push((item, path.clone(), t));
                    }
                }
                scalar => {
                    if paths.fields.contains(&path) {
                        self.push(path, scalar_of(scalar, d), trail);
                    }
                }
            }
        }
    }
}

fn scalar_of(value: &Value, d: Dialect) -> Scalar<'_> {
    match value {
        Value::String(s) => Scalar::Str(Cow::Borrowed(s)),
        Value::Number(n) => {
            let text = n.to_string();
            Scalar::Num { num: comparable(d, &text), text: Cow::Owned(text) }
        }
        Value::Bool(b) => Scalar::Bool(*b),
        _ => Scalar::Null,
    }
}

/// Whether any branch matches.
pub(super) fn any_branch(branches: &[Branch], leaves: &Leaves<'_>, d: Dialect) -> bool {
    branches.iter().any(|b| branch_matches(b, leaves, d))
}

fn branch_matches(branch: &Branch, leaves: &Leaves<'_>, d: Dialect) -> bool {
    let mut bound: Vec<Vec<&Trail>> = Vec::new();
    for field in branch {
        let found = leaves.get(&field.path);
        if found.is_empty() && field.absent {
            continue;
        }
        let candidates: Vec<&Trail> = found.iter().filter(|l| accepts(field, l, d)).map(|l| &l.trail).collect();
        if candidates.is_empty() {
            return false;
        }
        // A candidate outside any array is compatible with every choice.
        if candidates.iter().any(|t| t.is_empty()) {
            continue;
        }
        bound.push(candidates);
    }
    consistent(bound)
}

fn accepts(field: &Field, leaf: &Leaf<'_>, d: Dialect) -> bool {
    field.present || field.values.iter().any(|m| m.matches(&leaf.value, d))
}

/// Picks one candidate per field so that no two come from different
/// elements of the same array (depth-first, fewest candidates first).
fn consistent(mut fields: Vec<Vec<&Trail>>) -> bool {
    if fields.len() < 2 {
        return true;
    }
    fields.sort_by_key(Vec::len);
    let mut next = vec![0usize; fields.len()];
    let mut marks = vec![0usize; fields.len()];
    let mut chosen: Vec<(u32, u32)> = Vec::new();
    let mut level = 0;
    let mut steps = 0;
    loop {
        if level == fields.len() {
            return true;
        }
        let found = (next[level]..fields[level].len()).find(|&i| {
            steps += 1;
            fits(&chosen, fields[level][i])
        });
        if steps > SEARCH_BUDGET {
            return true;
        }
        match found {
            Some(i) => {
                next[level] = i + 1;
                marks[level] = chosen.len();
                chosen.extend(fields[level][i].iter().copied());
                level += 1;
                if level < fields.len() {
                    next[level] = 0;
                }
            }
            None if level == 0 => return false,
            None => {
                level -= 1;
                chosen.truncate(marks[level]);
            }
        }
    }
}

/// A trail fits if it agrees on the index of every array already chosen.
fn fits(chosen: &[(u32, u32)], trail: &Trail) -> bool {
    trail.iter().all(|(array, index)| chosen.iter().all(|(a, i)| a != array || i == index))
}
