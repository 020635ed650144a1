"""Shared training machinery: configs, atomic checkpoints, torch.distributed helpers, logging
and progress, and the resumable step loop every stage uses."""
