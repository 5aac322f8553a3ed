"""CHASE_DB1 retinal vessel images: verified loading, the literature's split, field-of-view masks.

Introduced in the chapter *Assisted diagnosis: segmenting retinal vessels*
(``chapters/segmentation``). CHASE_DB1 (Fraz et al., IEEE TBME 2012,
doi:10.1109/TBME.2012.2205687; licence CC BY 4.0; Kingston University London and St George's,
University of London) holds 28 colour fundus images ``Image_NN{L,R}.jpg`` (999 x 960 RGB) of
the left and right eyes of 14 children, each with two manual vessel annotations,
``Image_NN{L,R}_1stHO.png`` and ``_2ndHO.png`` (1-bit). Readers download ``CHASEDB1.zip`` from
the official page (:data:`OFFICIAL_PAGE`) and unpack its 84 files, flat, into
:func:`chase_dir`: ``$MEDTOOLS_CHASE_DIR`` or ``<data dir parent>/chase_db1/CHASEDB1``.

There is no official per-file checksum; :data:`SHA256` lists the SHA-256 of two independent
public copies that agree byte for byte. There is no official split either: the common
protocol (:data:`TRAIN_CHILDREN`, :data:`TEST_CHILDREN`) trains on children 01-10 (20 images)
and tests on children 11-14 (8 images), with the first observer as ground truth.
The release has no field-of-view (FOV) masks; :func:`fov_mask` derives one from the image.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from medtools.data._verify import DataError, matches

__all__ = [
    "CHASE_DIR_ENV",
    "OFFICIAL_PAGE",
    "SHA256",
    "TEST_CHILDREN",
    "TRAIN_CHILDREN",
    "ChaseError",
    "ChaseImage",
    "chase_dir",
    "fov_mask",
    "image_names",
    "load_chase",
    "split_children",
    "verify_chase",
]

#: Environment variable naming the folder that holds the 84 files (or a folder ``CHASEDB1``).
CHASE_DIR_ENV = "MEDTOOLS_CHASE_DIR"
#: Where readers download ``CHASEDB1.zip`` (formerly https://researchdata.kingston.ac.uk/96/).
OFFICIAL_PAGE = "https://researchinnovation.kingston.ac.uk/en/datasets/chasedb1-retinal-vessel-reference-dataset-4/"
#: Children (two eyes each) of the literature's training and test sets.
TRAIN_CHILDREN = tuple(range(1, 11))
TEST_CHILDREN = tuple(range(11, 15))

_SUMS = """
9fc072bff4d4f64ed0be448f576526c9aeb9d17dd618a17112a64ac35fae8343  Image_01L.jpg
b7f30cf206efe550e4df135782ee4470b67fcd2b088fab4285c3bf2f4b7c61e3  Image_01L_1stHO.png
7c244339efc7014c2feb3b19fbe2f352eaa1c643358afec666bef7b615b5f4c9  Image_01L_2ndHO.png
90ae4101ef4313f1c08fae2114d03364d9ee860c641281b1a47f33a6c5442d86  Image_01R.jpg
b7817217539f7ff10d9e26b596a95d174ef010561c0d91470f9816f7e5d40ce5  Image_01R_1stHO.png
302ef09d38aeea67c02a80ec2e134cdb201e43aeaf60db987b7f77ffc01ae565  Image_01R_2ndHO.png
952de8dc2b15fcb4c34a200b5ce4b12d7d8875892b6c2a362a83bf997b761716  Image_02L.jpg
f832df82a60695661885d0e858c17dd6c698a2349dfbe7acf17c230c45f2f012  Image_02L_1stHO.png
f7f61d237ef0ee977bdd8b3788685d641f098b2b25e8ec54f5dacd5cc1c90b06  Image_02L_2ndHO.png
100df384241515d45337462adb13328b8dbcfdacf956545b317bc2b7a359f042  Image_02R.jpg
41abd2213b0b0d96f434afc64545904a8108073174537b359546f5fe506c20a7  Image_02R_1stHO.png
6b8a155ea92a33e218b05ce6aaf646416cfe44161683a3ff2d58371bae0b1e92  Image_02R_2ndHO.png
db4bc8514041302ad66a283d83a331e88b2a7ffb156ae5ed4de84ad3aa0660c8  Image_03L.jpg
592badbd3effdc8c7c15e1b5f22c02b9818da2b54170e4e0fff36051164a3a23  Image_03L_1stHO.png
1f24545ca88dbe008208bbca8e71c100f198bf2de82f409025029f024011cb15  Image_03L_2ndHO.png
373ab58feec4495d3bc19414326c85205f6f59db7230d0ef3a693b81c91025f8  Image_03R.jpg
d19aa90d611867b9dd39d4ffdbabbe76cfe965b569bbebf51e82c4929874c39c  Image_03R_1stHO.png
1eb06b0f6054bcfc99dd7ea9a8f1001b289b983a630013c4befb826c5842c91f  Image_03R_2ndHO.png
70784a305852db76880e69677b191ba79a46df8f0621082d9b19c3205082b514  Image_04L.jpg
1299a20b742c0f293628fb0c95f480278b34e0aeffe8a4c1f49fde21fface853  Image_04L_1stHO.png
7e04a227d2fe6ac6e7e02f44a23b614d90ddb47717dcb44eb0e60a56fb6ea359  Image_04L_2ndHO.png
5bd387c84af95f9f007d90ceba3b7b232c9ffa557e12c4f74ebc9570439c334f  Image_04R.jpg
403babedf3b36b67d9ade850a521438a610ec30e84db8c79673afcac34d25bfa  Image_04R_1stHO.png
e6bedd5f1b756abea891c869e9a0a687a598ac6863cd891e4d42cdd503fc9c78  Image_04R_2ndHO.png
98b887bb669c08668e36e43da58e0bdd231fcd272ef24a93a18103e7d1cc27b1  Image_05L.jpg
b86d9fca852d611cb837c33ea9fa9566bc714d78873f6c6038ec7f0fe24b6d32  Image_05L_1stHO.png
dea12673e8c9ae044f81a943f6adc6b3e9028ceb506c7897fb38be9c9a7fb6d4  Image_05L_2ndHO.png
2422c65852966d99c65adf3423549a982b8ca67442cc1fae10b6c8606f30bd72  Image_05R.jpg
ce2c3ae87a9df9654cf61f196d6f94ca98e567ee56965a7f063d8805edb58ddc  Image_05R_1stHO.png
b3f61d8f0c8de7e1dc916f6bad3af01cd0657258eebd6b9c5f726cc3d25f74f8  Image_05R_2ndHO.png
b9224b4fc7d1f753eac7e8d00827c8e0e2db625ac2f0e5e46a31d2d14c5ee400  Image_06L.jpg
22b38d9e560684398b12ea07085820937a61de298976dc22663a1a41d33583ee  Image_06L_1stHO.png
e79cfd0e60c9d0315000d5ffa41574aba517099de2d5996217b77d6d80363f77  Image_06L_2ndHO.png
825c782fdb95c39c7a540e8c54860c4549ab76a728c1280a9b9e29acfa1551e8  Image_06R.jpg
f7a3881b21d1ce2e9ba8163d948450df035b10156a45a4865f5ed848e178af53  Image_06R_1stHO.png
681064a6f20e002eff1e5852c956526057bf48f4d54eece8296fee5ca14a53b2  Image_06R_2ndHO.png
f07c7ba37041ff88646eaa075c5607c4ce09bc98dcfbd4052084fe1ed6eb5932  Image_07L.jpg
eeec598b49802232c8ea421b55821184ea59af6278a80d6361547c1c5decdd31  Image_07L_1stHO.png
31a557ca3ca997234207b87e9084281db81cf6f09a7e822cc394ad6f19a4ddf5  Image_07L_2ndHO.png
8abd74be8f1cd7f8049499557c639bb7e6eca0e4686be2379a60743cb153b41f  Image_07R.jpg
aab70f66c15b8cb167baa2ae8a78a1c91945da10611ef361069e4182d4a56d03  Image_07R_1stHO.png
eecd3129ae23953be04b670a90cefc49701fabef9efb54ce23a4f7ea2d6b13b7  Image_07R_2ndHO.png
be0fad1dc97c11139b5c573bbc8b922c3fd650ca61512653b350f1d0ef68b1fe  Image_08L.jpg
307e8ff3d89e4d1da0f2c48798aa89d0460eab2bc21d48ec79afb2bb6bf87245  Image_08L_1stHO.png
d1824582d075c8eb4cba2e11ecf3001e06c28869cf57b291204266a8afddc8c2  Image_08L_2ndHO.png
f1d505dc4b48b0a0895ea8b71d183c9ada54cd818f835f68e93f9dbe44b8214d  Image_08R.jpg
8088c60295ef622d51423fc965fb86c370064ebe2bce234b85916335e45ad8de  Image_08R_1stHO.png
292781a7611a055be81120864c5bb7abb005bcb5a634bbd47a81b5e1a2903801  Image_08R_2ndHO.png
f42510f1840d3778603cf52073cf1fa4cb6c49e6d41c62fef16a0fd7de6e46e4  Image_09L.jpg
f0bd1ba80eee6a882180f2082a30ee6add8064b01cad925b855376c969d511ea  Image_09L_1stHO.png
52ff6d4118e9d09f0494f9b5838afac3acdfb8057c081ea2ed9daf528260099f  Image_09L_2ndHO.png
fe69322c857948d1573a616bc03f2fb547e01c1162ae0baf5c077b9e083f7dc9  Image_09R.jpg
fd43f841884c8b723f3c76b5902a132298ec8ebbf62dd680af6b9129ff870cff  Image_09R_1stHO.png
18bab51de246dc5fc29b4f59042b40cbc4fa792df92ff244a0240e096d9f51c1  Image_09R_2ndHO.png
82c78fd9874cb493daa85bd4cbb566a8b69000ef40462b3ede0d8729f5850502  Image_10L.jpg
9d645dd71fb6496dfff2e2eb237efa9b6ec0f9a01e352bd814ef922fb5a53c19  Image_10L_1stHO.png
9b6e98853436848ad20e5de9233efeecea4be865751d7c319e4bcc4bc940bc8f  Image_10L_2ndHO.png
2846f819cd411be09d0c4fc975e93e9f66846790205128eca219c6a42589d67c  Image_10R.jpg
8135d7343eb457d31b94055e663a1eae6e6a0b8bd711baa832c2219b6276e92f  Image_10R_1stHO.png
e837b60bcdbb5c39d3970b4158f93df1bb21aa323ee1bdfc0f14edfbdf8d6133  Image_10R_2ndHO.png
3ae12edbf4a874c503b60b4400f9e1b829c68f4a0a13120845210d053573494b  Image_11L.jpg
72f4385a986eb536119fa6d2613efb867339df6763182ef2aee0b93c508668ae  Image_11L_1stHO.png
c58ce3ed8cf58390453250245a044887ff196ab043b6e6db8b0a6e3e5b721063  Image_11L_2ndHO.png
6430383a04421fd8f5855d569f15e227915b815d822a4ef44d7b169837b13410  Image_11R.jpg
a5d1e6bdf9e2bdefdf63047fe5a72ea462f8ac02d3cf600ca7da70b63d5f88d7  Image_11R_1stHO.png
d8f715b8e4e5681e0a143765a8bb8ad021767185a8b9c870a7bf938e98e42fed  Image_11R_2ndHO.png
31aa960ff0f7f55bc3f034b02430da264e711506fa377e31b13f4dbc7f5e6237  Image_12L.jpg
256e96fb65dfe007e54a6415da44d0dc53f2a464a03f7bf9ede5676da07e5b59  Image_12L_1stHO.png
5fe6f817fa149a035ee510090e41b6f46069f2e86acef9a52559f1237c22c073  Image_12L_2ndHO.png
22597bfbeaa013092be2b16d473ae9f4f3965b7c97fdfd171b713a8f610bca02  Image_12R.jpg
904e318c1d3b13d6dd8fc856d647682aef30f7b373e847225e62492b869e062e  Image_12R_1stHO.png
32798868910beeffbae8d7a6ca089c4f3206463fb77ef7be4a115bf384340925  Image_12R_2ndHO.png
d22441ff8e395ff8e8ad2e803f350b414c3538c07e0ac1773978345b53501d24  Image_13L.jpg
439289eefdef6156f2836311a75cff058346c7ec4552d6a61b61adceb65531cb  Image_13L_1stHO.png
ff4ff27917756479639a6d406e11189a1cd1cb89d683a99947ad8f7cfc828b05  Image_13L_2ndHO.png
e8fa895b9b1ce610eae6bb59d9db135fbeab261855d6f98066c961893546dc33  Image_13R.jpg
1f5d0f2b414575f29f99c5a92197829306deac6ead02aaaff71c6483b6d4fe0e  Image_13R_1stHO.png
ddc80fd8b89c96d78ff19a81fa10c63a87a38c40da8e8531acb052a0b1c54aca  Image_13R_2ndHO.png
f21a30c787cd60dd4ff12c04bbbbe804a891e0efffcaee6a80643b7bae2ce2c1  Image_14L.jpg
00362181c093ba82216ef5ab58a918ee0d6d758aa9c42c54fef31d73327b77bd  Image_14L_1stHO.png
e75e6031ee69bff5d7243e152f157c70a9a42828500150635e9d855bf60e7c66  Image_14L_2ndHO.png
a720aa1fd81dcf282d512ce73663d57ab613c381b0c07b0450c4bbf7fb7c0373  Image_14R.jpg
a5b6755d04398d349aa1b04141e3eed6ccf12fa3184deb7845a5b4fc5e647140  Image_14R_1stHO.png
cca4239f59a59b960d9540ff27bcb14b4270f3b0bf284cd41521be576618f586  Image_14R_2ndHO.png
"""
#: SHA-256 of each of the 84 official files, by file name.
SHA256: dict[str, str] = {name: digest for digest, name in (line.split() for line in _SUMS.strip().splitlines())}


class ChaseError(DataError):
    """CHASE_DB1 files are missing or do not match their checksums; the message says what to do.

    A :class:`medtools.data.DataError`, like a missing or altered MedMNIST file.
    """


@dataclass(frozen=True)
class ChaseImage:
    """One fundus image and its two annotations.

    Attributes:
        name: ``"Image_11L"``; ``child`` (1-14) and ``eye`` (``"L"``/``"R"``).
        image: ``(H, W, 3)`` uint8 RGB; ``first``, ``second``: ``(H, W)`` bool vessel masks of the
            first and second observer (H, W = 960, 999 at full resolution).
    """

    name: str
    child: int
    eye: str
    image: np.ndarray
    first: np.ndarray
    second: np.ndarray


def chase_dir() -> Path:
    """Folder of the 84 files: ``$MEDTOOLS_CHASE_DIR`` or ``<medtools data dir parent>/chase_db1``.

    A folder that contains ``CHASEDB1/`` (the unpacked archive) is accepted: the files are then
    read from that subfolder.
    """
    env = os.environ.get(CHASE_DIR_ENV)
    if env:
        root = Path(env).expanduser()
    else:
        from medtools.data.medmnist import data_dir

        root = data_dir().parent / "chase_db1"
    return root / "CHASEDB1" if (root / "CHASEDB1").is_dir() else root


def image_names(children: tuple[int, ...] | list[int] = TRAIN_CHILDREN + TEST_CHILDREN) -> list[str]:
    """``["Image_01L", "Image_01R", ...]`` for the given children, left eye first."""
    bad = [c for c in children if not 1 <= int(c) <= 14]
    if bad:
        raise ValueError(f"CHASE_DB1 children are numbered 1-14, got {bad}.")
    return [f"Image_{int(c):02d}{eye}" for c in children for eye in "LR"]


def verify_chase(folder: str | os.PathLike[str] | None = None, names: list[str] | None = None) -> Path:
    """Check that the files are present and match :data:`SHA256`; return the folder.

    Raises:
        ChaseError: naming the missing or altered files and the official page to download from.
    """
    root = Path(folder) if folder is not None else chase_dir()
    files = sorted(SHA256) if names is None else [f"{n}{s}" for n in names for s in (".jpg", "_1stHO.png", "_2ndHO.png")]
    missing = [f for f in files if not (root / f).is_file()]
    if missing:
        raise ChaseError(
            f"{len(missing)} CHASE_DB1 file(s) missing from {root} (e.g. {missing[0]}). Download "
            f"CHASEDB1.zip from the official page {OFFICIAL_PAGE}, unpack its 84 files into that "
            f"folder, or point ${CHASE_DIR_ENV} at a folder that holds them."
        )
    altered = [f for f in files if not matches(root / f, SHA256[f], "sha256")]
    if altered:
        raise ChaseError(
            f"{len(altered)} CHASE_DB1 file(s) in {root} do not match their SHA-256 ({altered[:3]}): "
            f"download CHASEDB1.zip again from {OFFICIAL_PAGE}."
        )
    return root


def load_chase(
    children: tuple[int, ...] | list[int] = TRAIN_CHILDREN + TEST_CHILDREN,
    *,
    scale: int = 1,
    folder: str | os.PathLike[str] | None = None,
) -> list[ChaseImage]:
    """Load and verify the images of some children (both eyes), optionally downsampled.

    Args:
        children: child numbers 1-14 (default all; :data:`TRAIN_CHILDREN`, :data:`TEST_CHILDREN`).
        scale: integer downsampling factor; the image is resized with a box filter to
            ``round(W / scale) x round(H / scale)`` and each mask keeps the pixels whose box
            average is at least 0.5. ``scale=1`` returns the files as they are.
        folder: overrides :func:`chase_dir`.
    """
    from PIL import Image

    if int(scale) != scale or scale < 1:
        raise ValueError(f"scale must be a positive integer, got {scale!r}.")
    names = image_names(children)
    root = verify_chase(folder, names)
    out = []
    for name in names:
        img = Image.open(root / f"{name}.jpg").convert("RGB")
        masks = [Image.open(root / f"{name}_{k}HO.png").convert("L") for k in ("1st", "2nd")]
        if scale > 1:
            size = (round(img.width / scale), round(img.height / scale))
            img = img.resize(size, Image.Resampling.BOX)
            masks = [m.resize(size, Image.Resampling.BOX) for m in masks]
            first, second = (np.asarray(m) >= 128 for m in masks)
        else:
            first, second = (np.asarray(m) > 0 for m in masks)
        out.append(ChaseImage(name, int(name[6:8]), name[8], np.asarray(img, dtype=np.uint8), first, second))
    return out


def split_children(
    children: tuple[int, ...] | list[int] = TRAIN_CHILDREN, n_val: int = 2, seed: int = 0
) -> tuple[list[int], list[int]]:
    """Split children (not images) into training and validation: both eyes of a child stay together.

    Returns ``(train_children, val_children)``, sorted, with ``n_val`` children drawn at random.
    """
    kids = sorted(int(c) for c in children)
    if not 0 < n_val < len(kids):
        raise ValueError(f"n_val must be between 1 and {len(kids) - 1}, got {n_val}.")
    val = sorted(int(c) for c in np.random.default_rng(seed).choice(kids, n_val, replace=False))
    return [c for c in kids if c not in val], val


def fov_mask(image: np.ndarray, threshold: int = 20, radius: int = 3) -> np.ndarray:
    """Field of view of a fundus image: red channel above a threshold, cleaned by morphology.

    The camera's circular aperture leaves the corners nearly black; the retina is bright in the
    red channel. Steps: ``red > threshold``; binary opening with a disc of ``radius`` pixels
    (removes specks of noise in the black border); keep the largest connected component; fill
    holes; binary erosion by one pixel (drops the blurred rim).

    Args:
        image: ``(H, W, 3)`` uint8 RGB.
    Returns:
        ``(H, W)`` bool mask.
    """
    from scipy import ndimage

    image = np.asarray(image)
    if image.ndim != 3 or image.shape[-1] != 3:
        raise ValueError(f"fov_mask needs an (H, W, 3) RGB image, got shape {image.shape}.")
    yy, xx = np.mgrid[-radius : radius + 1, -radius : radius + 1]
    disc = xx**2 + yy**2 <= radius**2
    mask = ndimage.binary_opening(image[..., 0] > threshold, structure=disc)
    labels, n = ndimage.label(mask)
    if n == 0:
        return mask
    sizes = ndimage.sum_labels(mask, labels, index=np.arange(1, n + 1))
    mask = labels == 1 + int(np.argmax(sizes))
    mask = ndimage.binary_fill_holes(mask)
    return ndimage.binary_erosion(mask, iterations=1)
