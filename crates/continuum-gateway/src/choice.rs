//! The failover choice: which nodes a request tries, in order, given the placement ranking, the
//! nodes' health and their load. Pure: the runtime passes a snapshot in.

/// What the chooser knows of one node.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NodeView {
    /// Not ejected by the health checks.
    pub live: bool,
    /// Requests and sockets the gateway has open to it now.
    pub in_flight: usize,
}

/// The nodes one request tries: `first`, then `retry` if `first` failed before any byte of the
/// request was sent.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Plan {
    /// The node to send to.
    pub first: usize,
    /// The next owner, for one retry.
    pub retry: Option<usize>,
    /// Whether `first` is not the preferred node (the key's primary, or the remembered issuer)
    /// because that one is ejected: a failover.
    pub failover: bool,
}

/// The order of preference for a request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Preference {
    /// These nodes in this order: a key's placement ranking, possibly after a pinned issuer.
    Ranked(Vec<usize>),
    /// Any node: the least loaded first.
    LeastLoaded,
}

/// The plan for `preference` over `nodes`; `tie` rotates the order of equally loaded nodes (a
/// counter the runtime increments per request), so idle nodes share keyless requests. Ejected
/// nodes are skipped; when every node is ejected the preference is tried as it is (the checks
/// may lag, and a refused request is no worse than none). `None` only when there are no nodes.
pub fn plan(preference: &Preference, nodes: &[NodeView], tie: usize) -> Option<Plan> {
    let order: Vec<usize> = match preference {
        Preference::Ranked(ranked) => dedup(ranked),
        Preference::LeastLoaded => {
            let count = nodes.len().max(1);
            let mut all: Vec<usize> = (0..nodes.len()).collect();
            all.sort_by_key(|&index| (nodes[index].in_flight, (index + count - tie % count) % count));
            all
        }
    };
    let live: Vec<usize> =
        order.iter().copied().filter(|&index| nodes.get(index).is_some_and(|n| n.live)).collect();
    let tried = if live.is_empty() { &order } else { &live };
    let first = *tried.first()?;
    let failover = matches!(preference, Preference::Ranked(_)) && order.first() != Some(&first);
    Some(Plan { first, retry: tried.get(1).copied(), failover })
}

/// `ranked` without repeats (a pinned issuer appears again in the ranking), order kept.
fn dedup(ranked: &[usize]) -> Vec<usize> {
    let mut seen = Vec::with_capacity(ranked.len());
    for &index in ranked {
        if !seen.contains(&index) {
            seen.push(index);
        }
    }
    seen
}

/// How a try on one node failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Failure {
    /// No connection could be made: nothing of the request reached the node.
    Connect,
    /// The connection broke after the request (or part of it) was sent: the node may have
    /// acted on it.
    AfterSend,
    /// The node answered 502 or 503: it is up but cannot serve.
    Unavailable,
}

impl Failure {
    /// Whether the request may be sent again to the next owner: if the node cannot have seen
    /// it, or if it broke before any answer and running it twice does no harm (`idempotent`:
    /// a read, a validation). A create or a rotation whose connection broke is never sent
    /// twice. The second case is a kept-alive connection to a node that died a moment ago: the
    /// request was written into a socket nobody reads any more.
    pub fn retryable(self, idempotent: bool) -> bool {
        match self {
            Failure::Connect => true,
            Failure::AfterSend => idempotent,
            Failure::Unavailable => false,
        }
    }

    /// Whether the node is ejected at once (passive check): every failure is.
    pub fn ejects(self) -> bool {
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn views(live: &[bool], load: &[usize]) -> Vec<NodeView> {
        live.iter().zip(load).map(|(&live, &in_flight)| NodeView { live, in_flight }).collect()
    }

    #[test]
    fn a_key_goes_to_its_primary_then_its_backup() {
        let nodes = views(&[true, true, true], &[0, 0, 0]);
        let plan = plan(&Preference::Ranked(vec![2, 0, 1]), &nodes, 0).unwrap();
        assert_eq!(plan, Plan { first: 2, retry: Some(0), failover: false });
    }

    #[test]
    fn an_ejected_primary_fails_over_to_the_next_owner() {
        let nodes = views(&[true, true, false], &[0, 9, 0]);
        let plan = plan(&Preference::Ranked(vec![2, 1, 0]), &nodes, 0).unwrap();
        assert_eq!(plan, Plan { first: 1, retry: Some(0), failover: true }, "the ranking, not the load");
    }

    #[test]
    fn with_every_node_ejected_the_ranking_is_tried_anyway() {
        let nodes = views(&[false, false], &[0, 0]);
        assert_eq!(
            plan(&Preference::Ranked(vec![1, 0]), &nodes, 0),
            Some(Plan { first: 1, retry: Some(0), failover: false })
        );
        assert_eq!(plan(&Preference::LeastLoaded, &[], 0), None);
    }

    #[test]
    fn keyless_requests_go_to_the_least_loaded_live_node_and_share_ties() {
        let nodes = views(&[true, false, true, true], &[5, 0, 2, 2]);
        let first = |tie| plan(&Preference::LeastLoaded, &nodes, tie).unwrap().first;
        assert_eq!(first(0), 2);
        assert_eq!(first(3), 3, "the tie between 2 and 3 rotates");
        assert!(!plan(&Preference::LeastLoaded, &nodes, 0).unwrap().failover);
    }

    #[test]
    fn a_pinned_issuer_repeated_in_the_ranking_is_tried_once() {
        let nodes = views(&[true, true], &[0, 0]);
        assert_eq!(plan(&Preference::Ranked(vec![1, 0, 1]), &nodes, 0).unwrap().retry, Some(0));
    }

    #[test]
    fn only_a_request_that_never_left_or_does_no_harm_twice_is_retried() {
        assert!(Failure::Connect.retryable(false));
        assert!(!Failure::AfterSend.retryable(false));
        assert!(Failure::AfterSend.retryable(true));
        assert!(!Failure::Unavailable.retryable(true), "the node answered");
    }
}
