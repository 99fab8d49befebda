//! Slow-start batching of pod creations and the create/delete decision of one ReplicaSet sync.
//!
//! Port of pkg/controller/replicaset/replica_set.go: `slowStartBatch`, `manageReplicas`
//! (diff / burstReplicas handling) and the `BurstReplicas` / `SlowStartInitialBatchSize`
//! constants (pkg/controller/controller_utils.go).

/// Upper bound of creations or deletions in one ReplicaSet sync (`BurstReplicas`).
pub const BURST_REPLICAS: usize = 500;

/// First batch size the ReplicaSet controller uses when creating pods.
pub const SLOW_START_INITIAL_BATCH_SIZE: usize = 1;

/// Result of [`slow_start_batch_with_sizes`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlowStartOutcome<E> {
    /// Number of calls that succeeded.
    pub successes: usize,
    /// The first error (in call order) of the first batch that contained a failure.
    pub error: Option<E>,
    /// Sizes of the batches issued, in order.
    pub batch_sizes: Vec<usize>,
}

impl<E> SlowStartOutcome<E> {
    /// Total number of calls issued.
    pub fn total_calls(&self) -> usize {
        self.batch_sizes.iter().sum()
    }
}

/// Issues `count` calls of `f` in batches of 1x, 2x, 4x... `initial_batch_size` (each capped by
/// the remaining count); every call of a batch is issued, and no further batch starts after a
/// batch with a failure. `f` gets the 0-based index of the call. Returns the number of successes
/// and the first error.
pub fn slow_start_batch<E>(
    count: usize,
    initial_batch_size: usize,
    f: impl FnMut(usize) -> Result<(), E>,
) -> (usize, Option<E>) {
    let outcome = slow_start_batch_with_sizes(count, initial_batch_size, f);
    (outcome.successes, outcome.error)
}

/// [`slow_start_batch`] that also reports the batch sizes issued.
pub fn slow_start_batch_with_sizes<E>(
    count: usize,
    initial_batch_size: usize,
    mut f: impl FnMut(usize) -> Result<(), E>,
) -> SlowStartOutcome<E> {
    let mut remaining = count;
    let mut successes = 0;
    let mut batch_sizes = Vec::new();
    let mut issued = 0usize;
    let mut batch = remaining.min(initial_batch_size);
    while batch > 0 {
        batch_sizes.push(batch);
        let mut first_error = None;
        for _ in 0..batch {
            match f(issued) {
                Ok(()) => successes += 1,
                Err(e) => {
                    if first_error.is_none() {
                        first_error = Some(e);
                    }
                }
            }
            issued += 1;
        }
        if first_error.is_some() {
            return SlowStartOutcome {
                successes,
                error: first_error,
                batch_sizes,
            };
        }
        remaining -= batch;
        batch = batch.saturating_mul(2).min(remaining);
    }
    SlowStartOutcome {
        successes,
        error: None,
        batch_sizes,
    }
}

/// The batch sizes slow start issues for `count` calls when every call succeeds.
pub fn slow_start_batch_sizes(count: usize, initial_batch_size: usize) -> Vec<usize> {
    slow_start_batch_with_sizes(count, initial_batch_size, |_| Ok::<(), ()>(())).batch_sizes
}

/// What one ReplicaSet sync (with satisfied expectations) does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ReplicaDiff {
    /// Pods to create this sync (already capped at the burst limit).
    pub create: usize,
    /// Pods to delete this sync (already capped at the burst limit).
    pub delete: usize,
}

/// diff = active - spec: create min(-diff, burst) when negative, delete min(diff, burst) when
/// positive, nothing when zero.
// Port of pkg/controller/replicaset/replica_set.go: manageReplicas (diff computation).
pub fn diff_to_create_or_delete(
    spec_replicas: i32,
    active_pods: usize,
    burst_replicas: usize,
) -> ReplicaDiff {
    let spec = i64::from(spec_replicas.max(0));
    let active = i64::try_from(active_pods).unwrap_or(i64::MAX);
    let diff = active - spec;
    let n = usize::try_from(diff.unsigned_abs()).unwrap_or(usize::MAX);
    if diff < 0 {
        ReplicaDiff {
            create: n.min(burst_replicas),
            delete: 0,
        }
    } else {
        ReplicaDiff {
            create: 0,
            delete: n.min(burst_replicas),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn some_fail_stops_after_batch() {
        let out = slow_start_batch_with_sizes(10, 1, |i| if i < 5 { Ok(()) } else { Err(i) });
        assert_eq!(out.successes, 5);
        assert_eq!(out.batch_sizes, vec![1, 2, 4]);
        assert_eq!(out.total_calls(), 7);
        assert_eq!(out.error, Some(5));
    }

    #[test]
    fn all_succeed() {
        let (ok, err) = slow_start_batch(10, 4, |_| Ok::<(), ()>(()));
        assert_eq!((ok, err), (10, None));
        assert_eq!(slow_start_batch_sizes(10, 4), vec![4, 6]);
        assert_eq!(slow_start_batch_sizes(0, 1), Vec::<usize>::new());
        assert_eq!(slow_start_batch_sizes(5, 0), Vec::<usize>::new());
    }

    #[test]
    fn burst_cap() {
        let d = diff_to_create_or_delete(1000, 0, BURST_REPLICAS);
        assert_eq!(
            d,
            ReplicaDiff {
                create: 500,
                delete: 0
            }
        );
        assert_eq!(
            slow_start_batch_sizes(d.create, SLOW_START_INITIAL_BATCH_SIZE),
            vec![1, 2, 4, 8, 16, 32, 64, 128, 245]
        );
        assert_eq!(
            diff_to_create_or_delete(3, 5, 500),
            ReplicaDiff {
                create: 0,
                delete: 2
            }
        );
        assert_eq!(diff_to_create_or_delete(3, 3, 500), ReplicaDiff::default());
    }
}
