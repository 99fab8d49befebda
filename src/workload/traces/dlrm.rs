//! The Alibaba GPU-disaggregated DLRM trace (clusterdata `gpu-v2025`,
//! `disaggregated_DLRM_trace.csv`): one row per inference instance with its app, role
//! (`CN` CPU node / `HN` heterogeneous GPU node), requests and limits, the per-node cap
//! `max_instance_per_node`, and creation/deletion times in seconds from the trace start
//! (empty or `NaN`: before the start / after the end).
//!
//! Instances of one app with the same role and shape become one Deployment; an
//! instance's creation is a scale-up of its Deployment by one and its deletion a
//! scale-down by one, so the Deployment's replica count follows the trace's instance
//! count over time (which pod a scale-down removes is the ReplicaSet controller's
//! choice, not the trace's). `max_instance_per_node` N caps the app's pods per node:
//! N = 1 as a required pod anti-affinity on `kubernetes.io/hostname`; N > 1 as a
//! hostname topology spread constraint with `maxSkew: N`, `DoNotSchedule` — exact while
//! some eligible node has none of the app's pods (see `docs/traces.md`).
//!
//! The file is ordered by instance, not by time, so reading it cannot follow virtual
//! time row by row: the reader makes one pass that keeps, per row, only a 16-byte event
//! (time, Deployment, ±1) and per Deployment its shape, sorts the events, and builds
//! each Deployment's manifest only when it is first created.

use super::source::{RawEvent, RawIter, RowError, TraceConfig};
use crate::api::Kind;
use crate::api::manifest::load_str;
use crate::engine::SimDuration;
use crate::error::{Error, InputError};
use crate::workload::scenario::Action;
use std::collections::BTreeMap;
use std::fs::File;
use std::io::BufReader;

/// The columns the reader needs.
pub const COLUMNS: [&str; 17] = [
    "instance_sn",
    "role",
    "app_name",
    "cpu_request",
    "cpu_limit",
    "gpu_request",
    "gpu_limit",
    "rdma_request",
    "rdma_limit",
    "memory_request",
    "memory_limit",
    "disk_request",
    "disk_limit",
    "max_instance_per_node",
    "creation_time",
    "scheduled_time",
    "deletion_time",
];

/// The node label a pod's role selects (`CN` or `HN`): node pools carry it.
pub const ROLE_LABEL: &str = "dlrm.kubetwin.dev/role";
/// The pod label naming the trace's `app_name`.
pub const APP_LABEL: &str = "dlrm.kubetwin.dev/app";
/// The pod label naming the Deployment (one shape of one app).
pub const GROUP_LABEL: &str = "dlrm.kubetwin.dev/group";
/// The extended resource for the RDMA NIC bandwidth share (percent of one RNIC).
pub const RDMA_RESOURCE: &str = "kubetwin.dev/rdma";
/// The GPU extended resource.
pub const GPU_RESOURCE: &str = "nvidia.com/gpu";
/// The namespace the Deployments are created in.
pub const NAMESPACE: &str = "default";
/// The container image of every instance.
pub const IMAGE: &str = "dlrm-inference:trace";

/// One Deployment: an app's instances of one role and shape.
#[derive(Debug, Clone, PartialEq)]
struct Group {
    name: String,
    app: String,
    role: String,
    cpu: (f64, f64),
    gpu: i64,
    rdma: i64,
    memory: (f64, f64),
    disk: (f64, f64),
    max_per_node: i64,
    /// 1-based line of the group's first row.
    line: usize,
}

/// One instance-count change: trace time (ns), group, +1/−1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Change {
    time: u64,
    group: u32,
    delta: i32,
}

fn col(header: &[String], name: &str) -> usize {
    header.iter().position(|h| h == name).unwrap_or(0)
}

/// DNS-1123 name from an app name (`app_12` -> `app-12`).
fn dns(s: &str) -> String {
    let mut out: String = s
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    while out.ends_with('-') {
        out.pop();
    }
    out.trim_start_matches('-').to_string()
}

/// A quantity in GiB as Mi text.
fn mib(gib: f64) -> String {
    format!("{}Mi", (gib * 1024.0).round() as i64)
}

/// A quantity in cores as milli text.
fn milli(cores: f64) -> String {
    format!("{}m", (cores * 1000.0).round() as i64)
}

