//! The scheduler throughput benchmark's cluster: `nodes` nodes in three zones of three
//! instance sizes (5% tainted for a dedicated pool, half with SSDs, cached images of
//! several sizes), already holding pods of varied shapes from 200 applications (each
//! selected by a Service, so the system default topology spreading applies), and a batch
//! of pending pods of the same applications: plain ones, ones with their own topology
//! spread constraints (zone skew, ScheduleAnyway; hostname skew, DoNotSchedule),
//! preferred and required node affinity, tolerations of the dedicated pool. Pod shapes
//! are parsed once from manifest templates and stamped out, drawing from the
//! `workload/scheduler-bench` stream.

use crate::api::manifest::load_str;
use crate::api::objects::{Object, Pod};
use crate::engine::RngStreams;
use crate::engine::rng::below;
use crate::error::Error;

/// Parameters of the benchmark cluster.
#[derive(Debug, Clone, Copy)]
pub struct SchedulerBenchParams {
    /// Nodes.
    pub nodes: usize,
    /// Pods already bound, per node (on average).
    pub existing_per_node: usize,
    /// Pending pods to schedule.
    pub pending: usize,
    /// Seed.
    pub seed: u64,
}

/// The benchmark's objects: nodes and Services, bound pods, pending pods.
pub struct SchedulerBenchCluster {
    /// Nodes and Services.
    pub infrastructure: Vec<Object>,
    /// Pods bound to nodes already.
    pub existing: Vec<Object>,
    /// Pods to schedule.
    pub pending: Vec<Object>,
}

const APPS: usize = 200;
const ZONES: [&str; 3] = ["zone-a", "zone-b", "zone-c"];
/// (instance type, cpu, memory).
const SIZES: [(&str, &str, &str); 3] = [
    ("m5.xlarge", "4", "16Gi"),
    ("m5.2xlarge", "8", "32Gi"),
    ("m5.4xlarge", "16", "64Gi"),
];

fn node_yaml(i: usize, r: u64) -> String {
    let (itype, cpu, mem) = SIZES[(r % 3) as usize];
    let zone = ZONES[i % 3];
    let disk = if (r / 3).is_multiple_of(2) {
        "ssd"
    } else {
        "hdd"
    };
    let taint = if (r / 7).is_multiple_of(20) {
        "  taints: [{key: dedicated, value: batch, effect: NoSchedule}]\n"
    } else {
        ""
    };
    let name = format!("node-{:05}", i + 1);
    format!(
        "apiVersion: v1\nkind: Node\nmetadata:\n  name: {name}\n  labels: {{kubernetes.io/hostname: {name}, topology.kubernetes.io/zone: {zone}, node.kubernetes.io/instance-type: {itype}, disk: {disk}}}\nspec:\n{taint}status:\n  capacity: {{cpu: \"{cpu}\", memory: {mem}, pods: \"110\"}}\n  allocatable: {{cpu: \"{cpu}\", memory: {mem}, pods: \"110\"}}\n  images:\n  - {{names: [\"registry.local/app-{}:1\"], sizeBytes: {}}}\n  - {{names: [\"registry.local/base:1\"], sizeBytes: 300000000}}\n---\n",
        r % APPS as u64,
        50_000_000 + (r % 5) * 100_000_000
    )
}

/// Pod templates: (spec extra YAML, share of pending pods in 1/20ths).
const SHAPES: [(&str, &str); 4] = [
    ("100m", "128Mi"),
    ("250m", "512Mi"),
    ("500m", "1Gi"),
    ("1", "2Gi"),
];

fn template(kind: usize, shape: usize) -> String {
    let (cpu, mem) = SHAPES[shape];
    let extra = match kind {
        // Own spread constraints.
        1 => {
            "  topologySpreadConstraints:\n  - {maxSkew: 1, topologyKey: topology.kubernetes.io/zone, whenUnsatisfiable: ScheduleAnyway, labelSelector: {matchLabels: {app: APP}}}\n  - {maxSkew: 2, topologyKey: kubernetes.io/hostname, whenUnsatisfiable: DoNotSchedule, labelSelector: {matchLabels: {app: APP}}}\n"
        }
        // Preferred node affinity.
        2 => {
            "  affinity:\n    nodeAffinity:\n      preferredDuringSchedulingIgnoredDuringExecution:\n      - {weight: 50, preference: {matchExpressions: [{key: disk, operator: In, values: [ssd]}]}}\n"
        }
        // Required node affinity.
        3 => {
            "  affinity:\n    nodeAffinity:\n      requiredDuringSchedulingIgnoredDuringExecution:\n        nodeSelectorTerms:\n        - matchExpressions: [{key: node.kubernetes.io/instance-type, operator: In, values: [m5.2xlarge, m5.4xlarge]}]\n"
        }
        // Tolerates the dedicated pool.
        4 => {
            "  tolerations: [{key: dedicated, operator: Equal, value: batch, effect: NoSchedule}]\n"
        }
        _ => "",
    };
    format!(
        "apiVersion: v1\nkind: Pod\nmetadata: {{name: t, labels: {{app: APP}}}}\nspec:\n{extra}  containers:\n  - name: main\n    image: registry.local/APP:1\n    resources: {{requests: {{cpu: \"{cpu}\", memory: {mem}}}}}\n"
    )
}

