"""The shipped configs are composed, not copied: `experiments/base.yaml` (seed, logger,
callbacks) ← `<dataset>/dataset.yaml` (data, epochs, run folder) ← `<dataset>/<method>.yaml`
(model and the method's own data keys), each file pulling in the one before with `config:`.

A method file must resolve to its layers merged key by key (a naive reference: later files win
value by value, lists are replaced), so that no layer silently drops what an earlier one set.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from jsonargparse import ArgumentParser

from eventssl.compare.rows import comparison_rows
from eventssl.compare.settings import check_settings
from eventssl.compare.settings import parser as compare_parser
from eventssl.lightning_cli import EventSSLCLI, run_lightning

EXPERIMENTS = Path(__file__).parents[1] / "experiments"
BASE = EXPERIMENTS / "base.yaml"
DATASETS = sorted(path.parent for path in EXPERIMENTS.glob("*/dataset.yaml"))
METHOD_CONFIGS = sorted(p for p in EXPERIMENTS.glob("*/*.yaml") if "model:" in p.read_text())
COMPARE_CONFIGS = sorted(
    path
    for path in EXPERIMENTS.glob("**/*.yaml")
    if "runs" not in path.relative_to(EXPERIMENTS).parts
    and "configs" in (yaml.safe_load(path.read_text()) or {})
)


class ParserBuilt(Exception):
    """Carries the CLI's parser out of its constructor, before it parses anything."""


@pytest.fixture(scope="module")
def fit_parser() -> ArgumentParser:
    """The parser `eventssl fit` uses, built once by the real entry point."""

    def stop(cli: EventSSLCLI, parser: ArgumentParser, args: Any) -> None:
        raise ParserBuilt(parser)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(EventSSLCLI, "parse_arguments", stop)
        with pytest.raises(ParserBuilt) as built:
            run_lightning([])
    return built.value.args[0]


def resolve(parser: ArgumentParser, config: Path) -> dict[str, Any]:
    """What `eventssl fit --config CONFIG --print_config` shows, as a dict."""
    settings = parser.parse_args(["fit", "--config", str(config)]).fit
    settings.pop("config")  # the files read, not a setting
    return settings.as_dict()


def merged(base: dict, top: dict) -> dict:
    """`top` over `base`, mapping by mapping; any other value (lists too) replaces."""
    out = dict(base)
    for key, value in top.items():
        both = isinstance(value, dict) and isinstance(out.get(key), dict)
        out[key] = merged(out[key], value) if both else value
    return out


def layered(path: Path) -> dict:
    """A config file's settings over those of the file its `config:` names, recursively;
    `data.max_length: 100` is read as {"data": {"max_length": 100}}."""
    own = yaml.safe_load(path.read_text())
    settings = layered(path.parent / own.pop("config")) if "config" in own else {}
    for key, value in own.items():
        for part in reversed(key.split(".")):
            value = {part: value}
        settings = merged(settings, value)
    return settings


@pytest.mark.parametrize("config", METHOD_CONFIGS, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_method_config_is_its_layers_merged(
    config: Path, fit_parser: ArgumentParser, tmp_path: Path
) -> None:
    flat = tmp_path / "flat.yaml"
    flat.write_text(yaml.safe_dump(layered(config)))
    resolved = resolve(fit_parser, config)
    assert resolved == resolve(fit_parser, flat)
    # runs land in runs/<dataset>/, data comes from data/<dataset>/, the callbacks are base's
    dataset = config.parent.name
    assert resolved["trainer"]["logger"]["init_args"]["name"] == dataset
    assert Path(resolved["data"]["path"]).name == dataset
    base_callbacks = yaml.safe_load(BASE.read_text())["trainer"]["callbacks"]
    assert [c["class_path"] for c in resolved["trainer"]["callbacks"]] == [
        c["class_path"] for c in base_callbacks
    ]


def test_layers_pull_in_the_one_before_and_set_values_one_by_one() -> None:
    """`config:` first (what comes before it is overwritten by the file it reads); after it, a
    nested block (`data:` with keys under it) would replace everything the earlier file set in
    that block, so a later layer writes `data.max_length: 100`."""
    assert DATASETS, "no experiments/<dataset>/dataset.yaml"
    layers = [(path, "../base.yaml") for path in (d / "dataset.yaml" for d in DATASETS)]
    layers += [(path, "dataset.yaml") for path in METHOD_CONFIGS]
    for path, parent in layers:
        own = yaml.safe_load(path.read_text())
        assert list(own)[0] == "config" and own["config"] == parent, (
            f"{path}: the first key must be `config: {parent}`"
        )
        earlier = layered(path.parent / parent)
        for key, value in own.items():
            assert not (isinstance(value, dict) and key in earlier), (
                f"{path}: a `{key}:` block replaces the whole `{key}` of {parent}; "
                f"write `{key}.<name>: value` lines instead"
            )


def test_shared_settings_are_written_once() -> None:
    """The seed and the callbacks live only in base.yaml; epochs and run folder per dataset."""
    base = yaml.safe_load(BASE.read_text())
    assert "seed_everything" in base and base["trainer"]["callbacks"]
    for path in [*(d / "dataset.yaml" for d in DATASETS), *METHOD_CONFIGS]:
        keys = set(yaml.safe_load(path.read_text()))
        assert not keys & {"seed_everything", "trainer", "trainer.callbacks"}, path
    for dataset in DATASETS:
        keys = set(yaml.safe_load((dataset / "dataset.yaml").read_text()))
        assert {"trainer.max_epochs", "trainer.logger.init_args.name", "data"} <= keys, dataset
    for path in METHOD_CONFIGS:
        keys = set(yaml.safe_load(path.read_text())) - {"config", "model"}
        assert all(key.startswith("data.") for key in keys), f"{path}: {sorted(keys)}"


@pytest.mark.parametrize("config", COMPARE_CONFIGS, ids=lambda p: str(p.relative_to(EXPERIMENTS)))
def test_compare_settings_find_their_method_configs(config: Path) -> None:
    """Every shipped comparison parses and names method files that exist (nothing trains)."""
    settings = compare_parser().parse_args(["--config", str(config)])
    check_settings(settings)
    configs = EXPERIMENTS.parent / settings.configs
    rows = comparison_rows(settings.methods, settings.variants, configs, settings.method_overrides)
    assert {row.name for row in rows} >= set(settings.methods)
    for row in rows:
        assert "model:" in (configs / f"{row.method}.yaml").read_text(), row
