"""The command sequences the README and docs/operations.md give for a real `pulumi up` are the ones that work
with the Pulumi CLI (its behaviour read from the Pulumi source, as the docs cite it): a stack the backend does
not know is created, not just selected; a local backend gets its passphrase without a prompt; the policy pack's
environment is installed before the pack runs; every run of the pack gets the config `make plan` wrote for
that stack; and the stacks that need Pulumi Cloud for their ESC environment are named."""

from __future__ import annotations

import re
import shlex
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
OPERATIONS = ROOT / "docs" / "operations.md"
FIRST_DEPLOY = ROOT / "docs" / "first-deploy.md"
CLI_SECTION = "## Running it for real (Pulumi CLI)"
ESC_MARKER = "import a Pulumi ESC environment"
PASSPHRASE_VARIABLES = ("PULUMI_CONFIG_PASSPHRASE", "PULUMI_CONFIG_PASSPHRASE_FILE")
SEPARATORS = {"&&", "||", ";", "|", "{", "}"}


@dataclass(frozen=True)
class Command:
    words: tuple[str, ...]
    cwd: str  # relative to the repository root, as a subshell's `cd` leaves it

    def is_pulumi(self, *sub: str) -> bool:
        words = [w for w in self.words[1:] if not w.startswith("-")]
        return self.words[:1] == ("pulumi",) and tuple(words[: len(sub)]) == sub

    def option(self, *names: str) -> str | None:
        for i, word in enumerate(self.words):
            for name in names:
                if word == name and i + 1 < len(self.words):
                    return self.words[i + 1]
                if word.startswith(f"{name}="):
                    return word.split("=", 1)[1]
        return None

    @property
    def directory(self) -> str:
        """Where a pulumi command runs: its -C/--cwd, else the shell's directory."""
        return self.option("-C", "--cwd") or self.cwd


def _section(text: str, heading: str) -> str:
    start = text.index(heading)
    end = text.find("\n## ", start + len(heading))
    return text[start : end if end != -1 else len(text)]


def sh_blocks(text: str) -> list[str]:
    return re.findall(r"^ *```sh\n(.*?)^ *```", text, flags=re.S | re.M)


def commands(block: str) -> list[Command]:
    """Simple commands of a shell block in order; `( cd dir && ... )` runs what follows in dir."""
    logical = re.sub(r"(\\|&&|\|\|)\n\s*", lambda m: "" if m.group(1) == "\\" else f"{m.group(1)} ", block)
    logical = re.sub(r"<([\w-]+)>", r"\1", logical)  # a placeholder (<factory>) is a word, not a redirection
    found: list[Command] = []
    for line in logical.splitlines():
        lexer = shlex.shlex(line, posix=True, punctuation_chars=True)
        lexer.whitespace_split = True
        lexer.commenters = "#"
        words: list[str] = []
        cwd, outer = ".", ["."]
        for token in [*lexer, ";"]:
            if token in SEPARATORS or token in ("(", ")"):
                if words:
                    found.append(Command(tuple(words), cwd))
                    if words[0] == "cd" and len(words) == 2:
                        cwd = str(Path(cwd) / words[1])
                words = []
                if token == "(":
                    outer.append(cwd)
                elif token == ")":
                    cwd = outer.pop()
            else:
                words.append(token)
    return found


def _sets_passphrase(command: Command) -> bool:
    assignments = command.words[1:] if command.words[:1] == ("export",) else command.words
    return any(word.split("=", 1)[0] in PASSPHRASE_VARIABLES for word in assignments if "=" in word)


def _is_local_login(command: Command) -> bool:
    return command.is_pulumi("login") and (
        "--local" in command.words or any(w.startswith("file://") for w in command.words)
    )


def _creates_stack(command: Command) -> str | None:
    if command.is_pulumi("stack", "select") and ({"--create", "-c"} & set(command.words)):
        return command.words[-1]
    if command.is_pulumi("stack", "init") or command.is_pulumi("stack", "new"):
        return command.words[-1]
    return None


def _policy_dir() -> str:
    [pack] = [p.parent.relative_to(ROOT) for p in ROOT.glob("*/PulumiPolicy.yaml")]
    return str(pack)


