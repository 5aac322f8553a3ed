"""The public names of every medtools module, written out: a name that disappears fails here.

Chapters use these names (``ref.conv2d``, ``models.ARTICLE_PARAMS``, ``metrics.THRESHOLD_RULES``,
...), so removing or renaming one breaks a chapter. Each list is the full public API as of
the restructuring into subpackages (issue 8). Adding a name is fine; add it here too.

Also checked: every name in a module's ``__all__`` exists, ``__all__`` lists every name
below (a name left out of ``__all__`` is how ``metrics.THRESHOLD_RULES`` once went missing),
a subpackage re-exports exactly its modules' names, and ``import medtools`` is lazy.
"""

from __future__ import annotations

import importlib
import subprocess
import sys

import pytest

PUBLIC: dict[str, list[str]] = {
    "medtools.arrays": [
        "as_1d", "as_float", "as_images", "as_labels", "as_pair", "as_scores", "same_shape", "work_dtypes",
    ],
    "medtools.book": [
        "COLAB_EXTRAS", "COLAB_NO_DEPS", "REPOSITORY_URL", "colab_badge", "colab_cell", "glue", "markdown_table",
        "sample_xrays", "setup", "show_source", "write_colab_cells",
    ],
    # --- medtools.plots (chapters background, keras_classifier, and every chapter's figures)
    "medtools.plots.style": ["PALETTE", "use_style"],
    "medtools.plots.images": ["class_balance", "image_grid", "volume_slices"],
    "medtools.plots.evaluation": [
        "MAX_PANELS", "confusion_matrix_plot", "reliability_diagram", "roc_pr_curves", "threshold_panels",
    ],
    "medtools.plots.widgets": ["SliceViewer", "ThresholdExplorer", "slice_slider", "threshold_explorer"],
    # --- medtools.data (chapters background, concepts, workflow, segmentation)
    "medtools.data.medmnist": [
        "DATA_DIR_ENV", "OFFLINE_ENV", "SIZES_2D", "SIZES_3D", "SPLITS", "DataError", "DatasetInfo", "Split", "Splits",
        "available", "data_dir", "fetch", "info", "load", "md5sum", "read_npz",
    ],
    "medtools.data.augment": ["AUGMENTATION_POLICIES", "article_augmentation", "augmentation"],
    "medtools.data.pipeline": ["make_dataset", "to_float"],
    "medtools.train": [
        "CACHE_DIR_ENV", "NUMERIC_ENV", "SPEC_VOCABULARY", "balanced_class_weights", "cache_dir", "cache_key", "data_fingerprint",
        "fit_cached", "model_fingerprint", "predict_proba", "set_seed",
    ],
    "medtools.callbacks": ["EpochMetrics", "TrainingProgress"],
    "medtools.stats": ["Difference", "MeanSD", "auc_counts", "paired_difference", "versus_published"],
    # --- medtools.dicom (chapters dicom, deidentification); the package re-exports the reader's modules
    "medtools.dicom.errors": [
        "DecodeFailedError", "DicomError", "ERROR_KINDS", "MalformedError", "NoDecoderError", "NoGeometryError",
        "NoPixelDataError", "NotAFileError", "NotDicomError", "NotHounsfieldError", "TruncatedError",
        "UnsupportedPhotometricError",
    ],
    "medtools.dicom.image": ["DicomImage", "WINDOWS", "Window", "window"],
    "medtools.dicom.transfer": ["DecoderInfo", "decoders", "lossy_reasons"],
    "medtools.dicom.reader": ["load", "outcome", "pydicom_test_files", "survey"],
    "medtools.dicom.geometry": ["canonical", "pixel_to_patient", "plane", "resample", "to_model_input"],
    "medtools.benchmark": [
        "DATASETS", "IMAGE_SIZE", "MODELS", "SPEC_VERSION", "DatasetConfig", "ModelConfig", "RunPlan", "RunResult",
        "build_model", "load_splits", "main", "run_config", "run_many", "run_plan", "search", "summarise", "throughput",
    ],
    "medtools.benchmark.config": [
        "DATASETS", "IMAGE_SIZE", "MODELS", "TASKS", "DatasetConfig", "ModelConfig", "build_model", "dataset_config",
        "model_config", "task_module",
    ],
    "medtools.benchmark.run": [
        "RunPlan", "RunResult", "ensemble", "evaluate_run", "load_splits", "run_config", "run_many", "run_plan", "summarise",
        "train_run",
    ],
    "medtools.benchmark.throughput": ["TRAINING_FLOPS_PER_FORWARD", "matmul_gflops", "training_gflops"],
    "medtools.benchmark.cli": ["main"],
    "medtools.benchmark.grading": [
        "AUGMENTATION", "BATCH", "EPOCHS", "HEADS", "K", "LR", "MODELS", "USUAL_RULE", "WEIGHT_GRID", "WIDTHS",
        "choose_class_weights", "class_scores", "fit_grader", "initial_biases", "summarise", "train_and_score", "usual_grade",
    ],
    "medtools.benchmark.segmentation": [
        "FLIPS", "FLIP_CHOICES", "MODELS", "SCALE", "THRESHOLDS", "Recipe", "bce_dice", "build_unet", "choose_threshold",
        "fit_unet", "flip_name", "mean_dice", "predict_tiled", "predict_tiled_all", "sample_patches",
        "summarise", "to_full", "to_input", "train_and_score",
    ],
    "medtools.benchmark.search": [
        "CANDIDATES", "SEARCH_BASE", "SELECTION_MARGIN", "choose", "main", "recipe_search", "search_record", "settings",
    ],
    # --- medtools.reference: from-scratch NumPy (chapters cnn, rnn, attention, workflow)
    "medtools.reference.activations": ["logit", "sigmoid", "softmax"],
    "medtools.reference.windows": [
        "CONV_PADDINGS", "conv_output_size", "pad_spatial", "same_padding", "sliding_windows", "window_geometry",
    ],
    "medtools.reference.conv": [
        "conv2d", "conv2d_grad", "conv2d_params", "im2col", "receptive_field", "receptive_field_table",
    ],
    "medtools.reference.pooling": ["avg_pool2d", "max_pool2d"],
    "medtools.reference.recurrent": ["gru", "gru_step", "lstm", "lstm_step", "simple_rnn", "simple_rnn_step"],
    "medtools.reference.attention": [
        "attention_entropy", "layer_norm", "multi_head_attention", "patchify", "scaled_dot_product_attention",
    ],
    "medtools.reference.losses": ["KERAS_EPSILON", "binary_crossentropy", "mse"],
    "medtools.reference.optim": ["AdamState", "adam_init", "adam_step", "momentum_step", "sgd_step"],
    # --- medtools.metrics (chapters workflow, keras_classifier)
    "medtools.metrics.classification": [
        "accuracy", "confusion", "f1", "pr_auc", "pr_curve", "precision", "recall", "roc_auc", "roc_curve",
        "sensitivity", "specificity",
    ],
    "medtools.metrics.bootstrap": ["BootstrapCI", "bootstrap_ci"],
    "medtools.metrics.thresholds": ["THRESHOLD_RULES", "choose_threshold", "threshold_metrics"],
    "medtools.metrics.shift": ["adjust_to_prior", "bbse_prior", "em_prior", "prior_shift_threshold"],
    "medtools.metrics.calibration": ["expected_calibration_error", "reliability_curve"],
    "medtools.metrics.evaluation": [
        "MEDMNIST_TASKS", "evaluate_binary", "grade_confusion", "medmnist_acc", "medmnist_auc", "medmnist_evaluate",
        "quadratic_weighted_kappa",
    ],
    "medtools.metrics.segmentation": [
        "dice", "hausdorff95", "iou", "pixel_auc", "pixel_counts", "pixel_sensitivity", "pixel_specificity",
        "segmentation_scores", "soft_dice_loss",
    ],
    # --- medtools.models (chapters concepts, rnn, attention, keras_classifier, beyond_article)
    "medtools.models.article": ["ARTICLE_PARAMS", "article_cnn"],
    "medtools.models.compact": ["COMPACT_OPTIMIZERS", "MAX_COMPACT_PARAMS", "compact_cnn"],
    "medtools.models.counting": ["count_flops", "layer_table"],
    "medtools.models.sequence": ["cnn3d", "pool_volumes", "slice_gru"],
    "medtools.models.small": ["SMALL_CNN_HEADS", "SMALL_CNN_OPTIMIZERS", "small_cnn"],
    "medtools.models.transformer": ["PatchEncoder", "vit", "vit_attention_inputs"],
    "medtools.models.ordinal": [
        "ORDINAL_HEADS", "OrdinalBias", "cumulative_to_class_probs", "ordinal_cnn", "ordinal_levels",
    ],
    "medtools.models.unet": ["unet"],
    # --- chapter segmentation
    "medtools.data.chase": [
        "CHASE_DIR_ENV", "OFFICIAL_PAGE", "SHA256", "TEST_CHILDREN", "TRAIN_CHILDREN", "ChaseError", "ChaseImage",
        "chase_dir", "fov_mask", "image_names", "load_chase", "split_children", "verify_chase",
    ],
    "medtools.data.phantoms": ["vessel_tree"],
    "medtools.scarcity": [
        "contrastive_augmentation", "encoder_features", "fit_linear_probe", "flip_labels", "mixup_batch", "nt_xent_loss",
        "pretrain_simclr", "probe_scores", "stratified_subset", "train_steps", "training_batches",
    ],
    "medtools.dicom.deid.profile": [
        "BASIC_PROFILE", "BURNED_IN_RISK", "EDITION", "KEEP_TEXT", "TABLE_E1_1", "DeidReport", "Refused",
        "deidentify", "deidentify_file", "remap_uid",
    ],
    "medtools.dicom.deid.fileset": ["deidentify_fileset"],
    "medtools.dicom.deid.conformance": ["attribute_actions", "conformance"],
    "medtools.dicom.leaks": [
        "BENIGN", "CATEGORIES", "MIN_SUBSTRING", "Identifier", "Leak", "LeakReport", "check", "collect", "search",
    ],
    # --- medtools.privacy (chapter privacy)
    "medtools.privacy.federated": ["average_weights", "dirichlet_split", "federated_averaging", "model_bytes"],
    "medtools.privacy.dp": ["dp_epsilon", "dp_noise_multiplier", "dp_train", "per_example_gradients", "privatise"],
    "medtools.privacy.membership": [
        "dp_membership_auc_bound", "dp_membership_tpr_bound", "membership_auc", "per_example_loss",
    ],
    # --- medtools.efficiency (chapter efficiency); the package re-exports its modules
    "medtools.efficiency.latency": ["Latency", "keras_runner", "measure_latency"],
    "medtools.efficiency.litert": [
        "keras_weights_size", "litert_predict", "litert_runner", "litert_tensors", "logit_model", "to_litert",
    ],
    "medtools.efficiency.distill": ["distillation_loss", "distillation_targets", "prob_to_logit"],
    "medtools.efficiency.scaling": ["SCALING_WIDTHS", "scaling_model", "scaling_run", "scaling_study"],
    "medtools.efficiency.distributed": ["WORKER_INPUT_SHAPE", "fit_data_parallel", "run_mirrored", "run_multiworker"],
    "medtools.efficiency.workers": ["WorkerResult", "free_ports", "launch_workers", "tf_config"],
    "medtools.efficiency.cli": ["main"],
    "medtools.explain": [
        "cascading_randomisation", "conv_layers", "default_layer", "energy_inside", "find_layer", "grad_cam",
        "integrated_gradients", "occlusion", "pointing_hit", "rank_correlation", "reinitialise", "ssim",
    ],
}

