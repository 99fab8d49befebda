//! Expanders: which of the node groups that could help a scale-up gets it.
//!
//! Ports of cluster-autoscaler/expander/waste/waste.go (least-waste),
//! expander/random/random.go and expander/priority/priority.go. As upstream's factory
//! chains them, every strategy ends in the random fallback when several options tie.
//! The priority expander reads each group's `priority` (upstream: the
//! `cluster-autoscaler-priority-expander` ConfigMap's regexes over group names).

use super::config::ExpanderKind;
use crate::engine::SimRng;
use crate::engine::rng::below;

/// An expansion option (expander.Option): a group, the nodes it would add and the pods
/// they would take.
#[derive(Debug, Clone, PartialEq)]
pub struct ExpansionOption {
    /// Index of the node group.
    pub group: usize,
    /// Nodes to add (before capping at the group's max).
    pub node_count: usize,
    /// Ids of the pods the new nodes would take.
    pub pods: Vec<u32>,
    /// Sum of the pods' container CPU requests (millicores).
    pub requested_cpu_milli: i64,
    /// Sum of the pods' container memory requests (bytes).
    pub requested_memory: i64,
    /// The template node's capacity: CPU (millicores).
    pub node_cpu_milli: i64,
    /// The template node's capacity: memory (bytes).
    pub node_memory: i64,
    /// The group's priority (priority expander).
    pub priority: i64,
}

impl ExpansionOption {
    /// waste.go: the wasted fraction of CPU plus that of memory over the new nodes'
    /// capacity.
    pub fn wasted_score(&self) -> f64 {
        let n = self.node_count as i64;
        let avail_cpu = self.node_cpu_milli * n;
        let avail_mem = self.node_memory * n;
        let wasted_cpu = (avail_cpu - self.requested_cpu_milli) as f64 / avail_cpu as f64;
        let wasted_mem = (avail_mem - self.requested_memory) as f64 / avail_mem as f64;
        wasted_cpu + wasted_mem
    }
}

/// Picks the best option (its index in `options`), `None` when there are none.
pub fn best_option(
    kind: ExpanderKind,
    options: &[ExpansionOption],
    rng: &mut SimRng,
) -> Option<usize> {
    if options.is_empty() {
        return None;
    }
    let candidates: Vec<usize> = match kind {
        ExpanderKind::Random => (0..options.len()).collect(),
        ExpanderKind::LeastWaste => {
            // Options with exactly the least score survive, in order.
            let mut best: Vec<usize> = Vec::new();
            let mut least = f64::INFINITY;
            for (i, o) in options.iter().enumerate() {
                let s = o.wasted_score();
                if best.is_empty() || s < least {
                    least = s;
                    best = vec![i];
                } else if s == least {
                    best.push(i);
                }
            }
            best
        }
        ExpanderKind::Priority => {
            let top = options.iter().map(|o| o.priority).max().unwrap_or(0);
            (0..options.len())
                .filter(|&i| options[i].priority == top)
                .collect()
        }
    };
    // expander/random: rand.Intn over the remaining options.
    let pick = below(rng, candidates.len() as u64) as usize;
    candidates.get(pick).copied()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::RngStreams;

    fn opt(
        group: usize,
        nodes: usize,
        cpu: i64,
        mem: i64,
        node: (i64, i64),
        prio: i64,
    ) -> ExpansionOption {
        ExpansionOption {
            group,
            node_count: nodes,
            pods: Vec::new(),
            requested_cpu_milli: cpu,
            requested_memory: mem,
            node_cpu_milli: node.0,
            node_memory: node.1,
            priority: prio,
        }
    }

    #[test]
    fn least_waste_prefers_the_tighter_fit() {
        let mut rng = RngStreams::new(1).stream("e");
        // 3 CPU / 6 Gi of pods: 1 node of 4 CPU/8 Gi wastes 0.25 + 0.25; 1 node of
        // 16 CPU/64 Gi wastes far more; 2 nodes of 2 CPU/4 Gi waste 0.25 + 0.25 too,
        // a tie with the first, broken at random among the two.
        let g = 1 << 30;
        let options = vec![
            opt(0, 1, 3000, 6 * g, (4000, 8 * g), 0),
            opt(1, 1, 3000, 6 * g, (16000, 64 * g), 0),
            opt(2, 2, 3000, 6 * g, (2000, 4 * g), 0),
        ];
        assert!((options[0].wasted_score() - 0.5).abs() < 1e-12);
        let mut seen = [0usize; 3];
        for _ in 0..200 {
            seen[best_option(ExpanderKind::LeastWaste, &options, &mut rng).unwrap()] += 1;
        }
        assert_eq!(seen[1], 0);
        assert!(seen[0] > 50 && seen[2] > 50, "{seen:?}");
    }

    #[test]
    fn random_covers_every_option_and_is_seeded() {
        let g = 1 << 30;
        let options: Vec<ExpansionOption> = (0..3)
            .map(|i| opt(i, 1, 1000, g, (4000, 8 * g), 0))
            .collect();
        let draw = |seed| {
            let mut rng = RngStreams::new(seed).stream("e");
            (0..50)
                .map(|_| best_option(ExpanderKind::Random, &options, &mut rng).unwrap())
                .collect::<Vec<_>>()
        };
        assert_eq!(draw(7), draw(7));
        let d = draw(7);
        assert!((0..3).all(|i| d.contains(&i)));
        assert_eq!(
            best_option(
                ExpanderKind::Random,
                &[],
                &mut RngStreams::new(1).stream("e")
            ),
            None
        );
    }

    #[test]
    fn priority_takes_the_highest_group() {
        let g = 1 << 30;
        let options = vec![
            opt(0, 1, 1000, g, (4000, 8 * g), 10),
            opt(1, 1, 1000, g, (4000, 8 * g), 50),
            opt(2, 1, 1000, g, (4000, 8 * g), 50),
            opt(3, 1, 1000, g, (4000, 8 * g), 20),
        ];
        let mut rng = RngStreams::new(3).stream("e");
        let mut seen = [0usize; 4];
        for _ in 0..200 {
            seen[best_option(ExpanderKind::Priority, &options, &mut rng).unwrap()] += 1;
        }
        assert_eq!((seen[0], seen[3]), (0, 0));
        assert!(seen[1] > 50 && seen[2] > 50, "{seen:?}");
    }
}
