//! A process's descendants, found through the parent pids in `/proc/<pid>/stat`: how signals
//! reach every worker of a server whose workers leave its process group (PostgreSQL's children
//! call `setsid`, so a signal to the postmaster's group reaches the postmaster alone).

use std::collections::HashMap;

/// Every descendant of `root` now, parents before their children. Reads procfs, which lives in
/// memory: quick, but blocking; run it off the async runtime.
pub fn descendants(root: u32) -> Vec<u32> {
    let Ok(entries) = std::fs::read_dir("/proc") else { return Vec::new() };
    let parents = entries.flatten().filter_map(|entry| {
        let pid: u32 = entry.file_name().to_str()?.parse().ok()?;
        let stat = std::fs::read_to_string(entry.path().join("stat")).ok()?;
        Some((pid, parent_of(&stat)?))
    });
    descendants_in(root, parents)
}

/// The descendants of `root` given every `(pid, parent pid)`, parents first.
fn descendants_in(root: u32, parents: impl IntoIterator<Item = (u32, u32)>) -> Vec<u32> {
    let mut children: HashMap<u32, Vec<u32>> = HashMap::new();
    for (pid, parent) in parents {
        children.entry(parent).or_default().push(pid);
    }
    let mut found = Vec::new();
    let mut next = vec![root];
    while let Some(pid) = next.pop() {
        for &child in children.get(&pid).into_iter().flatten() {
            if child != root && !found.contains(&child) {
                found.push(child);
                next.push(child);
            }
        }
    }
    found
}

/// The parent pid in a `/proc/<pid>/stat` text: the second field after the command name, which
/// is in parentheses and may itself hold spaces and parentheses.
fn parent_of(stat: &str) -> Option<u32> {
    let after_name = &stat[stat.rfind(')')? + 1..];
    let mut fields = after_name.split_ascii_whitespace();
    let _state = fields.next()?;
    fields.next()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_parent_is_read_past_an_awkward_command_name() {
        assert_eq!(parent_of("4242 (postgres: walwriter ) S 4200 4242 4242 0 -1"), Some(4200));
        assert_eq!(parent_of("7 (a) b) R 1 7 7"), Some(1));
        assert_eq!(parent_of("garbage"), None);
    }

    #[test]
    fn descendants_are_the_whole_subtree_and_nothing_else() {
        let parents = [(10, 1), (11, 10), (12, 10), (13, 11), (20, 1), (21, 20)];
        let mut found = descendants_in(10, parents);
        found.sort_unstable();
        assert_eq!(found, [11, 12, 13]);
        assert!(descendants_in(13, parents).is_empty());
    }

    #[test]
    fn this_process_is_found_below_its_parent() {
        let me = std::process::id();
        let parent = parent_of(&std::fs::read_to_string("/proc/self/stat").unwrap()).unwrap();
        assert!(descendants(parent).contains(&me));
    }
}
