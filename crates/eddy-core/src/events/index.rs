//! Every rule, and per bus an index of its rules by the exact values their
//! patterns require, so that an event is tested only against the rules that
//! could match it. A bus with 1,000 rules on other sources costs an event
//! one hash lookup, not 1,000 pattern tests (the issue's "matching cost flat
//! in the number of rules that cannot match"). Rules whose patterns have no
//! exact field (only prefixes, say) are tested one by one, as before.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use parking_lot::{Mutex, RwLock, RwLockReadGuard, RwLockWriteGuard};
use serde_json::Value;

use super::rule::Rule;

type Rules = BTreeMap<Vec<u8>, Arc<Rule>>;
/// Indexes by bus key prefix, all of one generation.
type Indexes = (u64, HashMap<Vec<u8>, Arc<RuleIndex>>);

/// The rules by [`super::records::rule_key`], and the per-bus indexes built
/// from them. Every write bumps the generation, which retires the indexes.
#[derive(Default)]
pub(crate) struct RuleMap {
    rules: RwLock<Rules>,
    /// Bumped while the write lock is held, so an index built under the
    /// read lock is exactly the state of its generation.
    generation: AtomicU64,
    indexes: Mutex<Indexes>,
    /// The next scheduled rule's due time, as of a generation: the
    /// delivery loop asks every turn, and rules rarely change.
    next_schedule: Mutex<Option<(u64, u64)>>,
}

impl RuleMap {
    pub(crate) fn read(&self) -> RwLockReadGuard<'_, Rules> {
        self.rules.read()
    }

    pub(crate) fn write(&self) -> RwLockWriteGuard<'_, Rules> {
        let guard = self.rules.write();
        self.generation.fetch_add(1, Ordering::Relaxed);
        guard
    }

    pub(crate) fn generation(&self) -> u64 {
        self.generation.load(Ordering::Relaxed)
    }

    /// When the next scheduled rule is due, if known for the rules as they are.
    pub(crate) fn next_schedule(&self) -> Option<u64> {
        let known = *self.next_schedule.lock();
        known.filter(|(generation, _)| *generation == self.generation()).map(|(_, at)| at)
    }

    /// Records the next due time found by a look at the rules of `generation`.
    pub(crate) fn set_next_schedule(&self, generation: u64, at: u64) {
        *self.next_schedule.lock() = Some((generation, at));
    }

    /// The index of the rules whose keys start with `bus_prefix` (one bus).
    pub(crate) fn index(&self, bus_prefix: &[u8]) -> Arc<RuleIndex> {
        let rules = self.rules.read();
        let generation = self.generation.load(Ordering::Relaxed);
        {
            let mut cache = self.indexes.lock();
            if cache.0 != generation {
                *cache = (generation, HashMap::new());
            }
            if let Some(index) = cache.1.get(bus_prefix) {
                return index.clone();
            }
        }
        let mut end = bus_prefix.to_vec();
        end.push(0xff);
        let index = Arc::new(RuleIndex::build(rules.range(bus_prefix.to_vec()..end).map(|(_, r)| r.clone())));
        let mut cache = self.indexes.lock();
        if cache.0 == generation {
            cache.1.insert(bus_prefix.to_vec(), index.clone());
        }
        index
    }
}

/// One bus's enabled event-pattern rules, indexed.
#[derive(Default)]
pub(crate) struct RuleIndex {
    /// In name order; positions below refer to it.
    rules: Vec<Arc<Rule>>,
    /// Field path → exact value → rules requiring that value there.
    keyed: Vec<(String, HashMap<String, Vec<u32>>)>,
    /// Rules with no exact field: tested against every event.
    unkeyed: Vec<u32>,
}

impl RuleIndex {
    fn build(rules: impl Iterator<Item = Arc<Rule>>) -> RuleIndex {
        let mut index = RuleIndex::default();
        for rule in rules {
            // Disabled and schedule-only rules never match an event.
            let Some(pattern) = rule.pattern.as_ref().filter(|_| rule.enabled()) else { continue };
            let at = index.rules.len() as u32;
            match pattern.exact_key() {
                Some(key) => {
                    let by_value = index.field(&key.path);
                    for value in key.values {
                        by_value.entry(value).or_default().push(at);
                    }
                }
                None => index.unkeyed.push(at),
            }
            index.rules.push(rule);
        }
        index
    }