impl Group {
    /// The Deployment's manifest with `replicas`.
    fn manifest(&self, replicas: i64) -> String {
        let mut req = format!(
            "cpu: {}, memory: {}, ephemeral-storage: {}",
            milli(self.cpu.0),
            mib(self.memory.0),
            mib(self.disk.0)
        );
        let mut lim = format!(
            "cpu: {}, memory: {}, ephemeral-storage: {}",
            milli(self.cpu.1),
            mib(self.memory.1),
            mib(self.disk.1)
        );
        if self.gpu > 0 {
            req.push_str(&format!(", {GPU_RESOURCE}: \"{}\"", self.gpu));
            lim.push_str(&format!(", {GPU_RESOURCE}: \"{}\"", self.gpu));
        }
        if self.rdma > 0 {
            req.push_str(&format!(", {RDMA_RESOURCE}: \"{}\"", self.rdma));
            lim.push_str(&format!(", {RDMA_RESOURCE}: \"{}\"", self.rdma));
        }
        let cap = match self.max_per_node {
            1 => format!(
                "      affinity:\n        podAntiAffinity:\n          requiredDuringSchedulingIgnoredDuringExecution:\n          - topologyKey: kubernetes.io/hostname\n            labelSelector: {{matchLabels: {{{APP_LABEL}: {}}}}}\n",
                self.app
            ),
            n if n > 1 => format!(
                "      topologySpreadConstraints:\n      - maxSkew: {n}\n        topologyKey: kubernetes.io/hostname\n        whenUnsatisfiable: DoNotSchedule\n        labelSelector: {{matchLabels: {{{APP_LABEL}: {}}}}}\n",
                self.app
            ),
            _ => String::new(),
        };
        format!(
            "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {name}\n  namespace: {NAMESPACE}\n  labels: {{{APP_LABEL}: {app}, {ROLE_LABEL}: {role}}}\nspec:\n  replicas: {replicas}\n  selector: {{matchLabels: {{{GROUP_LABEL}: {name}}}}}\n  template:\n    metadata:\n      labels: {{{GROUP_LABEL}: {name}, {APP_LABEL}: {app}, {ROLE_LABEL}: {role}}}\n    spec:\n      nodeSelector: {{{ROLE_LABEL}: {role}}}\n      containers:\n      - name: inference\n        image: {IMAGE}\n        resources:\n          requests: {{{req}}}\n          limits: {{{lim}}}\n{cap}",
            name = self.name,
            app = self.app,
            role = self.role,
        )
    }
}

/// The parsed file: groups, sorted changes, bad rows.
struct Parsed {
    groups: Vec<Group>,
    /// Replicas per group at `from`.
    initial: Vec<i64>,
    changes: Vec<Change>,
    errors: Vec<RowError>,
}

