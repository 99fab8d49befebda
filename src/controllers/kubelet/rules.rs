//! kubelet rules: probe and pod-spec defaults, CrashLoopBackOff restart delays and the probe
//! worker's success/failure thresholds.
//!
//! Port of pkg/apis/core/v1/defaults.go (SetDefaults_Probe, SetDefaults_PodSpec),
//! pkg/kubelet/kubelet.go + client-go util/flowcontrol backoff.go (container restart backoff,
//! without jitter) and pkg/kubelet/prober/worker.go (doProbe thresholds).

use std::collections::BTreeMap;

/// Default probe `timeoutSeconds`.
pub const DEFAULT_PROBE_TIMEOUT_SECONDS: i32 = 1;
/// Default probe `periodSeconds`.
pub const DEFAULT_PROBE_PERIOD_SECONDS: i32 = 10;
/// Default probe `successThreshold`.
pub const DEFAULT_PROBE_SUCCESS_THRESHOLD: i32 = 1;
/// Default probe `failureThreshold`.
pub const DEFAULT_PROBE_FAILURE_THRESHOLD: i32 = 3;
/// Default probe `initialDelaySeconds`.
pub const DEFAULT_PROBE_INITIAL_DELAY_SECONDS: i32 = 0;

/// Default pod `restartPolicy`.
pub const DEFAULT_RESTART_POLICY: &str = "Always";
/// Default pod `terminationGracePeriodSeconds`.
pub const DEFAULT_TERMINATION_GRACE_PERIOD_SECONDS: i64 = 30;
/// Default pod `dnsPolicy`.
pub const DEFAULT_DNS_POLICY: &str = "ClusterFirst";
/// Default pod `schedulerName`.
pub const DEFAULT_SCHEDULER_NAME: &str = "default-scheduler";

/// Initial CrashLoopBackOff delay (seconds).
pub const CRASHLOOP_INITIAL_SECONDS: i64 = 10;
/// CrashLoopBackOff cap (`MaxContainerBackOff`, seconds).
pub const CRASHLOOP_CAP_SECONDS: i64 = 300;
/// Initial delay with `ReduceDefaultCrashLoopBackOffDecay` on.
pub const CRASHLOOP_REDUCED_INITIAL_SECONDS: i64 = 1;
/// Cap with `ReduceDefaultCrashLoopBackOffDecay` on.
pub const CRASHLOOP_REDUCED_CAP_SECONDS: i64 = 60;

/// Probe timing and thresholds; 0 means "unset" for every field, as in the API.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ProbeSettings {
    /// `initialDelaySeconds`.
    pub initial_delay_seconds: i32,
    /// `timeoutSeconds`.
    pub timeout_seconds: i32,
    /// `periodSeconds`.
    pub period_seconds: i32,
    /// `successThreshold`.
    pub success_threshold: i32,
    /// `failureThreshold`.
    pub failure_threshold: i32,
}

impl ProbeSettings {
    /// Replaces unset (0) fields by the API defaults.
    // Port of pkg/apis/core/v1/defaults.go: SetDefaults_Probe.
    pub fn defaulted(self) -> Self {
        let or = |v: i32, d: i32| if v == 0 { d } else { v };
        ProbeSettings {
            initial_delay_seconds: self.initial_delay_seconds,
            timeout_seconds: or(self.timeout_seconds, DEFAULT_PROBE_TIMEOUT_SECONDS),
            period_seconds: or(self.period_seconds, DEFAULT_PROBE_PERIOD_SECONDS),
            success_threshold: or(self.success_threshold, DEFAULT_PROBE_SUCCESS_THRESHOLD),
            failure_threshold: or(self.failure_threshold, DEFAULT_PROBE_FAILURE_THRESHOLD),
        }
    }
}

/// The pod spec fields defaulted by the API server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PodSpecDefaults {
    /// `restartPolicy`.
    pub restart_policy: String,
    /// `terminationGracePeriodSeconds`.
    pub termination_grace_period_seconds: i64,
    /// `dnsPolicy`.
    pub dns_policy: String,
    /// `schedulerName`.
    pub scheduler_name: String,
}

impl PodSpecDefaults {
    /// Applies the defaults: empty/unset strings and an unset grace period get the default; an
    /// explicit grace period (including 0) is kept.
    // Port of pkg/apis/core/v1/defaults.go: SetDefaults_PodSpec.
    pub fn apply(
        restart_policy: Option<&str>,
        termination_grace_period_seconds: Option<i64>,
        dns_policy: Option<&str>,
        scheduler_name: Option<&str>,
    ) -> Self {
        let or = |v: Option<&str>, d: &str| v.filter(|s| !s.is_empty()).unwrap_or(d).to_string();
        PodSpecDefaults {
            restart_policy: or(restart_policy, DEFAULT_RESTART_POLICY),
            termination_grace_period_seconds: termination_grace_period_seconds
                .unwrap_or(DEFAULT_TERMINATION_GRACE_PERIOD_SECONDS),
            dns_policy: or(dns_policy, DEFAULT_DNS_POLICY),
            scheduler_name: or(scheduler_name, DEFAULT_SCHEDULER_NAME),
        }
    }
}

