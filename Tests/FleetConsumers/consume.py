#!/usr/bin/env python3
"""Feeds vfio-inspect's fleet files to their real consumers and prints what each consumer made of them, as JSON.

    consume.py nfd FILE...          kubectl's label validation (k8s.io/apimachinery), NFD's file rules
    consume.py prometheus FILE...   promtool check metrics, prometheus_client's parser, a real node_exporter scrape
    consume.py ansible DIR          ansible-core's setup module with fact_path=DIR
    consume.py dra FILE...          kubernetes-validate on each ResourceSlice of the List (strict) and DRA's limits
    consume.py kubevirt FILE...     PyYAML, then KubeVirt's permittedHostDevices shape (kubevirt-permittedhostdevices.schema.json)
    consume.py sriovdp FILE...      PyYAML, kubernetes-validate (ConfigMap), then the plugin's config.json rules
    consume.py nova FILE...         nova itself: oslo.config loads the file, nova.pci Whitelist and get_alias_from_config parse it
    consume.py proxmox FILE...      PVE::Mapping::PCI's property formats (no Proxmox parser exists off a PVE host)

Output: {"FILE": {"ok": true|false, "error": "...", ...what the consumer read...}, ...}. Exit 0 when every file is ok.
Run with the venv Scripts/fleet-tools.sh makes (its python has the PyPI consumers).
"""
import datetime
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
BIN = os.path.dirname(sys.executable)


def tool(name):
    """A consumer program: beside this python (the venv) first, then PATH."""
    candidate = os.path.join(BIN, name)
    return candidate if os.path.exists(candidate) else shutil.which(name)


def run(args, **kw):
    return subprocess.run(args, capture_output=True, text=True, **kw)


