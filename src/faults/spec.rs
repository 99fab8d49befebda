//! `spec.faults`: the YAML form of faults and its validation. Every entry names a
//! `kind`, a target (`node`, `nodeSelector` or `zone` for node faults; `selector` and
//! `namespace` for pod faults; none for cluster faults) and a timing: `at` with an
//! optional `duration` or `until`, or a process (`rate: 6/h` with an optional
//! `duration` per occurrence, or `mtbf` with an optional `mttr`) over `[at, until)`.
//! Errors name the file, line and field, like the rest of the scenario.

use super::plan::{Fault, FaultKind, FaultPlan, KIND_NAMES, Probe, Target, Timing};
use super::process::parse_rate;
use crate::api::selector::Labels;
use crate::engine::{SimDuration, SimTime};
use crate::error::InputError;
use serde::Deserialize;
use serde_saphyr::Spanned;
use std::collections::BTreeSet;

/// The zone label faults select zones by.
pub const ZONE_LABEL: &str = "topology.kubernetes.io/zone";

/// One `spec.faults` entry as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct FaultSpec {
    kind: Spanned<String>,
    #[serde(default)]
    at: Option<Spanned<SimDuration>>,
    #[serde(default)]
    duration: Option<Spanned<SimDuration>>,
    #[serde(default)]
    until: Option<Spanned<SimDuration>>,
    #[serde(default)]
    rate: Option<Spanned<String>>,
    #[serde(default)]
    mtbf: Option<Spanned<SimDuration>>,
    #[serde(default)]
    mttr: Option<Spanned<SimDuration>>,
    #[serde(default)]
    node: Option<Spanned<String>>,
    #[serde(default)]
    node_selector: Option<Spanned<Labels>>,
    #[serde(default)]
    zone: Option<Spanned<String>>,
    #[serde(default)]
    selector: Option<Spanned<Labels>>,
    #[serde(default)]
    namespace: Option<Spanned<String>>,
    #[serde(default)]
    probe: Option<Spanned<String>>,
    #[serde(default)]
    latency: Option<Spanned<SimDuration>>,
}

/// What validation needs to know of the scenario.
pub struct Context<'a> {
    /// The scenario file (for messages).
    pub file: &'a str,
    /// Its text (for snippets).
    pub text: &'a str,
    /// Nodes the scenario defines, with their labels, in name order.
    pub nodes: &'a [(String, Labels)],
    /// `spec.duration`.
    pub duration: SimDuration,
}

impl Context<'_> {
    fn err<T>(&self, s: &Spanned<T>, field: &str, msg: impl Into<String>) -> InputError {
        InputError::at_spanned(self.file, self.text, s, field, msg)
    }

    fn zones(&self) -> BTreeSet<&str> {
        self.nodes
            .iter()
            .filter_map(|(_, l)| l.get(ZONE_LABEL).map(String::as_str))
            .collect()
    }
}

/// Validates `spec.faults` into a plan.
pub fn build(specs: &[FaultSpec], cx: &Context<'_>) -> Result<FaultPlan, InputError> {
    let mut faults = Vec::new();
    for (i, s) in specs.iter().enumerate() {
        faults.push(entry(s, &format!("spec.faults[{i}]"), cx)?);
    }
    Ok(FaultPlan { faults })
}

fn entry(s: &FaultSpec, f: &str, cx: &Context<'_>) -> Result<Fault, InputError> {
    let kind = kind(s, f, cx)?;
    let target = target(s, kind, f, cx)?;
    let timing = timing(s, kind, f, cx)?;
    Ok(Fault {
        kind,
        target,
        timing,
        field: f.to_string(),
    })
}