    fn field(&mut self, path: &str) -> &mut HashMap<String, Vec<u32>> {
        let at = match self.keyed.iter().position(|(p, _)| p == path) {
            Some(at) => at,
            None => {
                self.keyed.push((path.to_string(), HashMap::new()));
                self.keyed.len() - 1
            }
        };
        &mut self.keyed[at].1
    }

    /// The rules `event` can match (to be tested in full), in name order.
    pub(crate) fn candidates(&self, event: &Value) -> Vec<&Arc<Rule>> {
        let mut at = self.unkeyed.clone();
        for (path, by_value) in &self.keyed {
            for value in crate::pattern::strings_at(event, path) {
                if let Some(rules) = by_value.get(value.as_ref()) {
                    at.extend_from_slice(rules);
                }
            }
        }
        at.sort_unstable();
        at.dedup();
        at.into_iter().map(|i| &self.rules[i as usize]).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::records::{self, RuleRecord};
    use serde_json::json;

    fn rule(name: &str, pattern: &str, state: &str) -> Arc<Rule> {
        let record = RuleRecord {
            account: "000000000000".into(),
            region: "us-east-1".into(),
            bus: "default".into(),
            name: name.into(),
            event_pattern: Some(pattern.into()),
            state: state.into(),
            ..RuleRecord::default()
        };
        Arc::new(Rule::from_record(record).unwrap())
    }

    fn map(rules: &[Arc<Rule>]) -> RuleMap {
        let map = RuleMap::default();
        for r in rules {
            let key = records::rule_key(&r.record.account, &r.record.region, &r.record.bus, &r.record.name);
            map.write().insert(key, r.clone());
        }
        map
    }

    fn names(index: &RuleIndex, event: &Value) -> Vec<String> {
        index.candidates(event).into_iter().map(|r| r.record.name.clone()).collect()
    }

    fn bus() -> Vec<u8> {
        records::rule_key("000000000000", "us-east-1", "default", "")
    }

    #[test]
    fn an_event_meets_only_rules_keyed_on_its_values_and_the_unkeyed_ones() {
        let mut rules: Vec<_> =
            (0..1000).map(|i| rule(&format!("r{i:04}"), &format!(r#"{{"source":["app.{i}"]}}"#), "ENABLED")).collect();
        rules.push(rule("any-prefix", r#"{"source":[{"prefix":"app."}]}"#, "ENABLED"));
        rules.push(rule(
            "by-type",
            r#"{"detail-type":["Created","Deleted"],"detail":{"n":[{"numeric":[">",1]}]}}"#,
            "ENABLED",
        ));
        rules.push(rule(
            "either",
            r#"{"$or":[{"source":["app.7"]},{"source":["other"],"detail-type":["x"]}]}"#,
            "ENABLED",
        ));
        rules.push(rule("off", r#"{"source":["app.7"]}"#, "DISABLED"));
        let index = map(&rules).index(&bus());
        let event = json!({"source": "app.7", "detail-type": "Deleted", "detail": {"n": 2}});
        assert_eq!(names(&index, &event), ["any-prefix", "by-type", "either", "r0007"]);
        let none = json!({"source": "elsewhere", "detail-type": "Other"});
        assert_eq!(names(&index, &none), ["any-prefix"]);
    }

    #[test]
    fn an_array_of_values_meets_the_rules_of_each_element() {
        let rules =
            [rule("a", r#"{"resources":["arn:1"]}"#, "ENABLED"), rule("b", r#"{"resources":["arn:2"]}"#, "ENABLED")];
        let index = map(&rules).index(&bus());
        assert_eq!(names(&index, &json!({"resources": ["arn:2", "arn:1"]})), ["a", "b"]);
        assert!(names(&index, &json!({"resources": "arn:3"})).is_empty());
    }

    #[test]
    fn a_rule_change_retires_the_index() {
        let map = map(&[rule("a", r#"{"source":["s"]}"#, "ENABLED")]);
        let event = json!({"source": "s"});
        assert_eq!(names(&map.index(&bus()), &event), ["a"]);
        let b = rule("b", r#"{"source":["s"]}"#, "ENABLED");
        map.write().insert(records::rule_key("000000000000", "us-east-1", "default", "b"), b);
        assert_eq!(names(&map.index(&bus()), &event), ["a", "b"]);
        map.write().clear();
        assert!(names(&map.index(&bus()), &event).is_empty());
    }
}
