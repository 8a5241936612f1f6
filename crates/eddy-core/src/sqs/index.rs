//! A queue's hot index: every live message's timing state, ordered so that
//! the next deliverable messages are found without scanning the queue.
//! Bodies stay in the store; only this metadata lives in memory.

use std::collections::{BTreeSet, HashMap, VecDeque};
use std::sync::Arc;

use crate::clock::Millis;

#[derive(Debug, Clone)]
pub struct Meta {
    pub visible_at: Millis,
    pub receive_count: u32,
    pub first_receive: Millis,
    pub expires_at: Millis,
    pub group: Option<Arc<str>>,
}

#[derive(Debug, Default)]
pub struct Index {
    msgs: HashMap<u64, Meta>,
    /// `(visible_at, seq)` of every message: ready ones sort first.
    timeline: BTreeSet<(Millis, u64)>,
    /// `(expires_at, seq)`: retention sweeps read from the front.
    expiry: BTreeSet<(Millis, u64)>,
    /// FIFO only: each group's messages in send order, and its place in line.
    groups: HashMap<Arc<str>, Group>,
    /// FIFO only: `(rank, group)`, the order groups are served in.
    heads: BTreeSet<(u64, Arc<str>)>,
    /// Standard queues: how many messages carry a group id (fair queues).
    grouped: usize,
    fifo: bool,
}

/// A FIFO message group. Its rank starts as its first message's sequence
/// number; a receive that takes from the group sends it to the back of the
/// line (recorded from AWS: once a group's messages are visible again, the
/// groups that waited meanwhile are served first).
#[derive(Debug)]
struct Group {
    seqs: VecDeque<u64>,
    rank: u64,
}

/// Message counts as GetQueueAttributes reports them.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Counts {
    pub visible: u64,
    pub in_flight: u64,
    pub delayed: u64,
}

impl Index {
    pub fn new(fifo: bool) -> Index {
        Index { fifo, ..Index::default() }
    }

    pub fn len(&self) -> usize {
        self.msgs.len()
    }

    pub fn get(&self, seq: u64) -> Option<&Meta> {
        self.msgs.get(&seq)
    }

    pub fn insert(&mut self, seq: u64, meta: Meta) {
        self.timeline.insert((meta.visible_at, seq));
        self.expiry.insert((meta.expires_at, seq));
        if self.fifo {
            if let Some(g) = &meta.group {
                let group = self.groups.entry(g.clone()).or_insert_with(|| {
                    self.heads.insert((seq, g.clone()));
                    Group { seqs: VecDeque::new(), rank: seq }
                });
                // Seqs only grow, except on restart where messages are
                // reloaded in key order: either way, appending keeps order.
                group.seqs.push_back(seq);
            }
        } else if meta.group.is_some() {
            self.grouped += 1;
        }
        self.msgs.insert(seq, meta);
    }

    pub fn remove(&mut self, seq: u64) -> Option<Meta> {
        let meta = self.msgs.remove(&seq)?;
        self.timeline.remove(&(meta.visible_at, seq));
        self.expiry.remove(&(meta.expires_at, seq));
        match (self.fifo, &meta.group) {
            (true, Some(g)) => self.remove_from_group(g, seq),
            (false, Some(_)) => self.grouped -= 1,
            _ => {}
        }
        Some(meta)
    }

    fn remove_from_group(&mut self, g: &Arc<str>, seq: u64) {
        let Some(group) = self.groups.get_mut(g) else { return };
        if group.seqs.front() == Some(&seq) {
            group.seqs.pop_front();
        } else if let Some(pos) = group.seqs.iter().position(|&s| s == seq) {
            group.seqs.remove(pos);
        }
        if group.seqs.is_empty() {
            self.heads.remove(&(group.rank, g.clone()));
            self.groups.remove(g);
        }
    }

    /// FIFO: sends a group just received from to the back of the line,
    /// `rank` being greater than every rank given so far.
    pub fn requeue_group(&mut self, g: &Arc<str>, rank: u64) {
        let Some(group) = self.groups.get_mut(g) else { return };
        self.heads.remove(&(group.rank, g.clone()));
        group.rank = rank;
        self.heads.insert((rank, g.clone()));
    }

    /// Applies `f` to a message's state, keeping the orderings in step.
    pub fn update(&mut self, seq: u64, f: impl FnOnce(&mut Meta)) -> Option<&Meta> {
        let meta = self.msgs.get_mut(&seq)?;
        let before = meta.visible_at;
        f(meta);
        if meta.visible_at != before {
            self.timeline.remove(&(before, seq));
            self.timeline.insert((meta.visible_at, seq));
        }
        self.msgs.get(&seq)
    }

    /// Up to `max` messages whose retention ran out by `now`, oldest first.
    pub fn expired(&self, now: Millis, max: usize) -> Vec<u64> {
        self.expiry.iter().take_while(|(at, _)| *at <= now).take(max).map(|(_, s)| *s).collect()
    }

    /// Earliest moment anything becomes visible (a delay or a visibility
    /// timeout ends), for waking long polls.
    pub fn next_visible_after(&self, now: Millis) -> Option<Millis> {
        self.timeline.range((now + 1, 0)..).next().map(|(at, _)| *at)
    }

