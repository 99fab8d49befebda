#!/usr/bin/env python3
"""Writes a synthetic `kubectl get ... -A -o yaml` dump for the import benchmark:
N nodes in 3 zones, D Deployments each with a ReplicaSet and P/D Running pods spread
over the nodes, a Service and a PDB per Deployment, and one Event per Deployment as
junk. Deterministic (no randomness). Usage: gen_dump.py NODES PODS DEPLOYMENTS > dump.yaml
"""
import sys

nodes, pods, deps = (int(a) for a in sys.argv[1:4])
w = sys.stdout.write
w("apiVersion: v1\nitems:\n")
for n in range(nodes):
    w(f"""- apiVersion: v1
  kind: Node
  metadata:
    labels:
      kubernetes.io/hostname: node-{n}
      topology.kubernetes.io/zone: zone-{n % 3}
    managedFields:
    - apiVersion: v1
      fieldsType: FieldsV1
      manager: kubelet
      operation: Update
    name: node-{n}
    resourceVersion: "{1000 + n}"
    uid: 00000000-0000-4000-8000-{n:012d}
  spec:
    podCIDR: 10.{n // 256}.{n % 256}.0/24
  status:
    allocatable: {{cpu: 31500m, memory: 126Gi, pods: "110"}}
    capacity: {{cpu: "32", memory: 128Gi, pods: "110"}}
    conditions:
    - {{type: Ready, status: "True", reason: KubeletReady}}
""")
per = pods // deps
i = 0
for d in range(deps):
    h = f"{d:010d}"
    tpl_labels = f"app: app-{d}"
    w(f"""- apiVersion: apps/v1
  kind: Deployment
  metadata:
    annotations: {{deployment.kubernetes.io/revision: "1"}}
    name: app-{d}
    namespace: ns-{d % 20}
    uid: 10000000-0000-4000-8000-{d:012d}
  spec:
    replicas: {per}
    selector: {{matchLabels: {{app: app-{d}}}}}
    template:
      metadata: {{labels: {{app: app-{d}}}}}
      spec:
        containers:
        - {{name: main, image: "app:{d}", resources: {{requests: {{cpu: 250m, memory: 512Mi}}}}}}
  status: {{replicas: {per}, readyReplicas: {per}}}
- apiVersion: apps/v1
  kind: ReplicaSet
  metadata:
    annotations: {{deployment.kubernetes.io/revision: "1"}}
    labels: {{app: app-{d}, pod-template-hash: "{h}"}}
    name: app-{d}-{h}
    namespace: ns-{d % 20}
    ownerReferences:
    - {{apiVersion: apps/v1, kind: Deployment, name: app-{d}, uid: 10000000-0000-4000-8000-{d:012d}, controller: true}}
  spec:
    replicas: {per}
    selector: {{matchLabels: {{app: app-{d}, pod-template-hash: "{h}"}}}}
    template:
      metadata: {{labels: {{app: app-{d}, pod-template-hash: "{h}"}}}}
      spec:
        containers:
        - {{name: main, image: "app:{d}", resources: {{requests: {{cpu: 250m, memory: 512Mi}}}}}}
- apiVersion: v1
  kind: Service
  metadata: {{name: app-{d}, namespace: ns-{d % 20}}}
  spec:
    selector: {{app: app-{d}}}
    ports: [{{port: 80}}]
- apiVersion: policy/v1
  kind: PodDisruptionBudget
  metadata: {{name: app-{d}, namespace: ns-{d % 20}}}
  spec:
    maxUnavailable: 1
    selector: {{matchLabels: {{app: app-{d}}}}}
- apiVersion: v1
  kind: Event
  metadata: {{name: app-{d}.1, namespace: ns-{d % 20}}}
  reason: ScalingReplicaSet
""")
    for r in range(per):
        w(f"""- apiVersion: v1
  kind: Pod
  metadata:
    labels: {{app: app-{d}, pod-template-hash: "{h}"}}
    name: app-{d}-{h}-{r}
    namespace: ns-{d % 20}
    ownerReferences:
    - {{apiVersion: apps/v1, kind: ReplicaSet, name: app-{d}-{h}, uid: 20000000-0000-4000-8000-{d:012d}, controller: true}}
    resourceVersion: "{5000 + i}"
    uid: 30000000-0000-4000-8000-{i:012d}
  spec:
    containers:
    - {{name: main, image: "app:{d}", resources: {{requests: {{cpu: 250m, memory: 512Mi}}}}}}
    nodeName: node-{i % nodes}
  status:
    phase: Running
    conditions:
    - {{type: Ready, status: "True"}}
    containerStatuses:
    - {{name: main, image: "app:{d}", imageID: "", ready: true, restartCount: 0}}
""")
        i += 1
w("kind: List\nmetadata:\n  resourceVersion: \"\"\n")
