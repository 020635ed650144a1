"""The synthetic identity data set of PhotoVerse-mini, in one import.

    from photoverse_train.data.synthetic_faces import (
        IdentityParams, Attributes, ATTRIBUTE_CLASSES, caption, render, render_reference,
        split_identities, SyntheticFaceDataset)

    ip = IdentityParams.sample(seed=0, index=17)          # fixed look of identity 17
    attrs = Attributes.sample(np.random.default_rng(1))   # what the caption changes
    img = render(ip, attrs, size=64, rng=np.random.default_rng(2))
    caption(attrs)                # "a photo of a person smiling wearing sunglasses on the beach"
    caption(attrs, PLACEHOLDER)   # "a photo of S* smiling wearing sunglasses on the beach"

The parts live in identity.py (who), attributes.py (what the prompt changes + captions),
painter.py / scenes.py / styles.py / render.py (drawing) and dataset.py (streams, split, Dataset).
"""

from .attributes import (ATTRIBUTE_CLASSES, ATTRIBUTE_NAMES, DEFAULT_SUBJECT, DEFAULT_WEIGHTS, PLACEHOLDER,
                         Attributes, caption, placeholder_caption, to_placeholder)
from .dataset import (Sample, SyntheticFaceDataset, image_rng, sample_image, sample_reference, split_identities,
                      to_tensor)
from .identity import IDENTITY_CLASSES, IdentityParams
from .render import RenderedImage, default_supersample, render, render_reference

__all__ = [
    "ATTRIBUTE_CLASSES", "ATTRIBUTE_NAMES", "DEFAULT_SUBJECT", "DEFAULT_WEIGHTS", "PLACEHOLDER", "Attributes",
    "caption", "placeholder_caption", "to_placeholder", "Sample", "SyntheticFaceDataset", "image_rng",
    "sample_image", "sample_reference", "split_identities", "to_tensor", "IDENTITY_CLASSES", "IdentityParams",
    "RenderedImage", "default_supersample", "render", "render_reference",
]
