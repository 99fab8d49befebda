//! The openb trace as a `kubetwin run` scenario source (`spec.openb`): the node list
//! becomes the cluster and the pod list the streamed arrivals, read at load time from the
//! trace folder (never copied into the repository: research-only terms), in one of two
//! modes:
//!
//! - `replay`: each pod arrives at its `creation_time` (seconds, minus `from`, divided by
//!   `timeScale`) and its containers exit `deletion_time - creation_time` (scaled) after
//!   they start, so it leaves the node about when the trace deleted it; pods created
//!   outside `[from, until)` are skipped, a pod without a deletion time runs forever;
//! - `protocol`: the ATC'23 paper's protocol, the same draws as `kubetwin experiment
//!   gpu-fragmentation` for the same seed (`arrival_order_to`): the original pods plus
//!   draws with replacement until GPU requests reach `targetPct` of GPU capacity,
//!   shuffled, one every `interval`, never leaving; node names get a per-seed random
//!   rank prefix (the artifact's random node-name prefixes), so `tieBreak: name` picks the
//!   first best node in a random node order, as the experiment does.
//!
//! Mapping (as the shipped GPU scenarios): `cpu_milli`/`memory_mib` are the container's
//! requests and limits, `num_gpu` and `gpu_milli` (per GPU) the pod annotations
//! `alibabacloud.com/gpu-count` and `alibabacloud.com/gpu-milli` that the `GpuShare`
//! plugin reads (as extended resources, NodeResourcesFit and the kubelet would count one
//! GPU share as a whole `gpu-count`), `gpu_spec` a required node affinity `In` on
//! `alibabacloud.com/gpu-card-model`. Nodes carry `gpu-count` and `gpu-milli` as
//! extended resources and the model label, as in the openb node YAML.

use super::openb::{OpenbNode, OpenbPod, node_manifest, pod_manifest, read_nodes, read_pods};
use crate::api::affinity::NodeAffinity;
use crate::api::manifest::{Loaded, SourceDoc, load_str};
use crate::api::objects::*;
use crate::api::resources::Resources;
use crate::backend::sim::RUN_DURATION;
use crate::controllers::scheduler::plugins::gpu::frag::ShapeKey;
use crate::controllers::scheduler::plugins::gpu::{
    GPU_COUNT_RESOURCE, GPU_MILLI_RESOURCE, GpuRequest, TypicalPods,
};
use crate::engine::rng::{RngStreams, below};
use crate::engine::{SimDuration, SimTime};
use crate::error::{Error, InputError};
use crate::experiment::gpu_fragmentation::{Cluster, Workload, arrival_order_to};
use crate::workload::stream::Arrivals;
use serde::Deserialize;
use serde_saphyr::Spanned;
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

/// `spec.openb` as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct OpenbSpec {
    /// The trace folder (`alibaba-clusterdata-gpu-v2023`), relative to the scenario file.
    pub traces: Spanned<String>,
    /// The node list inside it (default `csv/openb_node_list_gpu_node.csv`; CSV or YAML).
    #[serde(default)]
    pub nodes: Option<Spanned<String>>,
    /// The pod list: `default`, `gpushare40`, ... (`csv/openb_pod_list_<trace>.csv`).
    #[serde(default)]
    pub trace: Option<Spanned<String>>,
    /// `replay` (creation/deletion times) or `protocol` (the paper's protocol).
    pub mode: Spanned<String>,
    /// Replay: trace time (seconds since the trace's start) mapped to time zero.
    #[serde(default)]
    pub from: Option<Spanned<SimDuration>>,
    /// Replay: pods created at or after this trace time are skipped.
    #[serde(default)]
    pub until: Option<Spanned<SimDuration>>,
    /// Replay: trace seconds per simulated second (default 1; 60 runs an hour a minute).
    #[serde(default)]
    pub time_scale: Option<Spanned<f64>>,
    /// Protocol: GPU requests to submit, percent of GPU capacity (default 130).
    #[serde(default)]
    pub target_pct: Option<Spanned<f64>>,
    /// Protocol: time between two arrivals (default 10ms).
    #[serde(default)]
    pub interval: Option<Spanned<SimDuration>>,
    /// Protocol: the shuffle's seed (default: `spec.seed`).
    #[serde(default)]
    pub seed: Option<u64>,
}

/// What `spec.openb` adds to a scenario.
#[derive(Debug)]
pub struct OpenbSource {
    /// The Node objects, in node-list order.
    pub nodes: Vec<Loaded>,
    /// The pods, streamed.
    pub arrivals: Arrivals,
    /// FGD's typical pods: the shapes of the original pod list (95% coverage).
    pub typical: TypicalPods,
}

