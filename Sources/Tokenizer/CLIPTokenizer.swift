// Placeholder: the CLIP BPE tokenizer lands here.
