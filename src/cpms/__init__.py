"""cpms: an event-sourced charge point management system."""
