//! [`Remembered`]: a bounded map that forgets its oldest entries first, for what a broken node
//! keeps in memory.

use std::collections::{HashMap, VecDeque};
use std::hash::Hash;
use std::sync::Mutex;

/// At most `capacity` entries; putting a new key into a full map forgets the key put first.
/// Replacing the value of a key already held does not make it younger. The lock is never held
/// across an `.await` (every method is synchronous).
#[derive(Debug)]
pub struct Remembered<K, V> {
    capacity: usize,
    state: Mutex<State<K, V>>,
}

#[derive(Debug)]
struct State<K, V> {
    values: HashMap<K, V>,
    /// Keys in the order they were first put, oldest first; each key of `values` once.
    order: VecDeque<K>,
}

impl<K: Clone + Eq + Hash, V: Clone> Remembered<K, V> {
    /// An empty map holding at most `capacity` entries (at least one).
    pub fn new(capacity: usize) -> Self {
        let state = State { values: HashMap::new(), order: VecDeque::new() };
        Self { capacity: capacity.max(1), state: Mutex::new(state) }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State<K, V>> {
        self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The value held for `key`.
    pub fn get(&self, key: &K) -> Option<V> {
        self.state().values.get(key).cloned()
    }

    /// Holds `value` for `key`, forgetting the oldest key if the map is full.
    pub fn put(&self, key: K, value: V) {
        let mut state = self.state();
        if state.values.insert(key.clone(), value).is_some() {
            return;
        }
        state.order.push_back(key);
        while state.order.len() > self.capacity {
            if let Some(oldest) = state.order.pop_front() {
                state.values.remove(&oldest);
            }
        }
    }

    /// The value held for `key` if there is one, else `value`, which is then held.
    pub fn get_or_put(&self, key: K, value: V) -> V {
        if let Some(held) = self.get(&key) {
            return held;
        }
        self.put(key.clone(), value.clone());
        self.get(&key).unwrap_or(value)
    }

    /// Changes the value held for `key` with `change`; nothing if none is held.
    pub fn update(&self, key: &K, change: impl FnOnce(&V) -> Option<V>) {
        let mut state = self.state();
        if let Some(next) = state.values.get(key).and_then(change) {
            state.values.insert(key.clone(), next);
        }
    }

    /// How many entries are held.
    pub fn len(&self) -> usize {
        self.state().values.len()
    }

    /// Whether nothing is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_map_forgets_the_key_put_first() {
        let map = Remembered::new(2);
        map.put("a", 1);
        map.put("b", 2);
        map.put("a", 3);
        assert_eq!(map.get(&"a"), Some(3), "a value replaced in place");
        map.put("c", 4);
        assert_eq!((map.get(&"a"), map.get(&"b"), map.get(&"c")), (None, Some(2), Some(4)));
        assert_eq!(map.len(), 2);
    }

    #[test]
    fn get_or_put_keeps_what_is_held_and_update_changes_only_held_keys() {
        let map = Remembered::new(4);
        assert_eq!(map.get_or_put("a", 1), 1);
        assert_eq!(map.get_or_put("a", 9), 1);
        map.update(&"a", |v| Some(v + 1));
        map.update(&"b", |v| Some(v + 1));
        assert_eq!((map.get(&"a"), map.get(&"b")), (Some(2), None));
    }
}
