"""The deployment examples of `autoscale run` (packaging/examples/) parse as YAML and hold what
they must: the compose service runs `autoscale run` with a token file and a loopback-published
port; the Kubernetes manifests bind a Role allowing get/patch on deployments/scale to the
Deployment's service account. python3-yaml comes from packaging/install-deps.sh."""

import unittest
from pathlib import Path

import yaml

EXAMPLES = Path(__file__).resolve().parents[2] / "packaging" / "examples"


class ComposeExample(unittest.TestCase):

    def test_compose_service(self):
        doc = yaml.safe_load((EXAMPLES / "docker-compose.autoscale.yml").read_text())
        service = doc["services"]["autoscaler"]
        command = service["command"]
        self.assertEqual(command[:2], ["autoscale", "run"])
        self.assertIn("--token-file", command)
        self.assertIn("--listen", command)
        self.assertEqual(command[command.index("--log-format") + 1], "json")
        for port in service["ports"]:
            self.assertTrue(str(port).startswith("127.0.0.1:"), port)
        self.assertIn("healthz", " ".join(service["healthcheck"]["test"]))
        self.assertEqual(service["stop_signal"], "SIGTERM")
        secret = service["secrets"][0]
        self.assertIn(secret, doc["secrets"])
        self.assertEqual(command[command.index("--token-file") + 1], "/run/secrets/" + secret)
        self.assertIn("AUTO_SCALER_CHECK_INTERVAL_MS", service["environment"])


class KubernetesExample(unittest.TestCase):

    def setUp(self):
        docs = list(yaml.safe_load_all((EXAMPLES / "k8s" / "autoscale-deployment.yaml").read_text()))
        self.by_kind = {}
        for doc in docs:
            for key in ("apiVersion", "kind", "metadata"):
                self.assertIn(key, doc)
            self.by_kind.setdefault(doc["kind"], []).append(doc)

    def test_rbac_allows_scaling_the_deployment(self):
        account = self.by_kind["ServiceAccount"][0]["metadata"]["name"]
        role = self.by_kind["Role"][0]
        binding = self.by_kind["RoleBinding"][0]
        self.assertEqual(binding["roleRef"], {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role",
                                              "name": role["metadata"]["name"]})
        self.assertEqual(binding["subjects"][0]["kind"], "ServiceAccount")
        self.assertEqual(binding["subjects"][0]["name"], account)
        scale = [r for r in role["rules"] if "deployments/scale" in r["resources"]]
        self.assertEqual(len(scale), 1)
        self.assertEqual(scale[0]["apiGroups"], ["apps"])
        self.assertTrue({"get", "patch"} <= set(scale[0]["verbs"]))
        reads = [r for r in role["rules"] if "deployments" in r["resources"]]
        self.assertIn("get", reads[0]["verbs"])

    def test_deployment_runs_autoscale_run(self):
        deployment = self.by_kind["Deployment"][0]
        spec = deployment["spec"]["template"]["spec"]
        self.assertEqual(spec["serviceAccountName"], self.by_kind["ServiceAccount"][0]["metadata"]["name"])
        self.assertEqual(deployment["spec"]["replicas"], 1)
        self.assertEqual(deployment["spec"]["selector"]["matchLabels"],
                         deployment["spec"]["template"]["metadata"]["labels"])
        container = spec["containers"][0]
        self.assertEqual(container["args"][:2], ["autoscale", "run"])
        self.assertIn("--token-file", container["args"])
        self.assertEqual(container["livenessProbe"]["httpGet"]["path"], "/healthz")
        mounts = {m["name"] for m in container["volumeMounts"]} | {m["name"] for m in spec["initContainers"][0]["volumeMounts"]}
        self.assertEqual(mounts, {v["name"] for v in spec["volumes"]})
        # The token file the daemon reads is the init container's private copy (mode 0600), not
        # the Secret volume itself (0440 with an fsGroup, which scalectl refuses).
        token_path = container["args"][container["args"].index("--token-file") + 1]
        volumes = {v["name"]: v for v in spec["volumes"]}
        mount = next(m for m in container["volumeMounts"] if token_path.startswith(m["mountPath"] + "/"))
        self.assertIn("emptyDir", volumes[mount["name"]])
        init = spec["initContainers"][0]
        self.assertEqual(init["command"][:3], ["install", "-m", "0600"])
        self.assertEqual(init["command"][-1], token_path)
        init_mounts = {m["name"]: m["mountPath"] for m in init["volumeMounts"]}
        self.assertEqual(init_mounts[mount["name"]], mount["mountPath"])
        secret = next(n for n, v in volumes.items() if "secret" in v)
        self.assertTrue(init["command"][-2].startswith(init_mounts[secret] + "/"))
        config = self.by_kind["ConfigMap"][0]["data"]["config.toml"]
        self.assertIn('target = "kubernetes"', config)


if __name__ == "__main__":
    unittest.main()