    /// Standard queues: up to `max` visible messages, oldest visibility first.
    /// With message groups (fair queues), at most one message per group is
    /// taken per round so a noisy group cannot starve a quiet one.
    pub fn ready_standard(&self, now: Millis, max: usize) -> Vec<u64> {
        const SCAN: usize = 1000;
        if self.grouped == 0 {
            return self.timeline.iter().take_while(|(at, _)| *at <= now).take(max).map(|(_, s)| *s).collect();
        }
        let ready: Vec<(u64, Option<&Arc<str>>)> = self
            .timeline
            .iter()
            .take_while(|(at, _)| *at <= now)
            .take(SCAN)
            .map(|(_, s)| (*s, self.msgs.get(s).and_then(|m| m.group.as_ref())))
            .collect();
        if ready.iter().all(|(_, g)| g.is_none()) {
            return ready.into_iter().take(max).map(|(s, _)| s).collect();
        }
        let mut picked = Vec::with_capacity(max);
        let mut taken = vec![false; ready.len()];
        while picked.len() < max {
            let mut seen: Vec<Option<&Arc<str>>> = Vec::new();
            let before = picked.len();
            for (i, (seq, g)) in ready.iter().enumerate() {
                if picked.len() == max {
                    break;
                }
                if taken[i] || (g.is_some() && seen.contains(g)) {
                    continue;
                }
                seen.push(*g);
                taken[i] = true;
                picked.push(*seq);
            }
            if picked.len() == before {
                break;
            }
        }
        picked
    }

    /// FIFO queues: messages in group order. A group whose first message is
    /// in flight (or still delayed) is blocked; from an open group we take
    /// consecutive visible messages.
    pub fn ready_fifo(&self, now: Millis, max: usize) -> Vec<u64> {
        let mut picked = Vec::with_capacity(max);
        for (_, g) in &self.heads {
            if picked.len() == max {
                break;
            }
            let Some(group) = self.groups.get(g) else { continue };
            for seq in &group.seqs {
                match self.msgs.get(seq) {
                    Some(m) if m.visible_at <= now && picked.len() < max => picked.push(*seq),
                    _ => break,
                }
            }
        }
        picked
    }

    pub fn counts(&self, now: Millis) -> Counts {
        let mut c = Counts::default();
        for m in self.msgs.values() {
            if m.visible_at <= now {
                c.visible += 1;
            } else if m.receive_count > 0 {
                c.in_flight += 1;
            } else {
                c.delayed += 1;
            }
        }
        c
    }

    pub fn seqs(&self) -> Vec<u64> {
        let mut v: Vec<u64> = self.msgs.keys().copied().collect();
        v.sort_unstable();
        v
    }

    /// Empties the index in O(1), handing back the old contents: a purge or
    /// a queue deletion must not walk every message under the queue's lock.
    pub fn take(&mut self) -> Index {
        std::mem::replace(self, Index::new(self.fifo))
    }

    /// Every message's sequence number, unordered.
    pub fn into_seqs(self) -> Vec<u64> {
        self.msgs.into_keys().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meta(visible_at: Millis, group: Option<&str>) -> Meta {
        Meta { visible_at, receive_count: 0, first_receive: 0, expires_at: 1_000_000, group: group.map(Arc::from) }
    }

    #[test]
    fn fifo_group_blocks_while_head_in_flight() {
        let mut ix = Index::new(true);
        ix.insert(1, meta(0, Some("a")));
        ix.insert(2, meta(0, Some("a")));
        ix.insert(3, meta(0, Some("b")));
        assert_eq!(ix.ready_fifo(10, 10), vec![1, 2, 3]);
        assert_eq!(ix.ready_fifo(10, 1), vec![1]);
        // Message 1 goes in flight until t=100: group a is blocked.
        ix.update(1, |m| {
            m.visible_at = 100;
            m.receive_count = 1;
        });
        assert_eq!(ix.ready_fifo(10, 10), vec![3]);
        assert_eq!(ix.next_visible_after(10), Some(100));
        ix.remove(1);
        assert_eq!(ix.ready_fifo(10, 10), vec![2, 3]);
    }

    #[test]
    fn a_group_received_from_goes_to_the_back() {
        let mut ix = Index::new(true);
        ix.insert(1, meta(0, Some("a")));
        ix.insert(2, meta(0, Some("b")));
        ix.insert(3, meta(0, Some("a")));
        ix.insert(4, meta(0, Some("c")));
        assert_eq!(ix.ready_fifo(10, 10), vec![1, 3, 2, 4]);
        ix.requeue_group(&Arc::from("a"), 5);
        assert_eq!(ix.ready_fifo(10, 10), vec![2, 4, 1, 3]);
        ix.requeue_group(&Arc::from("b"), 6);
        assert_eq!(ix.ready_fifo(10, 10), vec![4, 1, 3, 2]);
        // Deleting a group's head keeps the group's place.
        ix.remove(1);
        assert_eq!(ix.ready_fifo(10, 10), vec![4, 3, 2]);
        ix.remove(3);
        ix.insert(7, meta(0, Some("a")));
        assert_eq!(ix.ready_fifo(10, 10), vec![4, 2, 7], "an emptied group starts over at the back");
    }

    #[test]
    fn fair_queue_spreads_across_groups() {
        let mut ix = Index::new(false);
        for s in 0..20 {
            ix.insert(s, meta(0, Some("noisy")));
        }
        ix.insert(100, meta(0, Some("quiet")));
        let got = ix.ready_standard(1, 3);
        assert!(got.contains(&100), "{got:?}");
        assert_eq!(got.len(), 3);
    }

    #[test]
    fn counts_split_visible_inflight_delayed() {
        let mut ix = Index::new(false);
        ix.insert(1, meta(0, None));
        ix.insert(2, meta(50, None));
        ix.insert(3, meta(0, None));
        ix.update(3, |m| {
            m.visible_at = 99;
            m.receive_count = 1;
        });
        assert_eq!(ix.counts(10), Counts { visible: 1, in_flight: 1, delayed: 1 });
        assert_eq!(ix.expired(1_000_000, 10), vec![1, 2, 3]);
        assert_eq!(ix.expired(1_000_000, 2), vec![1, 2], "at most as many as asked for");
    }
}
