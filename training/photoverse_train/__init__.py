"""PhotoVerse training code: synthetic data, the mini model and the adapters."""