/// Resolves `spec.openb` (`base`: the scenario's folder; `seed`: `spec.seed`). Errors
/// are (field, message) for the scenario loader to place, or input errors of the trace
/// files themselves.
pub fn resolve(spec: &OpenbSpec, base: &Path, seed: u64) -> Result<OpenbSource, OpenbError> {
    let dir = base.join(&spec.traces.value);
    if !dir.is_dir() {
        return Err(OpenbError::Field(
            field(&spec.traces),
            "spec.openb.traces".into(),
            format!(
                "no such folder: {} (the openb trace is not shipped with kubetwin: see docs/gpu-fragmentation.md)",
                dir.display()
            ),
        ));
    }
    let nodes_path = dir.join(
        spec.nodes
            .as_ref()
            .map_or("csv/openb_node_list_gpu_node.csv", |n| n.value.as_str()),
    );
    if !nodes_path.is_file() {
        let span = spec.nodes.as_ref().map_or(field(&spec.traces), field);
        return Err(OpenbError::Field(
            span,
            "spec.openb.nodes".into(),
            format!("no such file: {}", nodes_path.display()),
        ));
    }
    let trace = spec.trace.as_ref().map_or("default", |t| t.value.as_str());
    let pods_path = dir.join(format!("csv/openb_pod_list_{trace}.csv"));
    if !pods_path.is_file() {
        let span = spec.trace.as_ref().map_or(field(&spec.traces), field);
        return Err(OpenbError::Field(
            span,
            "spec.openb.trace".into(),
            format!("no such pod list: {}", pods_path.display()),
        ));
    }
    let nodes = read_nodes(&nodes_path).map_err(OpenbError::Input)?;
    let pods = read_pods(&pods_path).map_err(OpenbError::Input)?;
    let typical = typical_of(&pods);
    let pods_file: Arc<str> = Arc::from(pods_path.display().to_string());
    match spec.mode.value.as_str() {
        "replay" => {
            for (name, v) in [
                ("targetPct", spec.target_pct.is_some()),
                ("interval", spec.interval.is_some()),
                ("seed", spec.seed.is_some()),
            ] {
                if v {
                    return Err(OpenbError::Field(
                        field(&spec.mode),
                        format!("spec.openb.{name}"),
                        format!("{name} is for mode: protocol"),
                    ));
                }
            }
            let scale = spec.time_scale.as_ref().map_or(1.0, |t| t.value);
            if !(scale.is_finite() && scale > 0.0) {
                let t = spec.time_scale.as_ref().expect("set when invalid");
                return Err(OpenbError::Field(
                    field(t),
                    "spec.openb.timeScale".into(),
                    format!("must be a positive number, got {scale}"),
                ));
            }
            let from = spec
                .from
                .as_ref()
                .map_or(0, |f| f.value.as_nanos() / 1_000_000_000);
            let until = spec
                .until
                .as_ref()
                .map_or(u64::MAX, |u| u.value.as_nanos() / 1_000_000_000);
            let times = read_times(&pods_path).map_err(OpenbError::Input)?;
            let mut chosen: Vec<(u64, usize)> = pods
                .iter()
                .enumerate()
                .filter_map(|(i, _)| {
                    let (c, _) = times[i];
                    (c >= from && c < until).then_some((c, i))
                })
                .collect();
            chosen.sort();
            let nodes = node_objects(&nodes, None)?;
            let pods = Arc::new(pods);
            let times = Arc::new(times);
            let arrivals = Arrivals::new("openb-replay", move || {
                let pods = pods.clone();
                let times = times.clone();
                let file = pods_file.clone();
                let mut templates = Templates::default();
                Box::new(chosen.clone().into_iter().map(move |(c, i)| {
                    let at = SimTime::ZERO + SimDuration::from_secs_f64((c - from) as f64 / scale);
                    let run = times[i]
                        .1
                        .map(|d| SimDuration::from_secs_f64(d.saturating_sub(c) as f64 / scale));
                    let p = &pods[i];
                    (at, templates.pod(p, &p.name, run, &file))
                }))
            });
            Ok(OpenbSource {
                nodes,
                arrivals,
                typical,
            })
        }
        "protocol" => {
            for (name, v) in [
                ("from", spec.from.is_some()),
                ("until", spec.until.is_some()),
                ("timeScale", spec.time_scale.is_some()),
            ] {
                if v {
                    return Err(OpenbError::Field(
                        field(&spec.mode),
                        format!("spec.openb.{name}"),
                        format!("{name} is for mode: replay"),
                    ));
                }
            }
            let pct = spec.target_pct.as_ref().map_or(130.0, |t| t.value);
            if !(pct.is_finite() && pct > 0.0 && pct <= 1000.0) {
                let t = spec.target_pct.as_ref().expect("set when invalid");
                return Err(OpenbError::Field(
                    field(t),
                    "spec.openb.targetPct".into(),
                    format!("must be in (0, 1000], got {pct}"),
                ));
            }
            let interval = spec
                .interval
                .as_ref()
                .map_or(SimDuration::from_millis(10), |i| i.value);
            let seed = spec.seed.unwrap_or(seed);
            let cluster = Cluster::new(&nodes).map_err(OpenbError::Input)?;
            let w = Workload::new(trace, &pods, &cluster);
            let streams = RngStreams::new(seed);
            let order = arrival_order_to(
                &w,
                &cluster,
                &mut streams.stream("gpu-fragmentation/workload"),
                pct / 100.0,
            );
            // The experiment's node order for the seed, as name prefixes.
            let mut node_rng = streams.stream("gpu-fragmentation/node-order");
            let mut perm: Vec<usize> = (0..nodes.len()).collect();
            for i in (1..perm.len()).rev() {
                let j = below(&mut node_rng, i as u64 + 1) as usize;
                perm.swap(i, j);
            }
            let mut rank = vec![0usize; nodes.len()];
            for (r, &i) in perm.iter().enumerate() {
                rank[i] = r;
            }
            let nodes = node_objects(&nodes, Some(&rank))?;
            let pods = Arc::new(pods);
            let order = Arc::new(order);
            let arrivals = Arrivals::new("openb-protocol", move || {
                let pods = pods.clone();
                let order = order.clone();
                let file = pods_file.clone();
                let mut templates = Templates::default();
                Box::new((0..order.len()).map(move |k| {
                    let p = &pods[order[k] as usize];
                    let at =
                        SimTime::ZERO + SimDuration::from_nanos(interval.as_nanos() * k as u64);
                    let name = format!("{}-{k:05}", p.name);
                    (at, templates.pod(p, &name, None, &file))
                }))
            });
            Ok(OpenbSource {
                nodes,
                arrivals,
                typical,
            })
        }
        other => Err(OpenbError::Field(
            field(&spec.mode),
            "spec.openb.mode".into(),
            format!("unknown mode {other:?} (replay, protocol)"),
        )),
    }
}

