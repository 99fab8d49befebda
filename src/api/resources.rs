//! Resource lists (`requests`, `limits`, `capacity`, `allocatable`) as integers: CPU in
//! millicores, memory and storage in bytes, extended resources (such as
//! `nvidia.com/gpu`) in their base unit. Fixed fields keep the scheduler's hot path
//! free of map lookups.

use super::quantity::{Quantity, QuantityError};
use serde::Serialize;

/// A set of resource amounts.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Resources {
    /// CPU in millicores.
    pub cpu_milli: i64,
    /// Memory in bytes.
    pub memory: i64,
    /// Ephemeral storage in bytes.
    pub ephemeral_storage: i64,
    /// Pod slots (only meaningful in capacity/allocatable).
    pub pods: i64,
    /// Extended and other resources, sorted by name.
    pub extended: Vec<(String, i64)>,
}

impl Resources {
    /// Sets one resource from a parsed quantity: CPU in millis (rounded up), everything
    /// else in base units (rounded up), as upstream's `MilliValue`/`Value`.
    pub fn set(&mut self, name: &str, q: &Quantity) {
        match name {
            "cpu" => self.cpu_milli = q.milli_value(),
            "memory" => self.memory = q.value(),
            "ephemeral-storage" => self.ephemeral_storage = q.value(),
            "pods" => self.pods = q.value(),
            other => self.set_extended(other, q.value()),
        }
    }

    /// Parses and sets one resource.
    pub fn set_str(&mut self, name: &str, text: &str) -> Result<(), QuantityError> {
        let q = Quantity::parse(text)?;
        self.set(name, &q);
        Ok(())
    }

    /// Sets an extended resource by base-unit value.
    pub fn set_extended(&mut self, name: &str, v: i64) {
        match self
            .extended
            .binary_search_by(|(n, _)| n.as_str().cmp(name))
        {
            Ok(i) => self.extended[i].1 = v,
            Err(i) => self.extended.insert(i, (name.to_string(), v)),
        }
    }

    /// The amount of a named resource (0 when absent).
    pub fn get(&self, name: &str) -> i64 {
        match name {
            "cpu" => self.cpu_milli,
            "memory" => self.memory,
            "ephemeral-storage" => self.ephemeral_storage,
            "pods" => self.pods,
            other => self
                .extended
                .binary_search_by(|(n, _)| n.as_str().cmp(other))
                .map(|i| self.extended[i].1)
                .unwrap_or(0),
        }
    }

    /// Adds `other` into `self`.
    pub fn add(&mut self, other: &Resources) {
        self.cpu_milli += other.cpu_milli;
        self.memory += other.memory;
        self.ephemeral_storage += other.ephemeral_storage;
        self.pods += other.pods;
        for (n, v) in &other.extended {
            let cur = self.get(n);
            self.set_extended(n, cur + v);
        }
    }

    /// Subtracts `other` from `self`.
    pub fn sub(&mut self, other: &Resources) {
        self.cpu_milli -= other.cpu_milli;
        self.memory -= other.memory;
        self.ephemeral_storage -= other.ephemeral_storage;
        self.pods -= other.pods;
        for (n, v) in &other.extended {
            let cur = self.get(n);
            self.set_extended(n, cur - v);
        }
    }

    /// Raises each amount to at least `other`'s.
    pub fn max_with(&mut self, other: &Resources) {
        self.cpu_milli = self.cpu_milli.max(other.cpu_milli);
        self.memory = self.memory.max(other.memory);
        self.ephemeral_storage = self.ephemeral_storage.max(other.ephemeral_storage);
        self.pods = self.pods.max(other.pods);
        for (n, v) in &other.extended {
            let cur = self.get(n);
            self.set_extended(n, cur.max(*v));
        }
    }

    /// Whether every amount is zero.
    pub fn is_zero(&self) -> bool {
        self.cpu_milli == 0
            && self.memory == 0
            && self.ephemeral_storage == 0
            && self.pods == 0
            && self.extended.iter().all(|(_, v)| *v == 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arithmetic() {
        let mut a = Resources::default();
        a.set_str("cpu", "500m").unwrap();
        a.set_str("memory", "1Gi").unwrap();
        a.set_str("nvidia.com/gpu", "2").unwrap();
        let mut b = a.clone();
        b.add(&a);
        assert_eq!(b.cpu_milli, 1000);
        assert_eq!(b.get("nvidia.com/gpu"), 4);
        b.sub(&a);
        assert_eq!(b, a);
        assert!(a.set_str("cpu", "5 cores").is_err());
    }
}
