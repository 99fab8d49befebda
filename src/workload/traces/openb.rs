//! The Alibaba "openb" GPU cluster trace (`cluster-trace-gpu-v2023`, the ATC'23 "Beware
//! of Fragmentation" data): node lists (CSV or Kubernetes Node YAML) and pod lists (the
//! full 11-column layout and the 5-column `multigpu*` layout).
//!
//! Rows are read as a stream; a bad row is an [`InputError`] naming the file, line,
//! column and column name (exit code 2). The mapping to Kubernetes objects follows the
//! artifact's `pod_csv_to_yaml.py`: requests = limits of `cpu: {cpu_milli}m` and
//! `memory: {memory_mib}Mi`, GPUs as the extended resources
//! `alibabacloud.com/gpu-count` and `alibabacloud.com/gpu-milli` (per GPU), and
//! `gpu_spec` as a required node affinity `In` on `alibabacloud.com/gpu-card-model`.

use crate::api::Object;
use crate::api::manifest::load_str;
use crate::controllers::scheduler::plugins::gpu::{
    GPU_COUNT_RESOURCE, GPU_MILLI_RESOURCE, GPU_MODEL_LABEL, MAX_GPUS, MILLI,
};
use crate::error::{Error, InputError};
use std::path::Path;

/// One node of an openb node list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenbNode {
    /// Node name (`sn`).
    pub name: String,
    /// CPU, millicores.
    pub cpu_milli: i64,
    /// Memory, MiB.
    pub memory_mib: i64,
    /// Number of GPUs.
    pub gpus: u8,
    /// GPU model (empty for a CPU-only node).
    pub model: String,
}

/// One pod (task) of an openb pod list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenbPod {
    /// Pod name.
    pub name: String,
    /// CPU request, millicores.
    pub cpu_milli: i64,
    /// Memory request, MiB.
    pub memory_mib: i64,
    /// Number of GPUs.
    pub num_gpu: u8,
    /// Milli-GPU per GPU (0 for a CPU pod).
    pub gpu_milli: i32,
    /// Allowed GPU models (empty: any).
    pub gpu_spec: Vec<String>,
    /// The `gpu_spec` text as written (`V100M16|V100M32`).
    pub gpu_spec_text: String,
    /// 1-based line in the file.
    pub line: usize,
}

fn io(path: &Path, e: std::io::Error) -> Error {
    Error::io(path, e)
}

/// A CSV with a header row, read a record at a time, columns looked up by name.
struct Table {
    file: String,
    reader: csv::Reader<std::fs::File>,
    header: Vec<String>,
}

/// One record with its line, for typed field access.
struct Row<'a> {
    table: &'a Table,
    record: &'a csv::StringRecord,
    line: usize,
}

impl Table {
    fn open(path: &Path) -> Result<Table, Error> {
        let f = std::fs::File::open(path).map_err(|e| io(path, e))?;
        let mut reader = csv::ReaderBuilder::new().flexible(true).from_reader(f);
        let file = path.display().to_string();
        let header = reader
            .headers()
            .map_err(|e| InputError::at(&file, 1, 1, "", format!("unreadable header: {e}")))?
            .iter()
            .map(|s| s.trim().to_string())
            .collect();
        Ok(Table {
            file,
            reader,
            header,
        })
    }

    fn require(&self, names: &[&str]) -> Result<(), Error> {
        for n in names {
            if !self.header.iter().any(|h| h == n) {
                return Err(InputError::at(
                    &self.file,
                    1,
                    1,
                    "",
                    format!("missing column `{n}` (header: {})", self.header.join(",")),
                )
                .into());
            }
        }
        Ok(())
    }

    fn index(&self, name: &str) -> Option<usize> {
        self.header.iter().position(|h| h == name)
    }

