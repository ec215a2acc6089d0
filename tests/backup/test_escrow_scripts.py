"""The escrow's container scripts (components/backup/escrow/*.sh) run as their pods run them — upload.sh and
encrypt.sh under Debian's dash and under busybox's sh with busybox's own applets (the rclone and sops images are
Alpine: busybox sh, grep, sha256sum, find), fetch.sh under bash (the skopeo image is Fedora) — with stand-ins for
skopeo, rclone and sops that record every call and keep a store in a local directory. What must hold: a run copies
exactly what the store does not hold (whole object names), a second run copies nothing; a chart whose bytes are not
the catalogue's, a failed image copy or a failed listing fails the run and uploads nothing; the Azure credential
file is data, never shell; the secret export leaves one ciphertext, named by its time, and never the plaintext."""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from components.backup.escrow import manifests as m
from components.backup.escrow.secrets_job import ENCRYPT_SCRIPT
from components.catalogue.model import Bundle, BundleChart, BundleImage, ChartArchive
from tests.support.debian_tools import busybox

TARGET = "store:escrow-bucket/escrow/plant-1"
SOURCE = "made up by this test, with its bytes"

# each stand-in logs one line per call: its name and its arguments, tab-separated
LOG_CALL = """printf '%s' "$(basename "$0")" >> "$FAKE_ROOT/calls"
for arg in "$@"; do printf '\\t%s' "$arg" >> "$FAKE_ROOT/calls"; done
printf '\\n' >> "$FAKE_ROOT/calls"
"""
# rclone: `lsf -R --files-only TARGET` lists the store (exit 3 while it holds nothing, as rclone's "directory not
# found"; $FAKE_LSF_EXIT forces a status); `copyurl URL DEST` writes what $FAKE_ROOT/urls maps URL to; `copy
# --immutable SRC DST` copies the tree into the store, refusing (exit 1) an object that exists with other content
FAKE_RCLONE = f"""#!/bin/sh
{LOG_CALL}
env > "$FAKE_ROOT/rclone.env.$$"
store="$FAKE_ROOT/store"
case "$1" in
  lsf)
    if [ -n "${{FAKE_LSF_EXIT:-}}" ]; then echo "listing failed" >&2; exit "$FAKE_LSF_EXIT"; fi
    [ -d "$store" ] || {{ echo "directory not found" >&2; exit 3; }}
    (cd "$store" && find . -type f | sed 's|^\\./||' | sort)
    ;;
  copyurl)
    source=$(awk -v url="$2" '$1 == url {{ print $2 }}' "$FAKE_ROOT/urls")
    [ -n "$source" ] || {{ echo "404 $2" >&2; exit 1; }}
    cp "$source" "$3"
    ;;
  copy)
    [ "$2" = --immutable ] || {{ echo "copy without --immutable" >&2; exit 9; }}
    shift 2
    exclude=; include=
    while [ "$#" -gt 2 ]; do
      case "$1" in
        --exclude) exclude=$2; shift 2 ;;
        --include) include=$2; shift 2 ;;
        *) echo "unexpected copy option $1" >&2; exit 9 ;;
      esac
    done
    status=0
    for file in $(cd "$1" && find . -type f | sed 's|^\\./||'); do
      base=$(basename "$file")
      if [ -n "$exclude" ] && [ "$base" = "$exclude" ]; then continue; fi
      if [ -n "$include" ] && [ "$base" != "$include" ]; then continue; fi
      if [ -e "$store/$file" ]; then
        cmp -s "$1/$file" "$store/$file" || {{ echo "immutable: $file differs" >&2; status=1; }}
        continue
      fi
      mkdir -p "$(dirname "$store/$file")"
      cp "$1/$file" "$store/$file"
      printf '%s\\n' "$file" >> "$FAKE_ROOT/uploaded"
    done
    exit "$status"
    ;;
  *) echo "unexpected rclone call" >&2; exit 9 ;;
esac
"""
# skopeo: `... copy ... docker://REF dir:PATH` writes a layout (its manifest) into PATH; $FAKE_SKOPEO_FAIL names a
# REF whose copy fails
FAKE_SKOPEO = f"""#!/bin/sh
{LOG_CALL}
for arg in "$@"; do
  case "$arg" in
    docker://*) reference=${{arg#docker://}} ;;
    dir:*) layout=${{arg#dir:}} ;;
  esac
done
if [ "$reference" = "${{FAKE_SKOPEO_FAIL:-}}" ]; then echo "manifest unknown: $reference" >&2; exit 1; fi
mkdir -p "$layout"
printf 'manifest of %s\\n' "$reference" > "$layout/manifest.json"
"""
# sops: `encrypt ... --output OUT IN` writes ENC(<IN>) to OUT; $FAKE_SOPS_FAIL makes it fail
FAKE_SOPS = f"""#!/bin/sh
{LOG_CALL}
[ -z "${{FAKE_SOPS_FAIL:-}}" ] || {{ echo "failed to encrypt" >&2; exit 1; }}
while [ "$#" -gt 1 ]; do
  if [ "$1" = --output ]; then output=$2; shift; fi
  shift
done
{{ printf 'ENC('; cat "$1"; printf ')'; }} > "$output"
"""
# what the Alpine images' scripts run from busybox rather than from the machine's GNU tools
APPLETS = ("basename", "cat", "date", "dirname", "find", "grep", "mkdir", "rm", "sha256sum", "tr", "wc")