/// A `spec.openb` error: at a field of the scenario (line, column, field, message), or in
/// a trace file.
#[derive(Debug)]
pub enum OpenbError {
    /// At the scenario's field.
    Field((usize, usize), String, String),
    /// In a trace file.
    Input(Error),
}

fn field<T>(s: &Spanned<T>) -> (usize, usize) {
    (s.referenced.line() as usize, s.referenced.column() as usize)
}

/// The typical pods of an openb pod list (CPU, milli-GPU and GPU-count shapes; the
/// GPU-model constraint is left to NodeAffinity, as in `kubetwin run`).
pub fn typical_of(pods: &[OpenbPod]) -> TypicalPods {
    let reqs: Vec<GpuRequest> = pods.iter().map(request).collect();
    TypicalPods::from_pods(reqs.iter().map(|r| {
        (
            ShapeKey {
                cpu_milli: r.cpu_milli,
                gpu_milli: r.gpu_milli,
                num_gpu: r.num_gpu,
                spec: 0,
            },
            r,
        )
    }))
}

fn request(p: &OpenbPod) -> GpuRequest {
    GpuRequest {
        cpu_milli: p.cpu_milli,
        memory_mib: p.memory_mib,
        num_gpu: p.num_gpu,
        gpu_milli: p.gpu_milli,
        allowed: 0,
    }
}

