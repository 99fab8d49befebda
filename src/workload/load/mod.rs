//! The load model's input: the scenario's `spec.load` list. Each entry offers requests
//! per second to a target (`service/web`: spread over the Service's ready endpoints;
//! `deployment/web`: over the Deployment's ready pods) following a [`Curve`], multiplied
//! by `scale`, by spikes and by noise drawn from the RNG stream `load/<name>`, and says
//! what a request costs a pod (`perPod`), the service time for the latency estimate and
//! the per-pod custom metric published for the HPA. See docs/scenario.md ("Load") for
//! the formulas; [`model`] runs it.

pub mod curve;
pub mod model;
pub mod series;

pub use curve::Curve;

use crate::api::Kind;
use crate::api::quantity::Quantity;
use crate::engine::SimDuration;
use crate::error::{Error, InputError};
use serde::Deserialize;
use serde_saphyr::Spanned;
use std::path::Path;

/// A number or a quantity string in the YAML (`2m`, `64Mi`, `0`).
#[derive(Deserialize, Debug, Clone)]
#[serde(untagged)]
pub enum QuantityText {
    /// A YAML number.
    Number(f64),
    /// A quantity string.
    Text(String),
}

/// One `spec.load` entry as written.
#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct LoadEntrySpec {
    target: Spanned<String>,
    #[serde(default)]
    namespace: Option<String>,
    #[serde(default)]
    name: Option<Spanned<String>>,
    curve: Spanned<CurveSpec>,
    #[serde(default)]
    spikes: Vec<SpikeSpec>,
    #[serde(default)]
    scale: Option<Spanned<f64>>,
    #[serde(default)]
    noise: Option<NoiseSpec>,
    #[serde(default)]
    per_pod: Option<PerPodSpec>,
    #[serde(default)]
    latency: Option<LatencySpec>,
    #[serde(default)]
    custom_metric: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct CurveSpec {
    #[serde(default)]
    constant: Option<ConstantSpec>,
    #[serde(default)]
    step: Option<StepSpec>,
    #[serde(default)]
    ramp: Option<RampSpec>,
    #[serde(default)]
    diurnal: Option<DiurnalSpec>,
    #[serde(default)]
    csv: Option<CsvSpec>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ConstantSpec {
    rps: Spanned<f64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct StepSpec {
    from: Spanned<f64>,
    to: Spanned<f64>,
    at: Spanned<SimDuration>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RampSpec {
    from: Spanned<f64>,
    to: Spanned<f64>,
    start: Spanned<SimDuration>,
    end: Spanned<SimDuration>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct DiurnalSpec {
    base: Spanned<f64>,
    peak: Spanned<f64>,
    #[serde(default)]
    period: Option<Spanned<SimDuration>>,
    #[serde(default)]
    peak_at: Option<Spanned<SimDuration>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CsvSpec {
    path: Spanned<String>,
    #[serde(default)]
    interpolate: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SpikeSpec {
    at: Spanned<SimDuration>,
    duration: Spanned<SimDuration>,
    factor: Spanned<f64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct NoiseSpec {
    relative_sd: Spanned<f64>,
    #[serde(default)]
    interval: Option<Spanned<SimDuration>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct PerPodSpec {
    #[serde(default)]
    cpu_per_request: Option<Spanned<QuantityText>>,
    #[serde(default)]
    base_cpu: Option<Spanned<QuantityText>>,
    #[serde(default)]
    base_memory: Option<Spanned<QuantityText>>,
    #[serde(default)]
    memory_per_request: Option<Spanned<QuantityText>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct LatencySpec {
    service_time: Spanned<SimDuration>,
}

/// What a load entry is offered to.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct LoadTarget {
    /// `Service` or `Deployment`.
    pub kind: Kind,
    /// Namespace (`namespace:` on the entry, default `default`).
    pub namespace: String,
    /// Name.
    pub name: String,
}

impl LoadTarget {
    /// `svc/NS/NAME` or `deployment/NS/NAME`, as metrics.csv names workloads.
    pub fn column_prefix(&self) -> String {
        let k = if self.kind == Kind::Service {
            "svc"
        } else {
            "deployment"
        };
        format!("{k}/{}/{}", self.namespace, self.name)
    }
}

/// A multiplicative spike: the load is `factor` times higher in `[start, end)` (s).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Spike {
    /// Start (s).
    pub start: f64,
    /// End (s).
    pub end: f64,
    /// Multiplier (≥ 0).
    pub factor: f64,
}

/// Noise: each `interval` the load is multiplied by `max(0, 1 + relative_sd · z)`, `z`
/// standard normal.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Noise {
    /// Relative standard deviation.
    pub relative_sd: f64,
    /// How long one draw holds (s).
    pub interval: f64,
}

/// What serving costs a pod.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PerPod {
    /// CPU per request, in core-nanoseconds (`2m` per request/s = 2,000,000).
    pub cpu_per_request: f64,
    /// CPU used while running, whatever the load, in nanocores.
    pub base_cpu: f64,
    /// Memory working set while running, in bytes.
    pub base_memory: f64,
    /// Extra memory per request/s served, in bytes.
    pub memory_per_request: f64,
}

/// One validated `spec.load` entry.
#[derive(Debug, Clone, PartialEq)]
pub struct LoadSpec {
    /// The entry's name (`name:`, default the target's name): the key in summary.json's
    /// `load` object and the RNG stream `load/<name>`.
    pub name: String,
    /// The target.
    pub target: LoadTarget,
    /// The curve.
    pub curve: Curve,
    /// Multiplies the curve.
    pub scale: f64,
    /// Spikes.
    pub spikes: Vec<Spike>,
    /// Noise, if any.
    pub noise: Option<Noise>,
    /// Per-pod costs.
    pub per_pod: PerPod,
    /// The service time of one request at no load (s), for the latency estimate.
    pub service_time: f64,
    /// The per-pod custom metric to publish (served requests per second), if any.
    pub custom_metric: Option<String>,
}

/// Default service time for the latency estimate.
pub const DEFAULT_SERVICE_TIME: SimDuration = SimDuration::from_millis(20);
/// Default noise interval.
pub const DEFAULT_NOISE_INTERVAL: SimDuration = SimDuration::from_secs(60);
/// Default CPU per request (`1m` per request/s).
pub const DEFAULT_CPU_PER_REQUEST_NANOS: f64 = 1_000_000.0;

struct Cx<'a> {
    file: &'a str,
    text: &'a str,
    base: &'a Path,
}

impl Cx<'_> {
    fn err<T>(&self, s: &Spanned<T>, field: &str, msg: impl Into<String>) -> Error {
        InputError::at_spanned(self.file, self.text, s, field, msg).into()
    }

    fn rate(&self, v: &Spanned<f64>, field: &str) -> Result<f64, Error> {
        if v.value.is_finite() && v.value >= 0.0 {
            Ok(v.value)
        } else {
            Err(self.err(
                v,
                field,
                format!("must be a non-negative number, got {}", v.value),
            ))
        }
    }

    /// A quantity in nano-units (`2m` → 2,000,000).
    fn quantity(&self, q: &Option<Spanned<QuantityText>>, field: &str) -> Result<f64, Error> {
        let Some(q) = q else { return Ok(0.0) };
        let parsed = match &q.value {
            QuantityText::Number(n) => Quantity::from_f64(*n),
            QuantityText::Text(t) => Quantity::parse(t),
        }
        .map_err(|e| self.err(q, field, e.to_string()))?;
        if parsed.is_negative() {
            return Err(self.err(q, field, "must not be negative"));
        }
        Ok(parsed.as_nanos() as f64)
    }

    fn curve(&self, c: &Spanned<CurveSpec>, f: &str) -> Result<Curve, Error> {
        let v = &c.value;
        let set = [
            v.constant.is_some(),
            v.step.is_some(),
            v.ramp.is_some(),
            v.diurnal.is_some(),
            v.csv.is_some(),
        ]
        .iter()
        .filter(|b| **b)
        .count();
        if set != 1 {
            return Err(self.err(
                c,
                f,
                "give exactly one curve: constant, step, ramp, diurnal or csv",
            ));
        }
        let secs = |d: &Spanned<SimDuration>| d.value.as_secs_f64();
        if let Some(k) = &v.constant {
            return Ok(Curve::Constant(
                self.rate(&k.rps, &format!("{f}.constant.rps"))?,
            ));
        }
        if let Some(s) = &v.step {
            return Ok(Curve::Step {
                from: self.rate(&s.from, &format!("{f}.step.from"))?,
                to: self.rate(&s.to, &format!("{f}.step.to"))?,
                at: secs(&s.at),
            });
        }
        if let Some(r) = &v.ramp {
            if r.end.value <= r.start.value {
                return Err(self.err(&r.end, &format!("{f}.ramp.end"), "must be after start"));
            }
            return Ok(Curve::Ramp {
                from: self.rate(&r.from, &format!("{f}.ramp.from"))?,
                to: self.rate(&r.to, &format!("{f}.ramp.to"))?,
                start: secs(&r.start),
                end: secs(&r.end),
            });
        }
        if let Some(d) = &v.diurnal {
            let base = self.rate(&d.base, &format!("{f}.diurnal.base"))?;
            let peak = self.rate(&d.peak, &format!("{f}.diurnal.peak"))?;
            if peak < base {
                return Err(self.err(
                    &d.peak,
                    &format!("{f}.diurnal.peak"),
                    format!("must be at least base ({base}), got {peak}"),
                ));
            }
            let period = match &d.period {
                Some(p) if p.value < SimDuration::from_secs(1) => {
                    return Err(self.err(p, &format!("{f}.diurnal.period"), "must be at least 1s"));
                }
                Some(p) => secs(p),
                None => 86_400.0,
            };
            return Ok(Curve::Diurnal {
                base,
                peak,
                period,
                peak_at: d.peak_at.as_ref().map_or(0.0, secs),
            });
        }
        let Some(c) = &v.csv else {
            return Err(Error::Internal("no curve".into()));
        };
        let linear = match c.interpolate.as_ref().map(|s| s.value.as_str()) {
            None | Some("linear") => true,
            Some("step") => false,
            Some(other) => {
                return Err(self.err(
                    c.interpolate.as_ref().unwrap_or(&c.path),
                    &format!("{f}.csv.interpolate"),
                    format!("unknown interpolation {other:?} (linear, step)"),
                ));
            }
        };
        let path = self.base.join(&c.path.value);
        let text = std::fs::read_to_string(&path).map_err(|e| {
            self.err(
                &c.path,
                &format!("{f}.csv.path"),
                format!("cannot read {}: {e}", path.display()),
            )
        })?;
        let points = series::parse(&text, &path.display().to_string())?;
        Ok(Curve::Series { points, linear })
    }

    fn entry(
        &self,
        e: &LoadEntrySpec,
        i: usize,
        exists: &dyn Fn(Kind, &str, &str) -> bool,
    ) -> Result<LoadSpec, Error> {
        let f = format!("spec.load[{i}]");
        let tf = format!("{f}.target");
        let Some((k, name)) = e.target.value.split_once('/') else {
            return Err(self.err(
                &e.target,
                &tf,
                format!(
                    "expected service/NAME or deployment/NAME, got {:?}",
                    e.target.value
                ),
            ));
        };
        let kind = Kind::from_kubectl(k)
            .filter(|k| matches!(k, Kind::Service | Kind::Deployment))
            .ok_or_else(|| {
                self.err(
                    &e.target,
                    &tf,
                    format!("unsupported kind {k:?} here (service, deployment)"),
                )
            })?;
        let namespace = e.namespace.clone().unwrap_or_else(|| "default".into());
        if !exists(kind, &namespace, name) {
            return Err(self.err(
                &e.target,
                &tf,
                format!(
                    "{kind} {name:?} does not exist in namespace {namespace:?} (neither in the manifests nor applied by the timeline)"
                ),
            ));
        }
        let curve = self.curve(&e.curve, &format!("{f}.curve"))?;
        let scale = match &e.scale {
            Some(s) => self.rate(s, &format!("{f}.scale"))?,
            None => 1.0,
        };
        let mut spikes = Vec::new();
        for (j, s) in e.spikes.iter().enumerate() {
            let factor = self.rate(&s.factor, &format!("{f}.spikes[{j}].factor"))?;
            if s.duration.value == SimDuration::ZERO {
                return Err(self.err(
                    &s.duration,
                    &format!("{f}.spikes[{j}].duration"),
                    "must be greater than 0",
                ));
            }
            let start = s.at.value.as_secs_f64();
            spikes.push(Spike {
                start,
                end: start + s.duration.value.as_secs_f64(),
                factor,
            });
        }
        let noise = match &e.noise {
            None => None,
            Some(n) => {
                let relative_sd = self.rate(&n.relative_sd, &format!("{f}.noise.relativeSd"))?;
                let interval = match &n.interval {
                    Some(d) if d.value < SimDuration::from_secs(1) => {
                        return Err(self.err(
                            d,
                            &format!("{f}.noise.interval"),
                            "must be at least 1s",
                        ));
                    }
                    Some(d) => d.value,
                    None => DEFAULT_NOISE_INTERVAL,
                };
                Some(Noise {
                    relative_sd,
                    interval: interval.as_secs_f64(),
                })
            }
        };
        let per_pod = match &e.per_pod {
            None => PerPod {
                cpu_per_request: DEFAULT_CPU_PER_REQUEST_NANOS,
                base_cpu: 0.0,
                base_memory: 0.0,
                memory_per_request: 0.0,
            },
            Some(p) => {
                let pf = format!("{f}.perPod");
                PerPod {
                    cpu_per_request: if p.cpu_per_request.is_some() {
                        self.quantity(&p.cpu_per_request, &format!("{pf}.cpuPerRequest"))?
                    } else {
                        DEFAULT_CPU_PER_REQUEST_NANOS
                    },
                    base_cpu: self.quantity(&p.base_cpu, &format!("{pf}.baseCpu"))?,
                    base_memory: self.quantity(&p.base_memory, &format!("{pf}.baseMemory"))? / 1e9,
                    memory_per_request: self
                        .quantity(&p.memory_per_request, &format!("{pf}.memoryPerRequest"))?
                        / 1e9,
                }
            }
        };
        let service_time = match &e.latency {
            None => DEFAULT_SERVICE_TIME.as_secs_f64(),
            Some(l) if l.service_time.value == SimDuration::ZERO => {
                return Err(self.err(
                    &l.service_time,
                    &format!("{f}.latency.serviceTime"),
                    "must be greater than 0",
                ));
            }
            Some(l) => l.service_time.value.as_secs_f64(),
        };
        let custom_metric = match &e.custom_metric {
            Some(m) if m.value.trim().is_empty() || m.value.contains('/') => {
                return Err(self.err(
                    m,
                    &format!("{f}.customMetric"),
                    "must be a metric name without '/'",
                ));
            }
            Some(m) => Some(m.value.clone()),
            None => None,
        };
        let entry_name = match &e.name {
            Some(n) if n.value.is_empty() || n.value.contains(['.', '/']) => {
                return Err(self.err(
                    n,
                    &format!("{f}.name"),
                    "must be non-empty, without '.' or '/'",
                ));
            }
            Some(n) => n.value.clone(),
            None => name.to_string(),
        };
        Ok(LoadSpec {
            name: entry_name,
            target: LoadTarget {
                kind,
                namespace,
                name: name.to_string(),
            },
            curve,
            scale,
            spikes,
            noise,
            per_pod,
            service_time,
            custom_metric,
        })
    }
}

/// Validates `spec.load`. `exists(kind, namespace, name)` says whether the target is
/// defined anywhere in the scenario (manifests or timeline); CSV paths resolve against
/// `base`.
pub fn build(
    entries: &[LoadEntrySpec],
    file: &str,
    text: &str,
    base: &Path,
    exists: &dyn Fn(Kind, &str, &str) -> bool,
) -> Result<Vec<LoadSpec>, Error> {
    let cx = Cx { file, text, base };
    let mut out: Vec<LoadSpec> = Vec::new();
    for (i, e) in entries.iter().enumerate() {
        let spec = cx.entry(e, i, exists)?;
        if let Some(dup) = out
            .iter()
            .find(|o| o.name == spec.name || o.target == spec.target)
        {
            return Err(cx.err(
                &e.target,
                &format!("spec.load[{i}]"),
                format!(
                    "a second load entry for {:?} (name {:?}): give each target one entry with a distinct name",
                    dup.target.column_prefix(),
                    dup.name
                ),
            ));
        }
        out.push(spec);
    }
    Ok(out)
}

/// The expectation fields a load target adds to its `svc/NAME` or `deployment/NAME`
/// subject.
pub const LOAD_FIELDS: &[&str] = &[
    "offered_rps",
    "served_rps",
    "dropped_rps",
    "dropped_pct",
    "latency_ms",
    "cpu_usage_m",
];

/// An expectation on a load field must name a load target.
pub fn check_expectation(
    e: &crate::workload::Expectation,
    load: &[LoadSpec],
) -> Result<(), String> {
    use crate::workload::expectation::Subject;
    if !LOAD_FIELDS.contains(&e.field.as_str()) {
        return Ok(());
    }
    let Subject::Workload {
        kind,
        namespace,
        name,
    } = &e.subject
    else {
        return Ok(());
    };
    if load.iter().any(|l| {
        l.target.kind == *kind && &l.target.namespace == namespace && &l.target.name == name
    }) {
        Ok(())
    } else {
        Err(format!(
            "{} is a load field, but no spec.load entry targets {kind} {namespace}/{name}",
            e.field
        ))
    }
}