def _backend_problems(sequence: list[Command], created: list[tuple[int, str]]) -> list[str]:
    logins = [i for i, c in enumerate(sequence) if c.is_pulumi("login")]
    if not logins:
        return []
    problems = []
    first_use = next(
        (i for i, c in enumerate(sequence) if c.is_pulumi("config") or c.is_pulumi("preview") or c.is_pulumi("up")),
        len(sequence),
    )
    if not created or not logins[0] < created[0][0] < first_use:
        problems.append("after `pulumi login` the stack must be created (`pulumi stack select --create`) first")
    local = _is_local_login(sequence[logins[0]])
    if local and created and not any(_sets_passphrase(c) for c in sequence[: created[0][0]]):
        problems.append(f"a local backend needs {' or '.join(PASSPHRASE_VARIABLES)} before the stack exists")
    return problems


def _pack_problems(sequence: list[Command], created: list[tuple[int, str]]) -> list[str]:
    packs = [i for i, c in enumerate(sequence) if c.option("--policy-pack")]
    problems = []
    installed = [i for i, c in enumerate(sequence) if c.is_pulumi("install") and c.directory == _policy_dir()]
    if packs and (not installed or installed[0] > packs[0]):
        problems.append("`pulumi install` must run inside policy/ before the first --policy-pack")
    for i in packs:
        command, shown = sequence[i], " ".join(sequence[i].words)
        stack = command.option("-s", "--stack") or (created[0][1] if created else None)
        if command.option("--policy-pack") != _policy_dir():
            problems.append(f"{shown}: the pack is {_policy_dir()}/")
        if command.option("--policy-pack-config") != f"build/{stack}/policy-config.json":
            problems.append(f"{shown}: needs --policy-pack-config build/{stack}/policy-config.json")
        if not [c for c in sequence[:i] if c.words[:2] == ("make", "plan") and f"STACK={stack}" in c.words]:
            problems.append(f"{shown}: `make plan STACK={stack}` writes its config first")
    return problems


def check_sequence(block: str) -> list[str]:
    """What a user following `block` from a fresh checkout and an empty backend would run into."""
    sequence = commands(block)
    created = [(i, stack) for i, c in enumerate(sequence) if (stack := _creates_stack(c))]
    return _backend_problems(sequence, created) + _pack_problems(sequence, created)


def _readme_cli() -> str:
    return _section(README.read_text(), CLI_SECTION)


def _pack_sequences() -> list[tuple[str, str]]:
    found = [(f"README block {i}", b) for i, b in enumerate(sh_blocks(_readme_cli()))]
    operations = OPERATIONS.read_text()
    # the onboarding steps are one sequence split over two blocks
    found.append(("operations.md onboarding", "\n".join(sh_blocks(_section(operations, "## Onboard a factory")))))
    # the first-deploy walk-through is one sequence over all its blocks (the last ones only check)
    found.append(("first-deploy.md", "\n".join(sh_blocks(FIRST_DEPLOY.read_text()))))
    return found


def test_the_readme_gives_a_local_backend_sequence_and_a_pulumi_cloud_one() -> None:
    blocks = sh_blocks(_readme_cli())
    assert any(_is_local_login(c) for c in commands(blocks[0])), "the first sequence is for a local backend"
    assert any(c.is_pulumi("login") and not _is_local_login(c) for b in blocks[1:] for c in commands(b))


@pytest.mark.parametrize("where", [where for where, _ in _pack_sequences()])
def test_each_cli_sequence_works_on_a_fresh_checkout_and_an_empty_backend(where: str) -> None:
    block = dict(_pack_sequences())[where]
    assert [c for c in commands(block) if c.option("--policy-pack")], where
    assert check_sequence(block) == [], where


def test_every_command_in_the_docs_that_runs_the_pack_gives_it_the_stack_config() -> None:
    docs = [README, *sorted((ROOT / "docs").glob("*.md"))]
    for path in [p for p in docs if "--policy-pack " in p.read_text()]:
        text = path.read_text()
        spans = re.findall(r"`(pulumi [^`\n]+)`", text)
        lines = [line for block in sh_blocks(text) for line in block.splitlines()]
        runs = [s for s in [*spans, *lines] if re.search(r"--policy-pack(\s|=)", s)]
        assert runs, path
        for run in runs:
            assert re.search(r"--policy-pack-config(\s|=)build/[^/\s]+/policy-config\.json", run), (path.name, run)


def test_the_pack_environment_pulumi_install_creates_is_gitignored() -> None:
    pack = yaml.safe_load((ROOT / _policy_dir() / "PulumiPolicy.yaml").read_text())
    options = pack["runtime"]["options"]
    # pulumi install creates and fills `virtualenv` for the pip toolchain (pkg/cmd/pulumi/policy/io.go)
    assert options["toolchain"] == "pip"
    venv = f"{_policy_dir()}/{options['virtualenv']}"
    ignored = subprocess.run(
        ["git", "check-ignore", "--no-index", "-q", f"{venv}/bin/python"], cwd=ROOT, check=False
    ).returncode
    assert ignored == 0, f"{venv}/ is not in .gitignore"