/// `creation_time` and `deletion_time` (seconds) per pod row, in file order.
fn read_times(path: &Path) -> Result<Vec<(u64, Option<u64>)>, Error> {
    let f = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    let mut r = csv::ReaderBuilder::new().flexible(true).from_reader(f);
    let file = path.display().to_string();
    let header: Vec<String> = r
        .headers()
        .map_err(|e| InputError::at(&file, 1, 1, "", format!("unreadable header: {e}")))?
        .iter()
        .map(|s| s.trim().to_string())
        .collect();
    let col = |n: &str| header.iter().position(|h| h == n);
    let (Some(ci), di) = (col("creation_time"), col("deletion_time")) else {
        return Err(InputError::at(
            &file,
            1,
            1,
            "",
            "mode: replay needs the column `creation_time` (the multigpu* lists have none)",
        )
        .into());
    };
    let mut out = Vec::new();
    let mut rec = csv::StringRecord::new();
    loop {
        let more = r.read_record(&mut rec).map_err(|e| {
            let line = e.position().map(|p| p.line() as usize).unwrap_or(1);
            InputError::at(&file, line, 1, "", format!("unreadable row: {e}"))
        })?;
        if !more {
            break;
        }
        if rec.iter().all(|f| f.trim().is_empty()) {
            continue;
        }
        let line = rec.position().map(|p| p.line() as usize).unwrap_or(1);
        let num = |i: usize, name: &str| -> Result<Option<u64>, Error> {
            let t = rec.get(i).map(str::trim).unwrap_or("");
            if t.is_empty() || t == "nan" {
                return Ok(None);
            }
            // Times are written as integers, sometimes as floats (`123.0`).
            let v: f64 = t.parse().map_err(|_| {
                InputError::at(
                    &file,
                    line,
                    1,
                    name,
                    format!("expected a time in seconds, found {t:?}"),
                )
            })?;
            if !(v.is_finite() && v >= 0.0) {
                return Err(InputError::at(&file, line, 1, name, format!("bad time {t:?}")).into());
            }
            Ok(Some(v as u64))
        };
        let Some(c) = num(ci, "creation_time")? else {
            return Err(
                InputError::at(&file, line, 1, "creation_time", "empty creation time").into(),
            );
        };
        let d = match di {
            Some(i) => num(i, "deletion_time")?,
            None => None,
        };
        out.push((c, d));
    }
    Ok(out)
}

fn node_objects(nodes: &[OpenbNode], rank: Option<&[usize]>) -> Result<Vec<Loaded>, OpenbError> {
    let width = nodes.len().max(1).to_string().len();
    let mut text = String::new();
    for (i, n) in nodes.iter().enumerate() {
        let mut n = n.clone();
        if let Some(r) = rank {
            n.name = format!("r{:0width$}-{}", r[i], n.name);
        }
        if i > 0 {
            text.push_str("---\n");
        }
        text.push_str(&node_manifest(&n));
    }
    let loaded = load_str(&text, "<openb nodes>", 1).map_err(|e| OpenbError::Input(e.into()))?;
    Ok(loaded.objects)
}

/// Pod objects built directly (no YAML per pod); the node affinity of each distinct
/// `gpu_spec` is parsed once from [`pod_manifest`].
#[derive(Default)]
struct Templates {
    affinity: BTreeMap<String, Option<NodeAffinity>>,
}

impl Templates {
    fn pod(
        &mut self,
        p: &OpenbPod,
        name: &str,
        run: Option<SimDuration>,
        file: &Arc<str>,
    ) -> Loaded {
        let affinity = if p.gpu_spec.is_empty() {
            None
        } else {
            self.affinity
                .entry(p.gpu_spec_text.clone())
                .or_insert_with(|| {
                    let text = pod_manifest(p);
                    load_str(&text, "<openb pod>", 1).ok().and_then(|l| {
                        match l.objects.into_iter().next()?.object {
                            Object::Pod(pod) => pod.spec.node_affinity,
                            _ => None,
                        }
                    })
                })
                .clone()
        };
        let requests = Resources {
            cpu_milli: p.cpu_milli,
            memory: p.memory_mib * 1024 * 1024,
            ..Resources::default()
        };
        let mut annotations = BTreeMap::new();
        if p.num_gpu > 0 {
            annotations.insert(GPU_COUNT_RESOURCE.to_string(), p.num_gpu.to_string());
            annotations.insert(GPU_MILLI_RESOURCE.to_string(), p.gpu_milli.to_string());
        }
        if let Some(d) = run {
            annotations.insert(RUN_DURATION.to_string(), d.to_string());
        }
        let spec = PodSpec {
            containers: vec![Container {
                name: "main".into(),
                image: "openb/task".into(),
                requests: requests.clone(),
                limits: requests,
                ports: vec![],
                liveness: None,
                readiness: None,
                startup: None,
            }],
            init_containers: vec![],
            node_name: String::new(),
            node_selector: Default::default(),
            node_affinity: affinity,
            tolerations: vec![],
            priority: 0,
            priority_class_name: String::new(),
            restart_policy: RestartPolicy::Never,
            termination_grace_period_seconds: 30,
            scheduler_name: "default-scheduler".into(),
            dns_policy: "ClusterFirst".into(),
            host_network: false,
            topology_spread_constraints: Vec::new(),
            preemption_policy: None,
            pod_affinity: None,
            pod_anti_affinity: None,
        };
        let meta = ObjectMeta {
            name: name.to_string(),
            namespace: "default".into(),
            annotations,
            ..ObjectMeta::default()
        };
        Loaded {
            object: Object::Pod(Box::new(Pod::new(meta, spec))),
            source: SourceDoc {
                file: file.clone(),
                text: Arc::from(""),
                first_line: p.line,
                item: None,
            },
        }
    }
}