SUBPACKAGES: dict[str, list[str]] = {
    "medtools.data": ["medmnist", "augment", "pipeline"],  # chase and phantoms are imported by name
    "medtools.plots": ["style", "images", "evaluation", "widgets"],
    "medtools.reference": [
        "activations", "windows", "conv", "pooling", "recurrent", "attention", "losses", "optim",
    ],
    "medtools.metrics": ["classification", "bootstrap", "thresholds", "calibration", "evaluation", "segmentation", "shift"],
    "medtools.models": ["article", "compact", "counting", "sequence", "small", "transformer", "unet", "ordinal"],
    "medtools.efficiency": ["latency", "litert", "distill", "scaling", "distributed", "workers", "cli"],
    "medtools.dicom": ["errors", "image", "transfer", "reader", "geometry"],
    "medtools.dicom.deid": ["profile", "fileset", "conformance"],
    "medtools.privacy": ["federated", "dp", "membership"],
}
for _pkg, _modules in SUBPACKAGES.items():
    PUBLIC[_pkg] = sorted(name for m in _modules for name in PUBLIC[f"{_pkg}.{m}"])

#: Public names of modules owned elsewhere that their ``__all__`` does not list yet (to be fixed there).
NOT_IN_ALL: dict[str, set[str]] = {}


