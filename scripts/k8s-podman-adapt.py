#!/usr/bin/env python3
"""Adapts rendered Kubernetes YAML for `podman kube play` (podman 4.3).

Usage: k8s-podman-adapt.py RENDERED.yaml OUT_DIR > PLAY.yaml

podman 4.3 mishandles Secrets (a Secret document is stored in a form its own
secretKeyRef lookup cannot read, and secret volumes crash it), and ignores or
rejects cluster objects. So this keeps ConfigMaps, PersistentVolumeClaims and
Deployments, and:
  - writes every Secret key to OUT_DIR/volumes/<deployment>-<volume>/<path>
    (mode 0440, owner 65532, the pods' user) and mounts that as hostPath;
  - replaces env valueFrom.secretKeyRef by the value;
  - with hostNetwork, drops containerPort lists (podman turns them into port
    mappings, which host networking refuses);
  - drops Namespace, Service, NetworkPolicy, PodDisruptionBudget and
    HorizontalPodAutoscaler (no meaning on one host with host networking).
"""
import base64
import os
import sys

import yaml

KEEP = {"ConfigMap", "PersistentVolumeClaim", "Deployment"}
DROP = {"Namespace", "Service", "NetworkPolicy", "PodDisruptionBudget",
        "HorizontalPodAutoscaler", "Secret"}
POD_UID = 65532


def secret_data(secret):
    data = {k: base64.b64decode(v) for k, v in (secret.get("data") or {}).items()}
    for k, v in (secret.get("stringData") or {}).items():
        data[k] = v.encode()
    return data


def write_secret_dir(path, data, items, mode):
    os.makedirs(path, exist_ok=True)
    os.chown(path, POD_UID, POD_UID)
    wanted = items or [{"key": k, "path": k} for k in data]
    for item in wanted:
        if item["key"] not in data:
            sys.exit(f"secret volume {path}: no key {item['key']}")
        target = os.path.join(path, item["path"])
        with open(target, "wb") as f:
            f.write(data[item["key"]])
        os.chmod(target, item.get("mode", mode))
        os.chown(target, POD_UID, POD_UID)


def adapt_pod_spec(name, spec, secrets, out_dir):
    for volume in spec.get("volumes", []):
        src = volume.get("secret")
        if src is None:
            continue
        if src["secretName"] not in secrets:
            sys.exit(f"{name}: volume {volume['name']} needs missing Secret {src['secretName']}")
        path = os.path.join(out_dir, "volumes", f"{name}-{volume['name']}")
        write_secret_dir(path, secrets[src["secretName"]], src.get("items"),
                         src.get("defaultMode", 0o440))
        volume.pop("secret")
        volume["hostPath"] = {"path": path, "type": "Directory"}
    for container in spec.get("containers", []):
        if spec.get("hostNetwork"):
            container.pop("ports", None)
        for env in container.get("env", []):
            ref = (env.get("valueFrom") or {}).get("secretKeyRef")
            if ref is None:
                continue
            value = secrets.get(ref["name"], {}).get(ref["key"])
            if value is None:
                sys.exit(f"{name}: env {env['name']} needs missing {ref['name']}/{ref['key']}")
            env.pop("valueFrom")
            env["value"] = value.decode()


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    with open(sys.argv[1]) as f:
        docs = [d for d in yaml.safe_load_all(f) if d]
    out_dir = os.path.abspath(sys.argv[2])
    secrets = {d["metadata"]["name"]: secret_data(d) for d in docs if d["kind"] == "Secret"}
    play = []
    for doc in docs:
        kind = doc["kind"]
        if kind in DROP:
            continue
        if kind not in KEEP:
            sys.exit(f"podman kube play cannot run {kind} {doc['metadata']['name']}")
        if kind == "Deployment":
            adapt_pod_spec(doc["metadata"]["name"], doc["spec"]["template"]["spec"],
                           secrets, out_dir)
        play.append(doc)
    yaml.safe_dump_all(play, sys.stdout, sort_keys=False)


if __name__ == "__main__":
    main()