SHELLS = ["dash", "busybox"]


def chart(name: str, version: str, content: bytes) -> BundleChart:
    url = f"https://charts.example/{name}-{version}.tgz"
    digest = hashlib.sha256(content).hexdigest()
    return BundleChart(name, version, ChartArchive(url, digest, SOURCE), url=url)


IMAGES = (
    BundleImage(
        "docker.io/library/nginx:1.27@sha256:" + "a" * 64,
        "mirror.example:5000/docker.io/library/nginx:1.27@sha256:" + "a" * 64,
    ),
    BundleImage(
        "registry.k8s.io:443/pause:3.10@sha256:" + "b" * 64,
        "mirror.example:5000/registry.k8s.io/pause:3.10@sha256:" + "b" * 64,
    ),
)
CHART_BYTES = {"ingress-nginx": b"ingress-nginx chart\n", "velero": b"velero chart\n"}
CHARTS = (
    chart("ingress-nginx", "4.11.0", CHART_BYTES["ingress-nginx"]),
    chart("velero", "7.2.1", CHART_BYTES["velero"]),
    BundleChart(
        "cert-manager",
        "1.16.0",
        ChartArchive("https://charts.jetstack.io/cert-manager-v1.16.0.tgz", "c" * 64, SOURCE),
        oci="mirror.example:5000/charts/cert-manager:1.16.0",
    ),
)
BUNDLE = Bundle(images=IMAGES, charts=CHARTS)
LAYOUTS = [m.image_object(image.origin) for image in IMAGES] + ["charts/oci/cert-manager-1.16.0"]
IMAGE_OBJECTS = [f"{layout}/{file}" for layout in LAYOUTS for file in ("manifest.json", "escrow-complete")]
CHART_OBJECTS = ["charts/ingress-nginx-4.11.0.tgz", "charts/velero-7.2.1.tgz"]