    /// Calls `f` for every data row.
    fn for_each(&mut self, mut f: impl FnMut(&Row<'_>) -> Result<(), Error>) -> Result<(), Error> {
        let mut record = csv::StringRecord::new();
        loop {
            let more = self.reader.read_record(&mut record).map_err(|e| {
                let line = e.position().map(|p| p.line() as usize).unwrap_or(1);
                InputError::at(&self.file, line, 1, "", format!("unreadable row: {e}"))
            })?;
            if !more {
                return Ok(());
            }
            let line = record.position().map(|p| p.line() as usize).unwrap_or(1);
            if record.iter().all(|f| f.trim().is_empty()) {
                continue;
            }
            let table: &Table = self;
            f(&Row {
                table,
                record: &record,
                line,
            })?;
        }
    }
}

impl Row<'_> {
    fn column(&self, idx: usize) -> usize {
        1 + (0..idx)
            .map(|i| self.record.get(i).map(str::len).unwrap_or(0) + 1)
            .sum::<usize>()
    }

    fn err(&self, name: &str, message: impl Into<String>) -> Error {
        let col = self.table.index(name).map(|i| self.column(i)).unwrap_or(1);
        InputError::at(&self.table.file, self.line, col, name, message).into()
    }

    fn text(&self, name: &str) -> &str {
        self.table
            .index(name)
            .and_then(|i| self.record.get(i))
            .map(str::trim)
            .unwrap_or("")
    }

    fn int(&self, name: &str, lo: i64, hi: i64) -> Result<i64, Error> {
        let t = self.text(name);
        let v: i64 = t
            .parse()
            .map_err(|_| self.err(name, format!("expected an integer, found {t:?}")))?;
        if v < lo || v > hi {
            return Err(self.err(name, format!("{v} is outside {lo}..={hi}")));
        }
        Ok(v)
    }
}

/// Reads an openb node list CSV (`sn,cpu_milli,memory_mib,gpu,model`).
pub fn read_nodes_csv(path: &Path) -> Result<Vec<OpenbNode>, Error> {
    let mut t = Table::open(path)?;
    t.require(&["sn", "cpu_milli", "memory_mib", "gpu", "model"])?;
    let mut out = Vec::new();
    t.for_each(|r| {
        let name = r.text("sn").to_string();
        if name.is_empty() {
            return Err(r.err("sn", "empty node name"));
        }
        let gpus = r.int("gpu", 0, MAX_GPUS as i64)? as u8;
        let model = r.text("model");
        let model = if model == "nan" { "" } else { model }.to_string();
        if gpus > 0 && model.is_empty() {
            return Err(r.err(
                "model",
                format!("a node with {gpus} GPUs needs a GPU model"),
            ));
        }
        out.push(OpenbNode {
            name,
            cpu_milli: r.int("cpu_milli", 0, i64::MAX / 4)?,
            memory_mib: r.int("memory_mib", 0, i64::MAX / 4)?,
            gpus,
            model,
        });
        Ok(())
    })?;
    Ok(out)
}