/// Backoff state of one container.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BackoffEntry {
    /// Delay applied to the next restart (seconds).
    pub backoff: i64,
    /// Time of the last restart decided with this entry (Unix seconds).
    pub last_update: i64,
}

/// CrashLoopBackOff restart delays, one entry per container key (no jitter).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CrashLoopBackoff {
    /// Initial delay (seconds).
    pub initial: i64,
    /// Maximum delay (seconds).
    pub cap: i64,
    /// Per-container entries.
    pub entries: BTreeMap<String, BackoffEntry>,
}

impl CrashLoopBackoff {
    /// Initial 10 s / cap 300 s (1 s / 60 s with `ReduceDefaultCrashLoopBackOffDecay`); a set
    /// `maxContainerRestartPeriodSeconds` (KubeletCrashLoopBackOffMax) replaces the cap and lowers
    /// the initial delay to it if smaller.
    pub fn new(
        reduce_default_decay_gate: bool,
        max_container_restart_period_seconds: Option<i64>,
    ) -> Self {
        let (mut initial, mut cap) = if reduce_default_decay_gate {
            (
                CRASHLOOP_REDUCED_INITIAL_SECONDS,
                CRASHLOOP_REDUCED_CAP_SECONDS,
            )
        } else {
            (CRASHLOOP_INITIAL_SECONDS, CRASHLOOP_CAP_SECONDS)
        };
        if let Some(max) = max_container_restart_period_seconds {
            cap = max;
            initial = initial.min(max);
        }
        CrashLoopBackoff {
            initial,
            cap,
            entries: BTreeMap::new(),
        }
    }

    /// The container `key` exited at `exit_time`: returns how long to wait before restarting it.
    /// Without an entry, or when the entry is older than 2 * cap (strictly), the restart is
    /// immediate and the entry resets to `initial`; otherwise the wait is the current backoff,
    /// which then doubles (capped). The entry's `last_update` becomes the restart time.
    pub fn next_restart_delay(&mut self, key: &str, exit_time: i64) -> i64 {
        let expired =
            |e: &BackoffEntry| exit_time.saturating_sub(e.last_update) > self.cap.saturating_mul(2);
        match self.entries.get(key).copied() {
            Some(e) if !expired(&e) => {
                let wait = e.backoff;
                let restart_at = exit_time.saturating_add(wait);
                self.entries.insert(
                    key.to_string(),
                    BackoffEntry {
                        backoff: wait.saturating_mul(2).min(self.cap),
                        last_update: restart_at,
                    },
                );
                wait
            }
            _ => {
                self.entries.insert(
                    key.to_string(),
                    BackoffEntry {
                        backoff: self.initial,
                        last_update: exit_time,
                    },
                );
                0
            }
        }
    }
}

/// Kind of probe.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProbeType {
    /// Liveness probe (failure kills the container).
    Liveness,
    /// Readiness probe (failure only flips the Ready condition).
    Readiness,
    /// Startup probe (failure kills; liveness/readiness wait for its success).
    Startup,
}

/// A raw or published probe result.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProbeResult {
    /// The probe succeeded.
    Success,
    /// The probe failed.
    Failure,
    /// No result yet.
    Unknown,
}

impl ProbeResult {
    /// The API spelling (`Success` / `Failure` / `Unknown`).
    pub fn as_str(&self) -> &'static str {
        match self {
            ProbeResult::Success => "Success",
            ProbeResult::Failure => "Failure",
            ProbeResult::Unknown => "Unknown",
        }
    }
}

/// What one probe execution produced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProbeObservation {
    /// The published result after this probe.
    pub published: ProbeResult,
    /// True when this probe makes the kubelet kill the container.
    pub kill_container: bool,
}

/// Threshold logic of one probe worker (timing is the caller's business).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProbeWorker {
    /// Kind of probe.
    pub probe_type: ProbeType,
    /// `successThreshold`.
    pub success_threshold: i32,
    /// `failureThreshold`.
    pub failure_threshold: i32,
    last_result: ProbeResult,
    result_run: i32,
    published: ProbeResult,
    on_hold: bool,
}

impl ProbeWorker {
    /// A worker for a new container; the published result starts at the type's initial value.
    pub fn new(probe_type: ProbeType, success_threshold: i32, failure_threshold: i32) -> Self {
        ProbeWorker {
            probe_type,
            success_threshold,
            failure_threshold,
            last_result: ProbeResult::Unknown,
            result_run: 0,
            published: Self::initial_value(probe_type),
            on_hold: false,
        }
    }

    /// Initial published result: `Failure` for readiness, `Success` for liveness, `Unknown` for
    /// startup.
    pub fn initial_value(probe_type: ProbeType) -> ProbeResult {
        match probe_type {
            ProbeType::Readiness => ProbeResult::Failure,
            ProbeType::Liveness => ProbeResult::Success,
            ProbeType::Startup => ProbeResult::Unknown,
        }
    }

    /// The currently published result.
    pub fn published(&self) -> ProbeResult {
        self.published
    }

