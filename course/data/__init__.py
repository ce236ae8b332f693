"""Data sets: real loaders for downloadable data, and real offline data that installed packages ship."""
from course.data.download import DataError, DownloadError, data_dir, fetch
from course.data.idx import read_idx, write_idx
from course.data.logic import GATES, truth_table
from course.data.mnist import MnistData, download_mnist, load_mnist, load_mnist_idx

__all__ = [
    "DataError",
    "DownloadError",
    "GATES",
    "MnistData",
    "data_dir",
    "download_mnist",
    "fetch",
    "load_mnist",
    "load_mnist_idx",
    "read_idx",
    "truth_table",
    "write_idx",
]
from course.data.style import STYLE_NAMES, StyleData, load_style, tile_and_crop  # noqa: E402
from course.data.flickr import download_flickr_style  # noqa: E402
__all__ += ["STYLE_NAMES", "StyleData", "download_flickr_style", "load_style", "tile_and_crop"]
from course.data.faces import FaceData, Scene, crops_from_frames, load_face_folder, load_faces, make_scenes  # noqa: E402
__all__ += ["FaceData", "Scene", "crops_from_frames", "load_face_folder", "load_faces", "make_scenes"]