@pytest.mark.parametrize("module", sorted(PUBLIC))
def test_every_public_name_still_exists(module):
    mod = importlib.import_module(module)
    missing = [name for name in PUBLIC[module] if not hasattr(mod, name)]
    assert not missing, f"{module} lost {missing}; a chapter or another module may use them."


@pytest.mark.parametrize("module", sorted(PUBLIC))
def test_all_names_exist_and_list_every_public_name(module):
    mod = importlib.import_module(module)
    listed = list(getattr(mod, "__all__", ()))
    assert listed, f"{module} has no __all__."
    assert len(set(listed)) == len(listed), f"{module}.__all__ has duplicates."
    ghosts = [name for name in listed if not hasattr(mod, name)]
    assert not ghosts, f"{module}.__all__ names {ghosts}, which do not exist."
    left_out = set(PUBLIC[module]) - set(listed) - NOT_IN_ALL.get(module, set())
    assert not left_out, f"{module}.__all__ leaves out {sorted(left_out)}."


@pytest.mark.parametrize("package", sorted(SUBPACKAGES))
def test_a_subpackage_reexports_exactly_its_modules(package):
    pkg = importlib.import_module(package)
    union = set()
    for module in SUBPACKAGES[package]:
        mod = importlib.import_module(f"{package}.{module}")
        union |= set(mod.__all__)
        for name in mod.__all__:  # the same object, not a copy
            assert getattr(pkg, name) is getattr(mod, name), f"{package}.{name} is not {package}.{module}.{name}"
    assert set(pkg.__all__) == union


def test_models_vit_is_the_builder_not_the_module():
    from medtools import models

    assert callable(models.vit) and models.vit.__name__ == "vit"


def test_import_medtools_is_lazy_and_lists_its_subpackages():
    code = (
        "import sys, medtools\n"
        "names = dir(medtools)\n"
        "assert {'reference', 'models', 'metrics', 'arrays', 'data', 'book'} <= set(names), names\n"
        "assert '__version__' in names\n"
        "assert not {'tensorflow', 'keras', 'medtools.data'} & set(sys.modules)\n"
        "assert medtools.reference.conv2d and medtools.metrics.THRESHOLD_RULES\n"
        "assert 'tensorflow' not in sys.modules  # reference and metrics are plain NumPy\n"
        "try:\n"
        "    medtools.nonexistent\n"
        "except AttributeError as exc:\n"
        "    assert 'nonexistent' in str(exc)\n"
        "else:\n"
        "    raise AssertionError('no AttributeError')\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)
