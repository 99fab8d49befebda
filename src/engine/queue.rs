//! The event queue: a binary heap ordered by (time, insertion sequence), so events at
//! equal times run in the order they were scheduled. Events can be cancelled by id;
//! cancelled entries are dropped lazily when they reach the head.

use super::time::SimTime;
use std::cmp::Ordering;
use std::collections::{BTreeSet, BinaryHeap};

/// Identifies a scheduled event, for cancellation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct EventId(pub u64);

struct Entry<E> {
    time: SimTime,
    seq: u64,
    event: E,
}

impl<E> PartialEq for Entry<E> {
    fn eq(&self, other: &Self) -> bool {
        self.time == other.time && self.seq == other.seq
    }
}
impl<E> Eq for Entry<E> {}
impl<E> PartialOrd for Entry<E> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl<E> Ord for Entry<E> {
    // Reversed: BinaryHeap is a max-heap and we want the earliest (time, seq) first.
    fn cmp(&self, other: &Self) -> Ordering {
        other
            .time
            .cmp(&self.time)
            .then_with(|| other.seq.cmp(&self.seq))
    }
}

/// A deterministic future-event list.
pub struct EventQueue<E> {
    heap: BinaryHeap<Entry<E>>,
    next_seq: u64,
    cancelled: BTreeSet<u64>,
    now: SimTime,
    processed: u64,
}

impl<E> Default for EventQueue<E> {
    fn default() -> Self {
        Self::new()
    }
}

impl<E> EventQueue<E> {
    /// An empty queue at time zero.
    pub fn new() -> Self {
        EventQueue {
            heap: BinaryHeap::new(),
            next_seq: 0,
            cancelled: BTreeSet::new(),
            now: SimTime::ZERO,
            processed: 0,
        }
    }

    /// The time of the event popped last (the current virtual time).
    pub fn now(&self) -> SimTime {
        self.now
    }

    /// Number of events popped so far.
    pub fn processed(&self) -> u64 {
        self.processed
    }

    /// Number of scheduled, not yet cancelled events.
    pub fn len(&self) -> usize {
        self.heap.len() - self.cancelled.len()
    }

    /// True when no live event is scheduled.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Schedules `event` at `time`; a time in the past is clamped to now.
    pub fn schedule(&mut self, time: SimTime, event: E) -> EventId {
        let seq = self.next_seq;
        self.next_seq += 1;
        self.heap.push(Entry {
            time: time.max(self.now),
            seq,
            event,
        });
        EventId(seq)
    }

    /// Cancels a scheduled event. Cancelling an event that already ran is a no-op.
    pub fn cancel(&mut self, id: EventId) {
        if id.0 < self.next_seq && self.heap.iter().any(|e| e.seq == id.0) {
            self.cancelled.insert(id.0);
        }
    }

    /// The time of the next live event, if any.
    pub fn peek_time(&mut self) -> Option<SimTime> {
        self.drop_cancelled_head();
        self.heap.peek().map(|e| e.time)
    }

    /// Removes and returns the next live event, advancing the current time.
    pub fn pop(&mut self) -> Option<(SimTime, E)> {
        self.drop_cancelled_head();
        let e = self.heap.pop()?;
        self.now = e.time;
        self.processed += 1;
        Some((e.time, e.event))
    }

    fn drop_cancelled_head(&mut self) {
        while let Some(head) = self.heap.peek() {
            if self.cancelled.is_empty() || !self.cancelled.contains(&head.seq) {
                break;
            }
            let seq = head.seq;
            self.heap.pop();
            self.cancelled.remove(&seq);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn orders_by_time_then_insertion() {
        let mut q = EventQueue::new();
        q.schedule(SimTime(5), "b1");
        q.schedule(SimTime(1), "a");
        q.schedule(SimTime(5), "b2");
        q.schedule(SimTime(5), "b3");
        let order: Vec<_> = std::iter::from_fn(|| q.pop().map(|(_, e)| e)).collect();
        assert_eq!(order, vec!["a", "b1", "b2", "b3"]);
    }

    #[test]
    fn cancellation() {
        let mut q = EventQueue::new();
        let a = q.schedule(SimTime(1), 1);
        q.schedule(SimTime(2), 2);
        q.cancel(a);
        assert_eq!(q.len(), 1);
        assert_eq!(q.pop(), Some((SimTime(2), 2)));
        assert!(q.pop().is_none());
        q.cancel(a); // already gone: no effect
        assert_eq!(q.len(), 0);
    }

    #[test]
    fn past_times_clamp_to_now() {
        let mut q = EventQueue::new();
        q.schedule(SimTime(10), 0);
        q.pop();
        q.schedule(SimTime(3), 1);
        assert_eq!(q.pop(), Some((SimTime(10), 1)));
    }
}