/// Reads an openb node YAML (`kind: Node` documents with `alibabacloud.com/gpu-count` in
/// allocatable and the `alibabacloud.com/gpu-card-model` label). A GPU node without the
/// model label, or with a `gpu-milli` other than 1000 per GPU, is rejected.
pub fn read_nodes_yaml(path: &Path) -> Result<Vec<OpenbNode>, Error> {
    let text = std::fs::read_to_string(path).map_err(|e| io(path, e))?;
    let loaded = load_str(&text, &path.display().to_string(), 1)?;
    let mut out = Vec::new();
    for l in &loaded.objects {
        let Object::Node(n) = &l.object else {
            continue;
        };
        let ext = |k: &str| {
            n.allocatable
                .extended
                .iter()
                .find(|(name, _)| name == k)
                .map(|(_, v)| *v)
        };
        let gpus = ext(GPU_COUNT_RESOURCE).unwrap_or(0);
        if gpus < 0 || gpus > MAX_GPUS as i64 {
            return Err(l
                .source
                .error(
                    &format!("status.allocatable.{GPU_COUNT_RESOURCE}"),
                    format!("{gpus} GPUs: a node carries 0..={MAX_GPUS}"),
                )
                .into());
        }
        if let Some(m) = ext(GPU_MILLI_RESOURCE)
            && m != gpus * MILLI as i64
        {
            return Err(l
                .source
                .error(
                    &format!("status.allocatable.{GPU_MILLI_RESOURCE}"),
                    format!("{m} milli-GPU for {gpus} GPUs: expected 1000 per GPU"),
                )
                .into());
        }
        let model = n
            .meta
            .labels
            .get(GPU_MODEL_LABEL)
            .cloned()
            .unwrap_or_default();
        if gpus > 0 && model.is_empty() {
            return Err(l
                .source
                .error(
                    "metadata.labels",
                    format!("a node with {gpus} GPUs needs the label {GPU_MODEL_LABEL}"),
                )
                .into());
        }
        out.push(OpenbNode {
            name: n.meta.name.clone(),
            cpu_milli: n.allocatable.cpu_milli,
            memory_mib: n.allocatable.memory / (1024 * 1024),
            gpus: gpus as u8,
            model,
        });
    }
    Ok(out)
}

/// Reads a node list: YAML for `.yaml`/`.yml`, CSV otherwise.
pub fn read_nodes(path: &Path) -> Result<Vec<OpenbNode>, Error> {
    match path.extension().and_then(|e| e.to_str()) {
        Some("yaml" | "yml") => read_nodes_yaml(path),
        _ => read_nodes_csv(path),
    }
}

/// Streams an openb pod list CSV (full or 5-column layout), calling `f` per pod.
pub fn for_each_pod(path: &Path, mut f: impl FnMut(OpenbPod)) -> Result<(), Error> {
    let mut t = Table::open(path)?;
    t.require(&["name", "cpu_milli", "memory_mib", "num_gpu", "gpu_milli"])?;
    t.for_each(|r| {
        let num_gpu = r.int("num_gpu", 0, u8::MAX as i64)? as u8;
        let gpu_milli = r.text("gpu_milli");
        let gpu_milli: i64 = gpu_milli.parse().map_err(|_| {
            r.err(
                "gpu_milli",
                format!("expected an integer, found {gpu_milli:?}"),
            )
        })?;
        if gpu_milli > MILLI as i64 {
            return Err(r.err(
                "gpu_milli",
                format!("a GPU share of {gpu_milli} milli is above one GPU (1000)"),
            ));
        }
        if gpu_milli < 0 {
            return Err(r.err("gpu_milli", format!("negative GPU share {gpu_milli}")));
        }
        let gpu_milli = gpu_milli as i32;
        if num_gpu > 0 && gpu_milli == 0 {
            return Err(r.err("gpu_milli", format!("{num_gpu} GPUs of 0 milli each")));
        }
        if num_gpu == 0 && gpu_milli > 0 {
            return Err(r.err("gpu_milli", "a GPU share without a GPU (num_gpu is 0)"));
        }
        if num_gpu > 1 && gpu_milli < MILLI {
            return Err(r.err(
                "gpu_milli",
                format!("a share below 1000 milli is for one GPU, not {num_gpu}"),
            ));
        }
        let spec_text = r.text("gpu_spec");
        let spec_text = if spec_text == "nan" { "" } else { spec_text };
        let gpu_spec: Vec<String> = spec_text
            .split('|')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect();
        f(OpenbPod {
            name: r.text("name").to_string(),
            cpu_milli: r.int("cpu_milli", 0, i64::MAX / 4)?,
            memory_mib: r.int("memory_mib", 0, i64::MAX / 4)?,
            num_gpu,
            gpu_milli: if num_gpu == 0 { 0 } else { gpu_milli },
            gpu_spec,
            gpu_spec_text: spec_text.to_string(),
            line: r.line,
        });
        Ok(())
    })
}

