"""The "filmcnn" policy: FiLM-conditioned CNN + learned head over frozen MiniLM token states.

configuration.py (FilmCnnConfig) / modeling.py (FilmCnnPolicy) / processing.py
(ActionNormalizer, images_to_tensor), one folder per policy type as in lerobot. The
user-facing object with save/load, `embed` and `act` is `cognitivedrone.policy.checkpoint.FilmCnnVLA`.
"""

from cognitivedrone.policy.filmcnn.configuration import FilmCnnConfig
from cognitivedrone.policy.filmcnn.modeling import FilmCnnPolicy
from cognitivedrone.policy.filmcnn.processing import ACTION_NAMES, ACTION_UNITS, ActionNormalizer, images_to_tensor

__all__ = ["ACTION_NAMES", "ACTION_UNITS", "ActionNormalizer", "FilmCnnConfig", "FilmCnnPolicy", "images_to_tensor"]
