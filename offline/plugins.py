"""The Pulumi plugins a plant must mirror, found the way the Python language host finds them.

`pulumi preview`/`up` ask the language host which packages the program needs (pulumi-language-python
GetRequiredPackages, sdk/python/cmd/pulumi-language-python/main.go): every installed package that has a
top-level `pulumi-plugin.json` or whose name starts with `pulumi-` (listPulumiPackageInfos), except
pulumi-policy and pulumi-esc-sdk (packagesWithoutPlugins) and those whose JSON says `resource: false`
(packageDependencyFromPluginJSON). The engine installs all of them before the program runs
(EnsurePluginsAreInstalled, pkg/engine/plugins.go), so an installed provider SDK the stack never uses is as
required as one it does: listing only the used ones would leave a plant's first preview reaching for GitHub.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from importlib import metadata
from typing import Any

from offline.harness import Recording

PACKAGES_WITHOUT_PLUGINS = frozenset({"pulumi-policy", "pulumi-esc-sdk"})
# the platforms plants run the CLI on; a plant on another one needs its tarballs too (same name pattern)
PLATFORMS = ("linux-amd64", "linux-arm64", "darwin-arm64", "windows-amd64")
# where the CLI fetches a plugin whose package names no server (fallbackSource.URL in
# sdk/go/common/workspace/plugins.go); PULUMI_PLUGIN_DOWNLOAD_URL_OVERRIDES regexps are matched against it
DEFAULT_SOURCE = "github://api.github.com/pulumi/pulumi-{name}"
PROVIDER_PREFIX = "pulumi:providers:"


@dataclass(frozen=True)
class InstalledPackage:
    """One installed distribution as the language host sees it: normalized name, version, pulumi-plugin.json."""

    name: str
    version: str
    plugin_json: Mapping[str, Any] | None


@dataclass(frozen=True)
class Plugin:
    name: str
    version: str  # without the "v" the CLI puts in front
    package: str
    server: str  # the package's own download server, "" for Pulumi's default source

    @property
    def source(self) -> str:
        return self.server or DEFAULT_SOURCE.format(name=self.name)

    def asset(self, platform: str) -> str:
        """The tarball name the CLI asks a server for (standardAssetName, httpSource.Download)."""
        return f"pulumi-resource-{self.name}-v{self.version}-{platform}.tar.gz"


def normalized(name: str) -> str:
    """PEP 503 names, as the language host compares them (normalizePythonPackageName)."""
    return re.sub(r"[-_.]+", "-", name).lower()


def _plugin_json(distribution: metadata.Distribution) -> Mapping[str, Any] | None:
    # the host looks in the import package named after the distribution ('-' -> '_'), at its top level only
    module = distribution.metadata["Name"].replace("-", "_")
    for file in distribution.files or ():
        if file.parts == (module, "pulumi-plugin.json"):
            loaded: Mapping[str, Any] = json.loads(file.read_text())
            return loaded
    return None


def installed_packages() -> list[InstalledPackage]:
    """Every distribution of the running environment (the one `make` syncs from uv.lock)."""
    return [
        InstalledPackage(normalized(d.metadata["Name"]), d.version, _plugin_json(d)) for d in metadata.distributions()
    ]


def _plugin(package: InstalledPackage) -> Plugin | None:
    if package.name in PACKAGES_WITHOUT_PLUGINS:
        return None
    found = package.plugin_json
    if found is None:
        if not package.name.startswith("pulumi-"):
            return None
        found = {"resource": True}
    if not found.get("resource"):
        return None
    name = str(found.get("name") or package.name.removeprefix("pulumi-"))
    version = str(found.get("version") or package.version).removeprefix("v")
    return Plugin(name, version, package.name, str(found.get("server") or ""))


def required_plugins(packages: Iterable[InstalledPackage] | None = None) -> list[Plugin]:
    """The resource plugins every preview of this program needs, sorted by name."""
    found = (_plugin(p) for p in (installed_packages() if packages is None else packages))
    return sorted((plugin for plugin in found if plugin is not None), key=lambda p: p.name)


def used_plugins(recording: Recording) -> set[str]:
    """Packages this stack registers resources with: its provider resources, and every resource's type package
    (a default provider is registered by the engine, not the program, so the type is the only trace of it)."""
    used = set()
    for resource in recording.resources:
        if resource.type.startswith(PROVIDER_PREFIX):
            used.add(resource.type.removeprefix(PROVIDER_PREFIX))
        else:
            used.add(resource.type.split(":", 1)[0])
    return used


def cli_version() -> str:
    # the CLI and the Python SDK are released together under one version: the SDK pin is the CLI to install
    return metadata.version("pulumi")


def pulumi_document(recording: Recording, packages: Iterable[InstalledPackage] | None = None) -> dict[str, Any]:
    used = used_plugins(recording)
    return {
        "cli": cli_version(),
        "plugins": [
            {
                "kind": "resource",
                "name": plugin.name,
                "version": plugin.version,
                "package": plugin.package,
                "source": plugin.source,
                "usedByThisStack": plugin.name in used,
                "assets": {platform: plugin.asset(platform) for platform in PLATFORMS},
            }
            for plugin in required_plugins(packages)
        ],
    }


def report_lines(document: Mapping[str, Any]) -> list[str]:
    lines = [f"  Pulumi CLI {document['cli']} (it carries the Python language host and policy analyzer)"]
    for plugin in document["plugins"]:
        use = "used by this stack" if plugin["usedByThisStack"] else "not used here, still pre-installed"
        lines.append(
            f"    resource  {plugin['name'] + ' ' + plugin['version']:<22} {use:<35} "
            f"pulumi-resource-{plugin['name']}-v{plugin['version']}-<os>-<arch>.tar.gz"
        )
    return lines