fn parse_one(text: &str) -> Result<Object, Error> {
    let mut r = load_str(text, "<scheduler-bench>", 1)?;
    r.objects
        .pop()
        .map(|l| l.object)
        .ok_or_else(|| Error::Internal("empty benchmark template".into()))
}

fn stamp(t: &Pod, name: String, app: usize, node: Option<String>) -> Object {
    let mut p = t.clone();
    let app = format!("app-{app}");
    p.meta.name = name;
    p.meta.labels.insert("app".into(), app.clone());
    for c in &mut p.spec.containers {
        c.image = format!("registry.local/{app}:1");
    }
    for c in &mut p.spec.topology_spread_constraints {
        if let Some(s) = c.label_selector.as_mut() {
            *s = crate::api::selector::LabelSelector::parse(&format!("app={app}"))
                .unwrap_or_else(|_| s.clone());
        }
    }
    if let Some(n) = node {
        p.spec.node_name = n;
    }
    Object::Pod(Box::new(p))
}

/// Builds the benchmark cluster.
pub fn scheduler_bench_cluster(p: SchedulerBenchParams) -> Result<SchedulerBenchCluster, Error> {
    let mut rng = RngStreams::new(p.seed).stream("workload/scheduler-bench");
    let mut infrastructure = Vec::with_capacity(p.nodes + APPS);
    let mut node_cpu = Vec::with_capacity(p.nodes);
    for i in 0..p.nodes {
        let r = below(&mut rng, 1 << 30);
        let o = parse_one(&node_yaml(i, r))?;
        if let Object::Node(n) = &o {
            node_cpu.push(n.allocatable.cpu_milli);
        }
        infrastructure.push(o);
    }
    for a in 0..APPS {
        infrastructure.push(parse_one(&format!(
            "apiVersion: v1\nkind: Service\nmetadata: {{name: app-{a}}}\nspec:\n  selector: {{app: app-{a}}}\n  ports: [{{port: 80}}]\n"
        ))?);
    }
    let mut templates: Vec<Vec<Pod>> = Vec::new();
    for kind in 0..5 {
        let mut row = Vec::new();
        for shape in 0..SHAPES.len() {
            match parse_one(&template(kind, shape))? {
                Object::Pod(pod) => row.push(*pod),
                _ => return Err(Error::Internal("benchmark template is not a pod".into())),
            }
        }
        templates.push(row);
    }
    // Existing pods: plain shapes, filling each node to at most ~70% of its CPU.
    let mut existing = Vec::with_capacity(p.nodes * p.existing_per_node);
    for (i, &cpu) in node_cpu.iter().enumerate() {
        let node = format!("node-{:05}", i + 1);
        let mut used = 0i64;
        for k in 0..p.existing_per_node {
            let shape = below(&mut rng, SHAPES.len() as u64) as usize;
            let t = &templates[0][shape];
            if used + t.requests.cpu_milli > cpu * 7 / 10 {
                break;
            }
            used += t.requests.cpu_milli;
            let app = below(&mut rng, APPS as u64) as usize;
            existing.push(stamp(t, format!("run-{i}-{k}"), app, Some(node.clone())));
        }
    }
    // Pending pods: 50% plain, 20% own spread constraints, 15% preferred affinity,
    // 10% required affinity, 5% tolerating the dedicated pool.
    let mut pending = Vec::with_capacity(p.pending);
    for i in 0..p.pending {
        let r = below(&mut rng, 20);
        let kind = match r {
            0..=9 => 0,
            10..=13 => 1,
            14..=16 => 2,
            17..=18 => 3,
            _ => 4,
        };
        let shape = below(&mut rng, SHAPES.len() as u64) as usize;
        let app = below(&mut rng, APPS as u64) as usize;
        pending.push(stamp(
            &templates[kind][shape],
            format!("new-{i}"),
            app,
            None,
        ));
    }
    Ok(SchedulerBenchCluster {
        infrastructure,
        existing,
        pending,
    })
}