@dataclass
class Pod:
    """One location's escrow pods on this machine: the scripts ConfigMap, a fresh scratch volume per run, the
    stand-ins first on PATH, and the store (kept between runs)."""

    root: Path
    shell: str

    @property
    def store(self) -> Path:
        return self.root / "store"

    @property
    def scratch(self) -> Path:
        return self.root / "scratch"

    @property
    def escrow_dir(self) -> Path:
        return self.root / "etc-escrow"

    def setup(self) -> None:
        bin_dir = self.root / "bin"
        bin_dir.mkdir()
        for name, text in (("rclone", FAKE_RCLONE), ("skopeo", FAKE_SKOPEO), ("sops", FAKE_SOPS)):
            (bin_dir / name).write_text(text)
            (bin_dir / name).chmod(0o755)
        applets = self.root / "applets"
        applets.mkdir()
        if self.shell == "busybox":
            for applet in APPLETS:
                (applets / applet).symlink_to(busybox())
        self.escrow_dir.mkdir()
        for name in ("fetch.sh", "upload.sh"):
            shutil.copy(Path(m.__file__).with_name(name), self.escrow_dir / name)
        shutil.copy(ENCRYPT_SCRIPT, self.escrow_dir / ENCRYPT_SCRIPT.name)
        self.lists(m.oci_list(BUNDLE), m.charts_list(BUNDLE))
        self.serve({c.url: CHART_BYTES[c.chart] for c in CHARTS if c.url})

    def lists(self, oci: str, charts: str) -> None:
        (self.escrow_dir / "oci.list").write_text(oci)
        (self.escrow_dir / "charts.list").write_text(charts)

    def serve(self, served: dict[str, bytes]) -> None:
        served_dir = self.root / "served"
        served_dir.mkdir(exist_ok=True)
        rows = []
        for index, (url, content) in enumerate(served.items()):
            source = served_dir / f"{len(list(served_dir.iterdir()))}-{index}"
            source.write_bytes(content)
            rows.append(f"{url} {source}\n")
        (self.root / "urls").write_text("".join(rows))

    def hold(self, *names: str) -> None:
        for name in names:
            path = self.store / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(f"held {name}\n")

    def fresh_scratch(self) -> None:
        shutil.rmtree(self.scratch, ignore_errors=True)
        self.scratch.mkdir()
        for name in ("calls", "uploaded"):
            (self.root / name).unlink(missing_ok=True)

    def environment(self, **env: str) -> dict[str, str]:
        return {
            "PATH": f"{self.root / 'bin'}:{self.root / 'applets'}:/usr/bin:/bin",
            "SCRATCH": str(self.scratch),
            "ESCROW_DIR": str(self.escrow_dir),
            "HOME": str(self.scratch / "home"),
            "ESCROW_TARGET": TARGET,
            "FAKE_ROOT": str(self.root),
            **env,
        }

    def sh(self, script: str, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
        shell = [str(busybox()), "sh"] if self.shell == "busybox" else ["dash"]
        return self._run([*shell, str(self.escrow_dir / script), *args], env)

    def bash(self, script: str, **env: str) -> subprocess.CompletedProcess[str]:
        return self._run(["bash", str(self.escrow_dir / script)], env)

    def _run(self, command: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            command,
            cwd=self.root,
            env=self.environment(**env),
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )

    def images_job(self, **env: str) -> list[subprocess.CompletedProcess[str]]:
        """The image escrow's pod: inventory, fetch, upload, each only after the previous one succeeded."""
        self.fresh_scratch()
        results = []
        for step in (lambda: self.sh("upload.sh", "inventory", **env), lambda: self.bash("fetch.sh", **env)):
            results.append(step())
            if results[-1].returncode != 0:
                return results
        results.append(self.sh("upload.sh", "upload", **env))
        return results

    def calls(self, tool: str | None = None) -> list[list[str]]:
        path = self.root / "calls"
        rows = [line.split("\t") for line in path.read_text().splitlines()] if path.exists() else []
        return [row for row in rows if tool is None or row[0] == tool]

    def uploaded(self) -> list[str]:
        path = self.root / "uploaded"
        return sorted(path.read_text().splitlines()) if path.exists() else []

    def stored(self) -> list[str]:
        if not self.store.exists():
            return []
        return sorted(str(p.relative_to(self.store)) for p in self.store.rglob("*") if p.is_file())


@pytest.fixture(params=SHELLS)
def pod(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Pod]:
    if request.param == "dash" and shutil.which("dash") is None:
        pytest.fail("dash (Debian's /bin/sh) is not installed: apt-get install dash")
    node = Pod(tmp_path, request.param)
    node.setup()
    yield node


def ok(results: list[subprocess.CompletedProcess[str]]) -> None:
    for result in results:
        assert result.returncode == 0, result.stdout + result.stderr


def copied_references(pod: Pod) -> list[str]:
    return sorted(arg.removeprefix("docker://") for call in pod.calls("skopeo") for arg in call if "docker://" in arg)


# the image escrow


def test_a_first_run_copies_and_uploads_every_image_and_chart(pod: Pod) -> None:
    results = pod.images_job()
    ok(results)
    assert len(results) == 3
    assert (pod.scratch / "present").read_text() == ""
    pulls = sorted([m.by_digest(image.pull) for image in IMAGES] + ["mirror.example:5000/charts/cert-manager:1.16.0"])
    assert copied_references(pod) == pulls
    for call in pod.calls("skopeo"):
        assert call[1:3] == ["--tmpdir", str(pod.scratch / "tmp")]
        assert {"copy", "--all", "--preserve-digests"} <= set(call)
    assert sorted(call[2] for call in pod.calls("rclone") if call[1] == "copyurl") == sorted(
        c.url for c in CHARTS if c.url
    )
    copies = [call for call in pod.calls("rclone") if call[1] == "copy"]
    out = str(pod.scratch / "out")
    assert copies == [
        ["rclone", "copy", "--immutable", "--exclude", "escrow-complete", out, TARGET],
        ["rclone", "copy", "--immutable", "--include", "escrow-complete", out, TARGET],
    ]
    assert pod.stored() == sorted(IMAGE_OBJECTS + CHART_OBJECTS)
    assert sorted(pod.uploaded()) == pod.stored()
    order = (pod.root / "uploaded").read_text().splitlines()
    markers = [i for i, name in enumerate(order) if name.endswith("/escrow-complete")]
    assert markers == list(range(len(order) - len(LAYOUTS), len(order))), "a copy is marked complete only last"
    assert (pod.store / CHART_OBJECTS[0]).read_bytes() == CHART_BYTES["ingress-nginx"]
    assert "downloaded and checked 2 chart archive(s)" in results[2].stdout
    assert "fetched 3 image(s) and OCI chart(s); 0 already in the store" in results[1].stdout


def test_a_second_run_copies_nothing(pod: Pod) -> None:
    ok(pod.images_job())
    before = {name: (pod.store / name).read_bytes() for name in pod.stored()}
    results = pod.images_job()
    ok(results)
    assert pod.calls("skopeo") == []
    assert [call for call in pod.calls("rclone") if call[1] == "copyurl"] == []
    assert pod.uploaded() == []
    assert {name: (pod.store / name).read_bytes() for name in pod.stored()} == before
    assert "the store holds 8 escrowed object(s)" in results[0].stdout
    assert "fetched 0 image(s) and OCI chart(s); 3 already in the store" in results[1].stdout


def test_only_what_the_store_lacks_is_copied_names_matched_whole(pod: Pod) -> None:
    wanted_image = "images/a/b/v1"
    wanted_chart = "charts/c-1.tgz"
    content = b"chart c\n"
    digest = hashlib.sha256(content).hexdigest()
    pod.lists(
        f"reg.example/a/b:v1 {wanted_image}\nreg.example/a/held:v2 images/a/held/v2\n",
        f"https://x.example/c-1.tgz {wanted_chart} {digest}\n"
        f"https://x.example/held-1.tgz charts/held-1.tgz {'0' * 64}\n",
    )
    pod.serve({"https://x.example/c-1.tgz": content})
    # held: one image and one chart; near misses of the other two, which must not count as held — among them the
    # layout an interrupted upload left without its completion marker
    pod.hold(
        "images/a/held/v2/manifest.json",
        "images/a/held/v2/escrow-complete",
        "charts/held-1.tgz",
        f"{wanted_image}.bak/escrow-complete",
        f"old/{wanted_image}/escrow-complete",
        "charts/c-1.tgz.partial",
        "charts/c-1",
    )
    # what the interrupted upload did send is the registry's bytes, which skopeo fetches again unchanged
    interrupted = pod.store / wanted_image / "manifest.json"
    interrupted.parent.mkdir(parents=True)
    interrupted.write_text("manifest of reg.example/a/b:v1\n")
    ok(pod.images_job())
    assert copied_references(pod) == ["reg.example/a/b:v1"]
    assert [call[2] for call in pod.calls("rclone") if call[1] == "copyurl"] == ["https://x.example/c-1.tgz"]
    assert sorted(pod.uploaded()) == [wanted_chart, f"{wanted_image}/escrow-complete"]  # its manifest: the same
    assert (pod.store / "charts/held-1.tgz").read_text() == "held charts/held-1.tgz\n"


def test_a_chart_whose_bytes_are_not_the_catalogues_fails_and_uploads_nothing(pod: Pod) -> None:
    url = next(c.url for c in CHARTS if c.chart == "velero")
    assert url is not None
    pod.serve({**{c.url: CHART_BYTES[c.chart] for c in CHARTS if c.url}, url: b"a substituted chart\n"})
    results = pod.images_job()
    upload = results[-1]
    assert len(results) == 3 and upload.returncode != 0
    fail = [line for line in upload.stdout.splitlines() if line.startswith("FAIL")]
    assert len(fail) == 1 and url in fail[0], upload.stdout
    assert [call for call in pod.calls("rclone") if call[1] == "copy"] == []
    assert pod.stored() == [] and pod.uploaded() == []


def test_a_failed_image_copy_fails_the_fetch(pod: Pod) -> None:
    failing = m.by_digest(IMAGES[0].pull)
    results = pod.images_job(FAKE_SKOPEO_FAIL=failing)
    fetch = results[-1]
    assert len(results) == 2, "the upload container never starts after a failed init container"
    assert fetch.returncode != 0
    assert failing in copied_references(pod)
    assert pod.stored() == []


def test_a_failed_listing_fails_the_inventory(pod: Pod) -> None:
    pod.fresh_scratch()
    result = pod.sh("upload.sh", "inventory", FAKE_LSF_EXIT="1")
    assert result.returncode == 1
    assert any(line.startswith("FAIL listing " + TARGET) for line in result.stdout.splitlines()), result.stdout
    pod.fresh_scratch()
    first = pod.sh("upload.sh", "inventory", FAKE_LSF_EXIT="3")  # directory not found: a first run
    assert first.returncode == 0, first.stdout + first.stderr
    assert (pod.scratch / "present").read_text() == ""
    assert pod.calls("rclone") == [["rclone", "lsf", "-R", "--files-only", TARGET]]


def test_the_azure_credential_file_is_exported_as_data(pod: Pod) -> None:
    credential = pod.root / "credential"
    values = {
        "AZURE_CLIENT_ID": "$(touch pwned)",
        "AZURE_STORAGE_ACCOUNT_ACCESS_KEY": "a2V5=with=equals==",
        "AZURE_CLIENT_SECRET": "`touch pwned2`;touch pwned3 'q' \"d\" \\n",
        "AZURE_TENANT_ID": "b3E=",  # base64 with one padding character
        "AZURE_CLOUD_NAME": "AzurePublicCloud",
    }
    lines = ["# written by the credentials script", *(f"{k}={v}" for k, v in values.items())]
    credential.write_text("\n".join(lines) + "\n")
    pod.fresh_scratch()
    result = pod.sh("upload.sh", "inventory", ESCROW_CREDENTIAL_ENV=str(credential))
    assert result.returncode == 0, result.stdout + result.stderr
    (env_file,) = pod.root.glob("rclone.env.*")
    seen = dict(line.split("=", 1) for line in env_file.read_text().splitlines() if "=" in line)
    assert {key: seen.get(key) for key in values} == values
    assert not any(key.startswith("#") for key in seen)
    for directory in (pod.root, pod.scratch, pod.escrow_dir):
        assert not list(directory.glob("pwned*")), directory


def test_a_credential_file_without_a_final_newline_keeps_its_last_variable(pod: Pod) -> None:
    credential = pod.root / "credential"
    credential.write_text("AZURE_CLOUD_NAME=AzurePublicCloud\nAZURE_STORAGE_ACCOUNT_ACCESS_KEY=a2V5==")
    pod.fresh_scratch()
    result = pod.sh("upload.sh", "inventory", ESCROW_CREDENTIAL_ENV=str(credential))
    assert result.returncode == 0, result.stdout + result.stderr
    (env_file,) = pod.root.glob("rclone.env.*")
    assert "AZURE_STORAGE_ACCOUNT_ACCESS_KEY=a2V5==" in env_file.read_text().splitlines()


# the secret export


def secrets(pod: Pod, recipients: str) -> Path:
    (pod.escrow_dir / "recipients").write_text(recipients)
    plain = pod.root / "plain"
    plain.mkdir()
    (plain / "export.json").write_text('{"plant-1/line-a": {"password": "SECRET-MARKER"}}\n')
    pod.fresh_scratch()
    return plain


def test_encrypt_writes_one_ciphertext_named_by_time_and_deletes_the_plaintext(pod: Pod) -> None:
    recipients = ["age1" + "q" * 58, "age1" + "p" * 58]
    plain = secrets(pod, ",".join(recipients))
    result = pod.sh(ENCRYPT_SCRIPT.name, PLAIN=str(plain))
    assert result.returncode == 0, result.stdout + result.stderr
    (cipher,) = [p for p in (pod.scratch / "out").rglob("*") if p.is_file()]
    assert cipher.parent == pod.scratch / "out" / "secrets"
    assert re.fullmatch(r"vault-\d{8}T\d{6}Z\.sops\.json", cipher.name), cipher.name
    assert cipher.read_text() == 'ENC({"plant-1/line-a": {"password": "SECRET-MARKER"}}\n)'
    assert not (plain / "export.json").exists()
    (call,) = pod.calls("sops")
    assert call[1] == "encrypt"
    assert call[call.index("--age") + 1] == ",".join(recipients)
    assert call[call.index("--input-type") + 1] == "binary"
    assert call[call.index("--output-type") + 1] == "json"
    assert call[call.index("--output") + 1] == str(cipher)
    assert call[-1] == str(plain / "export.json")
    assert "encrypted the export to 2 age recipient(s): " + cipher.name in result.stdout


def test_a_failed_encryption_still_deletes_the_plaintext(pod: Pod) -> None:
    plain = secrets(pod, "age1" + "q" * 58)
    result = pod.sh(ENCRYPT_SCRIPT.name, PLAIN=str(plain), FAKE_SOPS_FAIL="1")
    assert result.returncode != 0
    assert not (plain / "export.json").exists()
    assert [p for p in (pod.scratch / "out").rglob("*") if p.is_file()] == []


def test_send_uploads_the_ciphertext_only(pod: Pod) -> None:
    plain = secrets(pod, "age1" + "q" * 58)
    ok([pod.sh(ENCRYPT_SCRIPT.name, PLAIN=str(plain))])
    # what else the pod's scratch volume holds stays there
    (pod.scratch / "home").mkdir()
    (pod.scratch / "home" / ".config").write_text("x\n")
    (pod.scratch / "present").write_text("")
    result = pod.sh("upload.sh", "send")
    assert result.returncode == 0, result.stdout + result.stderr
    (name,) = pod.uploaded()
    assert re.fullmatch(r"secrets/vault-\d{8}T\d{6}Z\.sops\.json", name), name
    assert (pod.store / name).read_text().startswith("ENC(")
    assert [call[1] for call in pod.calls("rclone")] == ["copy", "copy"]
    assert [call for call in pod.calls("rclone") if call[1] in ("lsf", "copyurl")] == []
    assert "sent 1 object(s)" in result.stdout
    assert os.listdir(plain) == []
