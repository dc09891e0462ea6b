"""Read models: each module folds the events it cares about into its own tables."""
