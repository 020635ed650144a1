"""The networks trained on the synthetic identities: the identity network (ArcFace's part in
the stage-2 face loss), the evaluator network (a different architecture and seed, used only
to score identity similarity) and the attribute classifiers (prompt accuracy)."""

from .nets import AttributeNet, EvaluatorNet, IdentityNet, face_crop
