"""Stage 2 of PhotoVerse-mini: the PhotoVerse adapters trained on the frozen stage-1 base.

  base.py     the base folder (diffusers layout) -> frozen parts + a PhotoVerseModel; reference
              preparation (face mask, CLIP normalisation) shared with evaluation and export
  fusion.py   random fusion (per-sample branch choice, gamma/sigma) and the unconditional drop
  losses.py   L_diff, L_face, L_Treg, L_Sreg
  sampling.py batched guided sampling of many (reference, prompt, noise) at once (evaluation, grids)
  train.py    the trainer (python -m photoverse_train.stage2.train --variant full|no_face|no_reg)
  tiny.py     a seconds-sized base folder + data cache + networks for tests
"""