fn kind(s: &FaultSpec, f: &str, cx: &Context<'_>) -> Result<FaultKind, InputError> {
    let latency = |what: &str| -> Result<SimDuration, InputError> {
        match &s.latency {
            None => Err(cx.err(
                &s.kind,
                &format!("{f}.latency"),
                format!("{what} needs latency (e.g. latency: 30s)"),
            )),
            Some(l) if l.value == SimDuration::ZERO => {
                Err(cx.err(l, &format!("{f}.latency"), "must be greater than 0"))
            }
            Some(l) => Ok(l.value),
        }
    };
    let k = match s.kind.value.as_str() {
        "nodeCrash" => FaultKind::NodeCrash,
        "kubeletStop" => FaultKind::KubeletStop,
        "partition" => FaultKind::Partition,
        "zoneOutage" => FaultKind::ZoneOutage,
        "containerCrash" => FaultKind::ContainerCrash,
        "oomKill" => FaultKind::OomKill,
        "probeFlap" => {
            let Some(p) = &s.probe else {
                return Err(cx.err(
                    &s.kind,
                    &format!("{f}.probe"),
                    "probeFlap needs probe: readiness or liveness",
                ));
            };
            FaultKind::ProbeFlap(match p.value.as_str() {
                "readiness" => Probe::Readiness,
                "liveness" => Probe::Liveness,
                other => {
                    return Err(cx.err(
                        p,
                        &format!("{f}.probe"),
                        format!("unknown probe {other:?} (readiness, liveness)"),
                    ));
                }
            })
        }
        "slowImagePull" => FaultKind::SlowImagePull(latency("slowImagePull")?),
        "registryOutage" => FaultKind::RegistryOutage,
        "watchLatency" => FaultKind::WatchLatency(latency("watchLatency")?),
        "schedulerDown" => FaultKind::SchedulerDown,
        other => {
            return Err(cx.err(
                &s.kind,
                &format!("{f}.kind"),
                format!("unknown fault kind {other:?} (one of {KIND_NAMES})"),
            ));
        }
    };
    if let Some(p) = &s.probe
        && !matches!(k, FaultKind::ProbeFlap(_))
    {
        return Err(cx.err(p, &format!("{f}.probe"), "only probeFlap takes a probe"));
    }
    if let Some(l) = &s.latency
        && !matches!(k, FaultKind::SlowImagePull(_) | FaultKind::WatchLatency(_))
    {
        return Err(cx.err(
            l,
            &format!("{f}.latency"),
            "only slowImagePull and watchLatency take a latency",
        ));
    }
    Ok(k)
}

fn target(s: &FaultSpec, kind: FaultKind, f: &str, cx: &Context<'_>) -> Result<Target, InputError> {
    let name = kind.name();
    if !kind.on_pods() {
        if let Some(v) = &s.selector {
            return Err(cx.err(
                v,
                &format!("{f}.selector"),
                format!(
                    "{name} targets nodes or the cluster, not pods (use node, nodeSelector or zone)"
                ),
            ));
        }
        if let Some(v) = &s.namespace {
            return Err(cx.err(
                v,
                &format!("{f}.namespace"),
                format!("{name} does not take a namespace"),
            ));
        }
    }
    let node_fields = [
        s.node.as_ref().map(|v| (v.referenced, "node")),
        s.node_selector
            .as_ref()
            .map(|v| (v.referenced, "nodeSelector")),
        s.zone.as_ref().map(|v| (v.referenced, "zone")),
    ];
    let given: Vec<_> = node_fields.iter().flatten().collect();
    if kind.on_nodes() {
        if kind == FaultKind::ZoneOutage && s.zone.is_none() {
            return Err(cx.err(
                &s.kind,
                &format!("{f}.zone"),
                "zoneOutage needs zone (a topology.kubernetes.io/zone value)",
            ));
        }
        if given.len() != 1 {
            return Err(cx.err(
                &s.kind,
                f,
                format!("{name} needs exactly one of node, nodeSelector, zone"),
            ));
        }
        if let Some(n) = &s.node {
            let n_name = n.value.strip_prefix("node/").unwrap_or(&n.value);
            if !cx.nodes.iter().any(|(x, _)| x == n_name) {
                return Err(cx.err(
                    n,
                    &format!("{f}.node"),
                    format!("node {n_name:?} does not exist"),
                ));
            }
            return Ok(Target::Nodes(
                vec![n_name.to_string()],
                format!("node/{n_name}"),
            ));
        }
        if let Some(z) = &s.zone {
            let nodes: Vec<String> = cx
                .nodes
                .iter()
                .filter(|(_, l)| l.get(ZONE_LABEL) == Some(&z.value))
                .map(|(n, _)| n.clone())
                .collect();
            if nodes.is_empty() {
                let known: Vec<&str> = cx.zones().into_iter().collect();
                return Err(cx.err(
                    z,
                    &format!("{f}.zone"),
                    format!(
                        "no node is in zone {:?} (zones: {})",
                        z.value,
                        if known.is_empty() {
                            "none".to_string()
                        } else {
                            known.join(", ")
                        }
                    ),
                ));
            }
            return Ok(Target::Nodes(nodes, format!("zone/{}", z.value)));
        }
        if let Some(sel) = &s.node_selector {
            let nodes: Vec<String> = cx
                .nodes
                .iter()
                .filter(|(_, l)| sel.value.iter().all(|(k, v)| l.get(k) == Some(v)))
                .map(|(n, _)| n.clone())
                .collect();
            if nodes.is_empty() {
                return Err(cx.err(sel, &format!("{f}.nodeSelector"), "selects no node"));
            }
            let label: Vec<String> = sel.value.iter().map(|(k, v)| format!("{k}={v}")).collect();
            return Ok(Target::Nodes(nodes, format!("nodes {}", label.join(","))));
        }
    }
    if let Some((loc, field)) = given.first() {
        let msg = if kind.on_pods() {
            format!("{name} targets pods: use selector (and namespace)")
        } else {
            format!("{name} acts on the whole cluster and takes no {field}")
        };
        return Err(InputError::at(
            cx.file,
            loc.line() as usize,
            loc.column() as usize,
            &format!("{f}.{field}"),
            msg,
        )
        .with_source(cx.text));
    }
    if kind.on_pods() {
        let Some(sel) = &s.selector else {
            return Err(cx.err(
                &s.kind,
                &format!("{f}.selector"),
                format!("{name} needs selector (pod labels, e.g. selector: {{app: web}})"),
            ));
        };
        return Ok(Target::Pods {
            namespace: s.namespace.as_ref().map(|n| n.value.clone()),
            selector: sel.value.clone(),
        });
    }
    Ok(Target::Cluster)
}

