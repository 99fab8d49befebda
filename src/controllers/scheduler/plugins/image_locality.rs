//! ImageLocality scoring math.
//!
//! Port of `pkg/scheduler/framework/plugins/imagelocality/image_locality.go`
//! (`calculatePriority`, `sumImageScores`, `scaledImageScore`, `normalizedImageName`, the
//! thresholds `minThreshold` / `maxContainerThreshold`) and of the per-node image summaries the
//! snapshot keeps (`pkg/scheduler/backend/cache/snapshot.go`: `createImageExistenceMap`,
//! `updateImageStates` - size of the image on the node, number of nodes that have it).

use std::borrow::Cow;
use std::collections::BTreeMap;

use crate::controllers::scheduler::normalize::MAX_NODE_SCORE;

/// One mebibyte.
pub const MB: i64 = 1024 * 1024;
/// Upstream `minThreshold`: image sums below this score 0 (23 MiB).
pub const MIN_THRESHOLD: i64 = 23 * MB;
/// Upstream `maxContainerThreshold`: per-container cap of the image sum (1000 MiB).
pub const MAX_CONTAINER_THRESHOLD: i64 = 1000 * MB;

/// Image state of one image on one node (upstream `framework.ImageStateSummary`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ImageStateSummary {
    /// Size of the image in bytes.
    pub size: i64,
    /// Number of nodes in the snapshot that have this image name.
    pub num_nodes: i64,
}

/// Upstream `normalizedImageName`: appends `:latest` to a reference whose last `:` does not
/// come after its last `/` (no tag). A digest reference (`name@sha256:...`) keeps its `:` after
/// the last `/` and is left alone. Borrows when nothing changes.
pub fn normalized_image_name(name: &str) -> Cow<'_, str> {
    let last_colon = name.rfind(':');
    let last_slash = name.rfind('/');
    // Go: strings.LastIndex returns -1 when absent; `<=` compares those indexes.
    let no_tag = match (last_colon, last_slash) {
        (None, _) => true,
        (Some(_), None) => false,
        (Some(c), Some(s)) => c <= s,
    };
    if no_tag {
        Cow::Owned(format!("{name}:latest"))
    } else {
        Cow::Borrowed(name)
    }
}

/// Upstream `scaledImageScore`: `int64(float64(size) * (float64(numNodes) / float64(total)))`,
/// the image size scaled by how widely the image is spread. 0 when `total_num_nodes <= 0`.
pub fn scaled_image_score(state: ImageStateSummary, total_num_nodes: i64) -> i64 {
    if total_num_nodes <= 0 {
        return 0;
    }
    let spread = state.num_nodes as f64 / total_num_nodes as f64;
    (state.size as f64 * spread) as i64
}

/// Upstream `calculatePriority`: clamps `sum_scores` to `[MIN_THRESHOLD, MAX_CONTAINER_THRESHOLD
/// * num_containers]` and maps it linearly to 0-100 (truncating division).
pub fn calculate_priority(sum_scores: i64, num_containers: i64) -> i64 {
    let max_threshold = MAX_CONTAINER_THRESHOLD.saturating_mul(num_containers);
    let sum = if sum_scores < MIN_THRESHOLD {
        MIN_THRESHOLD
    } else if sum_scores > max_threshold {
        max_threshold
    } else {
        sum_scores
    };
    let denom = max_threshold - MIN_THRESHOLD;
    if denom == 0 {
        return 0;
    }
    match MAX_NODE_SCORE.checked_mul(sum - MIN_THRESHOLD) {
        Some(v) => v / denom,
        None => {
            (i128::from(MAX_NODE_SCORE) * i128::from(sum - MIN_THRESHOLD) / i128::from(denom))
                as i64
        }
    }
}

/// ImageLocality score of one node.
///
/// `pod_images` are the pod's init-container then container images, **already normalised**
/// with [`normalized_image_name`] (do that once per pod, not per node); their count is the
/// container count used for the upper threshold. `node_images` maps each image name present on
/// the node to its summary; `total_num_nodes` is the number of nodes in the snapshot.
pub fn image_locality_score<S: AsRef<str>>(
    pod_images: &[S],
    node_images: &BTreeMap<String, ImageStateSummary>,
    total_num_nodes: i64,
) -> i64 {
    let mut sum: i64 = 0;
    for image in pod_images {
        if let Some(state) = node_images.get(image.as_ref()) {
            sum = sum.saturating_add(scaled_image_score(*state, total_num_nodes));
        }
    }
    calculate_priority(sum, pod_images.len() as i64)
}

