"""The `hangar` command: run the system (`up`), one service (`serve`), migrations (`migrate`)."""
