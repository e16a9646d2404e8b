"""deploy/: the Kubernetes manifests pass the Kubernetes schemas and say what docs/deploy.md promises;
the compose fragment and the Grafana dashboard refer to what the service really has."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml

from facecore.config import load_settings
from facecore.pipeline import Pipeline
from facecore.plugin_manager import PluginRegistry, build_plugin_manager
from facecore.web.metrics import Metrics

kubernetes_validate = pytest.importorskip("kubernetes_validate", reason="pip install -e '.[dev]' (kubernetes-validate)")

DEPLOY = Path(__file__).resolve().parents[1] / "deploy"
KUBERNETES = DEPLOY / "kubernetes"
#: the oldest Kubernetes still in wide use and the newest the validator knows
VERSIONS = ("1.29.0", kubernetes_validate.latest_version())


def documents(path: Path) -> list[dict]:
    return [doc for doc in yaml.safe_load_all(path.read_text()) if doc]


def manifests() -> list[Path]:
    return sorted(p for p in KUBERNETES.rglob("*.yaml") if p.name != "kustomization.yaml")


def variant(name: str) -> dict[str, dict]:
    """The resources ``kubectl apply -k deploy/kubernetes/NAME`` creates, by kind (kustomize's JSON patches applied)."""
    folder = KUBERNETES / name
    kustomization = documents(folder / "kustomization.yaml")[0]
    found: dict[str, dict] = {}
    for entry in kustomization["resources"]:
        target = (folder / entry).resolve()
        files = [target / r for r in documents(target / "kustomization.yaml")[0]["resources"]] if target.is_dir() \
            else [target]
        for file in files:
            for doc in documents(file):
                found[doc["kind"]] = doc
    for patch in kustomization.get("patches", []):
        resource = found[patch["target"]["kind"]]
        assert resource["metadata"]["name"] == patch["target"]["name"]
        for op in yaml.safe_load(patch["patch"]):
            assert op["op"] == "replace"
            *parents, key = op["path"].strip("/").split("/")
            holder = resource
            for part in parents:
                holder = holder[part]
            assert key in holder, op
            holder[key] = op["value"]
    return found


@pytest.mark.parametrize("path", manifests(), ids=lambda p: str(p.relative_to(KUBERNETES)))
@pytest.mark.parametrize("version", VERSIONS)
def test_manifest_passes_the_kubernetes_schema(path, version):
    for doc in documents(path):
        kubernetes_validate.validate(doc, version, strict=True)


def test_every_manifest_is_part_of_a_variant():
    listed = {str((KUBERNETES / "common" / r).resolve()) for r in documents(KUBERNETES / "common/kustomization.yaml")[0]
              ["resources"]}
    for name in ("cpu", "gpu"):
        listed |= {str((KUBERNETES / name / r).resolve()) for r in documents(KUBERNETES / name / "kustomization.yaml")[0]
                   ["resources"] if not r.startswith("..")}
    listed.add(str(KUBERNETES / "hpa-in-flight.yaml"))  # the documented alternative to common/hpa.yaml
    assert sorted(listed) == sorted(str(p) for p in manifests())


@pytest.mark.parametrize("name", ["cpu", "gpu"])
def test_variant_is_a_drop_in_for_compreface_core(name):
    found = variant(name)
    service, deployment = found["Service"], found["Deployment"]
    assert service["metadata"]["name"] == "compreface-core" and service["spec"]["ports"][0]["port"] == 3000
    pod = deployment["spec"]["template"]
    assert service["spec"]["selector"].items() <= pod["metadata"]["labels"].items()
    assert found["PodDisruptionBudget"]["spec"]["selector"]["matchLabels"].items() <= pod["metadata"]["labels"].items()
    assert found["HorizontalPodAutoscaler"]["spec"]["scaleTargetRef"]["name"] == deployment["metadata"]["name"]
    core = pod["spec"]["containers"][0]
    assert core["readinessProbe"]["httpGet"]["path"] == "/readiness"
    assert core["livenessProbe"]["httpGet"]["path"] == "/healthcheck"
    assert core["resources"]["requests"]["cpu"] and core["resources"]["limits"]["memory"]
    assert pod["spec"]["securityContext"]["runAsNonRoot"] is True
    init = pod["spec"]["initContainers"][0]
    assert init["command"][-1] == "tools.download_models"
    settings_env = found["ConfigMap"]["data"]
    models_root = settings_env["MODELS_ROOT"]
    assert {m["mountPath"] for m in init["volumeMounts"]} >= {models_root}
    assert {m["mountPath"] for m in core["volumeMounts"]} >= {models_root, "/tmp"}  # /tmp: the metrics folder
    # The grace period outlasts the per-request limit: the drain lets the request in hand finish.
    assert pod["spec"]["terminationGracePeriodSeconds"] > int(settings_env["UWSGI_HARAKIRI"])
    gpus = core["resources"]["limits"].get("nvidia.com/gpu")
    assert (gpus == 1) == (name == "gpu")


@pytest.mark.parametrize("name", ["cpu", "gpu"])
def test_configmap_holds_settings_the_service_accepts(name):
    found = variant(name)
    env = dict(found["ConfigMap"]["data"])
    for item in found["Deployment"]["spec"]["template"]["spec"]["containers"][0].get("env", []):
        env[item["name"]] = item["value"]
    settings = load_settings(env)  # raises StartupError naming a bad value
    registry = PluginRegistry.from_manager(build_plugin_manager())
    Pipeline.from_settings(settings, registry)  # raises StartupError unless every plugin name resolves
    assert settings.gpu_idx == (0 if name == "gpu" else -1)


def test_compose_fragment_replaces_compreface_core():
    service = documents(DEPLOY / "compose" / "docker-compose.yml")[0]["services"]["compreface-core"]
    assert service["container_name"] == "compreface-core"
    assert service["environment"]["ML_PORT"] == "3000"
    assert "/healthcheck" in service["healthcheck"]["test"]
    load_settings({k: str(v) for k, v in service["environment"].items()})
    dockerfile_args = set(re.findall(r"^ARG (\w+)", (DEPLOY.parent / "Dockerfile").read_text(), re.M))
    assert set(service["build"]["args"]) <= dockerfile_args


def test_grafana_dashboard_queries_only_metrics_the_service_exports():
    dashboard = json.loads((DEPLOY / "grafana" / "facecore-dashboard.json").read_text())
    suffixes = {"counter": ("_total",), "histogram": ("_bucket", "_sum", "_count"), "gauge": ("",)}
    exported = {family.name + suffix for family in Metrics().registry.collect() for suffix in suffixes[family.type]}
    queries = [target["expr"] for panel in dashboard["panels"] for target in panel.get("targets", [])]
    assert queries
    for query in queries:
        names = set(re.findall(r"\b(facecore_\w+)", query))
        assert names and names <= exported, (query, names - exported)