fn parse(cfg: &TraceConfig) -> Result<Parsed, Error> {
    let file = cfg.display.as_str();
    let f = File::open(&cfg.path).map_err(|e| Error::io(&cfg.path, e))?;
    let mut rdr = csv::ReaderBuilder::new().from_reader(BufReader::new(f));
    let header: Vec<String> = rdr
        .headers()
        .map_err(|e| InputError::at(file, 1, 1, "", format!("unreadable header: {e}")))?
        .iter()
        .map(|h| h.trim().to_string())
        .collect();
    for need in COLUMNS {
        if need != "scheduled_time" && !header.iter().any(|h| h == need) {
            return Err(InputError::at(
                file,
                1,
                1,
                "",
                format!("missing column `{need}` (header: {})", header.join(",")),
            )
            .into());
        }
    }
    let c: Vec<usize> = COLUMNS.iter().map(|n| col(&header, n)).collect();
    let from = cfg.options.from.as_nanos();
    let until = cfg.options.until.map_or(u64::MAX, |u| u.as_nanos());
    let mut groups: Vec<Group> = Vec::new();
    let mut by_key: BTreeMap<String, u32> = BTreeMap::new();
    let mut per_app: BTreeMap<String, u32> = BTreeMap::new();
    let mut initial: Vec<i64> = Vec::new();
    let mut changes = Vec::new();
    let mut errors = Vec::new();
    let mut rec = csv::StringRecord::new();
    loop {
        let line_guess = rdr.position().line() as usize;
        match rdr.read_record(&mut rec) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => {
                let fatal = matches!(e.kind(), csv::ErrorKind::Io(_));
                let line = e.position().map_or(line_guess, |p| p.line() as usize);
                errors.push(RowError {
                    error: InputError::at(file, line, 1, "", format!("unreadable row: {e}")),
                    fatal,
                });
                if fatal {
                    break;
                }
                continue;
            }
        }
        let line = rec.position().map_or(line_guess, |p| p.line() as usize);
        let fields: Vec<&str> = rec.iter().collect();
        let column_of = |i: usize| 1 + fields[..i].iter().map(|f| f.len() + 1).sum::<usize>();
        let bad = |i: usize, msg: String| {
            RowError::row(InputError::at(file, line, column_of(c[i]), COLUMNS[i], msg))
        };
        let text = |i: usize| fields.get(c[i]).map_or("", |s| s.trim());
        let num = |i: usize| -> Result<f64, RowError> {
            let t = text(i);
            t.parse::<f64>()
                .ok()
                .filter(|v| v.is_finite() && *v >= 0.0)
                .ok_or_else(|| bad(i, format!("expected a number >= 0, found {t:?}")))
        };
        let time = |i: usize| -> Result<Option<u64>, RowError> {
            let t = text(i);
            if t.is_empty() || t.eq_ignore_ascii_case("nan") {
                return Ok(None);
            }
            let v = num(i)?;
            Ok(Some(SimDuration::from_secs_f64(v).as_nanos()))
        };
        let row = (|| -> Result<(Group, Option<u64>, Option<u64>), RowError> {
            if text(0).is_empty() {
                return Err(bad(0, "empty instance_sn".into()));
            }
            let role = text(1);
            if role != "CN" && role != "HN" {
                return Err(bad(1, format!("role must be CN or HN, found {role:?}")));
            }
            let app = text(2);
            if dns(app).is_empty()
                || !app
                    .chars()
                    .all(|ch| ch.is_ascii_alphanumeric() || "-_.".contains(ch))
            {
                return Err(bad(
                    2,
                    format!("app_name {app:?} is not a valid label value"),
                ));
            }
            let int = |i: usize| -> Result<i64, RowError> {
                let v = num(i)?;
                if v.fract() != 0.0 {
                    return Err(bad(
                        i,
                        format!("expected a whole number, found {}", text(i)),
                    ));
                }
                Ok(v as i64)
            };
            let (cpu, cpu_l, gpu, gpu_l, rdma, rdma_l) =
                (num(3)?, num(4)?, int(5)?, int(6)?, int(7)?, int(8)?);
            let (mem, mem_l, disk, disk_l) = (num(9)?, num(10)?, num(11)?, num(12)?);
            for (i, r, l) in [(4, cpu, cpu_l), (10, mem, mem_l), (12, disk, disk_l)] {
                if l < r {
                    return Err(bad(i, format!("limit {l} is below the request {r}")));
                }
            }
            if gpu_l != gpu {
                return Err(bad(
                    6,
                    format!(
                        "gpu_limit {gpu_l} differs from gpu_request {gpu} (an extended resource cannot be overcommitted)"
                    ),
                ));
            }
            if rdma_l != rdma {
                return Err(bad(
                    8,
                    format!("rdma_limit {rdma_l} differs from rdma_request {rdma}"),
                ));
            }
            if rdma > 100 {
                return Err(bad(
                    7,
                    format!("rdma_request {rdma} is above 100 (percent of one RNIC)"),
                ));
            }
            let t = text(13);
            let max_per_node: i64 = match t.parse::<i64>() {
                Ok(v) if v == -1 || v >= 1 => v,
                _ => {
                    return Err(bad(
                        13,
                        format!("max_instance_per_node must be -1 or >= 1, found {t:?}"),
                    ));
                }
            };
            let (created, deleted) = (time(14)?, time(16)?);
            if let (Some(a), Some(b)) = (created, deleted)
                && b < a
            {
                return Err(bad(16, "deletion_time is before creation_time".into()));
            }
            Ok((
                Group {
                    name: String::new(),
                    app: app.to_string(),
                    role: role.to_string(),
                    cpu: (cpu, cpu_l),
                    gpu,
                    rdma,
                    memory: (mem, mem_l),
                    disk: (disk, disk_l),
                    max_per_node,
                    line,
                },
                created,
                deleted,
            ))
        })();
        let (g, created, deleted) = match row {
            Ok(r) => r,
            Err(e) => {
                errors.push(e);
                continue;
            }
        };
        let key = format!(
            "{}\u{0}{}\u{0}{:?}\u{0}{}\u{0}{}\u{0}{:?}\u{0}{:?}\u{0}{}",
            g.app, g.role, g.cpu, g.gpu, g.rdma, g.memory, g.disk, g.max_per_node
        );
        let alive_from = created.is_none_or(|t| t <= from) && deleted.is_none_or(|t| t > from);
        let gid = match by_key.get(&key) {
            Some(&i) => i,
            None => {
                let k = per_app.entry(format!("{}/{}", g.app, g.role)).or_insert(0);
                let name = format!("{}-{}-{}", dns(&g.app), g.role.to_ascii_lowercase(), *k);
                *k += 1;
                let i = groups.len() as u32;
                groups.push(Group { name, ..g });
                initial.push(0);
                by_key.insert(key, i);
                i
            }
        };
        if alive_from {
            initial[gid as usize] += 1;
        }
        if let Some(t) = created
            && t > from
            && t < until
        {
            changes.push(Change {
                time: t,
                group: gid,
                delta: 1,
            });
        }
        if let Some(t) = deleted
            && t > from
            && t < until
            && created.is_none_or(|c| c <= t)
        {
            changes.push(Change {
                time: t,
                group: gid,
                delta: -1,
            });
        }
    }
    changes.sort_unstable();
    Ok(Parsed {
        groups,
        initial,
        changes,
        errors,
    })
}

