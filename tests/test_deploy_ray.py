"""deploy/ray: the KubeRay manifest and the image agree (one Ray version on every node), and the
image installs what the workers import."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

DEPLOY = Path(__file__).resolve().parents[1] / "deploy" / "ray"


def test_the_cluster_runs_the_ray_of_its_image_and_mounts_shared_storage_everywhere():
    dockerfile = (DEPLOY / "Dockerfile").read_text()
    base = re.search(r"^FROM rayproject/ray:(\d+\.\d+\.\d+)-py311-cpu$", dockerfile, re.M)
    assert base, "the image builds on a rayproject/ray release"
    cluster, claim = yaml.safe_load_all((DEPLOY / "raycluster.yaml").read_text())
    assert cluster["kind"] == "RayCluster" and claim["kind"] == "PersistentVolumeClaim"
    assert cluster["spec"]["rayVersion"] == base.group(1)
    pods = [cluster["spec"]["headGroupSpec"]["template"]] + [g["template"] for g in cluster["spec"]["workerGroupSpecs"]]
    for pod in pods:
        (container,) = pod["spec"]["containers"]
        assert container["image"] == "cognitivedrone-ray:latest"
        assert {"name": "shared", "mountPath": "/data"} in container["volumeMounts"]
        assert pod["spec"]["volumes"] == [{"name": "shared", "persistentVolumeClaim": {"claimName": claim["metadata"]["name"]}}]
    assert claim["spec"]["accessModes"] == ["ReadWriteMany"]  # every node writes shards there
    assert "COGNITIVEDRONE_CACHE=/data/cache" in dockerfile  # the texture cache on the shared volume
    assert '".[sim,drone]"' in dockerfile and "pyarrow" in dockerfile  # simulator, onnxruntime, dataset writer
