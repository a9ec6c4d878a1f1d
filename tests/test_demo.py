"""The demo ships whole in the package: its config agrees with the checkout's copy, its corpus is what the
generator in .ci/demo_corpus/ writes, and an installed wheel (no checkout) holds both and loads them."""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from labeler.cli.demo import DEMO_STATE, demo_config_path, demo_overrides
from labeler.config import load_config
from labeler.data import load_pool

REPO = Path(__file__).resolve().parents[1]
PACKAGED = REPO / "labeler" / "demo" / "demo.yaml"
CHECKOUT = REPO / "configs" / "demo.yaml"
CORPUS = REPO / "labeler" / "demo" / "tickets.jsonl"


def test_the_packaged_config_and_the_checkout_copy_agree():
    packaged, checkout = PACKAGED.read_text(), CHECKOUT.read_text()
    assert "  path: tickets.jsonl   # relative to this file\n" in packaged
    assert checkout.replace("path: ../labeler/demo/tickets.jsonl", "path: tickets.jsonl") == packaged
    a, b = load_config(PACKAGED), load_config(CHECKOUT)
    assert a.data.path == b.data.path == CORPUS
    assert a.model_dump(exclude={"project", "training"}) == b.model_dump(exclude={"project", "training"})


def test_the_demo_uses_the_packaged_config_with_its_state_in_the_current_folder(tmp_path):
    assert demo_config_path() == PACKAGED
    overrides = demo_overrides(PACKAGED, ["queue.batch_size=7"], cwd=tmp_path)
    assert overrides == [f"project.dir={tmp_path.resolve() / DEMO_STATE}", "queue.batch_size=7"]
    config = load_config(PACKAGED, overrides)
    assert config.project.dir == tmp_path.resolve() / ".labeler" / "demo" and config.queue.batch_size == 7
    mine = f"project.dir={tmp_path / 'elsewhere'}"
    assert demo_overrides(PACKAGED, [mine], cwd=tmp_path) == [mine]  # the user's choice wins
    assert demo_overrides(CHECKOUT, [], cwd=tmp_path) == []  # another config keeps its own default


def test_the_generator_in_ci_demo_corpus_writes_the_shipped_corpus_byte_for_byte(tmp_path, capsys):
    spec = importlib.util.spec_from_file_location("make_demo_tickets", REPO / ".ci" / "demo_corpus" / "make_demo_tickets.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.main(tmp_path / "tickets.jsonl")
    assert (tmp_path / "tickets.jsonl").read_bytes() == CORPUS.read_bytes()
    assert capsys.readouterr().out.startswith("wrote 360 tickets")
    assert not (REPO / "labeler" / "demo" / "make_tickets.py").exists()  # generators stay out of the package


@pytest.mark.slow
def test_a_wheel_ships_the_demo_config_and_corpus_and_they_load_without_a_checkout(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(REPO / name, src / name)
    ignore = shutil.ignore_patterns("__pycache__", ".labeler", "*.egg-info")
    for package in ("labeler", "training"):
        shutil.copytree(REPO / package, src / package, ignore=ignore)
    out = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
                          "-w", str(tmp_path / "dist"), str(src)], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    assert "deprecated" not in out.stderr.lower()  # e.g. setuptools' license-table warning
    [wheel] = (tmp_path / "dist").glob("labeler-*.whl")
    with zipfile.ZipFile(wheel) as zf:
        names = set(zf.namelist())
        assert {"labeler/demo/demo.yaml", "labeler/demo/tickets.jsonl"} <= names
        assert not any(n.startswith("bench/") or n.endswith("make_tickets.py") for n in names)
        zf.extractall(tmp_path / "site")
    config = load_config(tmp_path / "site" / "labeler" / "demo" / "demo.yaml",
                         [f"project.dir={tmp_path / 'state'}"])
    assert config.data.path == tmp_path / "site" / "labeler" / "demo" / "tickets.jsonl"
    pool = load_pool(config, use_cache=False)
    assert len(pool) == 360 and pool.rejects == {}
    assert {r.label for r in pool} == set(config.label_names)


def test_the_demo_writes_a_config_of_the_users_own_in_the_working_folder(tmp_path):
    from labeler.cli.demo import USER_CONFIG, user_config

    state = tmp_path / ".labeler" / "demo"
    overrides = ["queue.batch_size=7", f"project.dir={state}"]
    path, written = user_config(load_config(PACKAGED, overrides), overrides, cwd=tmp_path)
    assert (path, written) == (tmp_path / USER_CONFIG, True)
    mine = load_config(path)
    assert mine.data.path == CORPUS and mine.project.dir == state.resolve()
    packaged = load_config(PACKAGED, overrides[1:])
    assert mine.model_dump(exclude={"project"}) == packaged.model_dump(exclude={"project"})
    assert (mine.argilla.dataset, mine.project.name) == (packaged.argilla.dataset, packaged.project.name) == ("demo", "demo")
    assert path.read_text().endswith('  dir: ".labeler/demo"   # the demo\'s state (relative to this file)\n'
                                     "# labeler demo ran with: --set queue.batch_size=7\n")
    path.write_text(path.read_text() + "# my edit\n")
    assert user_config(packaged, [], cwd=tmp_path) == (path, False) and path.read_text().endswith("# my edit\n")
    elsewhere = tmp_path.parent / f"{tmp_path.name}-state"
    (tmp_path / "sub").mkdir()
    other, _ = user_config(load_config(PACKAGED, [f"project.dir={elsewhere}"]), [], cwd=tmp_path / "sub")
    assert load_config(other).project.dir == elsewhere.resolve()