/// Opens the trace: the bad rows first (in file order), then the Deployments at the
/// window's start, then the instance-count changes in time order.
pub fn read(cfg: &TraceConfig) -> Result<RawIter, Error> {
    let p = parse(cfg)?;
    let file = cfg.display.clone();
    let from = cfg.options.from;
    let mut used = vec![false; p.groups.len()];
    for (i, n) in p.initial.iter().enumerate() {
        used[i] = *n > 0;
    }
    for c in &p.changes {
        used[c.group as usize] = true;
    }
    let errors = p.errors.into_iter().map(Err);
    let groups = std::sync::Arc::new(p.groups);
    let replicas = p.initial.clone();
    let g2 = groups.clone();
    let f2 = file.clone();
    let creates = (0..groups.len()).filter(move |i| used[*i]).map(move |i| {
        let g = &g2[i];
        let text = g.manifest(p.initial[i]);
        let objs = load_str(&text, &f2, g.line).map_err(RowError::row)?;
        Ok(RawEvent {
            time: from,
            action: Action::Apply(objs.objects),
            description: format!(
                "trace: create deployment/{} ({} replicas)",
                g.name, p.initial[i]
            ),
            line: g.line,
            column: 1,
        })
    });
    let changes = Coalesce {
        changes: p.changes.into_iter().peekable(),
        replicas,
        groups,
    };
    Ok(Box::new(errors.chain(creates).chain(changes)))
}

/// Merges the changes of one group at one instant into one scale event.
struct Coalesce {
    changes: std::iter::Peekable<std::vec::IntoIter<Change>>,
    replicas: Vec<i64>,
    groups: std::sync::Arc<Vec<Group>>,
}

impl Iterator for Coalesce {
    type Item = Result<RawEvent, RowError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            let c = self.changes.next()?;
            let mut delta = c.delta as i64;
            while let Some(n) = self.changes.peek()
                && n.time == c.time
                && n.group == c.group
            {
                delta += n.delta as i64;
                self.changes.next();
            }
            if delta == 0 {
                continue;
            }
            let g = &self.groups[c.group as usize];
            let r = &mut self.replicas[c.group as usize];
            *r = (*r + delta).max(0);
            return Some(Ok(RawEvent {
                time: SimDuration::from_nanos(c.time),
                action: Action::Scale {
                    kind: Kind::Deployment,
                    namespace: NAMESPACE.into(),
                    name: g.name.clone(),
                    replicas: *r as i32,
                },
                description: format!("trace: scale deployment/{} --replicas={r}", g.name),
                line: g.line,
                column: 1,
            }));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::objects::Object;
    use crate::workload::traces::source::{TraceFormat, TraceOptions};
    use std::io::Write;

    const HEADER: &str = "instance_sn,role,app_name,cpu_request,cpu_limit,gpu_request,gpu_limit,rdma_request,rdma_limit,memory_request,memory_limit,disk_request,disk_limit,max_instance_per_node,creation_time,scheduled_time,deletion_time\n";