/// Reads a whole pod list.
pub fn read_pods(path: &Path) -> Result<Vec<OpenbPod>, Error> {
    let mut out = Vec::new();
    for_each_pod(path, |p| out.push(p))?;
    Ok(out)
}

/// The node as a Kubernetes Node manifest (YAML), as in the openb node YAML.
pub fn node_manifest(n: &OpenbNode) -> String {
    let mut s = format!(
        "apiVersion: v1\nkind: Node\nmetadata:\n  name: {}\n  labels:\n    kubernetes.io/hostname: {}\n",
        n.name, n.name
    );
    if !n.model.is_empty() {
        s.push_str(&format!("    {GPU_MODEL_LABEL}: {}\n", n.model));
    }
    let res = format!(
        "    cpu: {}m\n    memory: {}Mi\n    pods: '1001'\n    {GPU_COUNT_RESOURCE}: '{}'\n    {GPU_MILLI_RESOURCE}: '{}'\n",
        n.cpu_milli,
        n.memory_mib,
        n.gpus,
        n.gpus as i64 * MILLI as i64
    );
    s.push_str("status:\n  capacity:\n");
    s.push_str(&res);
    s.push_str("  allocatable:\n");
    s.push_str(&res);
    s
}

/// The pod as a bare Kubernetes Pod manifest (YAML): requests = limits, GPUs as extended
/// resources, `gpu_spec` as a required node affinity `In` on the GPU model label.
pub fn pod_manifest(p: &OpenbPod) -> String {
    let mut res = format!(
        "cpu: {}m\n              memory: {}Mi\n",
        p.cpu_milli, p.memory_mib
    );
    if p.num_gpu > 0 {
        res.push_str(&format!(
            "              {GPU_COUNT_RESOURCE}: '{}'\n              {GPU_MILLI_RESOURCE}: '{}'\n",
            p.num_gpu, p.gpu_milli
        ));
    }
    let mut s = format!(
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: {}\nspec:\n  restartPolicy: Never\n",
        p.name
    );
    if !p.gpu_spec.is_empty() {
        s.push_str(&format!(
            "  affinity:\n    nodeAffinity:\n      requiredDuringSchedulingIgnoredDuringExecution:\n        nodeSelectorTerms:\n        - matchExpressions:\n          - key: {GPU_MODEL_LABEL}\n            operator: In\n            values: [{}]\n",
            p.gpu_spec.join(", ")
        ));
    }
    s.push_str(&format!(
        "  containers:\n  - name: main\n    image: openb/task\n    resources:\n        requests:\n              {res}        limits:\n              {res}"
    ));
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &tempfile::TempDir, name: &str, text: &str) -> std::path::PathBuf {
        let p = dir.path().join(name);
        std::fs::write(&p, text).unwrap();
        p
    }

    #[test]
    fn reads_both_pod_layouts() {
        let d = tempfile::tempdir().unwrap();
        let full = write(
            &d,
            "full.csv",
            "name,cpu_milli,memory_mib,num_gpu,gpu_milli,gpu_spec,qos,pod_phase,creation_time,deletion_time,scheduled_time\n\
             p0,12000,16384,1,1000,,LS,Running,0,1,0\n\
             p1,6000,12288,1,460,V100M16|V100M32,LS,Running,1,2,1\n\
             p2,4000,100,0,0,,BE,Pending,1,,\n",
        );
        let pods = read_pods(&full).unwrap();
        assert_eq!(pods.len(), 3);
        assert_eq!(pods[1].gpu_spec, vec!["V100M16", "V100M32"]);
        assert_eq!(pods[1].gpu_milli, 460);
        assert_eq!(pods[2].num_gpu, 0);
        assert_eq!(pods[2].line, 4);
        let short = write(
            &d,
            "multigpu.csv",
            "name,cpu_milli,memory_mib,num_gpu,gpu_milli\np0,1000,10,8,1000\n",
        );
        let pods = read_pods(&short).unwrap();
        assert_eq!(pods[0].num_gpu, 8);
        assert!(pods[0].gpu_spec.is_empty());
    }

    #[test]
    fn bad_rows_name_file_line_and_column() {
        let d = tempfile::tempdir().unwrap();
        let p = write(
            &d,
            "bad.csv",
            "name,cpu_milli,memory_mib,num_gpu,gpu_milli\np0,1000,10,1,500\np1,1000,10,1,1500\n",
        );
        let e = read_pods(&p).unwrap_err().to_string();
        assert!(e.contains("bad.csv:3:14: gpu_milli:"), "{e}");
        assert!(e.contains("above one GPU"), "{e}");
        let p = write(
            &d,
            "bad2.csv",
            "name,cpu_milli,memory_mib,num_gpu,gpu_milli\np0,lots,10,1,500\n",
        );
        let e = read_pods(&p).unwrap_err().to_string();
        assert!(e.contains("bad2.csv:2:4: cpu_milli:"), "{e}");
        let p = write(&d, "bad3.csv", "name,cpu_milli\np0,1\n");
        let e = read_pods(&p).unwrap_err().to_string();
        assert!(e.contains("missing column `memory_mib`"), "{e}");
        let p = write(
            &d,
            "bad4.csv",
            "name,cpu_milli,memory_mib,num_gpu,gpu_milli\np0,1000,10,2,500\n",
        );
        assert!(
            read_pods(&p)
                .unwrap_err()
                .to_string()
                .contains("for one GPU")
        );
    }

    #[test]
    fn node_csv_and_yaml_agree_and_reject_unlabelled_gpu_nodes() {
        let d = tempfile::tempdir().unwrap();
        let csv = write(
            &d,
            "nodes.csv",
            "sn,cpu_milli,memory_mib,gpu,model\nn0,64000,262144,2,P100\nn1,32000,1024,0,\n",
        );
        let nodes = read_nodes(&csv).unwrap();
        assert_eq!(nodes.len(), 2);
        let yaml: String = nodes
            .iter()
            .map(node_manifest)
            .collect::<Vec<_>>()
            .join("---\n");
        let y = write(&d, "nodes.yaml", &yaml);
        assert_eq!(read_nodes(&y).unwrap(), nodes);
        let bad = write(
            &d,
            "bad.yaml",
            "apiVersion: v1\nkind: Node\nmetadata:\n  name: n0\nstatus:\n  allocatable:\n    cpu: 4\n    alibabacloud.com/gpu-count: '2'\n",
        );
        let e = read_nodes(&bad).unwrap_err().to_string();
        assert!(
            e.contains("bad.yaml:") && e.contains("gpu-card-model"),
            "{e}"
        );
        let bad = write(
            &d,
            "bad.csv",
            "sn,cpu_milli,memory_mib,gpu,model\nn0,64000,262144,2,\n",
        );
        let e = read_nodes(&bad).unwrap_err().to_string();
        assert!(e.contains("bad.csv:2:") && e.contains("model"), "{e}");
    }

    #[test]
    fn pod_manifest_loads_with_affinity_and_extended_resources() {
        let p = OpenbPod {
            name: "p1".into(),
            cpu_milli: 6000,
            memory_mib: 12288,
            num_gpu: 1,
            gpu_milli: 460,
            gpu_spec: vec!["T4".into(), "P100".into()],
            gpu_spec_text: "T4|P100".into(),
            line: 2,
        };
        let text = pod_manifest(&p);
        let loaded = load_str(&text, "p.yaml", 1).unwrap_or_else(|e| panic!("{e}\n{text}"));
        let Object::Pod(pod) = &loaded.objects[0].object else {
            panic!("not a pod")
        };
        assert_eq!(pod.requests.cpu_milli, 6000);
        assert!(
            pod.requests
                .extended
                .iter()
                .any(|(k, v)| k == GPU_MILLI_RESOURCE && *v == 460)
        );
    }
}