def _esc_stacks() -> set[str]:
    return {
        str(path.relative_to(ROOT))
        for path in (ROOT / "stacks").glob("Pulumi.*.yaml")
        if "environment" in (yaml.safe_load(path.read_text()) or {})
    }


@pytest.mark.parametrize("doc", [README, OPERATIONS], ids=lambda p: p.name)
def test_the_docs_name_exactly_the_stacks_that_need_pulumi_cloud_for_esc(doc: Path) -> None:
    text = doc.read_text()
    assert ESC_MARKER in text, doc.name
    paragraph = text[text.index(ESC_MARKER) :].split("\n\n", 1)[0]
    assert set(re.findall(r"stacks/Pulumi\.[\w-]+\.yaml", paragraph)) == _esc_stacks()


def test_the_readme_says_how_to_run_an_esc_stack_without_pulumi_cloud() -> None:
    text = _readme_cli()
    for stack in _esc_stacks():
        for cluster in yaml.safe_load((ROOT / stack).read_text())["config"]["factory-floor:clusters"]:
            key = cluster["kubeconfig"]["secretKey"]
            assert f"pulumi config set --secret {key} " in text, (stack, key)
    assert "delete the `environment:` block" in text


@pytest.mark.parametrize(
    ("block", "problem"),
    [
        (
            "pulumi login --local\nexport PULUMI_CONFIG_PASSPHRASE_FILE=f\npulumi stack select dev\n"
            "make plan STACK=dev\n(cd policy && pulumi install)\n"
            "pulumi up --policy-pack policy --policy-pack-config build/dev/policy-config.json\n",
            "the stack must be created",
        ),
        (
            "pulumi login --local\npulumi stack select --create dev\nmake plan STACK=dev\n"
            "(cd policy && pulumi install)\n"
            "pulumi up --policy-pack policy --policy-pack-config build/dev/policy-config.json\n",
            "PULUMI_CONFIG_PASSPHRASE",
        ),
        (
            "pulumi login file:///srv/state\nPULUMI_CONFIG_PASSPHRASE=x pulumi stack select -c dev\n"
            "make plan STACK=dev\npulumi install\n"
            "pulumi up --policy-pack policy --policy-pack-config build/dev/policy-config.json\n",
            "`pulumi install` must run inside policy/",
        ),
        (
            "pulumi login\npulumi stack select --create dev\nmake plan STACK=dev\n(cd policy && pulumi install)\n"
            "pulumi up --policy-pack policy\n",
            "needs --policy-pack-config build/dev/policy-config.json",
        ),
        (
            "pulumi login\npulumi stack select --create dev\n(cd policy && pulumi install)\n"
            "pulumi up --policy-pack policy --policy-pack-config build/pilsen/policy-config.json\n",
            "needs --policy-pack-config build/dev/policy-config.json",
        ),
    ],
    ids=["select-without-create", "local-without-passphrase", "install-outside-policy", "no-config", "other-stack"],
)
def test_the_checker_refuses_each_sequence_that_breaks_on_a_fresh_backend(block: str, problem: str) -> None:
    assert any(problem in p for p in check_sequence(block)), check_sequence(block)


def test_the_checker_accepts_the_equivalent_spellings() -> None:
    block = (
        "pulumi login file://$HOME/state\nexport PULUMI_CONFIG_PASSPHRASE=secret\npulumi stack init dev\n"
        "make plan STACK=dev\npulumi install -C policy\n"
        "pulumi preview --policy-pack=policy --policy-pack-config=build/dev/policy-config.json\n"
    )
    assert check_sequence(block) == []


def test_the_readme_states_the_cli_version_the_project_needs_and_recommends_the_sdk_pin() -> None:
    text = " ".join(_readme_cli().split())
    minimum = re.search(r"Pulumi CLI (\d+)\.(\d+)\.(\d+) or newer", text)
    assert minimum, "the README states a minimum CLI version"
    # typed `type: object` project config is validated since 3.187.0 (#20132), and Pulumi.yaml uses it
    assert "type: object" in (ROOT / "Pulumi.yaml").read_text()
    assert tuple(map(int, minimum.groups())) >= (3, 187, 0)
    [pin] = re.findall(r'"pulumi==([\d.]+)"', (ROOT / "pyproject.toml").read_text())
    assert f"Use {pin}, the Python SDK" in text
