//! Maps whose contents expire (deduplication windows, receive attempts).
//!
//! A `HashMap` keeps the capacity of its busiest moment: after a burst of
//! FIFO sends its table stays sized for the burst (85 MiB in a soak) long
//! after the entries expired. Expiry passes give the memory back once the
//! table is mostly empty.

use std::collections::HashMap;
use std::hash::Hash;

/// Tables smaller than this are left alone: shrinking them saves little.
const MIN_CAPACITY: usize = 1024;

/// Halves the table's slack when fewer than a quarter of its slots are used.
pub fn shrink_if_sparse<K: Eq + Hash, V>(map: &mut HashMap<K, V>) {
    if map.capacity() > MIN_CAPACITY && map.len() * 4 < map.capacity() {
        map.shrink_to(map.len() * 2);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_mostly_empty_table_gives_its_memory_back() {
        let mut m: HashMap<u32, u32> = (0..100_000).map(|i| (i, i)).collect();
        let burst = m.capacity();
        m.retain(|k, _| *k < 100);
        shrink_if_sparse(&mut m);
        assert!(m.capacity() < burst / 100, "{} of {burst}", m.capacity());
        assert_eq!(m.len(), 100);
        let mut small: HashMap<u32, u32> = (0..10).collect::<Vec<_>>().into_iter().map(|i| (i, i)).collect();
        let cap = small.capacity();
        shrink_if_sparse(&mut small);
        assert_eq!(small.capacity(), cap, "small tables are left alone");
    }
}
