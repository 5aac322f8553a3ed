"""Every Keras model the package builds is built in ``medtools/models/`` (issue 21, step 2).

A model built elsewhere in the package is a second home for an architecture: two builders
drift apart (the package once had two different ``small_cnn``), and a reader looking for a
model in ``medtools.models`` does not find it. This test reads the source of every module
outside ``medtools/models/`` (no import) and fails on any call of ``keras.Model``,
``keras.Sequential`` or ``keras.Input`` (under any alias, ``keras.models.*``,
``keras.layers.Input`` and ``tf.keras.*`` included) and on any class that subclasses a Keras
model, unless the function that contains it is in :data:`ALLOWED` with the reason it is not a
model the book trains. Chapters may build their own models: the book shows them.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "medtools"
MODELS = PACKAGE / "models"
#: The calls that build a Keras model, by their last name.
BUILDERS = {"Model", "Sequential", "Input", "Functional"}

#: Functions outside models/ that may build a Keras model, by name (wherever the module moves):
#: name → why it is not a model architecture of the book.
ALLOWED: dict[str, str] = {
    # Data augmentation: a Sequential of random preprocessing layers, no trained weights.
    "augmentation": "data augmentation policy (random layers, nothing trained)",
    "article_augmentation": "the article's data augmentation (random layers, nothing trained)",
    "contrastive_augmentation": "SimCLR's two-view augmentation (random layers, nothing trained)",
    # Views of a model that exists already: they share its layers and weights.
    "_encoder": "a sub-model of a given model, input to a named layer (shares the weights)",
    "logit_model": "a given trained model with its last sigmoid removed, for calibration and distillation "
                   "(the same weights, one copied Dense layer)",
    # Trained, but not a model the book reports: a candidate for models/ (reported in issue 21).
    "pretrain_simclr": "SimCLR's projection head (two Dense layers), trained with the encoder and then discarded",
}


def _dotted(node: ast.expr) -> str | None:
    """``keras.models.Model`` for an attribute chain, ``Model`` for a name, else None."""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        return ".".join([node.id, *reversed(parts)])
    return None


def _keras_names(tree: ast.Module) -> set[str]:
    """Local names bound to Keras (``import keras``, ``from keras import layers, Model``, tf.keras)."""
    names = {"keras", "tf"}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {a.asname or a.name.split(".")[0] for a in node.names if a.name.split(".")[0] in ("keras", "tensorflow")}
        elif isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] in ("keras", "tensorflow"):
            names |= {a.asname or a.name for a in node.names}
    return names


def _is_builder(dotted: str | None, keras_names: set[str]) -> bool:
    if dotted is None:
        return False
    root, *_, last = dotted.split(".") if "." in dotted else (dotted, dotted)
    return last in BUILDERS and root in keras_names


def model_builds(path: Path) -> list[tuple[str, int, str]]:
    """``(function, line, call)`` for every Keras-model construction in one module's source."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    keras_names = _keras_names(tree)
    found: list[tuple[str, int, str]] = []

    def visit(node: ast.AST, function: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
                visit(child, function or child.name)  # an inner function belongs to its outer one
                continue
            if isinstance(child, ast.ClassDef):
                for base in child.bases:
                    if _is_builder(_dotted(base), keras_names):
                        found.append((child.name, child.lineno, f"class {child.name}({_dotted(base)})"))
            if isinstance(child, ast.Call) and _is_builder(_dotted(child.func), keras_names):
                found.append((function or "<module>", child.lineno, f"{_dotted(child.func)}(...)"))
            visit(child, function)

    visit(tree, "")
    return found


def _modules_outside_models() -> list[Path]:
    return sorted(p for p in PACKAGE.rglob("*.py") if MODELS not in p.parents)


def test_the_scan_finds_what_it_looks_for(tmp_path):
    """The detector itself: every spelling of a model construction is found, a layer is not."""
    source = (
        "import keras\nimport tensorflow as tf\nfrom keras import Sequential, layers\nfrom keras import models as km\n"
        "def a():\n    return keras.Model(x, y)\n"
        "def b():\n    return Sequential([layers.Dense(1)])\n"
        "def c():\n    return layers.Input((2,))\n"
        "def d():\n    return tf.keras.models.Model(x, y)\n"
        "def e():\n    def inner():\n        return km.Sequential()\n    return inner\n"
        "class F(keras.Model):\n    pass\n"
        "def g():\n    return layers.Dense(3)\n"
    )
    path = tmp_path / "probe.py"
    path.write_text(source, encoding="utf-8")
    assert sorted(f for f, _, _ in model_builds(path)) == ["F", "a", "b", "c", "d", "e"]


def test_no_model_is_built_outside_models():
    offenders = []
    seen = set()
    for path in _modules_outside_models():
        for function, line, call in model_builds(path):
            seen.add(function)
            if function not in ALLOWED:
                offenders.append(f"{path.relative_to(PACKAGE.parent)}:{line} {function}: {call}")
    assert not offenders, (
        "These build a Keras model outside medtools/models/; move the builder into medtools.models "
        "(or, if it is not a model architecture, add its function to ALLOWED with the reason):\n  "
        + "\n  ".join(offenders)
    )
    stale = sorted(set(ALLOWED) - seen)
    assert not stale, f"ALLOWED names functions that build no model any more (remove them): {stale}"