    fn cfg(text: &str, opts: TraceOptions) -> (tempfile::TempDir, TraceConfig) {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("t.csv");
        std::fs::File::create(&p)
            .unwrap()
            .write_all(text.as_bytes())
            .unwrap();
        (
            dir,
            TraceConfig {
                format: TraceFormat::AlibabaDlrm,
                path: p,
                display: "t.csv".into(),
                options: opts,
            },
        )
    }

    #[test]
    fn instances_become_deployments_with_churn() {
        let text = format!(
            "{HEADER}i0,HN,app_0,12,12,1,1,25,25,120.0,120.0,680.0,800.0,8,,,\ni1,HN,app_0,12,12,1,1,25,25,120.0,120.0,680.0,800.0,8,10.0,10.0,50.0\ni2,CN,app_0,64,64,0,0,1,1,320.0,320.0,255.0,300.0,1,10.0,10.0,\ni3,HN,app_0,12,12,1,1,25,25,120.0,120.0,680.0,800.0,8,,,20.5\n"
        );
        let (_d, c) = cfg(&text, TraceOptions::default());
        let evs: Vec<RawEvent> = read(&c).unwrap().map(|r| r.unwrap()).collect();
        let desc: Vec<String> = evs.iter().map(|e| e.description.clone()).collect();
        assert_eq!(
            desc,
            vec![
                "trace: create deployment/app-0-hn-0 (2 replicas)",
                "trace: create deployment/app-0-cn-0 (0 replicas)",
                "trace: scale deployment/app-0-hn-0 --replicas=3",
                "trace: scale deployment/app-0-cn-0 --replicas=1",
                "trace: scale deployment/app-0-hn-0 --replicas=2",
                "trace: scale deployment/app-0-hn-0 --replicas=1",
            ]
        );
        let Action::Apply(o) = &evs[0].action else {
            panic!()
        };
        let Object::Deployment(d) = &o[0].object else {
            panic!()
        };
        let spec = &d.template.spec;
        assert_eq!(spec.topology_spread_constraints.len(), 1);
        assert_eq!(spec.topology_spread_constraints[0].max_skew, 8);
        let Action::Apply(o) = &evs[1].action else {
            panic!()
        };
        let Object::Deployment(d) = &o[0].object else {
            panic!()
        };
        assert!(d.template.spec.pod_anti_affinity.is_some());
        assert_eq!(evs[4].time, SimDuration::from_millis(20_500));
    }

    #[test]
    fn the_window_starts_from_the_state_at_from() {
        let text = format!(
            "{HEADER}i0,CN,a,1,1,0,0,1,1,1,1,1,1,-1,5,5,\ni1,CN,a,1,1,0,0,1,1,1,1,1,1,-1,,,15\ni2,CN,a,1,1,0,0,1,1,1,1,1,1,-1,30,30,\n"
        );
        let opts = TraceOptions {
            from: SimDuration::from_secs(10),
            until: Some(SimDuration::from_secs(20)),
            ..TraceOptions::default()
        };
        let (_d, c) = cfg(&text, opts);
        let desc: Vec<String> = read(&c).unwrap().map(|r| r.unwrap().description).collect();
        assert_eq!(
            desc,
            vec![
                "trace: create deployment/a-cn-0 (2 replicas)",
                "trace: scale deployment/a-cn-0 --replicas=1",
            ]
        );
    }

    #[test]
    fn bad_rows_are_located() {
        let text = format!(
            "{HEADER}i0,XN,a,1,1,0,0,1,1,1,1,1,1,-1,,,\ni1,CN,a,1,1,0,0,1,1,1,1,1,1,0,,,\ni2,CN,a,x,1,0,0,1,1,1,1,1,1,-1,,,\ni3,CN,a,1,1,0,0,1,1,1,1,1,1,-1,9,,3\n"
        );
        let (_d, c) = cfg(&text, TraceOptions::default());
        let errs: Vec<String> = read(&c)
            .unwrap()
            .filter_map(|r| r.err().map(|e| e.error.to_string()))
            .collect();
        assert_eq!(errs.len(), 4);
        assert!(errs[0].starts_with("t.csv:2:4: role:"), "{}", errs[0]);
        assert!(errs[1].starts_with("t.csv:3:"), "{}", errs[1]);
        assert!(errs[1].contains("max_instance_per_node"), "{}", errs[1]);
        assert!(
            errs[2].starts_with("t.csv:4:9: cpu_request:"),
            "{}",
            errs[2]
        );
        assert!(errs[3].contains("deletion_time is before"), "{}", errs[3]);
    }
}
