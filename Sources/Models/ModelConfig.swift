// Placeholder: model configs and modules land here.