/// Builds per-node image summaries for a whole cluster (upstream snapshot image existence map
/// and `ImageStates`): `nodes` yields, per node, its images as `(names, size_bytes)`. Returns one
/// map per node, in input order; `num_nodes` counts the distinct nodes that list each name.
pub fn build_image_states<'a, N, I, M>(nodes: N) -> Vec<BTreeMap<String, ImageStateSummary>>
where
    N: IntoIterator<Item = I>,
    I: IntoIterator<Item = (M, i64)>,
    M: IntoIterator<Item = &'a str>,
{
    let mut per_node: Vec<BTreeMap<String, ImageStateSummary>> = Vec::new();
    let mut counts: BTreeMap<String, i64> = BTreeMap::new();
    for images in nodes {
        let mut states: BTreeMap<String, ImageStateSummary> = BTreeMap::new();
        for (names, size) in images {
            for name in names {
                states
                    .entry(name.to_string())
                    .or_insert(ImageStateSummary { size, num_nodes: 0 });
            }
        }
        for name in states.keys() {
            *counts.entry(name.clone()).or_insert(0) += 1;
        }
        per_node.push(states);
    }
    for states in &mut per_node {
        for (name, st) in states.iter_mut() {
            st.num_nodes = counts.get(name).copied().unwrap_or(0);
        }
    }
    per_node
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalisation() {
        assert_eq!(normalized_image_name("gcr.io/40"), "gcr.io/40:latest");
        assert_eq!(normalized_image_name("gcr.io/40:v1"), "gcr.io/40:v1");
        assert_eq!(normalized_image_name("nginx"), "nginx:latest");
        assert_eq!(
            normalized_image_name("localhost:5000/app"),
            "localhost:5000/app:latest"
        );
        assert_eq!(
            normalized_image_name("localhost:5000/app:1"),
            "localhost:5000/app:1"
        );
        assert_eq!(
            normalized_image_name("gcr.io/x@sha256:abcd"),
            "gcr.io/x@sha256:abcd"
        );
        assert!(matches!(normalized_image_name("a:b"), Cow::Borrowed(_)));
    }

    type NodeImages<'a> = Vec<(Vec<&'a str>, i64)>;

    fn scores(pod: &[&str], nodes: &[NodeImages<'_>]) -> Vec<i64> {
        let pod: Vec<String> = pod
            .iter()
            .map(|i| normalized_image_name(i).into_owned())
            .collect();
        let states = build_image_states(
            nodes
                .iter()
                .map(|imgs| imgs.iter().map(|(names, size)| (names.clone(), *size))),
        );
        states
            .iter()
            .map(|s| image_locality_score(&pod, s, nodes.len() as i64))
            .collect()
    }

    // Upstream image_locality_test.go TestImageLocalityPriority (two-node rows).
    #[test]
    fn upstream_rows() {
        let node_40_300_2000: NodeImages<'_> = vec![
            (
                vec!["gcr.io/40:latest", "gcr.io/40:v1", "gcr.io/40:v1"],
                40 * MB,
            ),
            (vec!["gcr.io/300:latest", "gcr.io/300:v1"], 300 * MB),
            (vec!["gcr.io/2000:latest"], 2000 * MB),
        ];
        let node_250_10: NodeImages<'_> = vec![
            (vec!["gcr.io/250:latest"], 250 * MB),
            (vec!["gcr.io/10:latest", "gcr.io/10:v1"], 10 * MB),
        ];
        let nodes = [node_40_300_2000, node_250_10];
        // 'two images spread on two nodes, prefer the larger image one': gcr.io/40 + gcr.io/250.
        // node1: 40/2 = 20 MiB < 23 MiB -> 0; node2: 125 MiB -> 100*102/1977 = 5.
        assert_eq!(scores(&["gcr.io/40", "gcr.io/250"], &nodes)[..], [0, 5]);
        // 'two images on one node, prefer this node': gcr.io/40 + gcr.io/300.
        // node1: 20 + 150 = 170 MiB -> 100*147/1977 = 7; node2: 0.
        assert_eq!(scores(&["gcr.io/40", "gcr.io/300"], &nodes)[..], [7, 0]);
        // 'if exceed limit, use limit': gcr.io/10 + gcr.io/2000.
        // node1: 2000/2 = 1000 MiB -> 100*977/1977 = 49; node2: 10/2 = 5 MiB -> 0.
        assert_eq!(scores(&["gcr.io/10", "gcr.io/2000"], &nodes)[..], [49, 0]);
        // Same with a third node without images: node1 2000/3 MiB -> 100*643.67/1977 = 32.
        let mut three = nodes.to_vec();
        three.push(vec![]);
        assert_eq!(
            scores(&["gcr.io/10", "gcr.io/2000"], &three)[..],
            [32, 0, 0]
        );
        // Tagged reference matches the tagged node name: gcr.io/300:v1 on node1 only: 150 MiB -> 100*127/977 = 12.
        assert_eq!(scores(&["gcr.io/300:v1"], &nodes)[..], [12, 0]);
    }

    #[test]
    fn thresholds() {
        assert_eq!(calculate_priority(0, 1), 0);
        assert_eq!(calculate_priority(MIN_THRESHOLD, 1), 0);
        assert_eq!(calculate_priority(MAX_CONTAINER_THRESHOLD * 5, 1), 100);
        assert_eq!(calculate_priority(0, 0), 0);
        assert_eq!(
            scaled_image_score(
                ImageStateSummary {
                    size: 300 * MB,
                    num_nodes: 1
                },
                3
            ),
            100 * MB
        );
    }
}
