// Placeholder: schedulers and random sources land here.