    /// True after a kill until [`ProbeWorker::container_restarted`] (probing is paused).
    pub fn on_hold(&self) -> bool {
        self.on_hold
    }

    /// Records one raw probe result.
    // Port of pkg/kubelet/prober/worker.go: doProbe (threshold part).
    pub fn observe(&mut self, raw: ProbeResult) -> ProbeObservation {
        if self.on_hold {
            return ProbeObservation {
                published: self.published,
                kill_container: false,
            };
        }
        if self.last_result == raw {
            self.result_run = self.result_run.saturating_add(1);
        } else {
            self.last_result = raw;
            self.result_run = 1;
        }
        let below = (raw == ProbeResult::Failure && self.result_run < self.failure_threshold)
            || (raw == ProbeResult::Success && self.result_run < self.success_threshold);
        if below {
            return ProbeObservation {
                published: self.published,
                kill_container: false,
            };
        }
        self.published = raw;
        let kill = matches!(self.probe_type, ProbeType::Liveness | ProbeType::Startup)
            && raw == ProbeResult::Failure;
        if kill {
            self.on_hold = true;
            self.result_run = 0;
        }
        ProbeObservation {
            published: self.published,
            kill_container: kill,
        }
    }

    /// A new container replaced the probed one: probing resumes from the initial value.
    pub fn container_restarted(&mut self) {
        self.on_hold = false;
        self.published = Self::initial_value(self.probe_type);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn probe_defaults() {
        let p = ProbeSettings::default().defaulted();
        assert_eq!(
            p,
            ProbeSettings {
                initial_delay_seconds: 0,
                timeout_seconds: 1,
                period_seconds: 10,
                success_threshold: 1,
                failure_threshold: 3
            }
        );
        let q = ProbeSettings {
            failure_threshold: 30,
            ..Default::default()
        }
        .defaulted();
        assert_eq!(q.failure_threshold, 30);
    }

    #[test]
    fn pod_defaults() {
        let d = PodSpecDefaults::apply(None, None, Some(""), None);
        assert_eq!(d.restart_policy, "Always");
        assert_eq!(d.termination_grace_period_seconds, 30);
        assert_eq!(d.dns_policy, "ClusterFirst");
        assert_eq!(d.scheduler_name, "default-scheduler");
        assert_eq!(
            PodSpecDefaults::apply(Some("Never"), Some(0), None, None)
                .termination_grace_period_seconds,
            0
        );
    }

    fn waits(b: &mut CrashLoopBackoff, runs: &[i64]) -> Vec<i64> {
        let mut t = 0;
        runs.iter()
            .map(|r| {
                t += r;
                let w = b.next_restart_delay("c", t);
                t += w;
                w
            })
            .collect()
    }

    #[test]
    fn crashloop_sequence() {
        let mut b = CrashLoopBackoff::new(false, None);
        assert_eq!(
            waits(&mut b, &[0; 9]),
            vec![0, 10, 20, 40, 80, 160, 300, 300, 300]
        );
    }

    #[test]
    fn crashloop_reduced_and_max() {
        let mut b = CrashLoopBackoff::new(true, None);
        assert_eq!(waits(&mut b, &[0; 8]), vec![0, 1, 2, 4, 8, 16, 32, 60]);
        let b = CrashLoopBackoff::new(false, Some(5));
        assert_eq!((b.initial, b.cap), (5, 5));
        let b = CrashLoopBackoff::new(true, Some(100));
        assert_eq!((b.initial, b.cap), (1, 100));
    }

    #[test]
    fn crashloop_resets_after_long_run() {
        let mut b = CrashLoopBackoff::new(false, None);
        assert_eq!(waits(&mut b, &[0, 0, 601]), vec![0, 10, 0]);
        let mut b = CrashLoopBackoff::new(false, None);
        assert_eq!(waits(&mut b, &[0, 0, 600]), vec![0, 10, 20]);
    }

    #[test]
    fn startup_budget() {
        let mut w = ProbeWorker::new(ProbeType::Startup, 1, 30);
        for i in 1..30 {
            let o = w.observe(ProbeResult::Failure);
            assert_eq!(o.published, ProbeResult::Unknown, "probe {i}");
            assert!(!o.kill_container);
        }
        let o = w.observe(ProbeResult::Failure);
        assert_eq!(o.published, ProbeResult::Failure);
        assert!(o.kill_container);
        assert!(w.on_hold());
    }

    #[test]
    fn readiness_thresholds() {
        let mut w = ProbeWorker::new(ProbeType::Readiness, 2, 3);
        assert_eq!(
            w.observe(ProbeResult::Success).published,
            ProbeResult::Failure
        );
        assert_eq!(
            w.observe(ProbeResult::Success).published,
            ProbeResult::Success
        );
        assert_eq!(
            w.observe(ProbeResult::Failure).published,
            ProbeResult::Success
        );
        assert_eq!(
            w.observe(ProbeResult::Failure).published,
            ProbeResult::Success
        );
        let o = w.observe(ProbeResult::Failure);
        assert_eq!(o.published, ProbeResult::Failure);
        assert!(!o.kill_container);
    }
}