# Kubernetes label rules as k8s.io/apimachinery states them; used only to say which label kubectl refused.
def nfd(files):
    out = {}
    for f in files:
        data = open(f, "rb").read()
        r = {"ok": True, "size": len(data), "labels": {}, "expiry": None}
        if len(data) > 65536:
            r.update(ok=False, error="over NFD's MaxFeatureFileSize (65536)")
        expiry_seen = False
        for line in data.decode().split("\n"):
            line = line.strip()
            if not line:
                continue
            if line.startswith("# +"):
                key, _, value = line[3:].partition("=")
                if key != "expiry-time":
                    r.update(ok=False, error=f"unknown directive {key}")
                    continue
                try:
                    t = datetime.datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
                except ValueError as e:
                    r.update(ok=False, error=f"expiry-time not RFC 3339: {e}")
                    continue
                if t <= datetime.datetime.now(datetime.timezone.utc):
                    r.update(ok=False, error="expiry-time already past")
                r["expiry"] = value.strip()
                expiry_seen = True
                continue
            if line.startswith("#"):
                continue
            if not expiry_seen:
                r.update(ok=False, error="a label before the expiry directive never expires")
            key, sep, value = line.partition("=")
            r["labels"][key] = value if sep else "true"
        # kubectl validates every label as the API server does (IsQualifiedName, IsValidLabelValue).
        node = {"apiVersion": "v1", "kind": "Node", "metadata": {"name": "n"}}
        with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as t:
            json.dump(node, t)
        args = [tool("kubectl"), "label", "--local", "-f", t.name, "-o", "json"] + [f"{k}={v}" for k, v in r["labels"].items()]
        k = run(args)
        os.unlink(t.name)
        if k.returncode != 0:
            r.update(ok=False, error="kubectl: " + k.stderr.strip())
        else:
            applied = json.loads(k.stdout)["metadata"].get("labels", {})
            if applied != r["labels"]:
                r.update(ok=False, error="kubectl applied other labels")
        for key in r["labels"]:
            if not key.startswith("vfio.feature.node.kubernetes.io/"):
                r.update(ok=False, error=f"{key} outside vfio.feature.node.kubernetes.io/")
        out[f] = r
    return out


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def prometheus(files):
    from prometheus_client.parser import text_string_to_metric_families
    out = {}
    for f in files:
        text = open(f).read()
        r = {"ok": True, "samples": []}
        p = run([tool("promtool"), "check", "metrics"], input=text)
        if p.returncode != 0 or p.stdout.strip() or p.stderr.strip():
            r.update(ok=False, error="promtool: " + (p.stdout + p.stderr).strip())
        try:
            for fam in text_string_to_metric_families(text):
                for s in fam.samples:
                    r["samples"].append({"name": s.name, "labels": s.labels, "value": s.value, "type": fam.type})
        except Exception as e:  # the parser's own error is the finding
            r.update(ok=False, error=f"prometheus_client: {e}")
        out[f] = r
    # A real node_exporter's textfile collector reads each file in turn (one directory, the file replaced between
    # scrapes, as a timer would); a file it cannot take sets node_textfile_scrape_error.
    exporter = tool("prometheus-node-exporter") or tool("node_exporter")
    with tempfile.TemporaryDirectory() as d:
        port = free_port()
        proc = subprocess.Popen([exporter, f"--web.listen-address=127.0.0.1:{port}", "--collector.disable-defaults",
                                 "--collector.textfile", f"--collector.textfile.directory={d}"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        try:
            for f in files:
                r = out[f]
                shutil.copy(f, os.path.join(d, ".next"))
                os.rename(os.path.join(d, ".next"), os.path.join(d, "vfio_inspect.prom"))
                body = None
                for _ in range(100):
                    try:
                        body = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read().decode()
                        break
                    except OSError:
                        time.sleep(0.1)
                if body is None:
                    r.update(ok=False, error="node_exporter did not answer")
                    continue
                scraped = set()
                for fam in text_string_to_metric_families(body):
                    for s in fam.samples:
                        if s.name == "node_textfile_scrape_error" and s.value != 0:
                            r.update(ok=False, error="node_exporter: textfile scrape error")
                        if s.name.startswith("vfio_inspect_"):
                            scraped.add((s.name, tuple(sorted(s.labels.items())), s.value))
                mine = {(s["name"], tuple(sorted(s["labels"].items())), s["value"]) for s in r["samples"]}
                if mine != scraped:
                    r.update(ok=False, error=f"node_exporter served {len(scraped)} vfio_inspect samples, the file has {len(mine)}")
                r["scraped"] = len(scraped)
        finally:
            proc.terminate()
            proc.communicate(timeout=10)
    return out


def ansible(directory):
    env = dict(os.environ, ANSIBLE_LOCALHOST_WARNING="False", ANSIBLE_INVENTORY_UNPARSED_WARNING="False",
               ANSIBLE_NOCOLOR="1", ANSIBLE_HOME=tempfile.mkdtemp())
    p = run([tool("ansible"), "localhost", "-c", "local", "-m", "ansible.builtin.setup",
             "-a", f"fact_path={directory} filter=ansible_local"], env=env)
    if p.returncode != 0:
        return {directory: {"ok": False, "error": (p.stdout + p.stderr)[-2000:]}}
    # The ad-hoc callback prints `localhost | SUCCESS => {the module's JSON result}`.
    head, sep, body = p.stdout.partition("=>")
    if not sep or "SUCCESS" not in head:
        return {directory: {"ok": False, "error": p.stdout[-2000:]}}
    local = json.loads(body).get("ansible_facts", {}).get("ansible_local", {})
    return {directory: {"ok": True, "ansible_local": local}}


DRA_ID = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")


def dra(files):
    """Each file is a v1 List of ResourceSlices: every slice is validated on its own (kubernetes-validate has no
    schema for List) and the pool's slice count checked."""
    out = {}
    with tempfile.TemporaryDirectory() as d:
        slices = {}
        for f in files:
            doc = json.load(open(f))
            slices[f] = []
            for i, item in enumerate(doc.get("items", [])):
                path = os.path.join(d, f"{len(slices) - 1}-{i}.json")
                json.dump(item, open(path, "w"))
                slices[f].append(path)
        p = run([tool("kubernetes-validate"), "-k", "1.34.0", "--strict"] + [s for paths in slices.values() for s in paths])
        passed = {l.split()[1] for l in p.stdout.splitlines() if l.startswith("INFO") and "passed" in l}
        for f in files:
            r = {"ok": True}
            doc = json.load(open(f))
            if doc.get("apiVersion") != "v1" or doc.get("kind") != "List" or not doc.get("items"):
                r.update(ok=False, error="not a v1 List of ResourceSlices")
            for path in slices[f]:
                if path not in passed:
                    r.update(ok=False, error="kubernetes-validate: " + " ".join(l for l in (p.stdout + p.stderr).splitlines() if path in l)[-500:])
            devices = []
            for item in doc.get("items", []):
                spec = item["spec"]
                if spec["pool"]["resourceSliceCount"] != len(doc["items"]):
                    r.update(ok=False, error="resourceSliceCount is not the number of slices")
                # The API server's own limits (resource.k8s.io/v1 validation), which the OpenAPI schema does not carry.
                if len(spec["devices"]) > 128:
                    r.update(ok=False, error=f"{len(spec['devices'])} devices in one slice (ResourceSliceMaxDevices 128)")
                devices += spec["devices"]
            for dev in devices:
                if not DNS_LABEL.match(dev["name"]) or len(dev["name"]) > 63:
                    r.update(ok=False, error=f"device name {dev['name']} is not a DNS label")
                if len(dev["attributes"]) > 32:
                    r.update(ok=False, error=f"{dev['name']}: over 32 attributes")
                for name, value in dev["attributes"].items():
                    domain, _, ident = name.rpartition("/")
                    if not DRA_ID.match(ident) or len(ident) > 32 or len(domain) > 63:
                        r.update(ok=False, error=f"attribute name {name}")
                    if len(value) != 1:
                        r.update(ok=False, error=f"{name} has {len(value)} values")
                    if "string" in value and len(value["string"]) > 64:
                        r.update(ok=False, error=f"{name} over 64 characters")
            if len({dev["name"] for dev in devices}) != len(devices):
                r.update(ok=False, error="device names repeat within the pool")
            r["slices"] = len(doc.get("items", []))
            r["devices"] = {dev["name"]: {k: next(iter(v.values())) for k, v in dev["attributes"].items()} for dev in devices}
            out[f] = r
    return out


def kubevirt(files):
    import jsonschema
    import yaml
    schema = json.load(open(os.path.join(HERE, "kubevirt-permittedhostdevices.schema.json")))
    out = {}
    for f in files:
        r = {"ok": True}
        try:
            doc = yaml.safe_load(open(f))
            jsonschema.validate(doc, schema)
            r["pciHostDevices"] = doc["spec"]["configuration"]["permittedHostDevices"]["pciHostDevices"]
        except Exception as e:
            r.update(ok=False, error=f"{type(e).__name__}: {e}")
        out[f] = r
    return out


SRIOVDP_SELECTORS = {"vendors", "devices", "drivers", "pciAddresses", "pfNames", "rootDevices", "linkTypes",
                     "acpiIndexes", "isRdma", "ddpProfiles", "needVhostNet", "vdpaType", "pKeys", "auxTypes"}


def sriovdp(files):
    import yaml
    out = {}
    p = run([tool("kubernetes-validate"), "-k", "1.34.0", "--strict"] + list(files))
    for f in files:
        r = {"ok": True}
        if not any(f in l and "passed" in l for l in p.stdout.splitlines()):
            r.update(ok=False, error="kubernetes-validate: " + (p.stdout + p.stderr)[-500:])
        try:
            doc = yaml.safe_load(open(f))
            config = json.loads(doc["data"]["config.json"])
            for res in config["resourceList"]:
                if not re.match(r"^[a-zA-Z0-9_]+$", res["resourceName"]):
                    raise ValueError(f"resourceName {res['resourceName']}")
                if res.get("deviceType", "netDevice") not in ("netDevice", "accelerator", "auxNetDevice"):
                    raise ValueError(f"deviceType {res['deviceType']}")
                selectors = res["selectors"] if isinstance(res["selectors"], list) else [res["selectors"]]
                if not selectors:
                    raise ValueError("empty selectors")
                for s in selectors:
                    if set(s) - SRIOVDP_SELECTORS:
                        raise ValueError(f"unknown selector keys {set(s) - SRIOVDP_SELECTORS}")
            r["resourceList"] = config["resourceList"]
        except Exception as e:
            r.update(ok=False, error=f"{type(e).__name__}: {e}")
        out[f] = r
    return out


def nova(files):
    import warnings
    warnings.simplefilter("ignore")
    from nova import conf
    from nova.pci import request, whitelist
    CONF = conf.CONF
    out = {}
    for f in files:
        r = {"ok": True}
        try:
            CONF.reset()
            CONF.clear()
            request.get_alias_from_config.cache_clear()
            CONF(["--config-file", f], project="nova", default_config_files=[])
            wl = whitelist.Whitelist(CONF.pci.device_spec)
            aliases = request.get_alias_from_config()
            specs = [json.loads(s) for s in CONF.pci.device_spec]
            # Each spec must make its own device assignable, as nova-compute decides at start.
            for s in specs:
                dev = {"vendor_id": s["vendor_id"], "product_id": s["product_id"], "address": s["address"],
                       "parent_addr": None}
                if wl.device_assignable(dev) is None:
                    raise ValueError(f"{s['address']} is not assignable by its own spec")
            r["device_spec"] = specs
            r["aliases"] = {name: [dict(d) for d in value[1]] for name, value in aliases.items()}
        except Exception as e:
            r.update(ok=False, error=f"{type(e).__name__}: {e}")
        out[f] = r
    return out


PVE_ID = re.compile(r"^[0-9A-Fa-f]{4}:[0-9A-Fa-f]{4}$")
PVE_PATH = re.compile(r"^(?:[a-f0-9]{4,}:[a-f0-9]{2}:[a-f0-9]{2}(?:\.[a-f0-9])?;)*[a-f0-9]{4,}:[a-f0-9]{2}:[a-f0-9]{2}(?:\.[a-f0-9])?$")
PVE_CONFIGID = re.compile(r"^[a-z][a-z0-9_-]+$", re.I)


def proxmox(files):
    out = {}
    for f in files:
        r = {"ok": True, "mappings": {}}
        current = None
        for line in open(f).read().split("\n"):
            if not line.strip() or line.lstrip().startswith("#"):
                current = None if not line.strip() else current
                continue
            if not line[0].isspace():
                if not PVE_CONFIGID.match(line):
                    r.update(ok=False, error=f"mapping id {line!r}")
                current = line
                r["mappings"][current] = []
                continue
            key, _, value = line.strip().partition(" ")
            if current is None or key != "map":
                r.update(ok=False, error=f"property outside a section or not 'map': {line!r}")
                continue
            props = dict(kv.split("=", 1) for kv in value.split(","))
            if not PVE_ID.match(props.get("id", "")):
                r.update(ok=False, error=f"id {props.get('id')}")
            if "subsystem-id" in props and not PVE_ID.match(props["subsystem-id"]):
                r.update(ok=False, error=f"subsystem-id {props['subsystem-id']}")
            if not PVE_PATH.match(props.get("path", "")):
                r.update(ok=False, error=f"path {props.get('path')}")
            if "iommugroup" in props and not props["iommugroup"].isdigit():
                r.update(ok=False, error=f"iommugroup {props['iommugroup']}")
            if not props.get("node"):
                r.update(ok=False, error="no node")
            if set(props) - {"id", "subsystem-id", "path", "iommugroup", "node", "description"}:
                r.update(ok=False, error=f"unknown keys {set(props)}")
            r["mappings"][current].append(props)
        out[f] = r
    return out


def main():
    kind, args = sys.argv[1], sys.argv[2:]
    result = {"nfd": nfd, "prometheus": prometheus, "ansible": lambda a: ansible(a[0]), "dra": dra,
              "kubevirt": kubevirt, "sriovdp": sriovdp, "nova": nova, "proxmox": proxmox}[kind](args)
    json.dump(result, sys.stdout, indent=1, sort_keys=True, default=str)
    sys.exit(0 if all(r["ok"] for r in result.values()) else 1)


if __name__ == "__main__":
    main()