fn timing(s: &FaultSpec, kind: FaultKind, f: &str, cx: &Context<'_>) -> Result<Timing, InputError> {
    let end_of_run = SimTime::ZERO + cx.duration;
    for (v, field) in [
        (&s.duration, "duration"),
        (&s.mtbf, "mtbf"),
        (&s.mttr, "mttr"),
    ] {
        if let Some(v) = v
            && v.value == SimDuration::ZERO
        {
            return Err(cx.err(v, &format!("{f}.{field}"), "must be greater than 0"));
        }
    }
    let from =
        s.at.as_ref()
            .map_or(SimTime::ZERO, |a| SimTime::ZERO + a.value);
    if let Some(a) = &s.at
        && from > end_of_run
    {
        return Err(cx.err(
            a,
            &format!("{f}.at"),
            format!("{} is after the end of the run ({})", a.value, cx.duration),
        ));
    }
    let until = match &s.until {
        Some(u) => {
            let t = SimTime::ZERO + u.value;
            if t <= from {
                return Err(cx.err(
                    u,
                    &format!("{f}.until"),
                    format!(
                        "until ({}) must be after at ({})",
                        u.value,
                        from.since(SimTime::ZERO)
                    ),
                ));
            }
            Some(t)
        }
        None => None,
    };
    if let Some(m) = &s.mttr
        && s.mtbf.is_none()
    {
        return Err(cx.err(m, &format!("{f}.mttr"), "mttr needs mtbf"));
    }
    if let (Some(r), Some(_)) = (&s.rate, &s.mtbf) {
        return Err(cx.err(r, &format!("{f}.rate"), "give rate or mtbf, not both"));
    }
    if kind.instant()
        && let Some(d) = &s.duration
    {
        return Err(cx.err(
            d,
            &format!("{f}.duration"),
            format!("{} is an instant fault: it takes no duration", kind.name()),
        ));
    }
    if let Some(r) = &s.rate {
        let per_second = parse_rate(&r.value).map_err(|m| cx.err(r, &format!("{f}.rate"), m))?;
        return Ok(Timing::Rate {
            per_second,
            from,
            until,
            duration: s.duration.as_ref().map(|d| d.value),
        });
    }
    if let Some(m) = &s.mtbf {
        if let Some(d) = &s.duration {
            return Err(cx.err(
                d,
                &format!("{f}.duration"),
                "with mtbf, repair times come from mttr (duration is for at and rate)",
            ));
        }
        return Ok(Timing::Mtbf {
            mtbf: m.value,
            mttr: s.mttr.as_ref().map(|m| m.value),
            from,
            until,
        });
    }
    if s.at.is_none() {
        return Err(cx.err(
            &s.kind,
            &format!("{f}.at"),
            "a fault needs at (a time), rate or mtbf",
        ));
    }
    if let (Some(d), Some(_)) = (&s.duration, &s.until) {
        return Err(cx.err(
            d,
            &format!("{f}.duration"),
            "give duration or until, not both",
        ));
    }
    if kind.instant()
        && let Some(u) = &s.until
    {
        return Err(cx.err(
            u,
            &format!("{f}.until"),
            format!(
                "{} at a time is one instant: give a rate for crashes over a window",
                kind.name()
            ),
        ));
    }
    let end = until.or(s.duration.as_ref().map(|d| from + d.value));
    Ok(Timing::At { at: from, end })
}
